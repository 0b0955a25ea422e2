"""Overlap policies, max_parallel, timeouts and windows checked at dispatch."""

from __future__ import annotations

from datetime import timedelta

from cronkit._config import SchedulerReport
from cronkit._enums import RunStatus, SkipReason
from cronkit._events import RunSkipped
from cronkit._job import Job
from cronkit._schedules import AtTimes, Interval
from cronkit._windows import JobTimeWindow
from cronkit.testing import FakeClock
from tests.engine_helpers import T0, Calls, Harness, at, harness, seconds


async def test_forbid_drops_triggers_while_a_run_is_active(clock: FakeClock) -> None:
    calls = Calls(hold=25, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, max_runs=4))
    await h.advance(60)
    assert calls.scheduled == [T0 + seconds(10), T0 + seconds(40)]
    skips = h.recorder.of(RunSkipped)
    assert [(s.reason, s.scheduled_at) for s in skips] == [
        (SkipReason.OVERLAP, T0 + seconds(20)),
        (SkipReason.OVERLAP, T0 + seconds(30)),
    ]
    await h.stop()


async def test_queue_one_keeps_the_oldest_trigger(clock: FakeClock) -> None:
    calls = Calls(hold=35, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, overlap="queue_one", max_runs=4))
    await h.advance(45)
    # 10 runs until 45; 20 is queued; 30 and 40 are dropped; 20 starts at 45.
    assert calls.scheduled == [T0 + seconds(10), T0 + seconds(20)]
    assert calls.contexts[1].run.started_at == T0 + seconds(45)
    dropped = [(s.reason, s.scheduled_at) for s in h.recorder.of(RunSkipped)]
    assert dropped == [
        (SkipReason.OVERLAP, T0 + seconds(30)),
        (SkipReason.OVERLAP, T0 + seconds(40)),
    ]
    await h.stop()


async def test_replay_all_is_serialised_under_forbid() -> None:
    clock = FakeClock("2025-01-01T00:00:00Z")
    calls = Calls(hold=15, clock=clock)
    h = harness(clock)
    instants = [at("2025-01-01T00:00:01Z"), at("2025-01-01T00:00:02Z"), at("2025-01-01T00:00:03Z")]
    await h.start(Job("job", AtTimes(instants), calls, missed="replay_all"))
    await h.advance(100)
    report = await h.stop()
    assert calls.scheduled == instants
    starts = [r.started_at for r in report.history]
    assert starts == [
        at("2025-01-01T00:00:01Z"),
        at("2025-01-01T00:00:16Z"),
        at("2025-01-01T00:00:31Z"),
    ]
    assert all(r.finished_at <= s for r, s in zip(report.history, starts[1:], strict=False))
    assert h.recorder.of(RunSkipped) == []


async def test_replace_cancels_the_active_run(clock: FakeClock) -> None:
    calls = Calls(hold=15, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, overlap="replace", max_runs=2))
    await h.advance(40)
    report = await h.stop()
    assert [(r.scheduled_at, r.status) for r in report.history] == [
        (T0 + seconds(10), RunStatus.CANCELLED),
        (T0 + seconds(20), RunStatus.SUCCESS),
    ]
    assert report.history[0].finished_at == T0 + seconds(20)


async def test_allow_parallel_respects_max_parallel(clock: FakeClock) -> None:
    calls = Calls(hold=25, clock=clock)
    h = harness(clock)
    job = Job(
        "job", Interval(seconds(10)), calls, overlap="allow_parallel", max_parallel=2, max_runs=4
    )
    await h.start(job)
    await h.advance(100)
    assert calls.scheduled == [T0 + seconds(10), T0 + seconds(20), T0 + seconds(40)]
    assert [(s.reason, s.scheduled_at) for s in h.recorder.of(RunSkipped)] == [
        (SkipReason.OVERLAP, T0 + seconds(30))
    ]
    await h.stop()


async def test_replay_all_waits_for_a_parallel_slot() -> None:
    clock = FakeClock("2025-01-01T00:00:10Z")
    calls = Calls(hold=5, clock=clock)
    h = harness(clock)
    instants = [at(f"2025-01-01T00:00:0{s}Z") for s in range(1, 6)]
    job = Job(
        "job",
        AtTimes(instants),
        calls,
        missed="replay_all",
        overlap="allow_parallel",
        max_parallel=2,
    )
    await h.start(job)
    await h.advance(30)
    report = await h.stop()
    assert sorted(calls.scheduled) == instants
    assert h.recorder.of(RunSkipped) == []
    assert max(_concurrency(report.history)) == 2


def _concurrency(history: tuple[object, ...]) -> list[int]:
    spans = [(r.started_at, r.finished_at) for r in history]  # type: ignore[attr-defined]
    return [sum(1 for s, f in spans if s <= start < f) for start, _ in spans]


