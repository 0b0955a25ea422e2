"""`cronkit.testing.run_app`, `AppRunner` and `simulate`: an App under fake time in a test."""

from __future__ import annotations

import asyncio
import datetime as datetime_module
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cronkit import (
    App,
    ConfigurationError,
    Depends,
    InMemoryStateStore,
    JobState,
    RunContext,
    RunStatus,
    StopReason,
    TriggerSource,
)
from cronkit.testing import (
    DEFAULT_START,
    AppRunner,
    AppStillRunningError,
    FakeClock,
    run_app,
    simulate,
)
from tests.app_fixtures.harness import CorruptFor

# In a dict: freezegun replaces module globals that hold the real functions while it runs.
REAL = {"time": time.time, "datetime": datetime_module.datetime}
STUCK = timedelta(milliseconds=100)  # the real-time bound of the tests whose App cannot stop


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def quiet_app(**options: Any) -> App:
    return App(observers=[], **options)


# -- user code sees the fake time ------------------------------------------------------------


async def test_an_async_job_sees_the_scheduled_instant_as_now() -> None:
    app = quiet_app()
    seen: list[tuple[datetime, Any, Any, Any, float, date]] = []

    @app.cron("*/30 * * * *", id="half-hourly")
    async def half_hourly(ctx: RunContext) -> None:
        seen.append(
            (
                ctx.scheduled_at,
                datetime.now(UTC),
                datetime.now(),
                datetime.utcnow(),
                time.time(),
                date.today(),
            )
        )

    async with run_app(app, FakeClock("2025-03-01T23:00:00Z")) as runner:
        await runner.advance(hours=2)

    expected = [at("2025-03-01T23:30:00Z"), at("2025-03-02T00:00:00Z"), at("2025-03-02T00:30:00Z")]
    expected.append(at("2025-03-02T01:00:00Z"))
    assert [row[0] for row in seen] == expected
    for scheduled_at, aware, naive, utcnow, epoch, today in seen:
        assert aware == scheduled_at
        assert naive == scheduled_at.replace(tzinfo=None)  # naive now() is UTC (freezegun)
        assert utcnow == scheduled_at.replace(tzinfo=None)
        assert epoch == scheduled_at.timestamp()
        assert today == scheduled_at.date()


async def test_a_plain_job_in_a_worker_thread_sees_the_scheduled_instant_as_now() -> None:
    app = quiet_app()
    seen: list[tuple[datetime, Any, float, date, bool]] = []

    @app.interval(hours=12, id="twice-a-day")
    def twice_a_day(ctx: RunContext) -> None:
        in_thread = threading.current_thread() is not threading.main_thread()
        seen.append((ctx.scheduled_at, datetime.now(UTC), time.time(), date.today(), in_thread))

    async with run_app(app, FakeClock("2025-06-30T00:00:00Z")) as runner:
        await runner.advance(days=2)

    assert len(seen) == 4
    for scheduled_at, aware, epoch, today, in_thread in seen:
        assert in_thread
        assert aware == scheduled_at
        assert epoch == scheduled_at.timestamp()
        assert today == scheduled_at.date()
    days = [date(2025, 6, 30), date(2025, 7, 1), date(2025, 7, 1), date(2025, 7, 2)]
    assert [row[3] for row in seen] == days


async def test_time_follows_every_clock_move_inside_the_block() -> None:
    clock = FakeClock("2025-01-01T00:00:00Z")
    async with run_app(quiet_app(), clock) as runner:
        assert datetime.now(UTC) == at("2025-01-01T00:00:00Z")
        await runner.advance(timedelta(hours=1, seconds=1.5))
        assert time.time() == at("2025-01-01T01:00:01.500000Z").timestamp()
        await runner.advance_to("2025-02-01T00:00:00+01:00")
        assert datetime.now(UTC) == at("2025-01-31T23:00:00Z")
        clock.step_wall(-60)  # an NTP step back
        assert datetime.now(UTC) == at("2025-01-31T22:59:00Z")


async def test_the_real_time_is_back_after_the_block() -> None:
    async with run_app(quiet_app(), FakeClock("2001-01-01T00:00:00Z")):
        assert time.time is not REAL["time"]
    assert time.time is REAL["time"]
    assert datetime_module.datetime is REAL["datetime"]
    assert datetime.now(UTC).year > 2020


