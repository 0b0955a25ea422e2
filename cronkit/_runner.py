"""The loop that drives one job: start-up, due occurrences, policies, control, the end.

One `JobRunner` exists per `Scheduler.run(job)` call. It owns the job's state and waits on
a single future that the clock (next occurrence), finished runs and control calls resolve,
so that an idle job costs one timer and nothing else.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from cronkit._clock import Clock, TimerHandle
from cronkit._config import SchedulerConfig, SchedulerReport
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
    ObserverGroup,
    RunSkipped,
    SchedulerEvent,
    SchedulerPaused,
    SchedulerResumed,
    SchedulerStopped,
    TerminalStateDeleted,
    TriggerEmitted,
)
from cronkit._execution import ActiveRun, Trigger, acquire_lease, execute
from cronkit._guard import ExecutionGuard
from cronkit._job import Job
from cronkit._schedules import DueOccurrences
from cronkit._startup import load_state
from cronkit._state import JobState, RunRecord
from cronkit._store import StateStore

__all__ = ["JobRunner"]

_SERIAL = (OverlapPolicy.FORBID, OverlapPolicy.QUEUE_ONE)
_ONE_MICROSECOND = timedelta(microseconds=1)


class JobRunner:
    """Drives one job until it is terminal, shut down or cancelled."""

    def __init__(
        self,
        job: Job[Any],
        *,
        config: SchedulerConfig,
        store: StateStore,
        guard: ExecutionGuard | None,
        observer: ObserverGroup,
        clock: Clock,
    ) -> None:
        self.job = job
        self.config = config
        self.store = store
        self.guard = guard
        self.observer = observer
        self.clock = clock
        self.timezone = job.timezone if job.timezone is not None else config.timezone
        self.state = JobState(job.id)
        self.active: list[ActiveRun] = []
        self.queued: Trigger | None = None
        self.history: deque[RunRecord] = deque(maxlen=config.history_limit)
        self.last_skip_reason: SkipReason | None = None
        self.stop_reason: StopReason | None = None
        self.runs = 0
        self.skipped = 0
        self.paused = False
        self._manual: deque[Trigger] = deque()
        self._stop_request: StopReason | None = None
        self._stop_timers: list[TimerHandle] = []
        self._fatal: BaseException | None = None
        self._outlasting = False  # run() is ending on an exception and waits for its runs
        self._wake: asyncio.Future[None] | None = None
        self._timer: TimerHandle | None = None
        self._timer_at: datetime | None = None
        self._save_lock = asyncio.Lock()

    # -- control (called by SchedulerHandle) --------------------------------------------------

    def request_stop(self, reason: StopReason, timeout: timedelta | None = None) -> None:
        """Stop triggering; `SHUTDOWN` waits for active runs (up to `timeout` from now, then
        cancels them), `CANCELLED` cancels them at once."""
        if self._stop_request is not StopReason.CANCELLED:
            self._stop_request = reason
        if reason is StopReason.CANCELLED:
            self._stop_runs("CancelledError: the scheduler was cancelled")
        elif timeout is not None:
            expire = functools.partial(self._stop_runs, "CancelledError: shutdown timeout expired")
            self._stop_timers.append(self.clock.call_later(timeout.total_seconds(), expire))
        self.poke()

    def _stop_runs(self, error: str) -> None:
        for run in list(self.active):
            run.stop(RunStatus.CANCELLED, error)

    def pause(self) -> None:
        if not self.paused:
            self.paused = True
            self.emit(SchedulerPaused)
            self.poke()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self.emit(SchedulerResumed)
            self.poke()

    def trigger_now(self) -> None:
        self._manual.append(Trigger(self.clock.now(), False, TriggerSource.MANUAL))
        self.poke()

    def poke(self) -> None:
        """Wake the loop to look at its state again."""
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    # -- bookkeeping used by runs -------------------------------------------------------------

    def emit(self, kind: type[SchedulerEvent], **fields: Any) -> None:
        """Send an event of `kind` to the observers, if any of them wants it."""
        if self.observer.wants(kind):
            self.observer.on_event(kind(job_id=self.job.id, at=self.clock.now(), **fields))

    def record(self, record: RunRecord) -> None:
        self.runs += 1
        self.history.append(record)

    async def persist(self) -> None:
        """Save the latest state; saves never overtake each other."""
        async with self._save_lock:
            await self.store.save(self.state)

    def report(self) -> SchedulerReport:
        return SchedulerReport(
            job_id=self.job.id,
            state=self.state,
            history=tuple(self.history),
            last_skip_reason=self.last_skip_reason,
            stop_reason=self.stop_reason,
            runs=self.runs,
            skipped=self.skipped,
        )

    # -- the loop -----------------------------------------------------------------------------

    async def run(self) -> SchedulerReport:
        try:
            self.state = await load_state(self)
            await self._loop()
            self._disarm()
            await self._finish()
        except BaseException:
            self._stop_runs("CancelledError: the scheduler stopped")
            await self._outlast_threads()
            raise
        finally:
            self._disarm()
            for timer in self._stop_timers:
                timer.cancel()
        return self.report()

    async def _loop(self) -> None:
        while True:
            if self._fatal is not None:
                raise self._fatal
            if self._stop_request is not None:
                return
            if self.queued is not None and not self.active:
                trigger, self.queued = self.queued, None
                if not self._outside_window(trigger):  # checked again: time has passed
                    await self._start(trigger)
                continue
            if self._manual:
                await self._dispatch(self._manual.popleft())
                continue
            next_run_at = self.state.next_run_at
            blocked = self.paused or self._replay_blocked()
            if next_run_at is not None and not blocked:
                now = self.clock.now()
                if next_run_at <= now:
                    await self._consume(now)
                    continue
            if next_run_at is None and not self.active and self.queued is None:
                self._stop_request = StopReason.TERMINAL
                return
            await self._wait(None if blocked else next_run_at)

    @property
    def stop_requested(self) -> bool:
        """Whether shutdown or cancel was asked for."""
        return self._stop_request is not None

    async def wait_until(self, instant: datetime) -> None:
        """Sleep until `instant` on the clock, or until a control call wakes the loop."""
        await self._wait(instant)

    async def _wait(self, until: datetime | None) -> None:
        """Sleep until `until` (None: no deadline) or a poke; the timer outlives wake-ups."""
        if until != self._timer_at:
            self._disarm()
            if until is not None:
                self._timer = self.clock.call_at(until, self._on_timer)
                self._timer_at = until
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wake = wake
        try:
            await wake
        finally:
            self._wake = None

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        self.poke()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None

    def _replay_blocked(self) -> bool:
        """REPLAY_ALL never drops: the next replay waits until it may start."""
        job = self.job
        if job.missed is not MissedRunPolicy.REPLAY_ALL:
            return False
        if job.overlap in _SERIAL:
            return bool(self.active) or self.queued is not None
        if job.overlap is OverlapPolicy.ALLOW_PARALLEL and job.max_parallel is not None:
            return len(self.active) >= job.max_parallel
        return False

    # -- consuming occurrences ----------------------------------------------------------------

    def _due(self, first: datetime, upto: datetime, limit: int | None) -> DueOccurrences:
        following = self.job.schedule.next_after(first, timezone=self.timezone)
        if following is None or following > upto or limit == 1:
            return DueOccurrences(1, first, following)
        return self.job.schedule.consume_due(first, upto, limit=limit, timezone=self.timezone)

    async def _consume(self, now: datetime) -> None:
        job, state = self.job, self.state
        first = state.next_run_at
        assert first is not None
        # At least one occurrence remains: start-up and the previous consume clear next_run_at
        # once max_runs is reached.
        remaining = None if job.max_runs is None else job.max_runs - state.trigger_count
        consumed = 0
        trigger: Trigger | None = None
        following: datetime | None = first
        if job.catch_up_window is not None and first < now - job.catch_up_window:
            stale = self._due(first, now - job.catch_up_window - _ONE_MICROSECOND, remaining)
            self.skip(stale.last, SkipReason.MISSED, stale.count)
            consumed, following = stale.count, stale.following
            if remaining is not None:
                remaining -= stale.count
        if following is not None and following <= now and remaining != 0:
            trigger, count, following = self._policy(following, now, remaining)
            consumed += count
        trigger_count = state.trigger_count + consumed
        if job.max_runs is not None and trigger_count >= job.max_runs:
            following = None
        self.state = state.consumed(trigger_count, following)
        await self.persist()
        if trigger is not None:
            await self._dispatch(trigger)

    def _policy(
        self, first: datetime, now: datetime, remaining: int | None
    ) -> tuple[Trigger | None, int, datetime | None]:
        """Apply the missed-run policy to the due occurrences starting at `first`."""
        missed_after = self.config.missed_after
        source = TriggerSource.SCHEDULE
        if self.job.missed is MissedRunPolicy.REPLAY_ALL:
            following = self.job.schedule.next_after(first, timezone=self.timezone)
            return Trigger(first, now - first > missed_after, source), 1, following
        count, last, following = self._due(first, now, remaining)
        missed = now - last > missed_after
        if self.job.missed is MissedRunPolicy.SKIP:
            if count == 1 and not missed:
                return Trigger(last, False, source), 1, following
            self.skip(last, SkipReason.MISSED, count)
            return None, count, following
        return Trigger(last, count > 1 or missed, source, count), count, following

    def skip(self, scheduled_at: datetime, reason: SkipReason, count: int = 1) -> None:
        self.skipped += count
        self.last_skip_reason = reason
        self.emit(RunSkipped, scheduled_at=scheduled_at, reason=reason, count=count)

    # -- dispatching triggers -----------------------------------------------------------------

    async def _dispatch(self, trigger: Trigger) -> None:
        """Check the window, apply the overlap policy, then start the run."""
        job = self.job
        self.emit(
            TriggerEmitted,
            scheduled_at=trigger.scheduled_at,
            catch_up=trigger.catch_up,
            source=trigger.source,
        )
        # Before the overlap policy: a trigger that may not run neither waits in the queue
        # (taking the place of one that may) nor replaces the active run.
        if job.window is not None and self._outside_window(trigger):
            return
        if self.active:
            overlap = job.overlap
            if overlap is OverlapPolicy.FORBID or (
                overlap is OverlapPolicy.ALLOW_PARALLEL
                and job.max_parallel is not None
                and len(self.active) >= job.max_parallel
            ):
                self.skip(trigger.scheduled_at, SkipReason.OVERLAP, trigger.occurrences)
                return
            if overlap is OverlapPolicy.QUEUE_ONE:
                if self.queued is None:
                    self.queued = trigger
                else:
                    self.skip(trigger.scheduled_at, SkipReason.OVERLAP, trigger.occurrences)
                return
            if overlap is OverlapPolicy.REPLACE:
                for run in list(self.active):
                    run.stop(RunStatus.CANCELLED, "CancelledError: replaced by a newer run")
        await self._start(trigger)

    def _outside_window(self, trigger: Trigger) -> bool:
        """Whether `now` is outside the job's window (then `trigger` is skipped as such)."""
        window = self.job.window
        if window is None or window.matches(self.clock.now(), timezone=self.timezone):
            return False
        self.skip(trigger.scheduled_at, SkipReason.OUTSIDE_TIME_WINDOW, trigger.occurrences)
        return True

    async def _start(self, trigger: Trigger) -> None:
        """Acquire the guard's lease, then start the run as its own task."""
        lease = None
        if self.guard is not None:
            lease = await acquire_lease(self, self.guard, trigger)
            if lease is None:
                return
        run = ActiveRun(trigger, lease, self.job.task.cancellable, self.state.trigger_count)
        self.active.append(run)
        if self._stop_request is StopReason.CANCELLED:  # cancel() came during a save or acquire
            run.stop(RunStatus.CANCELLED, "CancelledError: the scheduler was cancelled")
        run.task = asyncio.get_running_loop().create_task(execute(self, run))

    def fail(self, error: BaseException) -> None:
        """A run could not record its outcome (the store failed), or it raised a
        `BaseException` such as `SystemExit`: stop the job with `error`."""
        if self._fatal is None:
            self._fatal = error
        self.poke()

    def finished(self, run: ActiveRun) -> None:
        """`run` is over; wake the loop if that changes what it should do."""
        self.active.remove(run)
        if run.shutdown_after:
            self.request_stop(StopReason.SHUTDOWN)
        elif self._loop_waits_for_runs():
            self.poke()

    def _loop_waits_for_runs(self) -> bool:
        """Whether the loop has something to do when a run ends (else it keeps sleeping)."""
        return (
            self.queued is not None
            or self._stop_request is not None
            or self._fatal is not None
            or self._outlasting
            or self.state.next_run_at is None
            or self.job.missed is MissedRunPolicy.REPLAY_ALL
        )

    # -- the end ------------------------------------------------------------------------------

    async def _outlast_threads(self) -> None:
        """Wait for the runs that cannot be stopped (threads) so none outlives `run()`.

        Called while a fatal error or a cancellation of `run()` propagates; a second
        cancellation ends the wait.
        """
        self._outlasting = True
        try:
            while self.active:
                await self._wait(None)
        except asyncio.CancelledError:
            return

    async def _finish(self) -> None:
        if self.queued is not None:
            dropped, self.queued = self.queued, None
            self.skip(dropped.scheduled_at, SkipReason.OVERLAP, dropped.occurrences)
        while self.active:  # a shutdown timeout or cancel() stops them through `_stop_runs`
            await self._wait(None)
        if self._fatal is not None:
            raise self._fatal
        reason = self._stop_request  # read late: cancel() may come while a shutdown waits
        assert reason is not None
        self.stop_reason = reason
        delete = self.config.terminal_state_policy is TerminalStatePolicy.DELETE
        if reason is StopReason.TERMINAL and delete:
            await self.store.delete(self.job.id)
            self.emit(TerminalStateDeleted)
        self.emit(SchedulerStopped, reason=reason)
