"""Start-up of one job: load its stored state, create it, or repair it (SPEC §4)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cronkit._events import StateLoaded, StateRepaired
from cronkit._exceptions import StateCorruptedError, StoreUnavailableError
from cronkit._state import JobState
from cronkit._store import CreatingStore

if TYPE_CHECKING:
    from cronkit._runner import JobRunner

__all__ = ["load_state"]

_log = logging.getLogger("cronkit")
_FIRST_RETRY = timedelta(seconds=1)
_LAST_RETRY = timedelta(seconds=30)


class _Stopped(Exception):
    """Shutdown or cancel came while the store was still unreachable."""


async def _load_stored(runner: JobRunner) -> JobState | None:
    """Load the job's stored state, waiting (with backoff) while the store is unreachable.

    Starting a job without knowing its stored state could run occurrences again and later
    overwrite that state, so an unreachable store at start-up is waited for, not guessed.
    """
    delay = _FIRST_RETRY
    while True:
        try:
            return await runner.store.load(runner.job.id)
        except StoreUnavailableError as exc:
            if runner.stop_requested:
                raise _Stopped from exc
            _log.warning(
                "job %r waits for its state store (%s); next attempt in %ss",
                runner.job.id,
                exc,
                delay.total_seconds(),
            )
            await runner.wait_until(runner.clock.now() + delay)
            if runner.stop_requested:
                raise _Stopped from exc
            delay = min(delay * 2, _LAST_RETRY)


async def _create(runner: JobRunner, state: JobState) -> JobState:
    """Store the new `state`; what is stored then, maybe another instance's state.

    Replicas that start at once each plan their own first occurrence, a few milliseconds
    apart: with a `CreatingStore` the first one wins and the others adopt its state.
    """
    if isinstance(runner.store, CreatingStore):
        return await runner.store.create(state)
    runner.state = state
    await runner.persist()
    return state


async def load_state(runner: JobRunner) -> JobState:
    """The state the job starts from, saved at once when it is new or repaired.

    If shutdown or cancel comes while the store is unreachable, the job ends without state:
    an empty `JobState` that is never saved.
    """
    try:
        stored = await _load_stored(runner)
    except _Stopped:
        return JobState(runner.job.id)
    job, clock, zone = runner.job, runner.clock, runner.timezone
    schedule = job.schedule
    now = clock.now()
    fingerprint = schedule.fingerprint(timezone=zone)
    if stored is None:
        first = None if job.max_runs == 0 else schedule.first_occurrence(now, timezone=zone)
        state = JobState(job.id, next_run_at=first, schedule_fingerprint=fingerprint)
        stored = await _create(runner, state)
        if stored == state:
            runner.state = state
            runner.emit(StateLoaded, source="new", trigger_count=0, next_run_at=first)
            return state
        # Another instance created the job's state first: follow its occurrences.
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
