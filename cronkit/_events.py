"""Runtime events, the observer port, and `LogObserver`.

Every event is a frozen dataclass with the `job_id` it concerns and the wall instant `at`
when it happened. Observers receive them synchronously; one that raises is logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
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
    """A run has ended, with its status."""

    scheduled_at: datetime
    status: RunStatus
    error: str | None
    duration: timedelta
    source: TriggerSource


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


_WARNING_EVENTS: tuple[type[SchedulerEvent], ...] = (
    StateRepaired,
    ExecutionGuardRenewFailed,
    ExecutionGuardReleaseFailed,
    ExecutionGuardUnavailable,
    ExecutionGuardLost,
    StoreDegraded,
)


class LogObserver:
    """Logs each event on `logger` with the event's fields as structured `extra`.

    Failed and timed-out runs and degraded infrastructure are warnings, lifecycle is info,
    per-occurrence chatter (triggers, renewals, skips) is debug.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else _log

    def on_event(self, event: SchedulerEvent) -> None:
        level = self.level_of(event)
        if not self.logger.isEnabledFor(level):
            return
        fields = _fields(event)
        details = " ".join(f"{name}={value}" for name, value in fields.items() if name != "job_id")
        self.logger.log(
            level,
            "%s job=%s %s",
            type(event).__name__,
            event.job_id,
            details,
            extra={"cronkit_event": type(event).__name__, "cronkit": fields},
        )

    def wants(self, kind: type[SchedulerEvent]) -> bool:
        """Whether an event of `kind` could be logged at the logger's current level."""
        highest = logging.WARNING if issubclass(kind, RunCompleted) else _lowest_level(kind)
        return self.logger.isEnabledFor(highest)

    @staticmethod
    def level_of(event: SchedulerEvent) -> int:
        """The logging level `event` is logged at."""
        if isinstance(event, RunCompleted) and event.status is not RunStatus.SUCCESS:
            return logging.WARNING
        return _lowest_level(type(event))


_DEBUG_EVENTS: tuple[type[SchedulerEvent], ...] = (
    TriggerEmitted,
    RunSkipped,
    RunStarted,
    ExecutionGuardRenewed,
    ExecutionGuardAcquired,
    ExecutionGuardReleased,
    ExecutionGuardContended,
)


_LEVELS: dict[type[SchedulerEvent], int] = {}


def _lowest_level(kind: type[SchedulerEvent]) -> int:
    """The lowest level an event of `kind` is logged at (failed runs go higher)."""
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
    return {
        name: (value.isoformat() if isinstance(value, datetime) else value)
        for name, value in asdict(event).items()
    }


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
