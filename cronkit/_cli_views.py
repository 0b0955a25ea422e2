"""What `cronkit jobs` and `cronkit status` print: rows built from the App and its stored state.

Pure functions of the App, the stored states and an instant `now`: the command line loads the
states and reads the clock, these only plan and format. Tables are plain text with one row
per job; `--json` prints the same rows as a JSON list, instants as RFC 3339 UTC.

The next fire times are what the engine would do if the App started at `now` (SPEC §4): a job
starts from its stored `next_run_at` (a new job from its schedule's first occurrence), due
occurrences are dropped, caught up once or replayed by the missed-run policy, occurrences
outside the time window are left out (they would be skipped) and `max_runs` counts the runs
the stored state already has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from cronkit._app import App
from cronkit._cron import zone_name
from cronkit._durations import format_duration
from cronkit._enums import MissedRunPolicy
from cronkit._job import Job
from cronkit._schedules import Schedule
from cronkit._state import JobState, format_instant

__all__ = [
    "NEXT_RUNS",
    "PlannedRun",
    "StoredState",
    "format_duration",
    "jobs_json",
    "jobs_table",
    "plan_runs",
    "status_json",
    "status_table",
]

NEXT_RUNS = 3
SEARCH_STEPS = 10_000
"""How many occurrences are looked at for one job before the search for runs gives up."""

_ONE_MICROSECOND = timedelta(microseconds=1)

StoredState = JobState | None | Exception
"""What the store answered for one job: its state, None for a missing key, or the error."""


def describe_schedule(schedule: Schedule) -> str:
    """The schedule as the tables show it: `every 1h30m`, the cron expression, `at ...`."""
    return str(schedule)


def _limits(job: Job[Any]) -> dict[str, Any]:
    """The job's limits that are set, by name (durations as timedelta)."""
    limits: dict[str, Any] = {
        "max_runs": job.max_runs,
        "timeout": job.timeout,
        "max_parallel": job.max_parallel,
        "catch_up_window": job.catch_up_window,
    }
    return {name: value for name, value in limits.items() if value is not None}


# -- planning the next runs -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A run the engine would start.

    Attributes:
        at: when it would start: its occurrence, or `now` for an occurrence already due.
        scheduled_at: the occurrence it runs (the latest one, for a catch-up).
        catch_up: True when it stands for occurrences that were missed.
        occurrences: how many occurrences it stands for (more than one only for a catch-up).
    """

    at: datetime
    scheduled_at: datetime
    catch_up: bool = False
    occurrences: int = 1


def _start(job: Job[Any], zone: tzinfo, now: datetime, state: JobState | None) -> datetime | None:
    """The first occurrence not consumed yet, as the engine's start-up would plan it."""
    schedule = job.schedule
    if state is None:
        return None if job.max_runs == 0 else schedule.first_occurrence(now, timezone=zone)
    if state.schedule_fingerprint not in (None, schedule.fingerprint(timezone=zone)):
        resume = now if state.next_run_at is None else min(state.next_run_at, now)
        return schedule.replan(now, resume_from=resume, timezone=zone)
    if state.next_run_at is None:
        return schedule.replan(now, resume_from=now, timezone=zone)
    return state.next_run_at


