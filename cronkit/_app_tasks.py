"""How the App turns a decorated function into a `Job`: options, the injecting task, errors.

The task of a decorated function resolves the function's dependencies on the event loop per
run (`AppScope.run`), calls the function with them, then cleans them up with the run's
exception thrown into generator dependencies. It is built from the engine's public adapters
only: an async function gives `Task.from_async(AsyncCall(...))` (cancellable: timeout and
`REPLACE` work); a plain function gives `Task.from_blocking(BlockingCall(...))`, which the
engine runs in a worker thread and never cancels; that thread hands the set-up and clean-up
of the dependencies back to the event loop and waits for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta, tzinfo
from typing import Any, Final, TypedDict, TypeVar

from cronkit._depends import Dependant, Scope, analyze
from cronkit._depends_solve import AppScope, RunScope
from cronkit._enums import MissedRunPolicy, OverlapPolicy
from cronkit._exceptions import (
    ConfigurationError,
    CronkitError,
    InvalidJobError,
)
from cronkit._job import Job, RunContext, Task, TaskContext, is_async_callable
from cronkit._schedules import Schedule
from cronkit._windows import JobTimeWindow

__all__ = [
    "AsyncCall",
    "BlockingCall",
    "JobOptions",
    "build_job",
    "function_name",
    "located",
    "not_bare",
]

E = TypeVar("E", bound=CronkitError)
LoopGetter = Callable[[], asyncio.AbstractEventLoop]


class JobOptions(TypedDict, total=False):
    """The `Job` options every decorator takes as keywords (see `Job` for their meaning)."""

    max_runs: int | None
    missed: MissedRunPolicy | str
    overlap: OverlapPolicy | str
    window: JobTimeWindow | None
    timeout: timedelta | None
    max_parallel: int | None
    catch_up_window: timedelta | None
    timezone: str | tzinfo | None
    execution_resource_id: str | None


JOB_OPTIONS: Final = frozenset(JobOptions.__optional_keys__)


class AsyncCall:
    """Calls a coroutine function with its dependencies injected, on the event loop.

    Attributes:
        func: the decorated function.
        dependant: its dependency graph, analysed at decoration.
    """

    __slots__ = ("dependant", "func", "scope")

    def __init__(self, func: Callable[..., Any], dependant: Dependant, scope: AppScope) -> None:
        self.func = func
        self.dependant = dependant
        self.scope = scope

    def __repr__(self) -> str:
        return f"AsyncCall({self.dependant.name})"

    async def __call__(self, context: TaskContext[None]) -> None:
        resolving = self.scope.run(self.dependant, {RunContext: context.run})
        try:
            async with resolving as kwargs:
                await self.func(**kwargs)
        except Exception as error:
            failure = resolving.failure(error)
            if failure is None:
                raise
            raise failure from error


class BlockingCall:
    """Calls a plain function in the engine's worker thread; dependencies stay on the loop.

    Attributes:
        func: the decorated function.
        dependant: its dependency graph, analysed at decoration.
    """

    __slots__ = ("dependant", "func", "loop", "scope")

    def __init__(
        self, func: Callable[..., Any], dependant: Dependant, scope: AppScope, loop: LoopGetter
    ) -> None:
        self.func = func
        self.dependant = dependant
        self.scope = scope
        self.loop = loop

    def __repr__(self) -> str:
        return f"BlockingCall({self.dependant.name})"

    def __call__(self, context: TaskContext[None]) -> None:
        resolving = self.scope.run(self.dependant, {RunContext: context.run})
        try:
            self._call(resolving)
        except Exception as error:
            failure = resolving.failure(error)
            if failure is None:
                raise
            raise failure from error

    def _call(self, resolving: RunScope) -> None:
        loop = self.loop()
        kwargs = asyncio.run_coroutine_threadsafe(resolving.__aenter__(), loop).result()
        try:
            self.func(**kwargs)
        except BaseException as error:
            cleanup = resolving.__aexit__(type(error), error, error.__traceback__)
            asyncio.run_coroutine_threadsafe(cleanup, loop).result()  # may raise a replacement
            raise
        asyncio.run_coroutine_threadsafe(resolving.__aexit__(None, None, None), loop).result()


def function_name(func: Callable[..., Any]) -> str:
    """`module.qualname` of `func`, for ids and messages."""
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    module = getattr(func, "__module__", None)
    return f"{module}.{qualname}" if module else qualname


def located(error: E, where: str) -> E:
    """A copy of `error` whose message starts with `where` (the decorator and function)."""
    cls = type(error)
    located_error = cls.__new__(cls)  # no __init__: some errors take other arguments
    located_error.__dict__.update(error.__dict__)
    located_error.args = (f"{where}: {error}",)
    return located_error


def build_job(
    kind: str,
    func: Callable[..., Any],
    schedule: Callable[[], Schedule],
    job_id: str | None,
    options: Mapping[str, Any],
    *,
    scope: AppScope,
    loop: LoopGetter,
    injectables: Mapping[type, Scope],
    check_new: Callable[[str, str], None],
) -> tuple[Job[None], Dependant, str]:
    """The `Job` of a function decorated with `@app.<kind>`, its dependant and its name.

    Every `ConfigurationError` (schedule, options, dependencies, duplicate id from
    `check_new(job_id, name)`) is raised with the decorator and the function's name in front.
    """
    if not callable(func):
        raise InvalidJobError(
            f"@app.{kind}(...) decorates a function (async or plain), not {func!r}"
        )
    name = function_name(func)
    try:
        unknown = sorted(set(options) - JOB_OPTIONS)
        if unknown:
            raise InvalidJobError(
                f"unknown option {', '.join(map(repr, unknown))}; the job options are "
                f"{', '.join(sorted(JOB_OPTIONS))}"
            )
        job_id = name if job_id is None else job_id
        check_new(job_id, name)
        dependant = analyze(func, injectables=injectables)
        task: Task[None] = (
            Task.from_async(AsyncCall(func, dependant, scope))
            if is_async_callable(func)
            else Task.from_blocking(BlockingCall(func, dependant, scope, loop))
        )
        job: Job[None] = Job(job_id, schedule(), task, **options)
    except ConfigurationError as error:
        raise located(error, f"@app.{kind}(...) on {name}") from None
    return job, dependant, name


def not_bare(kind: str, argument: object, example: str) -> None:
    """Raise `TypeError` for `@app.interval` written without its arguments."""
    if callable(argument) and not isinstance(argument, timedelta):
        raise TypeError(
            f"@app.{kind} needs its arguments, e.g. {example}; it was given the function "
            f"{function_name(argument)!r} directly (write the parentheses and the schedule)"
        )
