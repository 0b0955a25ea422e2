"""What `jobs` and `status` print: durations, the planned next runs, the status rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronkit import (
    App,
    AtTimes,
    Cron,
    Interval,
    Job,
    JobState,
    JobTimeWindow,
    StateCorruptedError,
)
from cronkit.cli import (
    PlannedRun,
    format_duration,
    jobs_json,
    jobs_table,
    plan_runs,
    status_json,
    status_table,
)

NOW = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def task() -> None:
    """Never run here."""


def job(schedule: Any, **options: Any) -> Job[Any]:
    return Job("job", schedule, task, **options)


def at(*hours: float) -> list[datetime]:
    return [NOW + timedelta(hours=hour) for hour in hours]


def starts(runs: list[PlannedRun]) -> list[datetime]:
    return [run.at for run in runs]


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(microseconds=1), "0.000001s"),
        (timedelta(milliseconds=250), "0.25s"),
        (timedelta(seconds=1.5), "1.5s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=1, seconds=1), "1h1s"),
        (timedelta(days=1, hours=2), "1d2h"),
        (timedelta(days=400), "400d"),
    ],
    ids=["zero", "microsecond", "quarter", "one-and-a-half", "seconds", "minutes",
         "hour-and-a-half", "hour-and-second", "day-and-hours", "long"],
)  # fmt: skip
def test_durations_are_readable(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_a_new_job_starts_from_its_schedule() -> None:
    runs, truncated = plan_runs(job(Interval(HOUR)), zone=UTC, now=NOW)
    assert starts(runs) == at(1, 2, 3)
    assert truncated is False
    assert runs[0] == PlannedRun(NOW + HOUR, NOW + HOUR)


def test_max_runs_counts_the_runs_already_stored() -> None:
    interval = Interval(HOUR)
    state = JobState("job", trigger_count=3, next_run_at=NOW + HOUR)
    assert starts(plan_runs(job(interval, max_runs=5), zone=UTC, now=NOW, state=state)[0]) == (
        at(1, 2)
    )
    finished = JobState("job", trigger_count=5)
    assert plan_runs(job(interval, max_runs=5), zone=UTC, now=NOW, state=finished)[0] == []
    assert plan_runs(job(interval, max_runs=0), zone=UTC, now=NOW)[0] == []


def test_a_stored_next_run_at_is_where_the_job_resumes() -> None:
    interval = Interval(HOUR)
    fingerprint = interval.fingerprint()
    state = JobState("job", next_run_at=NOW + 5 * HOUR, schedule_fingerprint=fingerprint)
    assert starts(plan_runs(job(interval), zone=UTC, now=NOW, state=state)[0]) == at(5, 6, 7)


def test_a_changed_schedule_is_replanned() -> None:
    state = JobState("job", next_run_at=NOW + 5 * HOUR, schedule_fingerprint="interval:PT60S")
    assert starts(plan_runs(job(Interval(HOUR)), zone=UTC, now=NOW, state=state)[0]) == at(1, 2, 3)
    lost = JobState("job", schedule_fingerprint="interval:PT60S")
    assert starts(plan_runs(job(Interval(HOUR)), zone=UTC, now=NOW, state=lost)[0]) == at(1, 2, 3)


def test_a_missing_next_run_at_is_replanned_unless_the_schedule_is_over() -> None:
    state = JobState("job", trigger_count=2)
    assert starts(plan_runs(job(Interval(HOUR)), zone=UTC, now=NOW, state=state)[0]) == at(1, 2, 3)
    over = AtTimes(at(-2, -1))
    assert plan_runs(job(over), zone=UTC, now=NOW, state=state)[0] == []


def test_past_occurrences_are_caught_up_once_at_start() -> None:
    runs, _ = plan_runs(job(AtTimes(at(-3, -2, -1, 1))), zone=UTC, now=NOW)
    assert runs == [
        PlannedRun(NOW, NOW - HOUR, catch_up=True, occurrences=3),
        PlannedRun(NOW + HOUR, NOW + HOUR),
    ]


def test_past_occurrences_are_dropped_by_skip() -> None:
    runs, _ = plan_runs(job(AtTimes(at(-3, -2, 1)), missed="skip"), zone=UTC, now=NOW)
    assert runs == [PlannedRun(NOW + HOUR, NOW + HOUR)]


def test_an_occurrence_due_right_now_runs_under_skip() -> None:
    runs, _ = plan_runs(job(AtTimes([NOW]), missed="skip"), zone=UTC, now=NOW)
    assert runs == [PlannedRun(NOW, NOW)]


def test_past_occurrences_are_replayed_one_by_one() -> None:
    runs, _ = plan_runs(job(AtTimes(at(-3, -2, -1, 1)), missed="replay_all"), zone=UTC, now=NOW)
    assert runs == [
        PlannedRun(NOW, NOW - 3 * HOUR, catch_up=True),
        PlannedRun(NOW, NOW - 2 * HOUR, catch_up=True),
        PlannedRun(NOW, NOW - HOUR, catch_up=True),
    ]
    capped, _ = plan_runs(
        job(AtTimes(at(-3, -2, -1, 1)), missed="replay_all", max_runs=2), zone=UTC, now=NOW
    )
    assert [run.scheduled_at for run in capped] == at(-3, -2)


def test_the_catch_up_window_drops_older_occurrences() -> None:
    schedule = AtTimes(at(-5, -4, -1, 1))
    runs, _ = plan_runs(job(schedule, catch_up_window=2 * HOUR), zone=UTC, now=NOW)
    assert runs[0] == PlannedRun(NOW, NOW - HOUR, catch_up=True, occurrences=1)
    # With max_runs=2, the two stale ones use the runs up.
    capped, _ = plan_runs(job(schedule, catch_up_window=2 * HOUR, max_runs=2), zone=UTC, now=NOW)
    assert capped == []


def test_runs_outside_the_window_are_left_out() -> None:
    window = JobTimeWindow("mon-fri", "09:00-11:00")  # 2025-03-29 is a Saturday
    runs, truncated = plan_runs(job(Interval(HOUR), window=window), zone=UTC, now=NOW)
    assert starts(runs) == [
        datetime(2025, 3, 31, 9, tzinfo=UTC),
        datetime(2025, 3, 31, 10, tzinfo=UTC),
        datetime(2025, 4, 1, 9, tzinfo=UTC),
    ]
    assert truncated is False


def test_a_catch_up_outside_the_window_is_left_out() -> None:
    window = JobTimeWindow(segments="09:00-10:00")
    runs, _ = plan_runs(job(AtTimes(at(-1, 21)), window=window), zone=UTC, now=NOW)
    assert starts(runs) == [datetime(2025, 3, 30, 9, tzinfo=UTC)]
    replays, _ = plan_runs(
        job(AtTimes(at(-1)), window=window, missed="replay_all"), zone=UTC, now=NOW
    )
    assert replays == []


def test_a_window_the_schedule_never_meets_ends_the_search() -> None:
    never = job(Cron("0 12 * * sat"), window=JobTimeWindow("sun"))
    runs, truncated = plan_runs(never, zone=UTC, now=NOW)
    assert (runs, truncated) == ([], True)
    app = App()
    app.add_job(never)
    assert (
        jobs_table(app, now=NOW)
        .splitlines()[1]
        .endswith("  ... (none in the window among the next 10000 occurrences)")
    )


def test_the_table_shows_limits_window_and_catch_ups() -> None:
    app = App()
    app.add_job(
        Job(
            "limited",
            Interval(timedelta(seconds=1.5)),
            task,
            max_runs=10,
            timeout=timedelta(minutes=90),
            overlap="allow_parallel",
            max_parallel=2,
            catch_up_window=timedelta(days=1),
        )
    )
    window = JobTimeWindow("mon-fri", "09:00-17:00", "Europe/Berlin")
    app.add_job(Job("windowed", Cron("0 * * * *"), task, window=window))
    app.add_job(Job("late", AtTimes(at(-2, -1)), task))
    app.add_job(Job("replayed", AtTimes(at(-2, 0)), task, missed="replay_all"))
    lines = jobs_table(app, now=NOW).splitlines()
    assert lines[1].split()[:3] == ["limited", "every", "1.5s"]
    assert "  max_runs=10 timeout=1h30m max_parallel=2 catch_up_window=1d  " in lines[1]
    assert lines[1].endswith(
        "2025-03-29 12:00:01.500+00:00, 2025-03-29 12:00:03+00:00, 2025-03-29 12:00:04.500+00:00"
    )
    assert "  mon-fri 09:00-17:00 Europe/Berlin  " in lines[2]
    assert lines[2].endswith(
        "2025-03-31 07:00:00+00:00, 2025-03-31 08:00:00+00:00, 2025-03-31 09:00:00+00:00"
    )
    assert lines[3].endswith("  now (catch-up of 2)")
    assert lines[4].endswith("  now (replay of 2025-03-29 10:00:00+00:00), now")


def test_jobs_json_with_stored_and_corrupt_states() -> None:
    app = App()
    app.add_job(Job("stored", Interval(HOUR), task))
    app.add_job(Job("broken", Interval(HOUR), task))
    states = {
        "stored": JobState("stored", next_run_at=NOW + 2 * HOUR),
        "broken": StateCorruptedError("jobs:broken", "it is not JSON"),
    }
    stored, broken = json.loads(jobs_json(app, states, now=NOW))
    assert [run["at"] for run in stored["next_runs"]] == [
        "2025-03-29T14:00:00Z",
        "2025-03-29T15:00:00Z",
        "2025-03-29T16:00:00Z",
    ]
    assert stored["limits"] == {}
    assert "next_runs" not in broken
    assert broken["error"].startswith("stored state at key 'jobs:broken' is not valid")
    assert "  error: stored state at key 'jobs:broken'" in jobs_table(app, states, now=NOW)
    assert json.loads(jobs_json(App())) == []


def status_app() -> App:
    app = App()
    for job_id in ("failed", "succeeded", "planned", "missing", "corrupt"):
        app.add_job(Job(job_id, Interval(HOUR), task, timezone="Europe/Berlin"))
    return app


STATES = {
    "failed": JobState(
        "failed",
        trigger_count=4,
        next_run_at=NOW + HOUR,
        last_run_at=NOW - HOUR,
        last_success_at=NOW - 2 * HOUR,
        last_error="ValueError: boom",
    ),
    "succeeded": JobState(
        "succeeded", trigger_count=1, next_run_at=NOW + HOUR, last_success_at=NOW - HOUR
    ),
    "planned": JobState("planned", next_run_at=NOW + HOUR),
    "missing": None,
    "corrupt": StateCorruptedError("jobs:corrupt", "it is not JSON"),
}


def test_status_table_rows() -> None:
    lines = status_table(status_app(), STATES).splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "ID", "failed", "succeeded", "planned", "missing", "corrupt"
    ]  # fmt: skip
    assert lines[1].split() == [
        "failed", "every", "1h", "2025-03-29", "14:00:00+01:00", "2025-03-29", "12:00:00+01:00",
        "failed", "ValueError:", "boom",
    ]  # fmt: skip
    assert lines[2].split()[-4:] == ["14:00:00+01:00", "-", "success", "-"]
    assert lines[3].split()[-4:] == ["14:00:00+01:00", "-", "never", "-"]
    assert lines[4].split()[-4:] == ["-", "-", "never", "-"]
    assert lines[5].split()[3:7] == ["-", "-", "error", "stored"]
    assert status_table(App(), {}) == "no jobs"


def test_status_json_rows() -> None:
    rows = {row["id"]: row for row in json.loads(status_json(status_app(), STATES))}
    assert rows["failed"] == {
        "id": "failed",
        "schedule": "every 1h",
        "stored": True,
        "trigger_count": 4,
        "next_run_at": "2025-03-29T13:00:00Z",
        "last_run_at": "2025-03-29T11:00:00Z",
        "last_success_at": "2025-03-29T10:00:00Z",
        "last_status": "failed",
        "last_error": "ValueError: boom",
    }
    assert rows["missing"]["stored"] is False
    assert rows["missing"]["last_status"] == "never"
    assert rows["succeeded"]["last_status"] == "success"
    assert rows["corrupt"]["error"].startswith("stored state at key 'jobs:corrupt'")
