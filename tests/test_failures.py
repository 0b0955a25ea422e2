"""A failed run keeps its exception and traceback (SPEC §14.1), and says which dependency failed.

The traceback reaches the run history, every observer (`RunCompleted.exception` and
`.traceback`) and the log at the default level; a timed-out run shows where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from cronkit import (
    App,
    DependencyFailedError,
    Depends,
    LogObserver,
    RunCompleted,
    RunStatus,
)
from cronkit.testing import FakeClock
from tests.app_fixtures.harness import Events, finish, start


def divide(numerator: int, denominator: int) -> float:
    return numerator / denominator  # the line a traceback must name


async def run_once(app: App) -> None:
    task = await start(app)
    await finish(app, task)


def completed(events: Events, job_id: str) -> RunCompleted:
    [event] = [event for event in events.of(RunCompleted) if event.job_id == job_id]
    assert isinstance(event, RunCompleted)
    return event


async def test_a_failed_run_carries_its_exception_and_traceback(clock: FakeClock) -> None:
    events = Events()
    app = App(clock=clock, observers=[events])

    @app.interval(seconds=10, max_runs=1, id="report")
    async def report() -> None:
        divide(1, 0)

    await run_once(app)
    event = completed(events, "report")
    assert event.status is RunStatus.FAILED
    assert event.error == "ZeroDivisionError: division by zero"
    assert isinstance(event.exception, ZeroDivisionError)
    assert event.traceback is not None
    assert "in divide" in event.traceback
    assert "return numerator / denominator" in event.traceback
    assert event.traceback.rstrip().endswith("ZeroDivisionError: division by zero")
    [record] = app.report("report").history
    assert record.traceback == event.traceback
    assert record.error == event.error


async def test_a_thread_jobs_traceback_names_the_helper(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])

    @app.interval(seconds=10, max_runs=1, id="blocking")
    def blocking() -> None:
        divide(2, 0)

    await run_once(app)
    [record] = app.report("blocking").history
    assert record.status is RunStatus.FAILED
    assert record.traceback is not None
    assert "in divide" in record.traceback
    assert "in blocking" in record.traceback


async def test_a_success_has_no_traceback(clock: FakeClock) -> None:
    events = Events()
    app = App(clock=clock, observers=[events])

    @app.interval(seconds=10, max_runs=1, id="fine")
    async def fine() -> None:
        pass

    await run_once(app)
    event = completed(events, "fine")
    assert (event.status, event.exception, event.traceback) == (RunStatus.SUCCESS, None, None)
    assert app.report("fine").history[0].traceback is None


async def test_a_timed_out_run_shows_where_it_was(clock: FakeClock) -> None:
    events = Events()
    app = App(clock=clock, observers=[events])

    async def wait_for_the_network() -> None:
        await clock.sleep(60)

    @app.interval(seconds=100, max_runs=1, id="slow", timeout=timedelta(seconds=5))
    async def slow() -> None:
        await wait_for_the_network()

    await run_once(app)
    event = completed(events, "slow")
    assert event.status is RunStatus.TIMED_OUT
    assert isinstance(event.exception, TimeoutError)
    assert event.traceback is not None
    assert "in wait_for_the_network" in event.traceback
    assert event.traceback.rstrip().endswith("TimeoutError: run exceeded 0:00:05")


async def test_log_observer_logs_a_failure_with_its_traceback_at_warning(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(clock=clock)  # the default observer: LogObserver on the "cronkit" logger

    @app.interval(seconds=10, max_runs=1, id="report")
    async def report() -> None:
        divide(1, 0)

    with caplog.at_level(logging.INFO, logger="cronkit"):
        await run_once(app)
    [failure] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "RunCompleted job=report" in failure.getMessage()
    assert "error=ZeroDivisionError: division by zero" in failure.getMessage()
    assert "traceback=" not in failure.getMessage()
    assert failure.exc_info is not None
    assert failure.exc_info[0] is ZeroDivisionError
    assert "return numerator / denominator" in caplog.text
    assert failure.cronkit["traceback"] is not None  # type: ignore[attr-defined]
    assert "exception" not in failure.cronkit  # type: ignore[attr-defined]


def test_log_observer_appends_a_traceback_text_when_there_is_no_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = RunCompleted(
        job_id="remote",
        at=FakeClock().now(),
        scheduled_at=FakeClock().now(),
        status=RunStatus.FAILED,
        error="ValueError: bad",
        duration=timedelta(seconds=1),
        source="schedule",  # type: ignore[arg-type]
        traceback="Traceback (most recent call last):\n  ...\nValueError: bad\n",
    )
    with caplog.at_level(logging.INFO, logger="cronkit"):
        LogObserver().on_event(event)
    [record] = caplog.records
    assert record.exc_info is None
    assert record.getMessage().endswith(
        "\nTraceback (most recent call last):\n  ...\nValueError: bad"
    )


async def test_a_long_traceback_keeps_its_end(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])

    @app.interval(seconds=10, max_runs=1, id="deep")
    async def deep() -> None:
        raise LookupError("a key of " + "x" * 10_000 + " is not there")

    await run_once(app)
    text = app.report("deep").history[0].traceback
    assert text is not None
    assert 8 * 1024 - 8 <= len(text) <= 8 * 1024
    first, _, rest = text.partition("\n")
    assert first.startswith("[... ")
    assert first.endswith(" characters cut ...]")
    assert rest.endswith("x is not there\n")


# -- dependencies --------------------------------------------------------------------------------


def get_db() -> str:
    raise ConnectionRefusedError("database is down")


async def get_session(db: str = Depends(get_db)) -> str:
    return f"session on {db}"


async def test_a_dependency_failing_on_entry_is_named(clock: FakeClock) -> None:
    events = Events()
    app = App(clock=clock, observers=[events])

    @app.interval(seconds=10, max_runs=1, id="sync")
    async def sync(session: str = Depends(get_session)) -> None:
        raise AssertionError("never runs")

    await run_once(app)
    event = completed(events, "sync")
    assert event.error == "dependency get_db failed: ConnectionRefusedError: database is down"
    assert isinstance(event.exception, DependencyFailedError)
    assert (event.exception.dependency, event.exception.phase) == ("get_db", "entry")
    assert isinstance(event.exception.__cause__, ConnectionRefusedError)
    assert event.traceback is not None
    assert "in get_db" in event.traceback


@pytest.mark.parametrize("thread", [False, True], ids=["async-job", "thread-job"])
async def test_a_generator_dependency_failing_on_entry_or_in_clean_up(
    clock: FakeClock, thread: bool
) -> None:
    app = App(clock=clock, observers=[])

    async def opens() -> AsyncIterator[int]:
        raise PermissionError("no access")
        yield 1  # pragma: no cover - a generator that fails before yielding

    def closes() -> Iterator[int]:
        yield 1
        raise OSError("could not flush")

    if thread:

        @app.interval(seconds=10, max_runs=1, id="entry")
        def entry(value: int = Depends(opens)) -> None:
            raise AssertionError("never runs")  # pragma: no cover

        @app.interval(seconds=10, max_runs=1, id="cleanup")
        def cleanup(value: int = Depends(closes)) -> None:
            pass

    else:

        @app.interval(seconds=10, max_runs=1, id="entry")
        async def entry(value: int = Depends(opens)) -> None:
            raise AssertionError("never runs")  # pragma: no cover

        @app.interval(seconds=10, max_runs=1, id="cleanup")
        async def cleanup(value: int = Depends(closes)) -> None:
            pass

    await run_once(app)
    [entry_run] = app.report("entry").history
    [cleanup_run] = app.report("cleanup").history
    assert entry_run.error == "dependency opens failed: PermissionError: no access"
    assert cleanup_run.error == "clean-up of dependency closes failed: OSError: could not flush"
    assert cleanup_run.status is RunStatus.FAILED


async def test_the_jobs_own_error_rethrown_by_a_generator_stays_the_jobs(
    clock: FakeClock,
) -> None:
    app = App(clock=clock, observers=[])

    def transaction() -> Iterator[str]:
        try:
            yield "tx"
        except ValueError:
            raise

    @app.interval(seconds=10, max_runs=1, id="job")
    async def job(tx: str = Depends(transaction)) -> None:
        raise ValueError("bad row")

    await run_once(app)
    assert app.report("job").history[0].error == "ValueError: bad row"


async def test_an_app_scoped_value_made_during_a_run_names_the_step_that_failed(
    clock: FakeClock,
) -> None:
    app = App(clock=clock, observers=[])

    def real_pool() -> str:
        return "pool"

    def settings() -> str:
        raise KeyError("DATABASE_URL")

    def test_pool(config: str = Depends(settings, scope="app")) -> str:
        return config  # pragma: no cover

    @app.interval(seconds=10, max_runs=2, id="job")
    async def job(pool: str = Depends(real_pool, scope="app")) -> None:
        app.dependency_overrides[real_pool] = test_pool  # the next run makes a new value

    await run_once(app)
    first, second = app.report("job").history
    assert first.status is RunStatus.SUCCESS
    assert second.error == "dependency settings failed: KeyError: 'DATABASE_URL'"


def test_a_dependency_failure_reads_as_its_message() -> None:
    error = DependencyFailedError("get_db", "cleanup", ValueError("x"))
    assert str(error) == "clean-up of dependency get_db failed: ValueError: x"
    assert (error.dependency, error.phase) == ("get_db", "cleanup")


async def test_cancelled_run_is_not_a_failure(clock: FakeClock) -> None:
    events = Events()
    app = App(clock=clock, observers=[events])
    started = asyncio.Event()

    @app.interval(seconds=10, max_runs=1, id="long")
    async def long() -> None:
        started.set()
        await clock.sleep(100)

    task = await start(app)
    await clock.advance(timedelta(seconds=10))
    assert started.is_set()
    app.cancel()
    await finish(app, task)
    event = completed(events, "long")
    assert (event.status, event.exception, event.traceback) == (RunStatus.CANCELLED, None, None)
    assert LogObserver.level_of(event) == logging.INFO
