"""`Job`, `Task`, `RunContext`: what the engine runs and what a run knows about itself."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Generic, Literal, TypeVar

from cronkit._clock import Clock
from cronkit._cron import resolve_zone
from cronkit._enums import MissedRunPolicy, OverlapPolicy, TriggerSource, coerce_enum
from cronkit._exceptions import InvalidJobError
from cronkit._schedules import AtTimes, Cron, Interval, Schedule
from cronkit._state import is_count
from cronkit._windows import JobTimeWindow

__all__ = ["Job", "RunContext", "Task", "TaskContext", "TaskKind", "validate_job_id"]

D = TypeVar("D")
TaskKind = Literal["async", "sync", "blocking"]
MAX_JOB_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class RunContext:
    """Facts about one run, given to the task (and injectable by annotation in the App).

    Attributes:
        job_id: the job's id.
        scheduled_at: the occurrence this run is for (UTC); for a manual run, when it was asked.
        catch_up: True when the run stands for occurrences that were missed.
        timezone: the zone the job's schedule and window are evaluated in.
        trigger_count: occurrences consumed so far, this one included.
        source: `schedule` or `manual`.
        fencing_token: the execution guard's token for this occurrence, if a guard is used.
        started_at: when the run started (UTC).
    """

    job_id: str
    scheduled_at: datetime
    catch_up: bool
    timezone: tzinfo
    trigger_count: int
    source: TriggerSource
    fencing_token: int | None
    started_at: datetime


@dataclass(frozen=True, slots=True)
class TaskContext(Generic[D]):
    """What a `Task` receives: the run's facts and the job's `deps`."""

    run: RunContext
    deps: D


@dataclass(frozen=True, slots=True)
class Task(Generic[D]):
    """A unit of work and how to call it.

    Build one with `Task.from_async` (a coroutine function, cancellable), `Task.from_sync`
    (a quick plain function run on the event loop) or `Task.from_blocking` (a plain function
    run in a worker thread). Each receives a `TaskContext`.
    """

    func: Callable[[TaskContext[D]], Any]
    kind: TaskKind

    @classmethod
    def from_async(cls, func: Callable[[TaskContext[D]], Awaitable[Any]]) -> Task[D]:
        """A coroutine function; honours `timeout` and `REPLACE` by cancellation."""
        return cls(func, "async")

    @classmethod
    def from_sync(cls, func: Callable[[TaskContext[D]], Any]) -> Task[D]:
        """A quick plain function called on the event loop; it must not block."""
        return cls(func, "sync")

    @classmethod
    def from_blocking(cls, func: Callable[[TaskContext[D]], Any]) -> Task[D]:
        """A plain function called in a worker thread; it cannot be cancelled."""
        return cls(func, "blocking")

    @classmethod
    def coerce(cls, task: Task[D] | Callable[[TaskContext[D]], Any]) -> Task[D]:
        """A `Task` as given, or a bare callable wrapped by its kind (async or blocking)."""
        if isinstance(task, Task):
            return task
        if not callable(task):
            raise InvalidJobError(
                f"task={task!r} is not callable; pass an async function, a plain function or a Task"
            )
        if is_async_callable(task):
            return cls(task, "async")
        return cls(task, "blocking")

    @property
    def cancellable(self) -> bool:
        """Whether a timeout or `REPLACE` can stop a run of this task."""
        return self.kind == "async"

    async def invoke(self, context: TaskContext[D], clock: Clock) -> None:
        """Run the task once with `context`."""
        if self.kind == "async":
            await self.func(context)
        elif self.kind == "sync":
            self.func(context)
        else:
            await clock.to_thread(functools.partial(self.func, context))


def is_async_callable(obj: object) -> bool:
    """True for coroutine functions, partials of them and objects with an async `__call__`."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(
        getattr(obj, "__call__", None)  # noqa: B004
    )


def validate_job_id(job_id: object) -> str:
    """Return `job_id` if it is a valid persistence key, else raise `InvalidJobError`."""
    if not isinstance(job_id, str) or not job_id:
        raise InvalidJobError(
            f"job id {job_id!r} must be a non-empty string, e.g. 'nightly-report'"
        )
    if len(job_id) > MAX_JOB_ID_LENGTH:
        raise InvalidJobError(
            f"job id {job_id!r} is {len(job_id)} characters long; use at most {MAX_JOB_ID_LENGTH}"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in job_id):
        raise InvalidJobError(
            f"job id {job_id!r} contains whitespace or unprintable characters; "
            "use letters, digits and punctuation such as '-', '_', '.', ':'"
        )
    return job_id


def _positive_delta(name: str, value: timedelta | None, job_id: str) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise InvalidJobError(f"job {job_id!r}: {name}={value!r} must be a timedelta")
    if value <= timedelta(0):
        raise InvalidJobError(f"job {job_id!r}: {name}={value!r} must be positive")
    return value


