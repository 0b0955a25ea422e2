"""Start-up of one job: load its stored state, create it, or repair it (SPEC §4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cronkit._events import StateLoaded, StateRepaired
from cronkit._exceptions import StateCorruptedError
from cronkit._state import JobState

if TYPE_CHECKING:
    from cronkit._runner import JobRunner

__all__ = ["load_state"]


async def load_state(runner: JobRunner) -> JobState:
    """The state the job starts from, saved at once when it is new or repaired."""
    job, clock, zone = runner.job, runner.clock, runner.timezone
    schedule = job.schedule
    now = clock.now()
    fingerprint = schedule.fingerprint(timezone=zone)
    stored = await runner.store.load(job.id)
    if stored is None:
        first = None if job.max_runs == 0 else schedule.first_occurrence(now, timezone=zone)
        state = JobState(job.id, next_run_at=first, schedule_fingerprint=fingerprint)
        runner.state = state
        await runner.persist()
        runner.emit(StateLoaded, source="new", trigger_count=0, next_run_at=first)
        return state
    if stored.job_id != job.id:
        raise StateCorruptedError(job.id, f"it holds the state of job {stored.job_id!r}")
    finished = job.max_runs is not None and stored.trigger_count >= job.max_runs
    reason: str | None = None
    resume_from: datetime = now
    if stored.schedule_fingerprint not in (None, fingerprint):
        reason = f"schedule changed from {stored.schedule_fingerprint!r} to {fingerprint!r}"
        # (Only `AtTimes` looks at `resume_from`.) Occurrences before the stored next_run_at
        # were consumed; later ones, and any instant after now, cannot have been.
        if stored.next_run_at is not None:
            resume_from = min(stored.next_run_at, now)
        elif stored.last_run_at is not None:
            resume_from = stored.last_run_at + timedelta(microseconds=1)
    elif finished and stored.next_run_at is not None:
        reason = f"max_runs={job.max_runs} is reached (trigger_count={stored.trigger_count})"
    elif (
        stored.next_run_at is None
        and not finished
        and schedule.replan(now, resume_from=now, timezone=zone) is not None
    ):
        reason = "next_run_at is missing but the job is not finished"
    if reason is None:
        state = replace(stored, schedule_fingerprint=fingerprint)
        runner.state = state
        runner.emit(
            StateLoaded,
            source="restored",
            trigger_count=state.trigger_count,
            next_run_at=state.next_run_at,
        )
        return state
    repaired = None if finished else schedule.replan(now, resume_from=resume_from, timezone=zone)
    state = replace(stored, next_run_at=repaired, schedule_fingerprint=fingerprint)
    runner.state = state
    await runner.persist()
    runner.emit(
        StateRepaired,
        previous_next_run_at=stored.next_run_at,
        repaired_next_run_at=repaired,
        reason=reason,
    )
    runner.emit(
        StateLoaded, source="repaired", trigger_count=state.trigger_count, next_run_at=repaired
    )
    return state
