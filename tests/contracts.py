"""What the contract suites run against: one entry per `StateStore` and `ExecutionGuard` adapter.

`tests/test_store_contract.py` and `tests/test_guard_contract.py` hold one suite each, run once
per entry of `STORE_ADAPTERS` / `GUARD_ADAPTERS`. To run them against a new adapter, write a
factory and add one line to the dict, e.g. for Valkey:

```python
@asynccontextmanager
async def valkey_store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    url = request.getfixturevalue("valkey_url")  # only valkey params start the server
    store = ValkeyStateStore(url, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        yield store
    finally:
        await store.close()

STORE_ADAPTERS["valkey"] = Adapter(valkey_store, marks=(pytest.mark.valkey,))
```

A factory gives each test a clean namespace (a fresh store, or a fresh key prefix on a shared
server). A guard factory yields a `GuardHarness` that says how to let time pass: a fake clock
for the in-memory guard, real sleeps past short TTLs for a server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import pytest

from cronkit._exceptions import StoreUnavailableError
from cronkit._guard import ExecutionGuard, ExecutionSlot, InMemoryExecutionGuard
from cronkit._state import JobState
from cronkit._store import InMemoryStateStore, ResilientStateStore, StateStore
from cronkit.testing import FakeClock
from tests import valkey_server

T = TypeVar("T")

START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Adapter(Generic[T]):
    """How to build one adapter for one test, and the marks its parameter carries."""

    factory: Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[T]]
    marks: tuple[pytest.MarkDecorator, ...] = ()


def params(adapters: dict[str, Adapter[Any]]) -> list[Any]:
    """Fixture params for every adapter, with its marks, identified by name."""
    return [pytest.param(name, marks=adapter.marks, id=name) for name, adapter in adapters.items()]


# -- state stores -----------------------------------------------------------------------------


@asynccontextmanager
async def memory_store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    store = InMemoryStateStore()
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def resilient_memory_store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    store = ResilientStateStore(InMemoryStateStore(), clock=FakeClock(START))
    try:
        yield store
    finally:
        await store.close()


class UnreachableStore:
    """A primary that never answers: every operation is a connection-class failure."""

    async def load(self, job_id: str) -> JobState | None:
        raise StoreUnavailableError(f"cannot load {job_id!r}: connection refused")

    async def save(self, state: JobState) -> None:
        raise StoreUnavailableError(f"cannot save {state.job_id!r}: connection refused")

    async def delete(self, job_id: str) -> None:
        raise StoreUnavailableError(f"cannot delete {job_id!r}: connection refused")

    async def close(self) -> None:
        pass


@asynccontextmanager
async def resilient_degraded_store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    """A resilient store whose primary is down for good: the mirror must behave as a store."""
    store = ResilientStateStore(UnreachableStore(), recover=False, clock=FakeClock(START))
    try:
        yield store
    finally:
        await store.close()


STORE_ADAPTERS: dict[str, Adapter[StateStore]] = {
    "memory": Adapter(memory_store),
    "resilient-memory": Adapter(resilient_memory_store),
    "resilient-degraded": Adapter(resilient_degraded_store),
    "valkey": Adapter(valkey_server.valkey_store_adapter, marks=(pytest.mark.valkey,)),
    "resilient-valkey": Adapter(
        valkey_server.resilient_valkey_store_adapter, marks=(pytest.mark.valkey,)
    ),
}


# -- execution guards -------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardHarness:
    """A guard under test and the means to let its time pass.

    Attributes:
        guard: the adapter, configured with `ttl` and `done_retention`.
        ttl: the lease TTL the guard was built with.
        done_retention: how long the guard keeps done markers.
        advance: lets `delta` of the guard's time pass (fake clock, or a real sleep).
        slack: added past a deadline so that a real server has surely acted on it.
    """

    guard: ExecutionGuard
    ttl: timedelta
    done_retention: timedelta
    advance: Callable[[timedelta], Awaitable[None]]
    slack: timedelta

    async def pass_ttl(self) -> None:
        """Let a lease that is not renewed expire."""
        await self.advance(self.ttl + self.slack)

    async def pass_done_retention(self) -> None:
        """Let a done marker expire."""
        await self.advance(self.done_retention + self.slack)


@asynccontextmanager
async def memory_guard(request: pytest.FixtureRequest) -> AsyncIterator[GuardHarness]:
    clock = FakeClock(START)
    ttl, done_retention = timedelta(seconds=30), timedelta(minutes=5)
    guard = InMemoryExecutionGuard(
        ttl, timedelta(seconds=10), done_retention=done_retention, clock=clock
    )
    yield GuardHarness(guard, ttl, done_retention, clock.advance, timedelta(milliseconds=1))


GUARD_ADAPTERS: dict[str, Adapter[GuardHarness]] = {
    "memory": Adapter(memory_guard),
    "valkey": Adapter(valkey_server.valkey_guard_adapter, marks=(pytest.mark.valkey,)),
}


def slot(minute: int = 0, *, resource_id: str = "resource", job_id: str = "job") -> ExecutionSlot:
    """The occurrence `minute` minutes after `START` of `job_id` on `resource_id`."""
    return ExecutionSlot(
        job_id=job_id, resource_id=resource_id, scheduled_at=START + timedelta(minutes=minute)
    )
