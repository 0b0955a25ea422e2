"""Helpers for the App tests: run an App in the background under a `FakeClock`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from cronkit import App, JobState, SchedulerEvent, StateCorruptedError
from cronkit.testing import FakeClock


@dataclass
class Events:
    """An observer keeping every event."""

    events: list[SchedulerEvent] = field(default_factory=list)

    def on_event(self, event: SchedulerEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


async def start(app: App) -> asyncio.Task[None]:
    """`app.serve()` as a task, with the loop settled so that every job has started."""
    task = asyncio.create_task(app.serve())
    assert isinstance(app.clock, FakeClock)
    await app.clock.settle()
    return task


async def finish(app: App, task: asyncio.Task[None], *, limit: int = 1000) -> None:
    """Let fake time run from deadline to deadline until `task` (a serve) has returned."""
    clock = app.clock
    assert isinstance(clock, FakeClock)
    for _ in range(limit):
        await clock.settle()
        deadline = clock.next_deadline
        if task.done() or deadline is None:
            break
        await clock.advance_to(deadline)
    assert task.done(), "the App did not stop"
    await task


class CorruptFor:
    """A `StateStore` whose stored state of some jobs is corrupt; the others work in memory."""

    def __init__(self, *corrupt: str) -> None:
        self.corrupt = set(corrupt)
        self.states: dict[str, JobState] = {}

    async def load(self, job_id: str) -> JobState | None:
        if job_id in self.corrupt:
            raise StateCorruptedError(f"jobs:{job_id}", "'next_run_at' is not an instant")
        return self.states.get(job_id)

    async def save(self, state: JobState) -> None:
        self.states[state.job_id] = state

    async def delete(self, job_id: str) -> None:
        self.states.pop(job_id, None)

    async def close(self) -> None:
        pass
