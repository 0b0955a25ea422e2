"""Running an `App`: one engine per job, serve/running/run, shutdown, signals, fatal errors."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import timedelta
from typing import Any

import pytest

from cronkit import (
    App,
    InMemoryStateStore,
    JobTimeWindow,
    ResilientStateStore,
    RunContext,
    RunStatus,
    SkipReason,
    StopReason,
    StoreDegraded,
    TriggerSource,
)
from cronkit.testing import FakeClock
from tests.app_fixtures.harness import CorruptFor, Events, finish, start
from tests.engine_helpers import T0, at


def test_run_blocks_on_its_own_loop_until_every_job_is_done() -> None:
    app = App(observers=[])
    ran: list[str] = []

    @app.at("2025-01-01T00:00:00Z", id="past")  # due at start
    async def past(ctx: RunContext) -> None:
        ran.append(ctx.job_id)

    app.run()
    assert ran == ["past"]
    report = app.report("past")
    assert report is not None
    assert report.stop_reason is StopReason.TERMINAL


async def test_serve_runs_every_job_and_returns_when_all_are_terminal(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    seen: list[tuple[str, str]] = []

    @app.interval(seconds=10, max_runs=3, id="interval")
    async def every_ten(ctx: RunContext) -> None:
        seen.append(("interval", ctx.scheduled_at.isoformat()))

    @app.at("2025-01-01T00:00:15Z", id="at")
    def once(ctx: RunContext) -> None:
        seen.append(("at", ctx.scheduled_at.isoformat()))

    @app.cron("* * * * *", max_runs=2, id="cron")
    async def minutely(ctx: RunContext) -> None:
        seen.append(("cron", ctx.scheduled_at.isoformat()))

    task = await start(app)
    await clock.advance(timedelta(minutes=3))
    assert task.done()
    await task
    assert seen == [
        ("interval", "2025-01-01T00:00:10+00:00"),
        ("at", "2025-01-01T00:00:15+00:00"),
        ("interval", "2025-01-01T00:00:20+00:00"),
        ("interval", "2025-01-01T00:00:30+00:00"),
        ("cron", "2025-01-01T00:01:00+00:00"),
        ("cron", "2025-01-01T00:02:00+00:00"),
    ]
    for job_id, runs in [("interval", 3), ("at", 1), ("cron", 2)]:
        report = app.report(job_id)
        assert report is not None
        assert (report.runs, report.stop_reason) == (runs, StopReason.TERMINAL)
    assert not app.errors


async def test_serve_runs_until_shutdown_and_active_runs_finish(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    finished: list[int] = []

    @app.interval(seconds=10, id="slow")
    async def slow(ctx: RunContext) -> None:
        await clock.sleep(5)
        finished.append(ctx.trigger_count)

    task = await start(app)
    await clock.advance(12)  # the first run is half-way
    live = app.report("slow")
    assert live is not None
    assert live.stop_reason is None
    app.shutdown()
    await finish(app, task)
    assert finished == [1]  # the active run finished; nothing new started
    report = app.report("slow")
    assert report is not None
    assert report.stop_reason is StopReason.SHUTDOWN
    assert report.history[-1].status is RunStatus.SUCCESS
    app.shutdown()  # not running: nothing to do


async def test_shutdown_timeout_and_cancel_cancel_active_runs(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])

    @app.interval(seconds=10, id="stuck")
    async def stuck() -> None:
        await clock.sleep(3600)

    task = await start(app)
    await clock.advance(10)
    app.shutdown(timeout=timedelta(seconds=30))
    await finish(app, task)
    report = app.report("stuck")
    assert report is not None
    assert report.history[-1].status is RunStatus.CANCELLED
    assert clock.now() == at("2025-01-01T00:00:40Z")

    task = await start(app)
    await clock.advance(10)
    app.cancel()
    await finish(app, task)
    report = app.report("stuck")
    assert report is not None
    assert report.history[-1].status is RunStatus.CANCELLED
    assert clock.now() == at("2025-01-01T00:00:50Z")  # at once


async def test_one_jobs_fatal_error_leaves_the_others_running(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(clock=clock, store=CorruptFor("broken"), observers=[])
    runs: list[str] = []

    @app.interval(seconds=10, max_runs=2, id="healthy")
    async def healthy(ctx: RunContext) -> None:
        runs.append(ctx.job_id)

    @app.interval(seconds=10, id="broken")
    async def broken(ctx: RunContext) -> None:
        runs.append(ctx.job_id)

    with caplog.at_level(logging.ERROR, logger="cronkit"):
        task = await start(app)
        await clock.advance(30)
    assert task.done()
    await task
    assert runs == ["healthy", "healthy"]
    assert list(app.errors) == ["broken"]
    assert "jobs:broken" in str(app.errors["broken"])
    [record] = [r for r in caplog.records if r.name == "cronkit"]
    assert record.levelno == logging.ERROR
    assert "'broken' stopped on a fatal error" in record.getMessage()
    assert "StateCorruptedError" in record.getMessage()
    assert app.report("broken") is None


async def test_the_store_gets_one_observer_for_all_jobs(clock: FakeClock) -> None:
    class FailsAfterLoading:
        """Answers the loads at start-up, then goes away."""

        async def load(self, job_id: str) -> None:
            return None

        async def save(self, state: object) -> None:
            raise ConnectionRefusedError("primary is down")

        async def delete(self, job_id: str) -> None:
            raise ConnectionRefusedError("primary is down")

        async def close(self) -> None: ...

    events = Events()
    store = ResilientStateStore(FailsAfterLoading(), recover=False)  # type: ignore[arg-type]
    app = App(clock=clock, store=store, observers=[events])
    for name in ("a", "b", "c"):
        app.interval(seconds=10, max_runs=1, id=name)(_noop)
    task = await start(app)
    await finish(app, task)
    assert len(events.of(StoreDegraded)) == 1  # not once per job
    assert not app.errors


async def _noop() -> None:
    pass


async def test_running_runs_in_the_background_and_shuts_down_on_exit(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    app.interval(seconds=10, id="tick")(_noop)
    async with app.running() as running:
        assert running is app
        await clock.advance(25)
        report = app.report("tick")
        assert report is not None
        assert report.runs == 2
        app.handle("tick")  # the job is running: its handle is there
    report = app.report("tick")
    assert report is not None
    assert report.stop_reason is StopReason.SHUTDOWN
    with pytest.raises(RuntimeError, match="not running"):
        app.handle("tick")


async def test_running_raises_start_up_errors_on_entry(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    app.interval(seconds=10, id="tick")(_noop)
    async with app.running():
        with pytest.raises(RuntimeError, match="already running"):
            await app.serve()
        with pytest.raises(RuntimeError, match="cannot add job 'late' while the App runs"):
            app.interval(seconds=5, id="late")(_noop)
    assert list(app.jobs) == ["tick"]


async def test_running_an_app_without_jobs_returns_at_once(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(clock=clock)
    with caplog.at_level(logging.WARNING, logger="cronkit"):
        await app.serve()
        async with app.running():
            pass
    assert caplog.messages == ["the App has no jobs; nothing to run"] * 2


async def test_running_cancels_serve_if_cancelled_while_starting(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    app.interval(seconds=10, id="tick")(_noop)
    entering = asyncio.create_task(app.running().__aenter__())
    await asyncio.sleep(0)
    entering.cancel()
    with pytest.raises(asyncio.CancelledError):
        await entering
    await clock.settle()
    assert app.report("tick") is None  # the serve task was cancelled with it


async def test_handle_pauses_resumes_and_triggers_one_job(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    runs: dict[str, list[TriggerSource]] = {"a": [], "b": []}

    async def record(ctx: RunContext) -> None:
        runs[ctx.job_id].append(ctx.source)

    app.interval(seconds=10, id="a")(record)
    app.interval(seconds=10, id="b", missed="skip")(record)
    task = await start(app)
    app.handle("b").pause()
    await clock.advance(30)
    app.handle("b").trigger_now()  # a manual run goes through while paused
    app.handle("b").resume()  # the occurrences due meanwhile are missed: skipped
    await clock.settle()
    assert runs == {"a": [TriggerSource.SCHEDULE] * 3, "b": [TriggerSource.MANUAL]}
    report = app.report("b")
    assert report is not None
    assert report.last_skip_reason is SkipReason.MISSED
    app.shutdown()
    await finish(app, task)


async def test_trigger_runs_one_job_once_outside_its_schedule(clock: FakeClock) -> None:
    app = App(clock=clock, store=InMemoryStateStore(), observers=[])
    calls: list[RunContext] = []

    @app.at("2024-12-31T00:00:00Z", id="due")  # due at start, yet a trigger does not consume it
    async def due(ctx: RunContext) -> None:
        calls.append(ctx)

    @app.interval(seconds=10, id="failing")
    async def failing() -> None:
        raise ValueError("nope")

    record = await app.trigger("due")
    assert record is not None
    assert (record.status, record.source, record.catch_up) == (
        RunStatus.SUCCESS,
        TriggerSource.MANUAL,
        False,
    )
    assert record.scheduled_at == record.started_at == record.finished_at == T0
    assert [ctx.source for ctx in calls] == [TriggerSource.MANUAL]
    report = app.report("due")
    assert report is not None
    assert report.stop_reason is StopReason.SHUTDOWN
    assert report.state.trigger_count == 0
    assert report.state.next_run_at == at("2024-12-31T00:00Z")

    failed = await app.trigger("failing")
    assert failed is not None
    assert (failed.status, failed.error) == (RunStatus.FAILED, "ValueError: nope")

    task = await start(app)  # the scheduled occurrence is still there, and runs now
    assert [ctx.source for ctx in calls] == [TriggerSource.MANUAL, TriggerSource.SCHEDULE]
    app.shutdown()
    await finish(app, task)


async def test_a_skipped_trigger_returns_none_with_the_reason(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])  # T0 is a Wednesday
    app.interval(seconds=10, id="weekend", window=JobTimeWindow("sat-sun"))(_noop)
    assert await app.trigger("weekend") is None
    report = app.report("weekend")
    assert report is not None
    assert report.last_skip_reason is SkipReason.OUTSIDE_TIME_WINDOW


async def test_trigger_needs_a_known_job_and_an_idle_app(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    app.interval(seconds=10, id="tick")(_noop)
    with pytest.raises(KeyError, match="'nope'"):
        await app.trigger("nope")
    async with app.running():
        with pytest.raises(RuntimeError, match="already running"):
            await app.trigger("tick")


async def _until(condition: Any) -> None:
    """Let the loop run (the signal's wake-up fd included) until `condition()` holds."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_first_signal_shuts_down_gracefully(
    clock: FakeClock, signum: signal.Signals, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(clock=clock, observers=[])
    started: list[int] = []

    @app.interval(seconds=10, id="work")
    async def work(ctx: RunContext) -> None:
        started.append(ctx.trigger_count)
        await clock.sleep(5)

    with caplog.at_level(logging.WARNING, logger="cronkit"):
        task = asyncio.create_task(app.serve(install_signal_handlers=True))
        await clock.advance(10)
        os.kill(os.getpid(), signum)
        await _until(lambda: caplog.messages)
        await finish(app, task)
    assert f"received {signum.name}: shutting down" in caplog.messages[0]
    report = app.report("work")
    assert report is not None
    assert report.stop_reason is StopReason.SHUTDOWN
    assert report.history[-1].status is RunStatus.SUCCESS
    assert started == [1]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers removed


async def test_second_signal_cancels_active_runs(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(clock=clock, observers=[])

    @app.interval(seconds=10, id="work")
    async def work() -> None:
        await clock.sleep(3600)

    with caplog.at_level(logging.WARNING, logger="cronkit"):
        task = asyncio.create_task(app.serve(install_signal_handlers=True))
        await clock.advance(10)
        os.kill(os.getpid(), signal.SIGINT)
        await _until(lambda: len(caplog.messages) == 1)
        os.kill(os.getpid(), signal.SIGINT)
        await _until(lambda: len(caplog.messages) == 2)
        await finish(app, task)
    assert "received SIGINT again: cancelling active runs" in caplog.messages[1]
    report = app.report("work")
    assert report is not None
    assert report.history[-1].status is RunStatus.CANCELLED
    assert clock.now() == at("2025-01-01T00:00:10Z")


async def test_cancel_waits_for_a_blocking_run_before_serve_returns(clock: FakeClock) -> None:
    import threading

    app = App(clock=clock, observers=[])
    release = threading.Event()
    started = threading.Event()

    @app.interval(seconds=10, id="blocking")
    def work(ctx: RunContext) -> None:
        started.set()
        release.wait(10)

    task = await start(app)
    advancing = asyncio.create_task(clock.advance(10))
    await asyncio.to_thread(started.wait, 10)
    app.cancel()
    for _ in range(200):  # no settle(): it would wait for the thread
        await asyncio.sleep(0)
    assert not task.done(), "serve() returned while the thread still runs"
    release.set()
    await advancing
    await asyncio.wait_for(task, 10)
    report = app.report("blocking")
    assert report is not None
    assert report.stop_reason is StopReason.CANCELLED
    assert [(r.status, r.scheduled_at) for r in report.history] == [
        (RunStatus.SUCCESS, T0 + timedelta(seconds=10))
    ]