async def test_freeze_time_false_leaves_the_real_time_alone() -> None:
    async with run_app(quiet_app(), FakeClock("2001-01-01T00:00:00Z"), freeze_time=False):
        assert time.time is REAL["time"]
        assert datetime.now(UTC).year > 2020


async def test_asyncio_keeps_its_real_clock_while_time_is_frozen() -> None:
    async with run_app(quiet_app(), FakeClock("2025-01-01T00:00:00Z")):
        loop = asyncio.get_running_loop()
        before = loop.time()
        await asyncio.sleep(0.001)  # would hang if the loop's clock were frozen
        assert loop.time() > before


# -- the runner --------------------------------------------------------------------------------


async def test_the_runner_reads_history_report_and_handle_of_each_job() -> None:
    app = quiet_app()
    calls: list[str] = []

    @app.interval(minutes=10, id="poll")
    async def poll(ctx: RunContext) -> None:
        calls.append(ctx.source)

    @app.at("2025-01-01T00:05:00Z", id="once")
    async def once() -> None:
        calls.append("once")

    async with run_app(app, FakeClock(DEFAULT_START)) as runner:
        assert isinstance(runner, AppRunner)
        assert runner.history("poll") == []
        await runner.advance(minutes=20)
        runner.handle("poll").trigger_now()
        await runner.settle()
        assert [run.source for run in runner.history("poll")] == [
            TriggerSource.SCHEDULE,
            TriggerSource.SCHEDULE,
            TriggerSource.MANUAL,
        ]
        assert runner.report("poll").stop_reason is None  # still running
        assert runner.report("once").stop_reason is StopReason.TERMINAL
        assert runner.errors == {}
        with pytest.raises(KeyError, match="no job with id 'nope'"):
            runner.history("nope")
    assert runner.report("poll").stop_reason is StopReason.SHUTDOWN  # the final report
    assert calls == ["once", "schedule", "schedule", "manual"]


async def test_advance_takes_a_delta_or_units_but_not_both() -> None:
    clock = FakeClock(DEFAULT_START)
    async with run_app(quiet_app(), clock) as runner:
        await runner.advance(90)
        await runner.advance(days=1, hours=1, minutes=1, seconds=1)
        assert clock.now() == at("2025-01-02T01:02:31Z")
        with pytest.raises(ConfigurationError, match="a delta and unit keywords"):
            await runner.advance(timedelta(days=1), hours=1)


async def test_the_default_clock_is_the_apps_fake_clock_else_a_new_one() -> None:
    own = FakeClock("2030-01-01T00:00:00Z")
    async with run_app(App(clock=own, observers=[])) as runner:
        assert runner.clock is own
    async with run_app(quiet_app()) as runner:
        assert runner.clock.now() == DEFAULT_START


async def test_a_failing_job_is_a_recorded_outcome() -> None:
    app = quiet_app()

    @app.interval(minutes=1, max_runs=1, id="broken")
    async def broken() -> None:
        raise RuntimeError("disk full")

    async with run_app(app, FakeClock(DEFAULT_START)) as runner:
        await runner.advance(minutes=1)
    (run,) = runner.history("broken")
    assert run.status is RunStatus.FAILED
    assert run.error == "RuntimeError: disk full"


async def test_a_fatal_job_error_is_listed_and_the_other_jobs_run() -> None:
    app = quiet_app()

    @app.interval(minutes=1, id="corrupt")
    async def corrupt() -> None:
        raise AssertionError("never runs")

    @app.interval(minutes=1, max_runs=1, id="fine")
    async def fine() -> None:
        pass

    async with run_app(app, FakeClock(DEFAULT_START), store=CorruptFor("corrupt")) as runner:
        await runner.advance(minutes=1)
        assert list(runner.errors) == ["corrupt"]
    assert len(runner.history("fine")) == 1


# -- what the block puts back ----------------------------------------------------------------