async def test_timeout_cancels_an_async_run(clock: FakeClock) -> None:
    calls = Calls(hold=30, clock=clock)
    h = harness(clock)
    await h.start(
        Job("job", Interval(seconds(60)), calls, timeout=timedelta(seconds=5), max_runs=1)
    )
    await h.advance(120)
    report = await h.stop()
    (record,) = report.history
    assert record.status is RunStatus.TIMED_OUT
    assert record.finished_at - record.started_at == seconds(5)
    assert report.state.last_error is not None
    assert "TimeoutError" in report.state.last_error


async def test_window_is_checked_when_the_run_is_about_to_start() -> None:
    clock = FakeClock("2025-01-03T21:00:00Z")  # a Friday
    calls = Calls()
    h = harness(clock)
    window = JobTimeWindow(weekdays="fri", segments=["22:00-02:00"])
    job = Job("job", Interval(timedelta(hours=1)), calls, window=window, max_runs=6)
    await h.start(job)
    await h.advance(timedelta(hours=6))
    # 22:00 (start included), 23:00, Sat 00:00 and 01:00 (after midnight belongs to Friday);
    # 02:00 (end excluded) and 03:00 are outside.
    assert calls.scheduled == [
        at("2025-01-03T22:00:00Z"),
        at("2025-01-03T23:00:00Z"),
        at("2025-01-04T00:00:00Z"),
        at("2025-01-04T01:00:00Z"),
    ]
    outside = [s.scheduled_at for s in h.recorder.of(RunSkipped)]
    assert outside == [at("2025-01-04T02:00:00Z"), at("2025-01-04T03:00:00Z")]
    report = await h.stop()
    assert report.last_skip_reason is SkipReason.OUTSIDE_TIME_WINDOW


async def test_history_is_bounded(clock: FakeClock) -> None:
    from cronkit._config import SchedulerConfig

    h = harness(clock, config=SchedulerConfig(history_limit=2))
    await h.start(Job("job", Interval(seconds(1)), Calls(), max_runs=5))
    await h.advance(10)
    report = await h.stop()
    assert [r.scheduled_at for r in report.history] == [T0 + seconds(4), T0 + seconds(5)]
    assert report.runs == 5


def _accounted(report: SchedulerReport, skips: list[RunSkipped]) -> int:
    """Runs plus every occurrence a skip reported."""
    return report.runs + sum(s.count for s in skips)


async def _fold(h: Harness, until: float) -> None:
    """Pause, let occurrences come due, resume: one catch_up_once trigger folds them."""
    h.scheduler.handle().pause()
    await h.clock.settle()
    await h.advance(until - h.clock.monotonic())
    h.scheduler.handle().resume()
    await h.clock.settle()


async def test_forbid_counts_every_occurrence_a_dropped_catch_up_folds(clock: FakeClock) -> None:
    calls = Calls(hold=100, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls))
    await h.advance(15)  # the run of 10 is active until 110
    await _fold(h, 55)  # 20, 30, 40 and 50 fold into one trigger, dropped
    await h.advance(10)  # 60, dropped on its own
    skips = h.recorder.of(RunSkipped)
    assert [(s.reason, s.scheduled_at, s.count) for s in skips] == [
        (SkipReason.OVERLAP, T0 + seconds(50), 4),
        (SkipReason.OVERLAP, T0 + seconds(60), 1),
    ]
    report = await h.stop()
    skips = h.recorder.of(RunSkipped)
    assert calls.scheduled == [T0 + seconds(10)]
    assert report.state.trigger_count == 6
    assert _accounted(report, skips) == report.state.trigger_count
    assert report.skipped == 5


async def test_queue_one_counts_the_occurrences_of_dropped_folded_triggers(
    clock: FakeClock,
) -> None:
    calls = Calls(hold=100, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, overlap="queue_one"))
    await h.advance(15)  # the run of 10 is active until 110
    await _fold(h, 55)  # 20..50 fold into one trigger: queued
    await _fold(h, 95)  # 60..90 fold into another: dropped, the queue is full
    skips = h.recorder.of(RunSkipped)
    assert [(s.reason, s.scheduled_at, s.count) for s in skips] == [
        (SkipReason.OVERLAP, T0 + seconds(90), 4)
    ]
    report = await h.stop()  # drops the queued trigger, with the 4 occurrences it folds
    skips = h.recorder.of(RunSkipped)
    assert [(s.scheduled_at, s.count) for s in skips[1:]] == [(T0 + seconds(50), 4)]
    assert calls.scheduled == [T0 + seconds(10)]
    assert report.state.trigger_count == 9
    assert _accounted(report, skips) == report.state.trigger_count


async def test_queued_folded_trigger_runs_once_for_all_it_covers(clock: FakeClock) -> None:
    calls = Calls(hold=100, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, overlap="queue_one", max_runs=5))
    await h.advance(15)
    await _fold(h, 55)  # 20..50 queued as one trigger; max_runs reached
    await h.advance(200)
    report = await h.stop()
    assert calls.scheduled == [T0 + seconds(10), T0 + seconds(50)]
    assert h.recorder.of(RunSkipped) == []
    assert report.runs == 2
    assert report.state.trigger_count == 5
