"""Missed-run policies, max_runs, catch_up_window and restarts with stale state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cronkit._enums import MissedRunPolicy, RunStatus, SkipReason, StopReason
from cronkit._events import RunSkipped, StateLoaded, StateRepaired
from cronkit._job import Job
from cronkit._schedules import AtTimes, Cron, Interval, Schedule
from cronkit._state import JobState
from cronkit._store import InMemoryStateStore
from cronkit.testing import FakeClock
from tests.engine_helpers import T0, Calls, at, harness, seconds


async def test_interval_runs_every_period_anchored_to_the_schedule(clock: FakeClock) -> None:
    calls = Calls(hold=3, clock=clock)
    h = harness(clock)
    await h.start(Job("tick", Interval(seconds(10)), calls, max_runs=3))
    await h.advance(60)
    report = await h.stop()
    assert calls.scheduled == [T0 + seconds(10), T0 + seconds(20), T0 + seconds(30)]
    assert [r.started_at for r in report.history] == calls.scheduled
    assert report.stop_reason is StopReason.TERMINAL
    assert report.state.trigger_count == 3
    assert report.state.next_run_at is None


async def test_max_runs_zero_ends_at_once(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("none", Interval(seconds(1)), calls, max_runs=0))
    report = await h.stop()
    assert calls.contexts == []
    assert report.stop_reason is StopReason.TERMINAL


def stored(
    schedule: Schedule, next_run_at: str | None, *, trigger_count: int = 0
) -> InMemoryStateStore:
    """A store holding the state of job "job", as a previous process of `schedule` left it."""
    store = InMemoryStateStore()
    store._states["job"] = JobState(
        "job",
        trigger_count=trigger_count,
        next_run_at=None if next_run_at is None else at(next_run_at),
        schedule_fingerprint=schedule.fingerprint(),
    )
    return store


SCHEDULES = {
    # Each schedule has occurrences at 00:01, 00:02, ... 00:05 before the restart at 00:05:30.
    "interval": Interval(timedelta(minutes=1)),
    "at_times": AtTimes([f"2025-01-01T00:0{m}:00Z" for m in range(1, 8)]),
    "cron": Cron("* * * * *"),
}


@pytest.mark.parametrize("kind", sorted(SCHEDULES))
@pytest.mark.parametrize(
    ("policy", "expected_runs", "expected_skips"),
    [
        (MissedRunPolicy.SKIP, [], [(SkipReason.MISSED, 5)]),
        (MissedRunPolicy.CATCH_UP_ONCE, ["00:05"], []),
        (MissedRunPolicy.REPLAY_ALL, ["00:01", "00:02", "00:03", "00:04", "00:05"], []),
    ],
    ids=["skip", "catch_up_once", "replay_all"],
)
async def test_missed_run_policy_after_restart_with_stale_state(
    kind: str,
    policy: MissedRunPolicy,
    expected_runs: list[str],
    expected_skips: list[tuple[SkipReason, int]],
) -> None:
    schedule = SCHEDULES[kind]
    clock = FakeClock("2025-01-01T00:05:30Z")
    store = stored(schedule, "2025-01-01T00:01:00Z", trigger_count=2)
    calls = Calls()
    h = harness(clock, store=store)
    await h.start(Job("job", schedule, calls, missed=policy))
    report = h.report("job")
    assert [c.run.scheduled_at for c in calls.contexts] == [
        at(f"2025-01-01T{hm}:00Z") for hm in expected_runs
    ]
    assert all(c.run.catch_up for c in calls.contexts)
    assert [(e.reason, e.count) for e in h.recorder.of(RunSkipped)] == expected_skips
    assert report.state.trigger_count == 2 + 5
    assert report.state.next_run_at == at("2025-01-01T00:06:00Z")
    assert h.recorder.of(StateLoaded)[0].source == "restored"
    # The schedule goes on normally afterwards.
    await h.advance(30)
    assert calls.scheduled[-1] == at("2025-01-01T00:06:00Z")
    assert not calls.contexts[-1].run.catch_up
    await h.stop()


async def test_catch_up_once_marks_a_single_late_occurrence_as_catch_up() -> None:
    clock = FakeClock("2025-01-01T00:01:05Z")
    schedule = Interval(timedelta(minutes=1))
    store = stored(schedule, "2025-01-01T00:01:00Z")
    calls = Calls()
    h = harness(clock, store=store)
    await h.start(Job("job", schedule, calls))
    assert calls.scheduled == [at("2025-01-01T00:01:00Z")]
    assert calls.contexts[0].run.catch_up  # 5 s late > missed_after (1 s)
    await h.stop()


async def test_skip_runs_an_occurrence_seen_within_missed_after(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, missed="skip", max_runs=2))
    await h.advance(30)
    assert calls.scheduled == [T0 + seconds(10), T0 + seconds(20)]
    assert not any(c.run.catch_up for c in calls.contexts)
    await h.stop()


async def test_pause_then_resume_sends_what_came_due_through_the_policy(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, missed="skip"))
    await h.advance(10)
    h.scheduler.handle().pause()
    await h.advance(35)
    assert calls.scheduled == [T0 + seconds(10)]
    h.scheduler.handle().resume()
    await h.advance(0)
    skips = h.recorder.of(RunSkipped)
    assert [(s.reason, s.count, s.scheduled_at) for s in skips] == [
        (SkipReason.MISSED, 3, T0 + seconds(40))
    ]
    await h.advance(5)
    assert calls.scheduled == [T0 + seconds(10), T0 + seconds(50)]
    await h.stop()


async def test_catch_up_window_drops_old_occurrences_as_missed() -> None:
    clock = FakeClock("2025-01-01T10:00:30Z")
    schedule = Interval(timedelta(minutes=1))
    store = stored(schedule, "2025-01-01T00:01:00Z")
    calls = Calls()
    h = harness(clock, store=store)
    job = Job("job", schedule, calls, missed="replay_all", catch_up_window=timedelta(minutes=3))
    await h.start(job)
    assert calls.scheduled == [
        at("2025-01-01T09:58:00Z"),
        at("2025-01-01T09:59:00Z"),
        at("2025-01-01T10:00:00Z"),
    ]
    skip = h.recorder.of(RunSkipped)[0]
    assert (skip.reason, skip.count, skip.scheduled_at) == (
        SkipReason.MISSED,
        597,
        at("2025-01-01T09:57:00Z"),
    )
    assert h.report("job").state.trigger_count == 600
    await h.stop()


async def test_max_runs_counts_consumed_occurrences_including_skipped() -> None:
    clock = FakeClock("2025-01-01T00:05:30Z")
    schedule = Interval(timedelta(minutes=1))
    store = stored(schedule, "2025-01-01T00:01:00Z")
    calls = Calls()
    h = harness(clock, store=store)
    report_task_job = Job("job", schedule, calls, max_runs=3)
    await h.start(report_task_job)
    report = await h.stop()
    # CATCH_UP_ONCE consumed the three allowed occurrences and ran once, for the newest.
    assert calls.scheduled == [at("2025-01-01T00:03:00Z")]
    assert report.state.trigger_count == 3
    assert report.state.next_run_at is None
    assert report.stop_reason is StopReason.TERMINAL


async def test_a_year_of_downtime_is_caught_up_at_once() -> None:
    clock = FakeClock("2026-01-01T00:00:30Z")
    schedule = Cron("* * * * *")
    store = stored(schedule, "2025-01-01T00:01:00Z")
    calls = Calls()
    h = harness(clock, store=store)
    await h.start(Job("job", schedule, calls, missed="skip"))
    (skip,) = h.recorder.of(RunSkipped)
    assert skip.count == 525_600
    assert skip.scheduled_at == at("2026-01-01T00:00:00Z")
    assert h.report("job").state.next_run_at == at("2026-01-01T00:01:00Z")
    await h.stop()


async def test_changed_schedule_replans_and_keeps_counters() -> None:
    clock = FakeClock("2025-01-01T12:00:00Z")
    store = stored(Interval(seconds(5)), "2025-01-01T00:00:00Z", trigger_count=7)
    calls = Calls()
    h = harness(clock, store=store)
    await h.start(Job("job", Interval(timedelta(hours=1)), calls))
    repaired = h.recorder.of(StateRepaired)[0]
    assert repaired.previous_next_run_at == at("2025-01-01T00:00:00Z")
    assert repaired.repaired_next_run_at == at("2025-01-01T13:00:00Z")
    assert h.recorder.of(StateLoaded)[0].source == "repaired"
    assert calls.contexts == []
    state = await store.load("job")
    assert state is not None
    assert state.trigger_count == 7
    assert state.schedule_fingerprint == Interval(timedelta(hours=1)).fingerprint()
    await h.stop()


@pytest.mark.parametrize("kind", sorted(SCHEDULES))
async def test_missing_next_run_at_is_repaired_when_not_finished(kind: str) -> None:
    clock = FakeClock("2025-01-01T00:00:30Z")
    schedule = SCHEDULES[kind]
    store = stored(schedule, None, trigger_count=0)
    h = harness(clock, store=store)
    await h.start(Job("job", schedule, Calls()))
    (repaired,) = h.recorder.of(StateRepaired)
    assert repaired.previous_next_run_at is None
    # Re-planned from now: an interval restarts its period, the others take their next instant.
    expected = "2025-01-01T00:01:30Z" if kind == "interval" else "2025-01-01T00:01:00Z"
    assert repaired.repaired_next_run_at == at(expected)
    await h.stop()


async def test_finished_state_is_not_repaired() -> None:
    clock = FakeClock("2025-01-01T00:00:30Z")
    schedule = Interval(seconds(10))
    store = stored(schedule, None, trigger_count=3)
    h = harness(clock, store=store)
    await h.start(Job("job", schedule, Calls(), max_runs=3))
    report = await h.stop()
    assert h.recorder.of(StateRepaired) == []
    assert report.stop_reason is StopReason.TERMINAL


async def test_failed_run_is_recorded_and_scheduling_goes_on(clock: FakeClock) -> None:
    async def boom(context: object) -> None:
        raise RuntimeError("disk full")

    h = harness(clock)
    await h.start(Job("job", Interval(seconds(1)), boom, max_runs=2))
    await h.advance(5)
    report = await h.stop()
    assert [r.status for r in report.history] == [RunStatus.FAILED, RunStatus.FAILED]
    assert report.history[0].error == "RuntimeError: disk full"
    assert report.state.last_error == "RuntimeError: disk full"


async def test_catch_up_window_drops_count_towards_max_runs() -> None:
    clock = FakeClock("2025-01-01T10:00:30Z")
    schedule = Interval(timedelta(minutes=1))
    store = stored(schedule, "2025-01-01T00:01:00Z")
    calls = Calls()
    h = harness(clock, store=store)
    job = Job("job", schedule, calls, catch_up_window=timedelta(minutes=3), max_runs=598)
    await h.start(job)
    report = await h.stop()
    # 597 stale occurrences are dropped as missed; one more is allowed: 09:58, caught up once.
    assert calls.scheduled == [at("2025-01-01T09:58:00Z")]
    assert report.state.trigger_count == 598
    assert report.state.next_run_at is None
    assert report.stop_reason is StopReason.TERMINAL
