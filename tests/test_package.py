"""The package's public surface (SPEC §1)."""

from __future__ import annotations

import enum
import subprocess
import sys

import pytest

import cronkit

SPEC_NAMES = [
    "App",
    "Depends",
    "RunContext",
    "Interval",
    "AtTimes",
    "Cron",
    "Schedule",
    "MissedRunPolicy",
    "OverlapPolicy",
    "TerminalStatePolicy",
    "JobTimeWindow",
    "TimeWindowSegment",
    "Job",
    "Task",
    "Scheduler",
    "SchedulerConfig",
    "SchedulerHandle",
    "SchedulerReport",
    "RunRecord",
    "RunStatus",
    "JobState",
    "SkipReason",
    "TriggerSource",
    "StateStore",
    "InMemoryStateStore",
    "ResilientStateStore",
    "ExecutionGuard",
    "ExecutionSlot",
    "ExecutionLease",
    "SchedulerObserver",
    "LogObserver",
    "Clock",
    "SystemClock",
    "CronkitError",
    "StateLoaded",
    "StateRepaired",
    "TriggerEmitted",
    "RunStarted",
    "RunCompleted",
    "RunSkipped",
    "ExecutionGuardAcquired",
    "ExecutionGuardContended",
    "ExecutionGuardRenewed",
    "ExecutionGuardRenewFailed",
    "ExecutionGuardLost",
    "ExecutionGuardReleased",
    "ExecutionGuardReleaseFailed",
    "ExecutionGuardUnavailable",
    "StoreDegraded",
    "StoreRecovered",
    "TerminalStateDeleted",
    "SchedulerPaused",
    "SchedulerResumed",
    "SchedulerStopped",
]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_name_of_the_spec_is_exported_flat(name: str) -> None:
    assert name in cronkit.__all__
    assert getattr(cronkit, name) is not None


def test_all_is_sorted_and_complete() -> None:
    assert cronkit.__all__ == sorted(cronkit.__all__)
    assert all(hasattr(cronkit, name) for name in cronkit.__all__)


def test_importing_cronkit_loads_no_optional_dependency() -> None:
    code = (
        "import sys, cronkit, cronkit.testing\n"
        "print(sorted(m for m in ('valkey', 'pytest', 'freezegun') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "kind",
    [
        cronkit.MissedRunPolicy,
        cronkit.OverlapPolicy,
        cronkit.TerminalStatePolicy,
        cronkit.RunStatus,
        cronkit.SkipReason,
        cronkit.TriggerSource,
    ],
)
def test_enums_are_str_enums_with_lower_snake_values(kind: type[enum.StrEnum]) -> None:
    assert issubclass(kind, enum.StrEnum)
    for member in kind:
        assert member.value == member.name.lower()
