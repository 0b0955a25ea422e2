"""Running an `App` under a `FakeClock` in a test: `run_app` and its `AppRunner`.

Re-exported by `cronkit.testing`; see its docstring. freezegun is imported only when
`run_app` starts (by `FrozenTime`; it is a test dependency, never a runtime
one).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from cronkit._app import App
from cronkit._config import SchedulerReport
from cronkit._engine import SchedulerHandle
from cronkit._exceptions import ConfigurationError, CronkitError
from cronkit._fake_clock import DEFAULT_START, FakeClock, FrozenTime
from cronkit._schedules import timedelta_of_units
from cronkit._state import RunRecord, format_instant
from cronkit._store import InMemoryStateStore, StateStore

__all__ = ["DEFAULT_SETTLE_TIMEOUT", "AppRunner", "AppStillRunningError", "run_app"]

DEFAULT_SETTLE_TIMEOUT = timedelta(seconds=5)
_CRONKIT_DIR = os.path.dirname(os.path.abspath(__file__))
_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__))


class AppStillRunningError(CronkitError, AssertionError):
    """`run_app` ended while the App still had work that would not finish.

    The message names each job that did not stop and what it was doing (its active runs and
    where they wait), and what the fake clock would do next.
    """


class AppRunner:
    """The App running inside `run_app`: its clock, and each job's history, report and handle.

    Attributes:
        app: the running App.
        clock: the `FakeClock` it runs on.
    """

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock

    def __repr__(self) -> str:
        return f"AppRunner(jobs={list(self.app.jobs)!r}, clock={self.clock!r})"

    def history(self, job_id: str) -> list[RunRecord]:
        """The job's executed runs in completion order (the newest `history_limit` of them).

        Raises:
            KeyError: no job has that id.
        """
        report = self.app.report(job_id)
        return [] if report is None else list(report.history)

    def report(self, job_id: str) -> SchedulerReport:
        """The job's live report (its final one once it has stopped).

        Raises:
            KeyError: no job has that id.
            RuntimeError: the job has not started (its state store has not answered yet).
        """
        report = self.app.report(job_id)
        if report is None:  # pragma: no cover - every job has a live report once started
            raise RuntimeError(
                f"job {job_id!r} has not started yet; await runner.settle() and ask again"
            )
        return report

    def handle(self, job_id: str) -> SchedulerHandle:
        """The job's `SchedulerHandle`: pause, resume, trigger_now, shutdown, cancel.

        Raises:
            KeyError: no job has that id.
        """
        return self.app.handle(job_id)

    @property
    def errors(self) -> Mapping[str, Exception]:
        """The fatal error of each job that stopped on one (corrupt state, a broken store)."""
        return self.app.errors

    async def advance(
        self,
        delta: timedelta | float | None = None,
        *,
        seconds: float | None = None,
        minutes: float | None = None,
        hours: float | None = None,
        days: float | None = None,
    ) -> None:
        """Move fake time forward by `delta` or by the sum of the unit keywords.

        Every occurrence on the way runs at its own instant, in order (`FakeClock.advance`).
        """
        given = (seconds, minutes, hours, days) != (None, None, None, None)
        units = timedelta_of_units(seconds=seconds, minutes=minutes, hours=hours, days=days)
        if delta is None:
            delta = units
        elif given:
            raise ConfigurationError(
                f"advance({delta!r}, ...) was given a delta and unit keywords; use one of them"
            )
        await self.clock.advance(delta)

    async def advance_to(self, instant: datetime | str) -> None:
        """Move fake time forward to `instant` (an aware datetime or ISO 8601 with offset)."""
        await self.clock.advance_to(instant)

    async def settle(self) -> None:
        """Let everything that needs no time to pass happen (`FakeClock.settle`)."""
        await self.clock.settle()


def _pick_clock(app: App, clock: FakeClock | None) -> FakeClock:

    if not isinstance(app, App):
        raise TypeError(f"run_app() takes an App, got {app!r}")
    if clock is None:
        return app.clock if isinstance(app.clock, FakeClock) else FakeClock(DEFAULT_START)
    if not isinstance(clock, FakeClock):
        raise TypeError(
            f"run_app(clock={clock!r}) needs a cronkit.testing.FakeClock, "
            "e.g. FakeClock('2025-01-01T00:00:00Z')"
        )
    return clock


def _check_not_running(app: App) -> None:
    for job_id in app.jobs:
        try:
            app.handle(job_id)
        except RuntimeError:
            return
        raise RuntimeError("run_app(): the App is already running; run it in one place at a time")


def run_app(
    app: App,
    clock: FakeClock | None = None,
    *,
    store: StateStore | None = None,
    overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
    settle_timeout: timedelta | float = DEFAULT_SETTLE_TIMEOUT,
    freeze_time: bool = True,
) -> AbstractAsyncContextManager[AppRunner]:
    """Run `app` under a `FakeClock` for the block; shut it down and check it stopped at the end.

    ```python
    clock = FakeClock("2025-03-29T00:00:00Z")
    async with run_app(app, clock) as runner:
        await runner.advance(days=2)
    assert [run.scheduled_at for run in runner.history("nightly")] == [...]
    ```

    For the block, the App runs on `clock` with a fresh `InMemoryStateStore` (or `store`) and
    `overrides` added to `app.dependency_overrides`; its own clock, store and overrides are
    put back afterwards, so a module-level App can serve many tests. While the block runs,
    `datetime.now()`, `datetime.utcnow()`, `date.today()` and `time.time()` in user code
    (async jobs and plain jobs in worker threads alike) return the fake time, through
    freezegun with `real_asyncio=True`: asyncio's own clock keeps running. A naive
    `datetime.now()` gives the fake time in UTC (freezegun's rule).

    Leaving the block shuts the App down gracefully (active runs finish). The wait is bounded
    by `settle_timeout` of real time: a run that would only end if fake time moved on, or that
    never ends, makes the block fail with `AppStillRunningError` naming the job, its active
    runs and where they wait, after the App was cancelled.

    Args:
        app: the App; it must not be running.
        clock: the fake clock (default: the App's own if it is a `FakeClock`, else a new one
            at `DEFAULT_START`).
        store: the state store for the block (default: a fresh `InMemoryStateStore`; pass the
            same store to two blocks to test a restart, or `app.store` to keep the App's).
        overrides: `{dependency: replacement}` for the block, on top of
            `app.dependency_overrides`; every change to the overrides made during the block is
            undone at its end.
        settle_timeout: how long, in real time (a timedelta or seconds), to wait for the App
            to stop at the end of the block.
        freeze_time: make the time functions of user code follow the clock (needs freezegun).

    Yields:
        The `AppRunner`.

    Raises:
        AppStillRunningError: the App did not stop within `settle_timeout` after the block.
        RuntimeError: the App is already running.
        ImportError: freezegun is not installed (and `freeze_time` was not turned off).
        TypeError: `app` is not an App, or `clock` not a `FakeClock` (at the call).
        ConfigurationError: a negative `settle_timeout` (at the call).
    """
    clock = _pick_clock(app, clock)
    timeout = _seconds(settle_timeout)
    return _running(app, clock, store, overrides, timeout, freeze_time)


@asynccontextmanager
async def _running(
    app: App,
    clock: FakeClock,
    store: StateStore | None,
    overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None,
    timeout: float,
    freeze_time: bool,
) -> AsyncIterator[AppRunner]:
    _check_not_running(app)
    saved_clock, saved_store = app.clock, app.store
    saved_overrides = dict(app.dependency_overrides)

    frozen = FrozenTime(clock) if freeze_time else None
    try:
        app.clock = clock
        app.store = store if store is not None else InMemoryStateStore()
        if overrides:
            app.dependency_overrides.update(overrides)
        running = app.running()
        await running.__aenter__()
        await clock.settle()
        try:
            yield AppRunner(app, clock)
        except BaseException as error:
            # The test failed already: keep its error, with a note if the App would not stop.
            # Interrupted (cancelled, Ctrl-C): cancel the runs instead of waiting for them.
            if not isinstance(error, Exception):
                app.cancel()
            problem = await _stop(app, clock, running, timeout)
            if problem is not None:
                error.add_note(problem)
            raise
        problem = await _stop(app, clock, running, timeout)
        if problem is not None:
            raise AppStillRunningError(problem)
    finally:
        app.clock, app.store = saved_clock, saved_store
        app.dependency_overrides.clear()
        app.dependency_overrides.update(saved_overrides)
        if frozen is not None:
            frozen.stop()


def _seconds(settle_timeout: timedelta | float) -> float:
    seconds = (
        settle_timeout.total_seconds()
        if isinstance(settle_timeout, timedelta)
        else float(settle_timeout)
    )
    if not seconds >= 0:
        raise ConfigurationError(
            f"settle_timeout={settle_timeout!r} must be >= 0 (real time), e.g. timedelta(seconds=5)"
        )
    return seconds


async def _stop(app: App, clock: FakeClock, running: Any, timeout: float) -> str | None:
    """Shut the App down; if it does not stop in time, cancel it and say what was pending.

    An error raised while the App stopped (an app-scoped dependency failing to close)
    propagates.
    """
    closing = asyncio.ensure_future(running.__aexit__(None, None, None))
    await asyncio.wait({closing}, timeout=timeout)
    if closing.done():
        closing.result()
        return None
    problem = _describe_pending(app, clock, timeout)
    app.cancel()  # async runs end now; thread runs cannot be interrupted
    grace = min(timeout, 1.0) or 0.1
    await asyncio.wait({closing}, timeout=grace)
    if not closing.done():
        closing.cancel()
        await asyncio.wait({closing}, timeout=grace)
    if closing.done() and not closing.cancelled():
        closing.exception()  # retrieved: the failure reported is the pending work
    return problem


def _describe_pending(app: App, clock: FakeClock, timeout: float) -> str:
    """What kept the App from stopping: each job still running, its active runs, the clock."""
    lines = [
        f"run_app: the App did not stop within {timeout:g}s of real time after the block ended:"
    ]
    running = 0
    for job_id in app.jobs:
        report = app.report(job_id)
        if report is not None and report.stop_reason is not None:
            continue
        running += 1
        runs = _active_runs(app, job_id)
        if not runs:
            lines.append(
                f"  - job {job_id!r} has not stopped, with no run active "
                "(waiting for its state store or its guard?)"
            )
        else:
            count = f"{len(runs)} active run" + ("" if len(runs) == 1 else "s")
            lines.append(f"  - job {job_id!r} still has {count}:")
            lines.extend(f"      {run}" for run in runs)
    if not running:
        lines.append(
            "  - every job stopped, but the App did not finish closing "
            "(an app-scoped dependency or the state store still closing?)"
        )
    now, deadline = clock.now(), clock.next_deadline
    timer = "" if deadline is None else f"; its next timer is due at {format_instant(deadline)}"
    lines.append(f"The fake clock is at {format_instant(now)}{timer}.")
    lines.append(
        "Advance the clock inside the block until the runs end (await runner.advance(...)), "
        "give the job a timeout=, or raise settle_timeout if the runs wait for real I/O."
    )
    return "\n".join(lines)


def _active_runs(app: App, job_id: str) -> list[str]:
    """A line per active run of `job_id`, read from the engine (empty if it cannot be seen).

    The engine has no public view of the runs in progress, so this reads the App's runtime;
    it degrades to "no run active" if those internals change.
    """
    try:
        runner = app._runtime.schedulers[job_id]._runners[job_id]
        active = list(runner.active)
        in_thread = runner.job.task.kind == "blocking"
    except (AttributeError, KeyError):  # pragma: no cover - the engine's internals changed
        return []
    lines = []
    for run in active:
        trigger = run.trigger
        line = f"the {trigger.source} run scheduled at {format_instant(trigger.scheduled_at)}"
        where = None if in_thread else _waiting_at(run.task)
        if in_thread:
            line += ", in a worker thread"
        elif where is not None:
            line += f", waiting in {where}"
        lines.append(line)
    return lines


def _waiting_at(task: asyncio.Task[Any] | None) -> str | None:
    """`function (file:line)` of the innermost user frame the task is suspended in."""
    if task is None or task.done():
        return None
    frames: list[FrameType] = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    if not frames:
        return None
    user = [frame for frame in frames if not _internal(frame.f_code.co_filename)]
    frame = (user or frames)[-1]
    return (
        f"{frame.f_code.co_name}() at {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
    )


def _internal(filename: str) -> bool:
    path = os.path.abspath(filename)
    return path.startswith((_CRONKIT_DIR, _ASYNCIO_DIR))