async def test_the_apps_clock_store_and_overrides_are_put_back() -> None:
    store = InMemoryStateStore()
    app = App(store=store, observers=[])

    def real_source() -> str:
        return "real"

    def fake_source() -> str:
        return "fake"

    app.dependency_overrides[real_source] = real_source
    sources: list[str] = []

    @app.interval(minutes=1, id="reader")
    async def reader(ctx: RunContext, source: str = Depends(real_source)) -> None:
        sources.append(source)

    clock = FakeClock(DEFAULT_START)
    async with run_app(app, clock, overrides={real_source: fake_source}) as runner:
        assert app.clock is clock
        assert app.store is not store  # a fresh InMemoryStateStore for the block
        await runner.advance(minutes=1)
        app.dependency_overrides.clear()  # undone at the end of the block too
        await runner.advance(minutes=1)
    assert sources == ["fake", "real"]
    assert app.clock is not clock
    assert app.store is store
    assert app.dependency_overrides == {real_source: real_source}
    assert await store.load("reader") is None  # the App's own store was not touched


async def test_a_shared_store_carries_state_from_one_block_to_the_next() -> None:
    store = InMemoryStateStore()
    app = quiet_app()
    runs: list[tuple[datetime, bool]] = []

    @app.interval(hours=1, id="hourly")
    async def hourly(ctx: RunContext) -> None:
        runs.append((ctx.scheduled_at, ctx.catch_up))

    clock = FakeClock(DEFAULT_START)
    async with run_app(app, clock, store=store) as runner:
        await runner.advance(hours=1)
    clock = FakeClock("2025-01-01T05:30:00Z")  # down for four and a half hours
    async with run_app(app, clock, store=store) as runner:
        await runner.settle()
    assert runs == [(at("2025-01-01T01:00:00Z"), False), (at("2025-01-01T05:00:00Z"), True)]
    state = await store.load("hourly")
    assert isinstance(state, JobState)
    assert state.next_run_at == at("2025-01-01T06:00:00Z")


async def test_an_app_that_runs_already_is_refused_and_left_alone() -> None:
    clock = FakeClock(DEFAULT_START)
    app = App(clock=clock, observers=[])

    @app.interval(minutes=1, id="tick")
    async def tick() -> None:
        pass

    async with app.running():
        with pytest.raises(RuntimeError, match="already running"):
            async with run_app(app, FakeClock("2030-01-01T00:00:00Z")):
                pass
        assert app.clock is clock


async def test_a_start_up_failure_propagates_and_the_app_is_put_back() -> None:
    app = quiet_app()

    async def broken_pool() -> Any:
        raise ConnectionError("no database")
        yield  # an async generator: app-scoped, created at start

    @app.interval(minutes=1, id="uses-pool")
    async def uses_pool(pool: Any = Depends(broken_pool, scope="app")) -> None:
        pass

    saved = app.clock
    with pytest.raises(ConnectionError, match="no database"):
        async with run_app(app, FakeClock(DEFAULT_START)):
            pass
    assert app.clock is saved
    assert time.time is REAL["time"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="takes an App"):
        run_app("myapp:app", FakeClock())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"needs a cronkit\.testing\.FakeClock"):
        run_app(quiet_app(), object())  # type: ignore[arg-type]


# -- leaving the block with work still pending ---------------------------------------------------


async def test_a_run_waiting_on_the_fake_clock_fails_the_block_with_a_clear_message() -> None:
    app = quiet_app()

    @app.cron("0 2 * * *", id="nightly")
    async def nightly(app: App) -> None:
        await app.clock.sleep(3600)  # a run that lasts an hour of fake time

    clock = FakeClock("2025-01-01T01:00:00Z")
    with pytest.raises(AppStillRunningError) as caught:
        async with run_app(app, clock, settle_timeout=STUCK) as runner:
            await runner.advance(hours=1, minutes=30)  # the run would end at 03:00
    message = str(caught.value)
    assert "the App did not stop within 0.1s of real time after the block ended" in message
    assert "job 'nightly' still has 1 active run:" in message
    assert "the schedule run scheduled at 2025-01-01T02:00:00Z, waiting in nightly() at " in (
        message
    )
    assert "test_testing.py:" in message
    assert "The fake clock is at 2025-01-01T02:30:00Z; its next timer is due at " in message
    assert "2025-01-01T03:00:00Z." in message
    assert "await runner.advance(...)" in message
    assert isinstance(caught.value, AssertionError)  # a test failure, for pytest
    report = app.report("nightly")
    assert report is not None
    assert report.stop_reason is StopReason.CANCELLED  # cancelled after the message was made
    assert [run.status for run in report.history] == [RunStatus.CANCELLED]


