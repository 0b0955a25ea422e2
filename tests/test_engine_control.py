"""Control through the handle, terminal policies, wall-clock steps, task kinds, observers."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest

from cronkit._config import SchedulerConfig
from cronkit._enums import OverlapPolicy, RunStatus, StopReason, TriggerSource
from cronkit._events import (
    RunCompleted,
    RunSkipped,
    SchedulerPaused,
    SchedulerResumed,
    SchedulerStopped,
    TerminalStateDeleted,
)
from cronkit._exceptions import InvalidJobError
from cronkit._job import Job, Task, TaskContext
from cronkit._schedules import AtTimes, Cron, Interval
from cronkit._state import JobState
from cronkit._store import InMemoryStateStore
from cronkit.testing import FakeClock
from tests.engine_helpers import T0, Calls, Recorder, at, harness, seconds


async def test_shutdown_lets_the_active_run_finish(clock: FakeClock) -> None:
    calls = Calls(hold=30, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls))
    await h.advance(15)
    h.scheduler.handle().shutdown()
    await h.advance(100)
    report = await h.task  # type: ignore[misc]
    assert report.stop_reason is StopReason.SHUTDOWN
    assert [(r.status, r.finished_at) for r in report.history] == [
        (RunStatus.SUCCESS, T0 + seconds(40))
    ]
    assert h.recorder.of(SchedulerStopped)[-1].reason is StopReason.SHUTDOWN


async def test_shutdown_timeout_cancels_what_is_still_running(clock: FakeClock) -> None:
    calls = Calls(hold=30, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls))
    await h.advance(15)
    report = await h.stop(timeout=timedelta(seconds=5))
    assert [(r.status, r.finished_at) for r in report.history] == [
        (RunStatus.CANCELLED, T0 + seconds(20))
    ]


async def test_cancel_stops_active_async_runs_at_once(clock: FakeClock) -> None:
    calls = Calls(hold=30, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls))
    await h.advance(15)
    h.scheduler.handle().cancel()
    await clock.settle()
    assert h.task is not None
    assert h.task.done()
    report = h.task.result()
    assert report.stop_reason is StopReason.CANCELLED
    assert [(r.status, r.finished_at) for r in report.history] == [
        (RunStatus.CANCELLED, T0 + seconds(15))
    ]


async def test_cancel_waits_for_a_blocking_run(clock: FakeClock) -> None:
    release = threading.Event()
    started = threading.Event()

    def work(context: TaskContext[Any]) -> None:
        started.set()
        release.wait(5)

    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), work))
    task = asyncio.create_task(clock.advance(10))
    await asyncio.to_thread(started.wait, 5)
    h.scheduler.handle().cancel()
    release.set()
    await task
    report = await h.stop()
    assert [r.status for r in report.history] == [RunStatus.SUCCESS]
    assert report.stop_reason is StopReason.CANCELLED


async def test_trigger_now_runs_once_without_moving_next_run_at(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("job", Interval(timedelta(hours=1)), calls))
    await h.advance(5)
    h.scheduler.handle().trigger_now()
    await clock.settle()
    assert [(c.run.source, c.run.scheduled_at) for c in calls.contexts] == [
        (TriggerSource.MANUAL, T0 + seconds(5))
    ]
    assert h.report("job").state.next_run_at == T0 + timedelta(hours=1)
    assert h.report("job").history[0].source is TriggerSource.MANUAL
    await h.stop()


async def test_trigger_now_goes_through_the_overlap_policy(clock: FakeClock) -> None:
    calls = Calls(hold=20, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls))
    await h.advance(12)
    h.scheduler.handle().trigger_now()
    await clock.settle()
    (skip,) = h.recorder.of(RunSkipped)
    assert skip.scheduled_at == T0 + seconds(12)
    await h.stop()


async def test_pause_and_resume_emit_events(clock: FakeClock) -> None:
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), Calls()))
    handle = h.scheduler.handle()
    handle.pause()
    handle.pause()
    handle.resume()
    handle.resume()
    await clock.settle()
    assert len(h.recorder.of(SchedulerPaused)) == 1
    assert len(h.recorder.of(SchedulerResumed)) == 1
    await h.stop()


@pytest.mark.parametrize("policy", ["retain", "delete"])
async def test_terminal_state_policy(clock: FakeClock, policy: str) -> None:
    store = InMemoryStateStore()
    h = harness(clock, store=store, config=SchedulerConfig(terminal_state_policy=policy))
    await h.start(Job("job", AtTimes([T0 + seconds(5)]), Calls()))
    await h.advance(10)
    report = await h.stop()
    assert report.stop_reason is StopReason.TERMINAL
    stored = await store.load("job")
    if policy == "delete":
        assert stored is None
        assert len(h.recorder.of(TerminalStateDeleted)) == 1
    else:
        assert stored == report.state
        assert h.recorder.of(TerminalStateDeleted) == []


async def test_empty_at_times_is_a_no_op(clock: FakeClock) -> None:
    h = harness(clock)
    await h.start(Job("job", AtTimes([]), Calls()))
    report = await h.stop()
    assert report.stop_reason is StopReason.TERMINAL
    assert report.history == ()


@pytest.mark.parametrize("step", [timedelta(hours=1), timedelta(hours=-1)], ids=["+1h", "-1h"])
async def test_wall_clock_step_while_waiting(clock: FakeClock, step: timedelta) -> None:
    calls = Calls()
    h = harness(clock)
    # Every 10 minutes, on the wall clock.
    await h.start(Job("job", Cron("*/10 * * * *"), calls, missed="skip"))
    await h.advance(timedelta(minutes=5))
    clock.step_wall(step)
    await h.advance(timedelta(minutes=20))
    runs = calls.scheduled
    assert len(runs) == len(set(runs)), "an occurrence ran twice"
    if step > timedelta(0):
        # 00:10 .. 01:00 were skipped by the step: SKIP drops them (one decision), and the next
        # occurrence after the step runs on time, not delayed.
        (skip,) = h.recorder.of(RunSkipped)
        assert (skip.count, skip.scheduled_at) == (6, at("2025-01-01T01:00:00Z"))
        assert runs == [at("2025-01-01T01:10:00Z"), at("2025-01-01T01:20:00Z")]
        assert [r.started_at for r in h.history("job")] == runs
    else:
        # Wall time went back to 23:05: 00:10 still comes, once, when the wall clock reaches it.
        assert runs == []
        await h.advance(timedelta(hours=1))
        assert calls.scheduled == [at("2025-01-01T00:10:00Z"), at("2025-01-01T00:20:00Z")]
    await h.stop()


async def test_sync_and_blocking_tasks(clock: FakeClock) -> None:
    seen: list[tuple[str, int | None]] = []

    def on_loop(context: TaskContext[str]) -> None:
        seen.append((context.deps, threading.get_ident()))

    def in_thread(context: TaskContext[str]) -> None:
        seen.append((context.deps, threading.get_ident()))

    h = harness(clock)
    loop_job = Job("sync", Interval(seconds(1)), Task.from_sync(on_loop), deps="s", max_runs=1)
    thread_job = Job("blocking", Interval(seconds(1)), in_thread, deps="b", max_runs=1)
    runs = [asyncio.create_task(h.scheduler.run(job)) for job in (loop_job, thread_job)]
    await clock.advance(2)
    await asyncio.gather(*runs)
    main = threading.get_ident()
    assert ("s", main) in seen
    assert [ident for deps, ident in seen if deps == "b"] != [main]


async def test_an_observer_that_raises_is_ignored(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def on_event(self, event: object) -> None:
            raise ValueError("observer bug")

    recorder = Recorder()
    from cronkit._engine import Scheduler

    scheduler = Scheduler(clock=clock, observer=[Broken(), recorder])
    task = asyncio.create_task(scheduler.run(Job("job", Interval(seconds(1)), Calls(), max_runs=1)))
    await clock.advance(2)
    report = await task
    assert report.runs == 1
    assert recorder.of(RunCompleted)
    assert "observer bug" in caplog.text


async def test_a_job_id_cannot_run_twice_on_one_scheduler(clock: FakeClock) -> None:
    h = harness(clock)
    job = Job("job", Interval(seconds(10)), Calls())
    await h.start(job)
    with pytest.raises(InvalidJobError, match="'job' is already running"):
        await h.scheduler.run(job)
    with pytest.raises(InvalidJobError, match="takes a Job"):
        await h.scheduler.run("job")  # type: ignore[arg-type]
    await h.stop()


async def test_commands_before_run_apply_to_the_next_run(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    h.scheduler.handle().trigger_now()
    await h.start(Job("job", Interval(timedelta(hours=1)), calls))
    assert [c.run.source for c in calls.contexts] == [TriggerSource.MANUAL]
    await h.stop()


async def test_cancel_does_not_return_before_a_blocking_run_ends(clock: FakeClock) -> None:
    release = threading.Event()
    started = threading.Event()

    def work(context: TaskContext[Any]) -> None:
        started.set()
        release.wait(10)

    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), work))
    advancing = asyncio.create_task(clock.advance(10))
    await asyncio.to_thread(started.wait, 10)
    h.scheduler.handle().cancel()
    for _ in range(200):  # no settle(): it would wait for the thread
        await asyncio.sleep(0)
    assert h.task is not None
    assert not h.task.done(), "run() returned while the thread still runs"
    release.set()
    await advancing
    report = await asyncio.wait_for(h.task, 10)
    assert report.stop_reason is StopReason.CANCELLED
    assert [(r.status, r.scheduled_at) for r in report.history] == [
        (RunStatus.SUCCESS, T0 + seconds(10))
    ]


class BreakingStore(InMemoryStateStore):
    """A store whose saves fail once `broken` is set: a fatal error for the job."""

    broken = False

    async def save(self, state: JobState) -> None:
        if self.broken:
            raise RuntimeError("disk full")
        await super().save(state)


async def test_a_fatal_error_does_not_return_before_a_blocking_run_ends(
    clock: FakeClock,
) -> None:
    release = threading.Event()
    started = threading.Event()
    quick_done = threading.Event()

    def work(context: TaskContext[Any]) -> None:
        if context.run.source is TriggerSource.MANUAL:
            quick_done.set()
            return
        started.set()
        release.wait(10)

    store = BreakingStore()
    h = harness(clock, store=store)
    await h.start(Job("job", Interval(seconds(10)), work, overlap=OverlapPolicy.ALLOW_PARALLEL))
    advancing = asyncio.create_task(clock.advance(10))
    await asyncio.to_thread(started.wait, 10)
    store.broken = True
    h.scheduler.handle().trigger_now()  # its completion cannot be saved: fatal
    await asyncio.to_thread(quick_done.wait, 10)
    for _ in range(200):  # no settle(): it would wait for the thread
        await asyncio.sleep(0)
    assert h.task is not None
    assert not h.task.done(), "run() ended on the fatal error while the thread still runs"
    release.set()
    await advancing
    with pytest.raises(RuntimeError, match="disk full"):
        await asyncio.wait_for(h.task, 10)


async def test_cancelling_run_waits_for_a_thread_until_cancelled_again(clock: FakeClock) -> None:
    release = threading.Event()
    started = threading.Event()

    def work(context: TaskContext[Any]) -> None:
        started.set()
        release.wait(10)

    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), work))
    advancing = asyncio.create_task(clock.advance(10))
    await asyncio.to_thread(started.wait, 10)
    assert h.task is not None
    h.task.cancel()
    for _ in range(200):
        await asyncio.sleep(0)
    assert not h.task.done(), "run() was cancelled while the thread still runs"
    h.task.cancel()  # a second cancellation gives up waiting
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(h.task, 10)
    release.set()
    await advancing


def test_an_unknown_control_command_raises_instead_of_triggering(clock: FakeClock) -> None:
    h = harness(clock)
    with pytest.raises(TypeError, match="unknown control command 'trigger'"):
        h.scheduler._control("trigger")  # type: ignore[arg-type]