def plan_runs(
    job: Job[Any],
    *,
    zone: tzinfo,
    now: datetime,
    state: JobState | None = None,
    missed_after: timedelta = timedelta(seconds=1),
    count: int = NEXT_RUNS,
) -> tuple[list[PlannedRun], bool]:
    """The next `count` runs of `job` if the App started at `now` with the stored `state`.

    Returns:
        The runs, and True when the search gave up after `SEARCH_STEPS` occurrences (all
        outside the window) before finding `count` of them.
    """
    schedule, window = job.schedule, job.window
    done = 0 if state is None else state.trigger_count
    remaining = None if job.max_runs is None else job.max_runs - done
    following = None if remaining is not None and remaining <= 0 else _start(job, zone, now, state)
    runs: list[PlannedRun] = []

    def allowed(instant: datetime) -> bool:
        return window is None or window.matches(instant, timezone=zone)

    cutoff = None if job.catch_up_window is None else now - job.catch_up_window
    if following is not None and cutoff is not None and following < cutoff:
        stale = schedule.consume_due(
            following, cutoff - _ONE_MICROSECOND, limit=remaining, timezone=zone
        )
        following = stale.following
        remaining = None if remaining is None else remaining - stale.count
    if following is not None and following <= now and remaining != 0:
        if job.missed is MissedRunPolicy.REPLAY_ALL:
            while following is not None and following <= now and remaining != 0:
                if len(runs) < count and allowed(now):
                    runs.append(PlannedRun(now, following, now - following > missed_after))
                remaining = None if remaining is None else remaining - 1
                following = schedule.next_after(following, timezone=zone)
        else:
            due = schedule.consume_due(following, now, limit=remaining, timezone=zone)
            missed = now - due.last > missed_after
            catch_up = due.count > 1 or missed
            runs_now = job.missed is MissedRunPolicy.CATCH_UP_ONCE or not catch_up
            if runs_now and allowed(now):
                runs.append(PlannedRun(now, due.last, catch_up, due.count))
            remaining = None if remaining is None else remaining - due.count
            following = due.following
    for _ in range(SEARCH_STEPS):
        if following is None or len(runs) >= count or remaining == 0:
            return runs, False
        if allowed(following):
            runs.append(PlannedRun(following, following))
        remaining = None if remaining is None else remaining - 1
        following = schedule.next_after(following, timezone=zone)
    return runs, following is not None and len(runs) < count and remaining != 0


# -- jobs -------------------------------------------------------------------------------------


def _zone(job: Job[Any], app: App) -> tzinfo:
    return job.timezone if job.timezone is not None else app.config.timezone


def _local(instant: datetime, zone: tzinfo) -> str:
    spec = "milliseconds" if instant.microsecond else "seconds"
    return instant.astimezone(zone).isoformat(sep=" ", timespec=spec)


def _optional(instant: datetime | None) -> str | None:
    return None if instant is None else format_instant(instant)


def _job_facts(job: Job[Any], app: App, now: datetime, state: StoredState) -> dict[str, Any]:
    """What `jobs` shows of one job, as JSON-ready values (durations in seconds)."""
    zone = _zone(job, app)
    facts: dict[str, Any] = {
        "id": job.id,
        "schedule": describe_schedule(job.schedule),
        "timezone": zone_name(zone),
        "window": None if job.window is None else str(job.window),
        "missed": str(job.missed),
        "overlap": str(job.overlap),
        "limits": {
            name: value.total_seconds() if isinstance(value, timedelta) else value
            for name, value in _limits(job).items()
        },
    }
    if isinstance(state, Exception):
        facts["error"] = str(state)
        return facts
    runs, truncated = plan_runs(
        job, zone=zone, now=now, state=state, missed_after=app.config.missed_after
    )
    facts["next_runs"] = [
        {
            "at": format_instant(run.at),
            "scheduled_at": format_instant(run.scheduled_at),
            "catch_up": run.catch_up,
            "occurrences": run.occurrences,
        }
        for run in runs
    ]
    facts["search_truncated"] = truncated
    return facts


def _next_runs_cell(job: Job[Any], app: App, now: datetime, state: StoredState) -> str:
    if isinstance(state, Exception):
        return f"error: {state}"
    zone = _zone(job, app)
    runs, truncated = plan_runs(
        job, zone=zone, now=now, state=state, missed_after=app.config.missed_after
    )
    cells = []
    for run in runs:
        if run.at > now:
            cells.append(_local(run.at, zone))
        elif not run.catch_up:
            cells.append("now")
        elif job.missed is MissedRunPolicy.REPLAY_ALL:
            cells.append(f"now (replay of {_local(run.scheduled_at, zone)})")
        else:
            cells.append(f"now (catch-up of {run.occurrences})")
    if truncated:
        cells.append(f"... (none in the window among the next {SEARCH_STEPS} occurrences)")
    return ", ".join(cells) or "-"


