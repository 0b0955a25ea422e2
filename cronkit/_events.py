"""Runtime events, the observer port, and `LogObserver`.

Every event is a frozen dataclass with the `job_id` it concerns and the wall instant `at`
when it happened. Observers receive them synchronously; one that raises is logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from cronkit._enums import RunStatus, SkipReason, StopReason, TriggerSource

__all__ = [
    "Event",
    "ExecutionGuardAcquired",
    "ExecutionGuardContended",
    "ExecutionGuardLost",
    "ExecutionGuardReleaseFailed",
    "ExecutionGuardReleased",
    "ExecutionGuardRenewFailed",
    "ExecutionGuardRenewed",
    "ExecutionGuardUnavailable",
    "LogObserver",
    "ObserverGroup",
    "RunCompleted",
    "RunSkipped",
    "RunStarted",
    "SchedulerEvent",
    "SchedulerObserver",
    "SchedulerPaused",
    "SchedulerResumed",
    "SchedulerStopped",
    "StateLoaded",
    "StateRepaired",
    "StoreDegraded",
    "StoreRecovered",
    "TerminalStateDeleted",
    "TriggerEmitted",
    "ensure_log_handler",
]

_log = logging.getLogger("cronkit")


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerEvent:
    """Base of every event: which job, and when."""

    job_id: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StateLoaded(SchedulerEvent):
    """The engine has its job state: freshly created, restored as stored, or repaired."""

    source: Literal["new", "restored", "repaired"]
    trigger_count: int
    next_run_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StateRepaired(SchedulerEvent):
    """Stored state did not fit the job and `next_run_at` was planned again."""

    previous_next_run_at: datetime | None
    repaired_next_run_at: datetime | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerEmitted(SchedulerEvent):
    """An occurrence (or a manual trigger) asks for a run."""

    scheduled_at: datetime
    catch_up: bool
    source: TriggerSource


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted(SchedulerEvent):
    """A run has started."""

    scheduled_at: datetime
    catch_up: bool
    source: TriggerSource
    fencing_token: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunCompleted(SchedulerEvent):
    """A run has ended, with its status.

    A failed run carries the `exception` it raised (in process only: it is never stored)
    and its formatted `traceback` (at most 8 KiB, the end kept); a timed-out run carries a
    `TimeoutError` whose traceback shows where the run was when its time ran out.
    """

    scheduled_at: datetime
    status: RunStatus
    error: str | None
    duration: timedelta
    source: TriggerSource
    exception: BaseException | None = None
    traceback: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSkipped(SchedulerEvent):
    """One decision not to run: `count` occurrences, the newest at `scheduled_at`."""

    scheduled_at: datetime
    reason: SkipReason
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class _GuardEvent(SchedulerEvent):
    scheduled_at: datetime
    resource_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardAcquired(_GuardEvent):
    """This instance holds the lease of the occurrence."""

    fencing_token: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardContended(_GuardEvent):
    """Another holder has the occurrence (`contended`) or it already ran (`already_done`)."""

    reason: SkipReason


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardRenewed(_GuardEvent):
    """The lease was extended."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardRenewFailed(_GuardEvent):
    """Extending the lease failed; the lease may still be held until its TTL runs out."""

    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardLost(_GuardEvent):
    """The lease is gone; `action` says what the engine does about the run."""

    action: Literal["cancel", "continue", "shutdown"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardReleased(_GuardEvent):
    """The lease was released; `completed` leaves a done marker."""

    completed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardReleaseFailed(_GuardEvent):
    """Releasing failed; the lease expires by its TTL."""

    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionGuardUnavailable(_GuardEvent):
    """The guard could not be reached; the occurrence is skipped (fail closed)."""

    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreDegraded(SchedulerEvent):
    """The primary store failed with a connection-class error; the mirror serves."""

    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreRecovered(SchedulerEvent):
    """The primary store answers again; `written_back` states were copied to it."""

    written_back: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalStateDeleted(SchedulerEvent):
    """The finished job's stored state was deleted (`TerminalStatePolicy.DELETE`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerPaused(SchedulerEvent):
    """Trigger evaluation stopped until `resume()`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerResumed(SchedulerEvent):
    """Trigger evaluation started again."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerStopped(SchedulerEvent):
    """`Scheduler.run` is returning."""

    reason: StopReason


Event = SchedulerEvent


@runtime_checkable
class SchedulerObserver(Protocol):
    """Receives every event. Must not block; an exception is logged and ignored.

    An observer may also define `wants(kind: type[SchedulerEvent]) -> bool`: when every
    observer answers False for a kind, the engine does not even build such events (the
    default `LogObserver` answers from its logger's level, which keeps per-run events free
    when they would not be logged).
    """

    def on_event(self, event: SchedulerEvent) -> None: ...


class LogObserver:
    """Logs each event on `logger` with the event's fields as structured `extra`.

    Levels follow what an operator reading at INFO needs (SPEC §14.2): failed and timed-out
    runs (with their traceback), lost or failing leases, an unreachable guard and a degraded
    store are warnings; run results, state, skips that lose an occurrence and lifecycle are
    info; per-occurrence chatter (triggers, run starts, the guard's acquire/renew/release and
    skips because another replica has the occurrence) is debug.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else _log

    def on_event(self, event: SchedulerEvent) -> None:
        level = self.level_of(event)
        if not self.logger.isEnabledFor(level):
            return
        values = _fields(event)
        details = " ".join(
            f"{name}={value}"
            for name, value in values.items()
            if name != "job_id" and name != "traceback"
        )
        exc_info: BaseException | None = None
        message = "%s job=%s %s"
        args: tuple[Any, ...] = (type(event).__name__, event.job_id, details)
        if isinstance(event, RunCompleted) and level >= logging.WARNING:
            if event.exception is not None:
                exc_info = event.exception
            elif event.traceback is not None:
                message, args = message + "\n%s", (*args, event.traceback.rstrip("\n"))
        self.logger.log(
            level,
            message,
            *args,
            exc_info=exc_info,
            extra={"cronkit_event": type(event).__name__, "cronkit": values},
        )

    def wants(self, kind: type[SchedulerEvent]) -> bool:
        """Whether an event of `kind` could be logged at the logger's current level."""
        highest = logging.WARNING if kind in _VARIABLE_LEVEL else _level_of_kind(kind)
        return self.logger.isEnabledFor(highest)

    @staticmethod
    def level_of(event: SchedulerEvent) -> int:
        """The logging level `event` is logged at."""
        if isinstance(event, RunCompleted):
            return _RUN_LEVELS[event.status]
        if isinstance(event, RunSkipped):
            return _SKIP_LEVELS[event.reason]
        return _level_of_kind(type(event))


_RUN_LEVELS: dict[RunStatus, int] = {
    RunStatus.SUCCESS: logging.INFO,
    RunStatus.FAILED: logging.WARNING,
    RunStatus.TIMED_OUT: logging.WARNING,
    RunStatus.CANCELLED: logging.INFO,
}
_SKIP_LEVELS: dict[SkipReason, int] = {
    SkipReason.CONTENDED: logging.DEBUG,
    SkipReason.ALREADY_DONE: logging.DEBUG,
    SkipReason.GUARD_UNAVAILABLE: logging.WARNING,
}
_SKIP_LEVELS.update({reason: logging.INFO for reason in SkipReason if reason not in _SKIP_LEVELS})
_VARIABLE_LEVEL: frozenset[type[SchedulerEvent]] = frozenset({RunCompleted, RunSkipped})

_WARNING_EVENTS: tuple[type[SchedulerEvent], ...] = (
    ExecutionGuardRenewFailed,
    ExecutionGuardReleaseFailed,
    ExecutionGuardUnavailable,
    ExecutionGuardLost,
    StoreDegraded,
)
_DEBUG_EVENTS: tuple[type[SchedulerEvent], ...] = (
    TriggerEmitted,
    RunStarted,
    ExecutionGuardRenewed,
    ExecutionGuardAcquired,
    ExecutionGuardReleased,
    ExecutionGuardContended,
)
_LEVELS: dict[type[SchedulerEvent], int] = {}


def _level_of_kind(kind: type[SchedulerEvent]) -> int:
    """The level events of `kind` are logged at (run results and skips vary per event)."""
    level = _LEVELS.get(kind)
    if level is None:
        if issubclass(kind, _WARNING_EVENTS):
            level = logging.WARNING
        elif issubclass(kind, _DEBUG_EVENTS):
            level = logging.DEBUG
        else:
            level = logging.INFO
        _LEVELS[kind] = level
    return level


def _fields(event: SchedulerEvent) -> dict[str, Any]:
    """The event's fields for a log record; the exception object stays out (it is `exc_info`)."""
    values = {}
    for field in fields(event):
        if field.name == "exception":
            continue
        value = getattr(event, field.name)
        values[field.name] = value.isoformat() if isinstance(value, datetime) else value
    return values


LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def ensure_log_handler(level: int | str = logging.INFO) -> bool:
    """Log to stderr at `level` when the program has set up no logging (a root handler).

    `App.run()` and the command line call it, so that a program without
    `logging.basicConfig(...)` still shows what its jobs do. A program that configured
    logging is left as it is. Returns whether a handler was added.
    """
    if logging.getLogger().handlers:
        return False
    logging.basicConfig(level=level, format=LOG_FORMAT)
    return True


class ObserverGroup:
    """Fans one event out to several observers, isolating each from the others' failures."""

    __slots__ = ("observers",)

    def __init__(self, observers: Iterable[SchedulerObserver] = ()) -> None:
        self.observers: tuple[SchedulerObserver, ...] = tuple(observers)

    def __bool__(self) -> bool:
        return bool(self.observers)

    def wants(self, kind: type[SchedulerEvent]) -> bool:
        """Whether any observer wants events of `kind` (those without `wants` want all)."""
        for observer in self.observers:
            wants = getattr(observer, "wants", None)
            if wants is None or wants(kind):
                return True
        return False

    def on_event(self, event: SchedulerEvent) -> None:
        for observer in self.observers:
            try:
                observer.on_event(event)
            except Exception:
                _log.exception("observer %r raised on %s; ignored", observer, type(event).__name__)
