"""cronkit: background jobs on schedules inside an asyncio program.

Layers, top to bottom; a module imports only from layers below it (checked by import-linter):

    cli                              python -m cronkit: load an App, run / list / trigger / check
    _app, _app_tasks, _app_run       App: decorators, Depends wiring, one engine per job, signals
    _depends, _depends_solve         Depends: graph analysed at registration, resolved per run
    _engine                          Scheduler, SchedulerHandle: the single-job engine
    _runner                          the loop of one job: policies, overlap, control, the end
    _execution, _startup             one run (timeout, lease renewal, outcome); state at start-up
    _job, _config                    Job, Task, RunContext; SchedulerConfig, SchedulerReport
    _store, _guard                   StateStore and ExecutionGuard ports, in-memory adapters
    _schedules, _windows, _state,    Interval / AtTimes / Cron; time windows; JobState + codec;
      _events                        events and observers
    _cron, _cron_dst, _clock         cron dialect and DST rules; the only clock
    _enums, _exceptions              enums; the error tree

Edges: `cronkit.valkey` (the only module importing `valkey`), `cronkit.testing` (FakeClock,
run_app), `cronkit.pytest_plugin` (fixtures). `import cronkit` imports neither valkey, nor
pytest, nor freezegun.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cronkit._app import App
    from cronkit._app_tasks import JobOptions
    from cronkit._clock import Clock, SystemClock, TimerHandle
    from cronkit._config import SchedulerConfig, SchedulerReport
    from cronkit._depends import Depends
    from cronkit._engine import Scheduler, SchedulerHandle
    from cronkit._enums import (
        MissedRunPolicy,
        OverlapPolicy,
        RunStatus,
        SkipReason,
        StopReason,
        TerminalStatePolicy,
        TriggerSource,
    )
    from cronkit._events import (
        ExecutionGuardAcquired,
        ExecutionGuardContended,
        ExecutionGuardLost,
        ExecutionGuardReleased,
        ExecutionGuardReleaseFailed,
        ExecutionGuardRenewed,
        ExecutionGuardRenewFailed,
        ExecutionGuardUnavailable,
        LogObserver,
        RunCompleted,
        RunSkipped,
        RunStarted,
        SchedulerEvent,
        SchedulerObserver,
        SchedulerPaused,
        SchedulerResumed,
        SchedulerStopped,
        StateLoaded,
        StateRepaired,
        StoreDegraded,
        StoreRecovered,
        TerminalStateDeleted,
        TriggerEmitted,
    )
    from cronkit._exceptions import (
        AppLoadError,
        ConfigurationError,
        CronkitError,
        DependencyCycleError,
        DependencyError,
        DependencyFailedError,
        DuplicateJobError,
        GuardUnavailableError,
        InvalidCronExpression,
        InvalidJobError,
        InvalidLeaseConfigError,
        InvalidPolicyError,
        InvalidScheduleError,
        InvalidStoreURLError,
        InvalidTimeWindowError,
        StateCorruptedError,
        StoreError,
        StoreUnavailableError,
    )
    from cronkit._guard import ExecutionGuard, ExecutionLease, ExecutionSlot, InMemoryExecutionGuard
    from cronkit._job import Job, RunContext, Task, TaskContext
    from cronkit._schedules import AtTimes, Cron, Interval, Schedule
    from cronkit._state import JobState, RunRecord
    from cronkit._store import InMemoryStateStore, ResilientStateStore, StateStore
    from cronkit._windows import JobTimeWindow, TimeWindowSegment

__version__ = "0.1.0"

__all__ = [
    "App",
    "AppLoadError",
    "AtTimes",
    "Clock",
    "ConfigurationError",
    "Cron",
    "CronkitError",
    "DependencyCycleError",
    "DependencyError",
    "DependencyFailedError",
    "Depends",
    "DuplicateJobError",
    "ExecutionGuard",
    "ExecutionGuardAcquired",
    "ExecutionGuardContended",
    "ExecutionGuardLost",
    "ExecutionGuardReleaseFailed",
    "ExecutionGuardReleased",
    "ExecutionGuardRenewFailed",
    "ExecutionGuardRenewed",
    "ExecutionGuardUnavailable",
    "ExecutionLease",
    "ExecutionSlot",
    "GuardUnavailableError",
    "InMemoryExecutionGuard",
    "InMemoryStateStore",
    "Interval",
    "InvalidCronExpression",
    "InvalidJobError",
    "InvalidLeaseConfigError",
    "InvalidPolicyError",
    "InvalidScheduleError",
    "InvalidStoreURLError",
    "InvalidTimeWindowError",
    "Job",
    "JobOptions",
    "JobState",
    "JobTimeWindow",
    "LogObserver",
    "MissedRunPolicy",
    "OverlapPolicy",
    "ResilientStateStore",
    "RunCompleted",
    "RunContext",
    "RunRecord",
    "RunSkipped",
    "RunStarted",
    "RunStatus",
    "Schedule",
    "Scheduler",
    "SchedulerConfig",
    "SchedulerEvent",
    "SchedulerHandle",
    "SchedulerObserver",
    "SchedulerPaused",
    "SchedulerReport",
    "SchedulerResumed",
    "SchedulerStopped",
    "SkipReason",
    "StateCorruptedError",
    "StateLoaded",
    "StateRepaired",
    "StateStore",
    "StopReason",
    "StoreDegraded",
    "StoreError",
    "StoreRecovered",
    "StoreUnavailableError",
    "SystemClock",
    "Task",
    "TaskContext",
    "TerminalStateDeleted",
    "TerminalStatePolicy",
    "TimeWindowSegment",
    "TimerHandle",
    "TriggerEmitted",
    "TriggerSource",
    "__version__",
]

# Names are imported on first use (PEP 562), so that `import cronkit` — and the pytest plugin
# that pytest loads in every session of a project with cronkit installed — stays cheap.
_EXPORTS: dict[str, str] = {
    "App": "cronkit._app",
    "AppLoadError": "cronkit._exceptions",
    "AtTimes": "cronkit._schedules",
    "Clock": "cronkit._clock",
    "ConfigurationError": "cronkit._exceptions",
    "Cron": "cronkit._schedules",
    "CronkitError": "cronkit._exceptions",
    "DependencyCycleError": "cronkit._exceptions",
    "DependencyError": "cronkit._exceptions",
    "DependencyFailedError": "cronkit._exceptions",
    "Depends": "cronkit._depends",
    "DuplicateJobError": "cronkit._exceptions",
    "ExecutionGuard": "cronkit._guard",
    "ExecutionGuardAcquired": "cronkit._events",
    "ExecutionGuardContended": "cronkit._events",
    "ExecutionGuardLost": "cronkit._events",
    "ExecutionGuardReleaseFailed": "cronkit._events",
    "ExecutionGuardReleased": "cronkit._events",
    "ExecutionGuardRenewFailed": "cronkit._events",
    "ExecutionGuardRenewed": "cronkit._events",
    "ExecutionGuardUnavailable": "cronkit._events",
    "ExecutionLease": "cronkit._guard",
    "ExecutionSlot": "cronkit._guard",
    "GuardUnavailableError": "cronkit._exceptions",
    "InMemoryExecutionGuard": "cronkit._guard",
    "InMemoryStateStore": "cronkit._store",
    "Interval": "cronkit._schedules",
    "InvalidCronExpression": "cronkit._exceptions",
    "InvalidJobError": "cronkit._exceptions",
    "InvalidLeaseConfigError": "cronkit._exceptions",
    "InvalidPolicyError": "cronkit._exceptions",
    "InvalidScheduleError": "cronkit._exceptions",
    "InvalidStoreURLError": "cronkit._exceptions",
    "InvalidTimeWindowError": "cronkit._exceptions",
    "Job": "cronkit._job",
    "JobOptions": "cronkit._app_tasks",
    "JobState": "cronkit._state",
    "JobTimeWindow": "cronkit._windows",
    "LogObserver": "cronkit._events",
    "MissedRunPolicy": "cronkit._enums",
    "OverlapPolicy": "cronkit._enums",
    "ResilientStateStore": "cronkit._store",
    "RunCompleted": "cronkit._events",
    "RunContext": "cronkit._job",
    "RunRecord": "cronkit._state",
    "RunSkipped": "cronkit._events",
    "RunStarted": "cronkit._events",
    "RunStatus": "cronkit._enums",
    "Schedule": "cronkit._schedules",
    "Scheduler": "cronkit._engine",
    "SchedulerConfig": "cronkit._config",
    "SchedulerEvent": "cronkit._events",
    "SchedulerHandle": "cronkit._engine",
    "SchedulerObserver": "cronkit._events",
    "SchedulerPaused": "cronkit._events",
    "SchedulerReport": "cronkit._config",
    "SchedulerResumed": "cronkit._events",
    "SchedulerStopped": "cronkit._events",
    "SkipReason": "cronkit._enums",
    "StateCorruptedError": "cronkit._exceptions",
    "StateLoaded": "cronkit._events",
    "StateRepaired": "cronkit._events",
    "StateStore": "cronkit._store",
    "StopReason": "cronkit._enums",
    "StoreDegraded": "cronkit._events",
    "StoreError": "cronkit._exceptions",
    "StoreRecovered": "cronkit._events",
    "StoreUnavailableError": "cronkit._exceptions",
    "SystemClock": "cronkit._clock",
    "Task": "cronkit._job",
    "TaskContext": "cronkit._job",
    "TerminalStateDeleted": "cronkit._events",
    "TerminalStatePolicy": "cronkit._enums",
    "TimeWindowSegment": "cronkit._windows",
    "TimerHandle": "cronkit._clock",
    "TriggerEmitted": "cronkit._events",
    "TriggerSource": "cronkit._enums",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cronkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
