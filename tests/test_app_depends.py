"""Depends through the App, end to end: each run resolves, calls and cleans up.

`test_depends.py` covers the resolver itself (FastAPI's cases); here the App wires it: what a
decorated function receives, when generator clean-up happens, app-scoped values around
`serve()`, overrides read at run time, and plain functions in worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Annotated

import pytest

from cronkit import App, Depends, RunContext, RunStatus
from cronkit.testing import FakeClock
from tests.app_fixtures.harness import finish, start


class Boom(Exception):
    pass


def last_status(app: App, job_id: str) -> tuple[RunStatus, str | None]:
    report = app.report(job_id)
    assert report is not None
    record = report.history[-1]
    return record.status, record.error


LOG: list[str] = []


def outer() -> Iterator[str]:
    LOG.append("outer set-up")
    yield "outer"
    LOG.append("outer clean-up")


async def inner(value: Annotated[str, Depends(outer)]) -> AsyncIterator[str]:
    LOG.append("inner set-up")
    yield f"inner({value})"
    LOG.append("inner clean-up")


async def test_generators_are_cleaned_up_after_each_run_in_reverse_order(
    clock: FakeClock,
) -> None:
    app = App(clock=clock, observers=[])
    LOG.clear()

    @app.interval(seconds=10, max_runs=2, id="job")
    async def job(ctx: RunContext, value: Annotated[str, Depends(inner)], me: App) -> None:
        LOG.append(f"run {ctx.trigger_count} {value} {me is app}")

    task = await start(app)
    await finish(app, task)
    assert LOG == [
        "outer set-up",
        "inner set-up",
        "run 1 inner(outer) True",
        "inner clean-up",
        "outer clean-up",
        "outer set-up",
        "inner set-up",
        "run 2 inner(outer) True",
        "inner clean-up",
        "outer clean-up",
    ]


async def test_the_runs_exception_is_thrown_into_generators(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    seen: list[str] = []

    def transaction() -> Iterator[str]:
        try:
            yield "tx"
        except Boom as error:
            seen.append(f"rollback after {error}")
            raise
        seen.append("commit")

    @app.interval(seconds=10, max_runs=1, id="failing")
    async def failing(tx: str = Depends(transaction)) -> None:
        raise Boom("bad row")

    @app.interval(seconds=10, max_runs=1, id="fine")
    async def fine(tx: str = Depends(transaction)) -> None:
        pass

    task = await start(app)
    await finish(app, task)
    assert sorted(seen) == ["commit", "rollback after bad row"]
    assert last_status(app, "failing") == (RunStatus.FAILED, "Boom: bad row")
    assert last_status(app, "fine") == (RunStatus.SUCCESS, None)


async def test_a_clean_up_error_fails_the_run(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])

    def leaky() -> Iterator[int]:
        yield 1
        raise OSError("could not close")

    @app.interval(seconds=10, max_runs=1, id="job")
    async def job(value: int = Depends(leaky)) -> None:
        pass

    task = await start(app)
    await finish(app, task)
    assert last_status(app, "job") == (
        RunStatus.FAILED,
        "clean-up of dependency leaky failed: OSError: could not close",
    )


async def test_a_timed_out_run_still_cleans_up(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    seen: list[str] = []

    async def resource() -> AsyncIterator[str]:
        try:
            yield "r"
        finally:
            seen.append("released")

    @app.interval(seconds=10, max_runs=1, timeout=timedelta(seconds=1), id="slow")
    async def slow(r: str = Depends(resource)) -> None:
        await clock.sleep(60)

    task = await start(app)
    await finish(app, task)
    assert seen == ["released"]
    assert last_status(app, "slow")[0] is RunStatus.TIMED_OUT


async def test_a_cached_dependency_is_called_once_per_run(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    calls: list[str] = []

    def settings() -> dict[str, str]:
        calls.append("settings")
        return {"dsn": "db://"}

    def connection(cfg: dict[str, str] = Depends(settings)) -> str:
        return cfg["dsn"]

    def fresh() -> int:
        calls.append("fresh")
        return len(calls)

    @app.interval(seconds=10, max_runs=2, id="job")
    async def job(
        dsn: str = Depends(connection),
        cfg: dict[str, str] = Depends(settings),
        a: int = Depends(fresh, use_cache=False),
        b: int = Depends(fresh, use_cache=False),
    ) -> None:
        assert dsn == cfg["dsn"]
        assert a != b

    task = await start(app)
    await finish(app, task)
    assert calls == ["settings", "fresh", "fresh"] * 2
    assert last_status(app, "job") == (RunStatus.SUCCESS, None)


async def test_overrides_are_read_at_each_run(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    values: list[str] = []

    def real() -> str:
        return "real"

    @app.interval(seconds=10, max_runs=3, id="job")
    async def job(value: str = Depends(real)) -> None:
        values.append(value)

    task = await start(app)
    await clock.advance(10)
    app.dependency_overrides[real] = lambda: "fake"
    await clock.advance(10)
    app.dependency_overrides = {}
    await clock.advance(10)
    await finish(app, task)
    assert values == ["real", "fake", "real"]


class Client:
    """A class dependency: `Depends()` takes the annotation."""

    def __init__(self, ctx: RunContext) -> None:
        self.job_id = ctx.job_id


async def test_class_dependencies_and_run_context_in_dependencies(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    seen: list[str] = []

    @app.interval(seconds=10, max_runs=1, id="job")
    async def job(client: Client = Depends()) -> None:
        seen.append(client.job_id)

    task = await start(app)
    await finish(app, task)
    assert seen == ["job"]


async def test_app_scope_is_opened_once_at_start_and_closed_at_shutdown(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    log: list[str] = []

    async def pool(me: App) -> AsyncIterator[str]:
        log.append(f"pool open {me is app}")
        yield "pool"
        log.append("pool closed")

    def client(p: str = Depends(pool, scope="app")) -> Iterator[str]:
        log.append("client open")
        yield f"client({p})"
        log.append("client closed")

    @app.interval(seconds=10, id="a")
    async def a(c: str = Depends(client, scope="app")) -> None:
        log.append(f"a uses {c}")

    @app.interval(seconds=15, id="b")
    def b(c: str = Depends(client, scope="app")) -> None:
        log.append(f"b uses {c}")

    task = await start(app)
    assert log == ["pool open True", "client open"]  # before any run
    await clock.advance(20)
    app.shutdown()
    await finish(app, task)
    assert log == [
        "pool open True",
        "client open",
        "a uses client(pool)",
        "b uses client(pool)",
        "a uses client(pool)",
        "client closed",
        "pool closed",
    ]


async def test_an_app_scoped_value_failing_at_start_stops_the_app_before_any_run(
    clock: FakeClock,
) -> None:
    app = App(clock=clock, observers=[])
    log: list[str] = []

    def first() -> Iterator[str]:
        log.append("first open")
        yield "first"
        log.append("first closed")

    def second() -> str:
        raise Boom("no database")

    @app.interval(seconds=10, id="job")
    async def job(
        a: str = Depends(first, scope="app"),
        b: str = Depends(second, scope="app"),
    ) -> None:
        log.append("ran")

    with pytest.raises(Boom, match="no database"):
        async with app.running():
            pass  # pragma: no cover - never entered
    assert log == ["first open", "first closed"]
    assert app.report("job") is None


async def test_trigger_opens_the_app_scope_of_that_job_only(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    log: list[str] = []

    def make(name: str):  # type: ignore[no-untyped-def]
        def dependency() -> Iterator[str]:
            log.append(f"{name} open")
            yield name
            log.append(f"{name} closed")

        return dependency

    mine, other = make("mine"), make("other")

    @app.interval(seconds=10, id="job")
    async def job(value: str = Depends(mine, scope="app")) -> None:
        log.append(f"ran with {value}")

    @app.interval(seconds=10, id="other-job")
    async def other_job(value: str = Depends(other, scope="app")) -> None: ...

    await app.trigger("job")
    assert log == ["mine open", "ran with mine", "mine closed"]


async def test_plain_functions_run_in_a_worker_thread_with_deps_resolved_on_the_loop(
    clock: FakeClock,
) -> None:
    app = App(clock=clock, observers=[])
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}

    def resource() -> Iterator[str]:
        threads["set-up"] = threading.get_ident()
        try:
            yield "r"
        except Boom:
            threads["saw the error"] = threading.get_ident()
            raise
        finally:
            threads["clean-up"] = threading.get_ident()

    @app.interval(seconds=10, max_runs=2, id="blocking")
    def blocking(ctx: RunContext, r: str = Depends(resource)) -> None:
        threads["body"] = threading.get_ident()
        if ctx.trigger_count == 2:
            raise Boom("in the thread")

    task = await start(app)
    await clock.advance(10)
    assert threads["set-up"] == threads["clean-up"] == loop_thread
    assert threads["body"] != loop_thread
    assert last_status(app, "blocking") == (RunStatus.SUCCESS, None)
    await finish(app, task)
    assert threads["saw the error"] == loop_thread
    assert last_status(app, "blocking") == (RunStatus.FAILED, "Boom: in the thread")


async def test_a_thread_jobs_clean_up_error_replaces_its_own(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])

    def strict() -> Iterator[None]:
        try:
            yield
        except Boom as error:
            raise RuntimeError("translated") from error

    @app.interval(seconds=10, max_runs=1, id="blocking")
    def blocking(value: None = Depends(strict)) -> None:
        raise Boom("original")

    task = await start(app)
    await finish(app, task)
    assert last_status(app, "blocking") == (
        RunStatus.FAILED,
        "clean-up of dependency strict failed: RuntimeError: translated",
    )