async def test_advancing_far_enough_lets_the_same_block_end_cleanly() -> None:
    app = quiet_app()

    @app.cron("0 2 * * *", id="nightly", max_runs=1)
    async def nightly(app: App) -> None:
        await app.clock.sleep(3600)

    async with run_app(app, FakeClock("2025-01-01T01:00:00Z")) as runner:
        await runner.advance(hours=2)
    (run,) = runner.history("nightly")
    assert run.duration == timedelta(hours=1)


async def test_a_run_blocked_for_ever_is_named_and_cancelled() -> None:
    app = quiet_app()
    never = asyncio.Event()

    @app.interval(minutes=1, id="waits-for-ever")
    async def waits() -> None:
        await never.wait()

    @app.interval(minutes=1, id="quick", max_runs=1)
    async def quick() -> None:
        pass

    with pytest.raises(AppStillRunningError) as caught:
        async with run_app(app, FakeClock(DEFAULT_START), settle_timeout=STUCK) as runner:
            await runner.advance(minutes=1)
    message = str(caught.value)
    assert "job 'waits-for-ever' still has 1 active run:" in message
    assert "waiting in waits() at test_testing.py:" in message
    assert "'quick'" not in message  # it stopped


def blocking_app(release: threading.Event, started: threading.Event) -> App:
    app = quiet_app()

    @app.interval(minutes=1, id="blocking", max_runs=1)
    def blocking() -> None:
        started.set()
        release.wait(10)  # released by the test; a thread cannot be cancelled

    return app


async def leave_with_a_thread_run_active(
    app: App, started: threading.Event, error: BaseException | None = None
) -> None:
    async with run_app(app, FakeClock(DEFAULT_START), settle_timeout=STUCK) as runner:
        advancing = asyncio.ensure_future(runner.advance(minutes=1))
        assert await asyncio.to_thread(started.wait, 10)
        assert not advancing.done()  # advance() waits for the thread
        advancing.cancel()
        if error is not None:
            raise error


async def test_a_plain_job_stuck_in_its_thread_is_named() -> None:
    release, started = threading.Event(), threading.Event()
    app = blocking_app(release, started)
    try:
        with pytest.raises(AppStillRunningError) as caught:
            await leave_with_a_thread_run_active(app, started)
    finally:
        release.set()
    message = str(caught.value)
    assert "job 'blocking' still has 1 active run:" in message
    assert "the schedule run scheduled at 2025-01-01T00:01:00Z, in a worker thread" in message


async def test_an_error_in_the_block_carries_a_note_about_pending_runs() -> None:
    release, started = threading.Event(), threading.Event()
    app = blocking_app(release, started)
    try:
        with pytest.raises(KeyError) as caught:
            await leave_with_a_thread_run_active(app, started, KeyError("the test's own"))
    finally:
        release.set()
    (note,) = caught.value.__notes__
    assert "job 'blocking' still has 1 active run" in note


async def divide_by_zero_in_the_block(app: App) -> None:
    async with run_app(app, FakeClock(DEFAULT_START)) as runner:
        await runner.advance(minutes=1)
        _ = 1 / 0


async def test_an_error_in_the_block_propagates_and_the_app_is_stopped() -> None:
    app = quiet_app()

    @app.interval(minutes=1, id="tick")
    async def tick() -> None:
        pass

    with pytest.raises(ZeroDivisionError):
        await divide_by_zero_in_the_block(app)
    report = app.report("tick")
    assert report is not None
    assert report.stop_reason is not None
    assert time.time is REAL["time"]


class StuckStore(InMemoryStateStore):
    """A state store whose `load` never answers (a server that accepts but does not reply)."""

    async def load(self, job_id: str) -> JobState | None:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_job_waiting_for_its_store_is_named() -> None:
    app = quiet_app()

    @app.interval(minutes=1, id="needs-state")
    async def needs_state() -> None:
        pass

    with pytest.raises(AppStillRunningError) as caught:
        async with run_app(app, FakeClock(DEFAULT_START), store=StuckStore(), settle_timeout=0.05):
            pass
    message = str(caught.value)
    assert "did not stop within 0.05s" in message
    assert "job 'needs-state' has not stopped, with no run active (waiting for its state " in (
        message
    )
    assert "The fake clock is at 2025-01-01T00:00:00Z." in message  # no timer pending