@dataclass(frozen=True, eq=False, init=False)
class Job(Generic[D]):
    """One scheduled job: what to run, when, and under which policies.

    Args:
        id: the persistence key: non-empty, at most 200 printable characters, no whitespace.
        schedule: an `Interval`, `AtTimes` or `Cron`.
        task: a `Task`, or a callable taking a `TaskContext` (async → `from_async`, plain →
            `from_blocking`).
        deps: any value handed to the task as `TaskContext.deps`.
        max_runs: stop after this many consumed occurrences (None = no limit).
        missed: the `MissedRunPolicy` (or its string value).
        overlap: the `OverlapPolicy` (or its string value).
        window: a `JobTimeWindow` runs must start in.
        timeout: cancel an async run after this long (recorded `timed_out`).
        max_parallel: cap on concurrent runs under `ALLOW_PARALLEL`.
        catch_up_window: occurrences older than this are dropped as missed.
        timezone: zone for a cron schedule without its own and for the window.
        execution_resource_id: what the execution guard locks (default: the job id).

    Raises:
        ConfigurationError: a subclass naming the bad value, for any invalid argument.
    """

    id: str
    schedule: Schedule
    task: Task[D]
    deps: D
    max_runs: int | None
    missed: MissedRunPolicy
    overlap: OverlapPolicy
    window: JobTimeWindow | None
    timeout: timedelta | None
    max_parallel: int | None
    catch_up_window: timedelta | None
    timezone: tzinfo | None
    execution_resource_id: str

    def __init__(
        self,
        id: str,
        schedule: Schedule,
        task: Task[D] | Callable[[TaskContext[D]], Any],
        *,
        deps: D = None,  # type: ignore[assignment]
        max_runs: int | None = None,
        missed: MissedRunPolicy | str = MissedRunPolicy.CATCH_UP_ONCE,
        overlap: OverlapPolicy | str = OverlapPolicy.FORBID,
        window: JobTimeWindow | None = None,
        timeout: timedelta | None = None,
        max_parallel: int | None = None,
        catch_up_window: timedelta | None = None,
        timezone: str | tzinfo | None = None,
        execution_resource_id: str | None = None,
    ) -> None:
        job_id = validate_job_id(id)
        if not isinstance(schedule, (Interval, AtTimes, Cron)):
            raise InvalidJobError(
                f"job {job_id!r}: schedule={schedule!r} is not a schedule; "
                "use Interval(...), AtTimes([...]) or Cron('...')"
            )
        coerced_task: Task[D] = Task.coerce(task)
        overlap_policy = coerce_enum(OverlapPolicy, overlap, parameter="overlap")
        if not coerced_task.cancellable and timeout is not None:
            raise InvalidJobError(
                f"job {job_id!r}: timeout={timeout!r} cannot stop a {coerced_task.kind} task "
                "(a thread cannot be cancelled); make the task async or drop the timeout"
            )
        if not coerced_task.cancellable and overlap_policy is OverlapPolicy.REPLACE:
            raise InvalidJobError(
                f"job {job_id!r}: overlap='replace' cannot cancel a {coerced_task.kind} task "
                "(a thread cannot be cancelled); make the task async or use another policy"
            )
        if max_runs is not None and not is_count(max_runs):
            raise InvalidJobError(
                f"job {job_id!r}: max_runs={max_runs!r} must be a whole number >= 0 or None"
            )
        if max_parallel is not None and not is_count(max_parallel, minimum=1):
            raise InvalidJobError(
                f"job {job_id!r}: max_parallel={max_parallel!r} must be a whole number >= 1 or None"
            )
        if window is not None and not isinstance(window, JobTimeWindow):
            raise InvalidJobError(f"job {job_id!r}: window={window!r} is not a JobTimeWindow")
        resource = (
            job_id if execution_resource_id is None else validate_job_id(execution_resource_id)
        )
        set_ = object.__setattr__
        set_(self, "id", job_id)
        set_(self, "schedule", schedule)
        set_(self, "task", coerced_task)
        set_(self, "deps", deps)
        set_(self, "max_runs", max_runs)
        set_(self, "missed", coerce_enum(MissedRunPolicy, missed, parameter="missed"))
        set_(self, "overlap", overlap_policy)
        set_(self, "window", window)
        set_(self, "timeout", _positive_delta("timeout", timeout, job_id))
        set_(self, "max_parallel", max_parallel)
        set_(self, "catch_up_window", _positive_delta("catch_up_window", catch_up_window, job_id))
        set_(self, "timezone", None if timezone is None else resolve_zone(timezone))
        set_(self, "execution_resource_id", resource)

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, schedule={self.schedule!r})"
