"""The engine with an execution guard: one run per occurrence, fail closed, lost leases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from cronkit._engine import Scheduler
from cronkit._enums import RunStatus, SkipReason, StopReason
from cronkit._events import (
    ExecutionGuardAcquired,
    ExecutionGuardContended,
    ExecutionGuardLost,
    ExecutionGuardReleased,
    ExecutionGuardReleaseFailed,
    ExecutionGuardRenewed,
    ExecutionGuardRenewFailed,
    ExecutionGuardUnavailable,
    RunSkipped,
)
from cronkit._guard import ExecutionLease, ExecutionSlot, InMemoryExecutionGuard
from cronkit._job import Job
from cronkit._schedules import Interval
from cronkit._store import InMemoryStateStore
from cronkit.testing import FakeClock
from tests.engine_helpers import T0, Calls, Recorder, harness, seconds


async def test_replicas_sharing_a_guard_run_each_occurrence_once(clock: FakeClock) -> None:
    guard = InMemoryExecutionGuard(ttl=seconds(30), renew_interval=seconds(10))
    calls = Calls()
    recorders = [Recorder() for _ in range(3)]
    # Each replica has its own store, as separate processes would.
    schedulers = [
        Scheduler(store=InMemoryStateStore(), observer=recorder, guard=guard, clock=clock)
        for recorder in recorders
    ]
    tasks = [
        asyncio.create_task(s.run(Job("job", Interval(seconds(10)), calls, max_runs=5)))
        for s in schedulers
    ]
    await clock.advance(60)
    await asyncio.gather(*tasks)
    assert calls.scheduled == [T0 + seconds(10 * n) for n in range(1, 6)]
    tokens = [c.run.fencing_token for c in calls.contexts]
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == 5
    reasons = [e.reason for r in recorders for e in r.of(ExecutionGuardContended)]
    assert len(reasons) == 10
    assert set(reasons) <= {SkipReason.CONTENDED, SkipReason.ALREADY_DONE}


async def test_a_late_replica_sees_the_occurrence_as_done(clock: FakeClock) -> None:
    guard = InMemoryExecutionGuard(ttl=seconds(30), renew_interval=seconds(10))
    first, late = Calls(), Calls()
    h1 = harness(clock, guard=guard)
    await h1.start(Job("job", Interval(seconds(10)), first, max_runs=1))
    await clock.advance(10)
    assert first.scheduled == [T0 + seconds(10)]
    # The late replica restarts from a stale copy of the state and reaches 00:00:10 late.
    h2 = harness(clock, guard=guard)
    stale = await h1.scheduler.store.load("job")
    assert stale is not None
    await h2.scheduler.store.save(stale.consumed(0, T0 + seconds(10)))
    await h2.start(Job("job", Interval(seconds(10)), late, max_runs=1))
    assert late.contexts == []
    (skip,) = h2.recorder.of(RunSkipped)
    assert skip.reason is SkipReason.ALREADY_DONE
    await h1.stop()
    await h2.stop()


class _Unreachable:
    renew_interval = timedelta(seconds=10)
    on_lost = "cancel"

    async def acquire(self, slot: ExecutionSlot) -> ExecutionLease | None:
        raise ConnectionRefusedError("guard is down")

    def refusal_reason(self, slot: ExecutionSlot) -> SkipReason:
        raise AssertionError("not called")

    async def renew(self, lease: ExecutionLease) -> bool:
        raise AssertionError("not called")

    async def release(self, lease: ExecutionLease, *, completed: bool) -> None:
        raise AssertionError("not called")


async def test_an_unreachable_guard_fails_closed(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock, guard=_Unreachable())
    await h.start(Job("job", Interval(seconds(10)), calls, max_runs=2))
    await clock.advance(30)
    report = await h.stop()
    assert calls.contexts == []
    assert [e.error for e in h.recorder.of(ExecutionGuardUnavailable)] == [
        "ConnectionRefusedError: guard is down"
    ] * 2
    assert report.last_skip_reason is SkipReason.GUARD_UNAVAILABLE
    assert report.state.trigger_count == 2
    assert report.stop_reason is StopReason.TERMINAL


class _Flaky(InMemoryExecutionGuard):
    """An in-memory guard whose renewals fail or report loss on demand."""

    renew_result: bool | None = True
    release_error: bool = False

    async def renew(self, lease: ExecutionLease) -> bool:
        if self.renew_result is None:
            raise TimeoutError("renew timed out")
        if not self.renew_result:
            return False
        return await super().renew(lease)

    async def release(self, lease: ExecutionLease, *, completed: bool) -> None:
        if self.release_error:
            raise ConnectionResetError("reset")
        await super().release(lease, completed=completed)


def _flaky(on_lost: Any, *, renew: bool | None, release_error: bool = False) -> _Flaky:
    guard = _Flaky(ttl=seconds(30), renew_interval=seconds(10), on_lost=on_lost)
    guard.renew_result = renew
    guard.release_error = release_error
    return guard


async def test_long_runs_renew_their_lease(clock: FakeClock) -> None:
    guard = _flaky("cancel", renew=True)
    h = harness(clock, guard=guard)
    await h.start(Job("job", Interval(seconds(100)), Calls(hold=35, clock=clock), max_runs=1))
    await clock.advance(200)
    report = await h.stop()
    assert [r.status for r in report.history] == [RunStatus.SUCCESS]
    assert len(h.recorder.of(ExecutionGuardRenewed)) == 3
    assert [e.completed for e in h.recorder.of(ExecutionGuardReleased)] == [True]


@pytest.mark.parametrize(
    ("on_lost", "status", "stops_by_itself"),
    [
        ("cancel", RunStatus.CANCELLED, False),
        ("continue", RunStatus.SUCCESS, False),
        ("shutdown", RunStatus.SUCCESS, True),
    ],
)
async def test_lost_lease(
    clock: FakeClock, on_lost: str, status: RunStatus, stops_by_itself: bool
) -> None:
    guard = _flaky(on_lost, renew=False)
    h = harness(clock, guard=guard)
    job = Job("job", Interval(seconds(100)), Calls(hold=35, clock=clock), max_runs=5)
    await h.start(job)
    await clock.advance(150)
    assert h.task is not None
    assert h.task.done() is stops_by_itself
    report = await h.stop()
    assert report.history[0].status is status
    assert [e.action for e in h.recorder.of(ExecutionGuardLost)] == [on_lost]
    # The release is still attempted: it is token-checked, so it cannot touch another holder's
    # lease, and a run that finished marks its occurrence done if nobody took it meanwhile.
    released = h.recorder.of(ExecutionGuardReleased)
    assert [e.completed for e in released][:1] == [status is not RunStatus.CANCELLED]


async def test_renewals_failing_past_the_ttl_lose_the_lease(clock: FakeClock) -> None:
    guard = _flaky("cancel", renew=None)
    h = harness(clock, guard=guard)
    await h.start(Job("job", Interval(seconds(100)), Calls(hold=60, clock=clock), max_runs=1))
    await clock.advance(200)
    report = await h.stop()
    assert len(h.recorder.of(ExecutionGuardRenewFailed)) == 3
    assert len(h.recorder.of(ExecutionGuardLost)) == 1
    assert report.history[0].status is RunStatus.CANCELLED
    assert report.history[0].finished_at == T0 + seconds(130)


async def test_a_failed_release_is_reported(clock: FakeClock) -> None:
    guard = _flaky("cancel", renew=True, release_error=True)
    h = harness(clock, guard=guard)
    await h.start(Job("job", Interval(seconds(10)), Calls(), max_runs=1))
    await clock.advance(20)
    await h.stop()
    assert [e.error for e in h.recorder.of(ExecutionGuardReleaseFailed)] == [
        "ConnectionResetError: reset"
    ]
    assert len(h.recorder.of(ExecutionGuardAcquired)) == 1