async def test_an_app_scoped_dependency_that_does_not_close_is_named() -> None:
    app = quiet_app()
    never = asyncio.Event()

    async def pool() -> AsyncIterator[str]:
        yield "pool"
        await never.wait()  # closing hangs

    @app.interval(minutes=1, id="uses-pool", max_runs=1)
    async def uses_pool(pool: str = Depends(pool, scope="app")) -> None:
        pass

    with pytest.raises(AppStillRunningError, match="every job stopped, but the App did not"):
        async with run_app(app, FakeClock(DEFAULT_START), settle_timeout=STUCK) as runner:
            await runner.advance(minutes=1)


async def test_a_cancelled_block_cancels_the_runs_without_waiting() -> None:
    app = quiet_app()
    never = asyncio.Event()
    entered = asyncio.Event()

    @app.interval(minutes=1, id="waits")
    async def waits() -> None:
        await never.wait()

    async def block() -> None:
        # settle_timeout is long: a graceful wait would fail this test with a note.
        async with run_app(app, FakeClock(DEFAULT_START), settle_timeout=600) as runner:
            await runner.advance(minutes=1)
            entered.set()
            await never.wait()

    task = asyncio.ensure_future(block())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    report = app.report("waits")
    assert report is not None
    assert report.stop_reason is StopReason.CANCELLED
    assert [run.status for run in report.history] == [RunStatus.CANCELLED]


def test_a_negative_settle_timeout_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="settle_timeout=-1 must be >= 0"):
        run_app(quiet_app(), settle_timeout=-1)


def test_the_runner_has_a_readable_repr() -> None:
    runner = AppRunner(quiet_app(), FakeClock(DEFAULT_START))
    assert repr(runner) == "AppRunner(jobs=[], clock=FakeClock(now='2025-01-01T00:00:00+00:00'))"


# -- simulate: the synchronous wrapper -----------------------------------------------------------


def simulated_app() -> App:
    app = quiet_app()

    @app.cron("0 9 * * mon-fri", id="workdays", timezone="Europe/Berlin")
    def workdays(ctx: RunContext) -> None:
        assert datetime.now(UTC) == ctx.scheduled_at

    @app.interval(days=1, id="daily")
    async def daily() -> None:
        pass

    return app


def test_simulate_runs_an_app_for_a_while_and_returns_the_histories() -> None:
    histories = simulate(simulated_app(), timedelta(days=7), start="2025-01-06T00:00:00Z")
    assert [run.scheduled_at for run in histories["workdays"]] == [
        at(f"2025-01-{day:02}T08:00:00Z") for day in range(6, 11)
    ]
    assert {run.status for run in histories["workdays"]} == {RunStatus.SUCCESS}
    assert len(histories["daily"]) == 7


def test_simulate_runs_until_an_instant_on_a_given_clock() -> None:
    clock = FakeClock("2025-01-06T00:00:00Z")
    app = simulated_app()
    histories = simulate(app, "2025-01-07T12:00:00+01:00", clock=clock)
    assert clock.now() == at("2025-01-07T11:00:00Z")
    assert len(histories["workdays"]) == 2
    report = app.report("daily")
    assert report is not None
    assert report.runs == 1
    assert report.stop_reason is StopReason.SHUTDOWN


def test_simulate_takes_start_or_clock_not_both() -> None:
    with pytest.raises(ConfigurationError, match="start= or clock="):
        simulate(simulated_app(), timedelta(days=1), start=DEFAULT_START, clock=FakeClock())


async def test_simulate_refuses_to_run_inside_an_event_loop() -> None:
    with pytest.raises(RuntimeError, match="async with run_app"):
        simulate(simulated_app(), timedelta(days=1))


def test_simulate_fails_when_the_app_cannot_stop() -> None:
    app = quiet_app()

    @app.interval(minutes=1, id="sleepy")
    async def sleepy(app: App) -> None:
        await app.clock.sleep(600)

    with pytest.raises(AppStillRunningError, match="job 'sleepy' still has 1 active run"):
        simulate(app, timedelta(minutes=1), settle_timeout=STUCK)
