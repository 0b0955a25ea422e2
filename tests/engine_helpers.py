"""Shared helpers for engine tests: an event recorder and a running-job harness."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cronkit._config import SchedulerConfig, SchedulerReport
from cronkit._engine import Scheduler
from cronkit._events import SchedulerEvent
from cronkit._job import Job, TaskContext
from cronkit._state import RunRecord
from cronkit._store import InMemoryStateStore, StateStore
from cronkit.testing import FakeClock

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """An aware UTC instant from ISO text ('2025-01-01T00:00:05Z')."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


@dataclass
class Recorder:
    """Observer keeping every event, with filters for tests."""

    events: list[SchedulerEvent] = field(default_factory=list)

    def on_event(self, event: SchedulerEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


class Calls:
    """An async task that records each run's context, optionally blocking on a gate."""

    def __init__(self, *, hold: float = 0.0, clock: FakeClock | None = None) -> None:
        self.contexts: list[TaskContext[Any]] = []
        self.hold = hold
        self.clock = clock
        self.finished = 0

    async def __call__(self, context: TaskContext[Any]) -> None:
        self.contexts.append(context)
        if self.hold:
            assert self.clock is not None
            await self.clock.sleep(self.hold)
        self.finished += 1

    @property
    def scheduled(self) -> list[datetime]:
        return [context.run.scheduled_at for context in self.contexts]


@dataclass
class Harness:
    """A scheduler running one job in the background under a fake clock."""

    clock: FakeClock
    scheduler: Scheduler
    recorder: Recorder
    task: asyncio.Task[SchedulerReport] | None = None

    async def start(self, job: Job[Any]) -> None:
        self.task = asyncio.create_task(self.scheduler.run(job))
        await self.clock.settle()

    async def advance(self, delta: float | timedelta) -> None:
        await self.clock.advance(delta)

    async def stop(self, *, timeout: timedelta | None = None) -> SchedulerReport:
        """Shut down and let fake time run until the job has stopped."""
        assert self.task is not None
        if not self.task.done():
            self.scheduler.handle().shutdown(timeout)
        for _ in range(1000):
            await self.clock.settle()
            deadline = self.clock.next_deadline
            if self.task.done() or deadline is None:
                break
            await self.clock.advance_to(deadline)
        assert self.task.done(), "the job did not stop"
        return await self.task

    def report(self, job_id: str) -> SchedulerReport:
        report = self.scheduler.report(job_id)
        assert report is not None
        return report

    def history(self, job_id: str) -> tuple[RunRecord, ...]:
        return self.report(job_id).history


def harness(
    clock: FakeClock,
    *,
    store: StateStore | None = None,
    config: SchedulerConfig | None = None,
    **kwargs: Any,
) -> Harness:
    recorder = Recorder()
    scheduler = Scheduler(
        config,
        store if store is not None else InMemoryStateStore(),
        observer=recorder,
        clock=clock,
        **kwargs,
    )
    return Harness(clock, scheduler, recorder)


Factory = Callable[..., Job[Any]]