def _limits_cell(job: Job[Any]) -> str:
    cells = [
        f"{name}={format_duration(value) if isinstance(value, timedelta) else value}"
        for name, value in _limits(job).items()
    ]
    return " ".join(cells) or "-"


def jobs_table(
    app: App, states: Mapping[str, StoredState] | None = None, now: datetime | None = None
) -> str:
    """A text table of `app`'s jobs: id, schedule, zone, window, policies, limits, next runs.

    `states` are the stored states by job id (none: every job is new); `now` defaults to the
    App's clock.
    """
    if not app.jobs:
        return "no jobs"
    now = app.clock.now() if now is None else now
    states = {} if states is None else states
    rows: list[Sequence[str]] = [
        ("ID", "SCHEDULE", "ZONE", "WINDOW", "MISSED", "OVERLAP", "LIMITS", "NEXT RUNS")
    ]
    for job in app.jobs.values():
        state = states.get(job.id)
        rows.append(
            (
                job.id,
                describe_schedule(job.schedule),
                zone_name(_zone(job, app)),
                "-" if job.window is None else str(job.window),
                str(job.missed),
                str(job.overlap),
                _limits_cell(job),
                _next_runs_cell(job, app, now, state),
            )
        )
    return render_table(rows)


def jobs_json(
    app: App, states: Mapping[str, StoredState] | None = None, now: datetime | None = None
) -> str:
    """`jobs --json`: a JSON list with one object per job."""
    now = app.clock.now() if now is None else now
    states = {} if states is None else states
    facts = [_job_facts(job, app, now, states.get(job.id)) for job in app.jobs.values()]
    return json.dumps(facts, indent=2)


# -- status -----------------------------------------------------------------------------------


def last_status(state: JobState | None) -> str:
    """`failed` when the latest run failed, `success` after a run, else `never`."""
    if state is None:
        return "never"
    if state.last_error is not None:
        return "failed"
    if state.last_run_at is not None or state.last_success_at is not None:
        return "success"
    return "never"


def _status_facts(job: Job[Any], state: StoredState) -> dict[str, Any]:
    facts: dict[str, Any] = {"id": job.id, "schedule": describe_schedule(job.schedule)}
    if isinstance(state, Exception):
        facts["error"] = str(state)
        return facts
    facts |= {
        "stored": state is not None,
        "trigger_count": None if state is None else state.trigger_count,
        "next_run_at": None if state is None else _optional(state.next_run_at),
        "last_run_at": None if state is None else _optional(state.last_run_at),
        "last_success_at": None if state is None else _optional(state.last_success_at),
        "last_status": last_status(state),
        "last_error": None if state is None else state.last_error,
    }
    return facts


def status_table(app: App, states: Mapping[str, StoredState]) -> str:
    """A text table of what the store holds for each of `app`'s jobs."""
    if not app.jobs:
        return "no jobs"
    rows: list[Sequence[str]] = [
        ("ID", "SCHEDULE", "NEXT RUN", "LAST RUN", "LAST STATUS", "LAST ERROR")
    ]
    for job in app.jobs.values():
        state = states.get(job.id)
        schedule = describe_schedule(job.schedule)
        if isinstance(state, Exception):
            rows.append((job.id, schedule, "-", "-", "error", str(state)))
            continue
        zone = _zone(job, app)
        next_run = None if state is None else state.next_run_at
        last_run = None if state is None else state.last_run_at
        rows.append(
            (
                job.id,
                schedule,
                "-" if next_run is None else _local(next_run, zone),
                "-" if last_run is None else _local(last_run, zone),
                last_status(state),
                "-" if state is None or state.last_error is None else state.last_error,
            )
        )
    return render_table(rows)


def status_json(app: App, states: Mapping[str, StoredState]) -> str:
    """`status --json`: a JSON list with one object per job."""
    return json.dumps(
        [_status_facts(job, states.get(job.id)) for job in app.jobs.values()], indent=2
    )


def render_table(rows: Sequence[Sequence[str]]) -> str:
    """`rows` (the first one the header) in columns two spaces apart; the last is not padded."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    widths[-1] = 0
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
