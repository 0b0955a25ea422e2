"""One run of a job: its context, timeout, lease renewal, outcome and bookkeeping.

`ActiveRun` is created by the job loop (`_runner`) once a trigger passed the overlap,
window and guard checks; `execute` runs it as its own asyncio task.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from cronkit._enums import RunStatus, SkipReason, TriggerSource
from cronkit._events import (
    ExecutionGuardAcquired,
    ExecutionGuardContended,
    ExecutionGuardLost,
    ExecutionGuardReleased,
    ExecutionGuardReleaseFailed,
    ExecutionGuardRenewed,
    ExecutionGuardRenewFailed,
    ExecutionGuardUnavailable,
    RunCompleted,
    RunStarted,
    SchedulerEvent,
)
from cronkit._exceptions import describe_error, format_traceback
from cronkit._guard import ExecutionGuard, ExecutionLease, ExecutionSlot
from cronkit._job import RunContext, TaskContext
from cronkit._state import RunRecord

if TYPE_CHECKING:
    from cronkit._runner import JobRunner

__all__ = ["ActiveRun", "Trigger", "acquire_lease", "execute"]


class Trigger(NamedTuple):
    """A request for one run: an occurrence (or a manual request) and how it came."""

    scheduled_at: datetime
    catch_up: bool
    source: TriggerSource
    occurrences: int = 1  # scheduled occurrences it stands for (a skip reports them all)


@dataclass(eq=False, slots=True)
class ActiveRun:
    """A run that has passed every check and is executing (or about to)."""

    trigger: Trigger
    lease: ExecutionLease | None
    cancellable: bool  # False for a thread task, and once the task has returned
    trigger_count: int  # occurrences consumed when the run was admitted
    task: asyncio.Task[None] | None = None
    started: bool = False
    stop_status: RunStatus | None = None
    stop_error: str | None = None
    shutdown_after: bool = False
    keepers: list[Any] = field(default_factory=list)

    def stop(self, status: RunStatus, error: str) -> bool:
        """Ask the run to end as `status`; False if it cannot be stopped (a thread task)."""
        if not self.cancellable or self.stop_status is not None:
            return False
        self.stop_status = status
        self.stop_error = error
        if self.started and self.task is not None:
            self.task.cancel()
        return True


def _emit_guard(
    runner: JobRunner, kind: type[SchedulerEvent], slot: ExecutionSlot, **fields: Any
) -> None:
    runner.emit(kind, scheduled_at=slot.scheduled_at, resource_id=slot.resource_id, **fields)


async def acquire_lease(
    runner: JobRunner, guard: ExecutionGuard, trigger: Trigger
) -> ExecutionLease | None:
    """The lease for `trigger`'s occurrence, or None after reporting why it was skipped.

    An unreachable guard (any connection-class error: `GuardUnavailableError`, refused, reset,
    timed out) fails closed: the occurrence is skipped as `guard_unavailable`. Other errors,
    such as a guard user without permission, propagate: they need a person, not a retry.
    """
    job = runner.job
    slot = ExecutionSlot(job.id, job.execution_resource_id, trigger.scheduled_at)
    try:
        lease = await guard.acquire(slot)
    except OSError as exc:
        _emit_guard(runner, ExecutionGuardUnavailable, slot, error=describe_error(exc))
        runner.skip(trigger.scheduled_at, SkipReason.GUARD_UNAVAILABLE, trigger.occurrences)
        return None
    if lease is None:
        reason = guard.refusal_reason(slot)
        _emit_guard(runner, ExecutionGuardContended, slot, reason=reason)
        runner.skip(trigger.scheduled_at, reason, trigger.occurrences)
        return None
    _emit_guard(runner, ExecutionGuardAcquired, slot, fencing_token=lease.fencing_token)
    return lease


async def execute(runner: JobRunner, run: ActiveRun) -> None:
    """Run `run` to its end, record the outcome in `runner`, and tell it the run is over.

    The bookkeeping happens here rather than in a done-callback: it saves the event loop one
    turn per run, which is what a simulated year of per-minute runs is made of.
    """
    try:
        await _run(runner, run)
    except BaseException as exc:  # the store failed, or SystemExit & co.: fatal for the job
        runner.fail(exc)  # `run()` raises it
        if isinstance(exc, asyncio.CancelledError):
            raise
    finally:
        runner.finished(run)


async def _run(runner: JobRunner, run: ActiveRun) -> None:
    job, clock, trigger = runner.job, runner.clock, run.trigger
    started_at = clock.now()
    if run.stop_status is not None:  # stopped before it got the chance to start
        await _complete(runner, run, started_at, run.stop_status, run.stop_error, None)
        return
    run.started = True
    context = RunContext(
        job_id=job.id,
        scheduled_at=trigger.scheduled_at,
        catch_up=trigger.catch_up,
        timezone=runner.timezone,
        trigger_count=run.trigger_count,
        source=trigger.source,
        fencing_token=None if run.lease is None else run.lease.fencing_token,
        started_at=started_at,
    )
    if runner.observer.wants(RunStarted):
        runner.observer.on_event(
            RunStarted(
                job_id=job.id,
                at=started_at,
                scheduled_at=trigger.scheduled_at,
                catch_up=trigger.catch_up,
                source=trigger.source,
                fencing_token=context.fencing_token,
            )
        )
    if job.timeout is not None:
        timeout = job.timeout
        run.keepers.append(
            clock.call_later(
                timeout.total_seconds(),
                lambda: run.stop(RunStatus.TIMED_OUT, f"TimeoutError: run exceeded {timeout}"),
            )
        )
    if run.lease is not None and runner.guard is not None:
        run.keepers.append(asyncio.create_task(_keep_lease(runner, run, runner.guard, run.lease)))
    status, error, exception = RunStatus.SUCCESS, None, None
    task = job.task
    try:
        if task.kind == "async":
            await task.func(TaskContext(context, job.deps))
        else:
            await task.invoke(TaskContext(context, job.deps), clock)
    except asyncio.CancelledError:
        if run.stop_status is None:
            raise
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        status, error = run.stop_status, run.stop_error
        if status is RunStatus.TIMED_OUT:  # where the run was when its time ran out
            message = (error or "").removeprefix("TimeoutError: ")
            exception = TimeoutError(message).with_traceback(sys.exc_info()[2])
    except Exception as exc:
        status, error, exception = RunStatus.FAILED, describe_error(exc), exc
    finally:
        run.cancellable = False  # recording the outcome must not be cut short
        for keeper in run.keepers:
            keeper.cancel()
    await _complete(runner, run, started_at, status, error, exception)


async def _complete(
    runner: JobRunner,
    run: ActiveRun,
    started_at: datetime,
    status: RunStatus,
    error: str | None,
    exception: BaseException | None,
) -> None:
    trigger, clock = run.trigger, runner.clock
    finished_at = clock.now()
    traceback = None if exception is None else format_traceback(exception)
    runner.record(
        RunRecord(
            scheduled_at=trigger.scheduled_at,
            started_at=started_at,
            finished_at=finished_at,
            catch_up=trigger.catch_up,
            status=status,
            error=error,
            source=trigger.source,
            traceback=traceback,
        )
    )
    if status is not RunStatus.CANCELLED:
        runner.state = runner.state.finished(started_at, finished_at, error)
    if runner.observer.wants(RunCompleted):
        runner.observer.on_event(
            RunCompleted(
                job_id=runner.job.id,
                at=finished_at,
                scheduled_at=trigger.scheduled_at,
                status=status,
                error=error,
                duration=finished_at - started_at,
                source=trigger.source,
                exception=exception,
                traceback=traceback,
            )
        )
    await runner.persist()
    if run.lease is not None and runner.guard is not None:
        await _release(runner, run.lease, runner.guard, completed=status is not RunStatus.CANCELLED)


async def _release(
    runner: JobRunner, lease: ExecutionLease, guard: ExecutionGuard, *, completed: bool
) -> None:
    slot = lease.slot
    try:
        await guard.release(lease, completed=completed)
    except Exception as exc:
        _emit_guard(runner, ExecutionGuardReleaseFailed, slot, error=describe_error(exc))
        return
    _emit_guard(runner, ExecutionGuardReleased, slot, completed=completed)


async def _keep_lease(
    runner: JobRunner, run: ActiveRun, guard: ExecutionGuard, lease: ExecutionLease
) -> None:
    """Renew the lease every `renew_interval` until the run ends or the lease is lost."""
    clock, slot = runner.clock, lease.slot
    interval = guard.renew_interval.total_seconds()
    ttl = lease.ttl.total_seconds()
    renewed_at = clock.monotonic()
    while True:
        await clock.sleep(interval)
        try:
            held = await guard.renew(lease)
        except Exception as exc:
            _emit_guard(runner, ExecutionGuardRenewFailed, slot, error=describe_error(exc))
            if clock.monotonic() - renewed_at < ttl:
                continue
            held = False
        if held:
            renewed_at = clock.monotonic()
            _emit_guard(runner, ExecutionGuardRenewed, slot)
            continue
        _lose_lease(runner, run, guard)
        return


def _lose_lease(runner: JobRunner, run: ActiveRun, guard: ExecutionGuard) -> None:
    assert run.lease is not None
    slot, action = run.lease.slot, guard.on_lost
    _emit_guard(runner, ExecutionGuardLost, slot, action=action)
    if action == "cancel":
        run.stop(RunStatus.CANCELLED, "ExecutionGuardLost: the execution lease was lost")
    elif action == "shutdown":
        run.shutdown_after = True
