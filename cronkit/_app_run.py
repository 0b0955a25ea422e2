"""The running half of an `App`: one engine per job, fatal errors, signals, manual runs.

`AppRuntime` starts a `Scheduler` per job for one `serve()` (or one `trigger()`), all sharing
the App's store, guard, clock and one `ObserverGroup`, around the App's dependency scope:
app-scoped values are created before the first job starts and closed after the last ended.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cronkit._config import SchedulerReport
from cronkit._depends import Dependant
from cronkit._depends_solve import AppScope
from cronkit._engine import Scheduler, SchedulerHandle
from cronkit._events import (
    ObserverGroup,
    RunCompleted,
    RunSkipped,
    SchedulerEvent,
    SchedulerObserver,
    SchedulerPaused,
)
from cronkit._job import Job
from cronkit._state import RunRecord

if TYPE_CHECKING:
    from cronkit._app import App

__all__ = ["AppRuntime", "ManualRunWatch", "install_signal_handlers"]

_log = logging.getLogger("cronkit")
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def install_signal_handlers(
    loop: asyncio.AbstractEventLoop, shutdown: Callable[[], None], cancel: Callable[[], None]
) -> list[int]:
    """Handle SIGINT and SIGTERM on `loop`: the first calls `shutdown`, the second `cancel`.

    After the second signal the handlers are removed, so that a third one acts as it would
    without cronkit (SIGINT raises `KeyboardInterrupt`, SIGTERM ends the process).

    Returns:
        The signals handled, for `loop.remove_signal_handler` (none outside the main thread
        or where the loop cannot handle signals).
    """
    installed: list[int] = []
    received = 0

    def on_signal(signum: int) -> None:
        nonlocal received
        received += 1
        name = signal.Signals(signum).name
        if received == 1:
            _log.warning(
                "received %s: shutting down, active runs finish (send it again to cancel them)",
                name,
            )
            shutdown()
            return
        _log.warning("received %s again: cancelling active runs", name)
        for other in installed:
            loop.remove_signal_handler(other)
        cancel()

    for signum in _SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - platform
            _log.debug("cannot handle %s here (not the main thread?)", signum)
        else:
            installed.append(signum)
    return installed


class ManualRunWatch:
    """Forwards the events of a manual run and shuts its scheduler down once it is decided.

    The scheduler is paused so that the manual run is the only trigger: the first
    `RunCompleted` or `RunSkipped` is its outcome.

    Attributes:
        handle: the handle of the scheduler running the job, set before it starts.
        record: the run's record once it completed; None while pending or if skipped.
    """

    def __init__(self, forward: SchedulerObserver) -> None:
        self.forward = forward
        self.handle: SchedulerHandle | None = None
        self.record: RunRecord | None = None

    def on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, SchedulerPaused):
            return  # the pause isolates the manual run; it is no news for the user
        self.forward.on_event(event)
        if isinstance(event, RunCompleted):
            self.record = RunRecord(
                scheduled_at=event.scheduled_at,
                started_at=event.at - event.duration,
                finished_at=event.at,
                catch_up=False,
                status=event.status,
                error=event.error,
                source=event.source,
            )
        if isinstance(event, RunCompleted | RunSkipped) and self.handle is not None:
            self.handle.shutdown()


class AppRuntime:
    """Runs the jobs of one `App`; at most one session (serve or trigger) at a time.

    Args:
        app: the App, whose `config`, `store`, `guard` and `clock` are read at each start.
        observer: the App's observers, one group shared by every scheduler and the store.
        scope: the App's dependency scope.
        dependants: the dependency graph of each decorated job, by job id.
    """

    def __init__(
        self,
        app: App,
        observer: ObserverGroup,
        scope: AppScope,
        dependants: Mapping[str, Dependant],
    ) -> None:
        self.app = app
        self.observer = observer
        self.scope = scope
        self.dependants = dependants
        self.schedulers: dict[str, Scheduler] = {}
        self.reports: dict[str, SchedulerReport] = {}
        self.errors: dict[str, Exception] = {}
        self.active = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def event_loop(self) -> asyncio.AbstractEventLoop:
        """The loop the App runs on (for worker threads handing work back to it)."""
        assert self._loop is not None, "the App is not running"
        return self._loop

    def report(self, job_id: str) -> SchedulerReport | None:
        """The live report of a running job, else its last final one."""
        scheduler = self.schedulers.get(job_id)
        live = None if scheduler is None else scheduler.report(job_id)
        return live if live is not None else self.reports.get(job_id)

    def shutdown(self, timeout: timedelta | None = None) -> None:
        for scheduler in self.schedulers.values():
            scheduler.handle().shutdown(timeout)

    def cancel(self) -> None:
        for scheduler in self.schedulers.values():
            scheduler.handle().cancel()

    async def serve(
        self, jobs: Iterable[Job[Any]], ready: asyncio.Future[None] | None, signals: bool
    ) -> None:
        """Run `jobs` until each is terminal or stopped; set `ready` once they start."""
        jobs = list(jobs)
        if not jobs:
            _log.warning("the App has no jobs; nothing to run")
        async with self.session(jobs, self.observer, signals) as schedulers:
            self.errors = {}
            if ready is not None:
                ready.set_result(None)
            async with asyncio.TaskGroup() as group:
                for job in jobs:
                    group.create_task(self._drive(schedulers[job.id], job))

    async def trigger(self, job: Job[Any], signals: bool) -> RunRecord | None:
        """Run `job` once now (paused, so that only the manual run happens); its record."""
        # A one-off run does not wait for an unreachable store (a scheduled job would): a
        # StoreUnavailableError here ends the trigger at once with that error.
        await self.app.store.load(job.id)
        watch = ManualRunWatch(self.observer)
        async with self.session([job], ObserverGroup((watch,)), signals) as schedulers:
            scheduler = schedulers[job.id]
            watch.handle = handle = scheduler.handle()
            handle.pause()
            handle.trigger_now()
            self.reports[job.id] = await scheduler.run(job)
        return watch.record

    async def _drive(self, scheduler: Scheduler, job: Job[Any]) -> None:
        try:
            self.reports[job.id] = await scheduler.run(job)
        except Exception as error:
            self.errors[job.id] = error
            _log.error(
                "job %r stopped on a fatal error; the other jobs keep running: %s: %s",
                job.id,
                type(error).__name__,
                error,
                exc_info=error,
            )

    @asynccontextmanager
    async def session(
        self, jobs: list[Job[Any]], observer: ObserverGroup, signals: bool
    ) -> AsyncIterator[dict[str, Scheduler]]:
        """Schedulers for `jobs`, signal handlers and the app scope, for one serve or trigger."""
        if self.active:
            raise RuntimeError("the App is already running; shut it down before starting it again")
        self.active = True
        self._loop = loop = asyncio.get_running_loop()
        self.schedulers = {job.id: self._scheduler(observer) for job in jobs}
        installed = install_signal_handlers(loop, self.shutdown, self.cancel) if signals else []
        try:
            try:
                await self.scope.start(
                    self.dependants[job.id] for job in jobs if job.id in self.dependants
                )
                yield self.schedulers
            finally:
                await self.scope.aclose()
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
            self.schedulers = {}
            self.active = False

    def _scheduler(self, observer: ObserverGroup) -> Scheduler:
        app = self.app
        # One ObserverGroup shared by every job's scheduler: a shared store binds it once.
        return Scheduler(app.config, app.store, observer=observer, guard=app.guard, clock=app.clock)
