"""`App`: collects jobs from decorators, runs one engine per job, owns app-scoped dependencies.

```python
app = App(timezone="Europe/Berlin")

@app.cron("30 2 * * *", missed="skip")
async def nightly(ctx: RunContext, db: Annotated[Db, Depends(get_db)]) -> None: ...

app.run()   # or: await app.serve(), or: async with app.running(): ...
```

The App is an adapter (Starlette's `Router` is the model): each decorator builds a `Job` at
once, so that every mistake raises at the decorated line; running starts one `Scheduler` per
job, all sharing the App's store, guard, clock and observers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, TypeVar

from typing_extensions import Unpack

from cronkit._app_run import AppRuntime
from cronkit._app_tasks import JobOptions, build_job, not_bare
from cronkit._clock import Clock, SystemClock
from cronkit._config import SchedulerConfig, SchedulerReport
from cronkit._depends import Dependant
from cronkit._depends_solve import AppScope
from cronkit._engine import SchedulerHandle
from cronkit._enums import TerminalStatePolicy
from cronkit._events import LogObserver, ObserverGroup, SchedulerObserver, ensure_log_handler
from cronkit._exceptions import ConfigurationError, DuplicateJobError, InvalidJobError
from cronkit._guard import ExecutionGuard
from cronkit._job import Job, RunContext
from cronkit._schedules import AtTimes, Cron, Interval, Schedule, interval_of
from cronkit._state import RunRecord
from cronkit._store import InMemoryStateStore, StateStore

__all__ = ["App"]

F = TypeVar("F", bound=Callable[..., Any])
Overrides = dict[Callable[..., Any], Callable[..., Any]]


class App:
    """A set of jobs, declared with decorators, run together.

    Args:
        timezone: zone for cron schedules and windows that name none (IANA name or tzinfo).
        store: where job state persists (default: a new `InMemoryStateStore`).
        guard: an `ExecutionGuard`, so that one instance among replicas runs each occurrence.
        observers: event observers; None (the default) logs every event with `LogObserver()`,
            an explicit list replaces it (include `LogObserver()` to keep the log).
        clock: the source of time (default `SystemClock()`; tests pass a `FakeClock`).
        history_limit: how many `RunRecord`s each job's report keeps.
        terminal_state_policy: `"retain"` or `"delete"` the stored state of a finished job.
        missed_after: an occurrence seen later than this after its instant counts as missed.

    `store`, `guard` and `clock` are attributes that may be replaced before the App starts
    (the command line does so for `--valkey-url`).

    Raises:
        ConfigurationError: a bad setting, or an object that does not fit its port.
    """

    def __init__(
        self,
        *,
        timezone: str | tzinfo = "UTC",
        store: StateStore | None = None,
        guard: ExecutionGuard | None = None,
        observers: Iterable[SchedulerObserver] | None = None,
        clock: Clock | None = None,
        history_limit: int = 32,
        terminal_state_policy: TerminalStatePolicy | str = TerminalStatePolicy.RETAIN,
        missed_after: timedelta = timedelta(seconds=1),
    ) -> None:
        self.config = SchedulerConfig(timezone, history_limit, terminal_state_policy, missed_after)
        observers = (LogObserver(),) if observers is None else tuple(observers)
        _check_port("store", store, StateStore, "InMemoryStateStore()")
        _check_port("guard", guard, ExecutionGuard, "InMemoryExecutionGuard()")
        _check_port("clock", clock, Clock, "SystemClock() or FakeClock()")
        for observer in observers:
            _check_port("observers item", observer, SchedulerObserver, "LogObserver()")
        self.store: StateStore = store if store is not None else InMemoryStateStore()
        self.guard = guard
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.observers: tuple[SchedulerObserver, ...] = observers
        self._observer = ObserverGroup(observers)
        self._overrides: Overrides = {}
        self._scope = AppScope(overrides=self._overrides, values={App: self})
        self._jobs: dict[str, Job[Any]] = {}
        self._owners: dict[str, str] = {}
        self._dependants: dict[str, Dependant] = {}
        self._runtime = AppRuntime(self, self._observer, self._scope, self._dependants)

    def __repr__(self) -> str:
        return f"App(jobs={list(self._jobs)!r})"

    # -- declaring jobs -----------------------------------------------------------------------

    def cron(
        self, expr: str, *, id: str | None = None, **options: Unpack[JobOptions]
    ) -> Callable[[F], F]:
        """Run the decorated function on a cron schedule (5 fields, SPEC §2).

        Args:
            expr: the cron expression, e.g. `"30 2 * * *"` or `"@hourly"`.
            id: the job id (default `module.qualname` of the function).
            **options: any `Job` option; `timezone=` is the zone the expression is read in.

        Raises:
            InvalidCronExpression, DependencyError, DuplicateJobError, ...: at decoration,
                naming the function.
        """
        not_bare("cron", expr, "@app.cron('*/5 * * * *')")
        return self._decorator("cron", lambda: Cron(expr), id, options)

    def interval(
        self,
        every: timedelta | float | None = None,
        *,
        seconds: float | None = None,
        minutes: float | None = None,
        hours: float | None = None,
        days: float | None = None,
        id: str | None = None,
        **options: Unpack[JobOptions],
    ) -> Callable[[F], F]:
        """Run the decorated function at a fixed rate: `every`, or the sum of the unit keywords.

        The first run is one period after the start, then every period after the previous
        *scheduled* instant.

        Raises:
            InvalidScheduleError: neither or both of `every` and the units, or a period <= 0
                (the message quotes the arguments as written, e.g. `seconds=-5`).
        """
        not_bare("interval", every, "@app.interval(minutes=5)")

        def schedule() -> Interval:
            return interval_of(every, seconds=seconds, minutes=minutes, hours=hours, days=days)

        return self._decorator("interval", schedule, id, options)

    def at(
        self,
        *instants: datetime | str | Iterable[datetime | str],
        id: str | None = None,
        **options: Unpack[JobOptions],
    ) -> Callable[[F], F]:
        """Run the decorated function once at each of `instants` (aware datetimes or ISO text).

        `@app.at(a, b)` and `@app.at([a, b])` are the same. Past instants are due at start.

        Raises:
            InvalidScheduleError: a naive datetime or an instant string without an offset.
        """
        if len(instants) == 1 and callable(instants[0]):
            not_bare("at", instants[0], "@app.at('2026-12-24T18:00:00+01:00')")
        items: Any = instants
        if len(instants) == 1 and not isinstance(instants[0], str | datetime):
            items = instants[0]
        return self._decorator("at", lambda: AtTimes(items), id, options)

    def add_job(self, job: Job[Any]) -> Job[Any]:
        """Add a `Job` built by hand; its task receives a `TaskContext` (no injection).

        Raises:
            InvalidJobError: `job` is not a `Job`.
            DuplicateJobError: a job with its id is already registered.
        """
        if not isinstance(job, Job):
            raise InvalidJobError(
                f"add_job() takes a Job, got {job!r}; build one with Job(id, schedule, task) "
                "or decorate a function with @app.interval(...), @app.cron(...) or @app.at(...)"
            )
        self._check_new(job.id, "another job")
        self._jobs[job.id] = job
        self._owners[job.id] = "app.add_job()"
        return job

    def _decorator(
        self,
        kind: str,
        schedule: Callable[[], Schedule],
        job_id: str | None,
        options: Mapping[str, Any],
    ) -> Callable[[F], F]:
        def register(func: F) -> F:
            job, dependant, name = build_job(
                kind,
                func,
                schedule,
                job_id,
                options,
                scope=self._scope,
                loop=self._runtime.event_loop,
                injectables={RunContext: "run", App: "app"},
                check_new=self._check_new,
            )
            self._jobs[job.id] = job
            self._owners[job.id] = name
            self._dependants[job.id] = dependant
            return func

        return register

    def _check_new(self, job_id: str, newcomer: str) -> None:
        if self._runtime.active:
            raise RuntimeError(
                f"cannot add job {job_id!r} while the App runs; declare jobs before it starts"
            )
        owner = self._owners.get(job_id)
        if owner is not None:
            raise DuplicateJobError(
                f"job id {job_id!r} is already taken by {owner}; give {newcomer} another "
                f"id, e.g. id={job_id + '-2'!r}"
            )

    # -- what is declared ---------------------------------------------------------------------

    @property
    def jobs(self) -> Mapping[str, Job[Any]]:
        """The registered jobs by id, in registration order (read-only)."""
        return MappingProxyType(self._jobs)

    @property
    def dependency_overrides(self) -> Overrides:
        """`{dependency: replacement}`, read at every run (FastAPI's `dependency_overrides`)."""
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(self, overrides: Overrides) -> None:
        self._overrides = self._scope.overrides = overrides

    def handle(self, job_id: str) -> SchedulerHandle:
        """The `SchedulerHandle` of a running job (pause, resume, trigger_now, shutdown, cancel).

        Raises:
            KeyError: no job has that id.
            RuntimeError: the App is not running.
        """
        self._job(job_id)
        scheduler = self._runtime.schedulers.get(job_id)
        if scheduler is None:
            raise RuntimeError(
                f"app.handle({job_id!r}): the App is not running; use it while app.serve() "
                "runs or inside `async with app.running():`"
            )
        return scheduler.handle()

    def report(self, job_id: str) -> SchedulerReport | None:
        """The job's live report while it runs, else its final one; None if it never ran.

        Raises:
            KeyError: no job has that id.
        """
        self._job(job_id)
        return self._runtime.report(job_id)

    @property
    def errors(self) -> Mapping[str, Exception]:
        """The fatal error of each job that stopped on one during the latest `serve()`."""
        return MappingProxyType(self._runtime.errors)

    def _job(self, job_id: str) -> Job[Any]:
        try:
            return self._jobs[job_id]
        except (KeyError, TypeError):
            known = ", ".join(map(repr, self._jobs)) or "none"
            raise KeyError(f"no job with id {job_id!r}; the jobs are: {known}") from None

    # -- running ------------------------------------------------------------------------------

    def run(self) -> None:
        """Run every job on a new event loop until all are finished or a signal stops them.

        SIGINT/SIGTERM: the first shuts down gracefully (active runs finish), the second
        cancels active runs, a third acts as the default signal handler would. A program
        that has set up no logging gets a stderr handler at INFO (see `ensure_log_handler`).
        """
        ensure_log_handler()
        asyncio.run(self.serve(install_signal_handlers=True))

    async def serve(self, *, install_signal_handlers: bool = False) -> None:
        """Run every job until all are terminal, or until `shutdown()`/`cancel()` stop them.

        App-scoped dependencies are created before the first job starts and closed after the
        last one ended. A job that fails fatally (corrupt stored state, a broken store) is
        logged on the `cronkit` logger and listed in `errors`; the other jobs keep running.

        Args:
            install_signal_handlers: handle SIGINT/SIGTERM as `run()` does (main thread only).

        Raises:
            RuntimeError: the App is already running.
            Exception: what an app-scoped dependency raised while being created or closed.
        """
        await self._runtime.serve(self._jobs.values(), None, install_signal_handlers)

    @asynccontextmanager
    async def running(self, *, shutdown_timeout: timedelta | None = None) -> AsyncIterator[App]:
        """Run the App in the background of the block; shut it down gracefully on exit.

        ```python
        async with app.running():
            await web_server.serve()
        ```

        Args:
            shutdown_timeout: on exit, cancel the runs still active after this long.
        """
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(self._runtime.serve(self._jobs.values(), ready, False))
        try:
            await asyncio.wait((ready, serving), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            serving.cancel()
            raise
        if serving.done():
            serving.result()  # start-up failed: raise its error here
        try:
            yield self
        finally:
            self.shutdown(shutdown_timeout)
            await serving

    def add_observer(self, observer: SchedulerObserver) -> None:
        """Give every job's events to `observer` too, from the next event on (also while running).

        Raises:
            ConfigurationError: `observer` has no `on_event(event)`.
        """
        _check_port("observer", observer, SchedulerObserver, "LogObserver()")
        self.observers = (*self.observers, observer)
        self._observer.observers = (*self._observer.observers, observer)

    def shutdown(self, timeout: timedelta | None = None) -> None:
        """Stop triggering every job and let active runs finish (cancel them after `timeout`).

        Returns at once; `serve()` returns when the runs have ended. No-op when not running.
        """
        self._runtime.shutdown(timeout)

    def cancel(self) -> None:
        """Stop triggering every job and cancel active async runs now (threads are waited for)."""
        self._runtime.cancel()

    async def trigger(
        self, job_id: str, *, install_signal_handlers: bool = False
    ) -> RunRecord | None:
        """Run one job once now, outside its schedule, while the App is not running.

        The run goes through the job's window and guard (`source=manual`); the schedule is
        not evaluated and `next_run_at` does not move. App-scoped dependencies the job uses are
        created first and closed after. While the App runs, use
        `app.handle(job_id).trigger_now()` instead.

        Returns:
            The run's record, or None if it was skipped (the reason is in
            `app.report(job_id).last_skip_reason`).

        Raises:
            KeyError: no job has that id.
            RuntimeError: the App is running.
            StateCorruptedError, StoreError: the job's state could not be loaded.
        """
        return await self._runtime.trigger(self._job(job_id), install_signal_handlers)


def _check_port(name: str, value: object, port: type, example: str) -> None:
    if value is not None and not isinstance(value, port):
        raise ConfigurationError(f"{name}={value!r} is not a {port.__name__}; give e.g. {example}")
