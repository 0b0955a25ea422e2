"""`Scheduler`: the single-job engine, and `SchedulerHandle`, its remote control."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from cronkit._clock import Clock, SystemClock
from cronkit._config import SchedulerConfig, SchedulerReport
from cronkit._enums import StopReason
from cronkit._events import ObserverGroup, SchedulerObserver
from cronkit._exceptions import ConfigurationError, InvalidJobError
from cronkit._guard import BindableGuard, ExecutionGuard
from cronkit._job import Job
from cronkit._runner import JobRunner
from cronkit._store import BindableStore, InMemoryStateStore, StateStore

__all__ = ["Scheduler", "SchedulerHandle"]


class Scheduler:
    """Drives jobs through their schedules, policies, windows, state and guard.

    One `run(job)` call drives one job until it is terminal, shut down or cancelled. Several
    jobs may run on one scheduler at once (each `run` call is independent); the handle acts
    on all of them.

    Args:
        config: settings shared by the jobs.
        store: where job state persists (default: a new `InMemoryStateStore`).
        observer: one `SchedulerObserver` or several, receiving every event.
        guard: an `ExecutionGuard` so that one instance among many runs each occurrence.
        clock: the source of time (default `SystemClock()`; tests use `FakeClock`).
    """

    def __init__(
        self,
        config: SchedulerConfig | None = None,
        store: StateStore | None = None,
        *,
        observer: SchedulerObserver | Iterable[SchedulerObserver] | None = None,
        guard: ExecutionGuard | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config if config is not None else SchedulerConfig()
        self.store: StateStore = store if store is not None else InMemoryStateStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.guard = guard
        if isinstance(observer, ObserverGroup):
            self.observer = observer  # shared by the schedulers of one App
        elif observer is None:
            self.observer = ObserverGroup()
        elif isinstance(observer, SchedulerObserver):
            self.observer = ObserverGroup((observer,))
        else:
            self.observer = ObserverGroup(observer)
        if isinstance(self.store, BindableStore):
            self.store.bind(clock=self.clock, observer=self.observer)
        if isinstance(guard, BindableGuard):
            guard.bind(clock=self.clock)
        self._runners: dict[str, JobRunner] = {}
        self._pending: list[tuple[Control, Any]] = []
        self._handle = SchedulerHandle(self)

    def __repr__(self) -> str:
        return f"Scheduler(running={sorted(self._runners)!r})"

    async def run(self, job: Job[Any]) -> SchedulerReport:
        """Drive `job` until it is terminal or stopped through the handle.

        Raises:
            InvalidJobError: `job` is not a `Job`, or a job with its id already runs here.
            StateCorruptedError: the stored state of the job is not valid.
            StoreError: the store failed (a `ResilientStateStore` degrades instead).
        """
        if not isinstance(job, Job):
            raise InvalidJobError(f"Scheduler.run() takes a Job, got {job!r}")
        if job.id in self._runners:
            raise InvalidJobError(
                f"job {job.id!r} is already running on this scheduler; give each job its own id"
            )
        runner = JobRunner(
            job,
            config=self.config,
            store=self.store,
            guard=self.guard,
            observer=self.observer,
            clock=self.clock,
        )
        self._runners[job.id] = runner
        pending, self._pending = self._pending, []
        for command, argument in pending:
            self._apply(runner, command, argument)
        try:
            return await runner.run()
        finally:
            del self._runners[job.id]

    def handle(self) -> SchedulerHandle:
        """The control handle of this scheduler."""
        return self._handle

    def report(self, job_id: str) -> SchedulerReport | None:
        """A live report of a running job, or None if no job with that id runs here."""
        runner = self._runners.get(job_id)
        return None if runner is None else runner.report()

    @property
    def running(self) -> tuple[str, ...]:
        """Ids of the jobs running on this scheduler."""
        return tuple(self._runners)

    def _control(self, command: Control, argument: Any = None) -> None:
        if not isinstance(command, Control):
            raise TypeError(f"unknown control command {command!r}; use a Control member")
        if not self._runners:
            self._pending.append((command, argument))
            return
        for runner in list(self._runners.values()):
            self._apply(runner, command, argument)

    @staticmethod
    def _apply(runner: JobRunner, command: Control, argument: Any) -> None:
        if command is Control.SHUTDOWN:
            runner.request_stop(StopReason.SHUTDOWN, argument)
        elif command is Control.CANCEL:
            runner.request_stop(StopReason.CANCELLED)
        elif command is Control.PAUSE:
            runner.pause()
        elif command is Control.RESUME:
            runner.resume()
        else:
            assert command is Control.TRIGGER_NOW
            runner.trigger_now()


class Control(enum.Enum):
    """What a `SchedulerHandle` asks of the scheduler's jobs."""

    SHUTDOWN = "shutdown"
    CANCEL = "cancel"
    PAUSE = "pause"
    RESUME = "resume"
    TRIGGER_NOW = "trigger_now"


class SchedulerHandle:
    """Controls the runs of one `Scheduler`. Every method returns at once.

    A command given while no job runs applies to the next `Scheduler.run` call.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def shutdown(self, timeout: timedelta | None = None) -> None:
        """Stop triggering, drop the queued trigger, let active runs finish.

        A trigger already consumed when the call comes (its state being saved) still starts.
        `run()` ends with `SchedulerStopped(reason=shutdown)`, or `cancelled` if `cancel()`
        follows while it waits.

        Args:
            timeout: cancel the (async) runs still active this long after the call (None: wait
                for them). A later call with a timeout bounds a wait already in progress.

        Raises:
            ConfigurationError: `timeout` is not a timedelta >= 0.
        """
        if timeout is not None and (not isinstance(timeout, timedelta) or timeout < timedelta(0)):
            raise ConfigurationError(
                f"shutdown(timeout={timeout!r}): the timeout must be a timedelta >= 0 or None, "
                "e.g. timedelta(seconds=30)"
            )
        self._scheduler._control(Control.SHUTDOWN, timeout)

    def cancel(self) -> None:
        """Stop triggering and cancel active async runs at once (thread runs are waited for).

        A run admitted while this call came (its state or lease still being obtained) is
        recorded `cancelled` without starting.
        """
        self._scheduler._control(Control.CANCEL)

    def pause(self) -> None:
        """Stop evaluating the schedule until `resume()`.

        Active runs go on, a queued trigger still starts when they end, and `trigger_now()`
        still runs: pausing stops the schedule, not explicit requests.
        """
        self._scheduler._control(Control.PAUSE)

    def resume(self) -> None:
        """Evaluate triggers again; what came due meanwhile goes through the missed-run policy."""
        self._scheduler._control(Control.RESUME)

    def trigger_now(self) -> None:
        """Submit one manual run through the overlap, window and guard checks.

        The run has `source=manual` and `scheduled_at` = now; it consumes no occurrence, so
        neither `next_run_at` nor `trigger_count` (nor `max_runs`) moves.
        """
        self._scheduler._control(Control.TRIGGER_NOW)
