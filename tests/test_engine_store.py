"""The engine with a failing store: waiting at start-up, degrading and recovering while running."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from cronkit._enums import StopReason
from cronkit._events import RunCompleted, StateLoaded, StoreDegraded, StoreRecovered
from cronkit._exceptions import StoreUnavailableError
from cronkit._guard import InMemoryExecutionGuard
from cronkit._job import Job
from cronkit._schedules import Interval
from cronkit._state import JobState
from cronkit._store import InMemoryStateStore, ResilientStateStore
from cronkit.testing import FakeClock
from tests.engine_helpers import T0, Calls, harness, seconds


class SwitchableStore:
    """An in-memory store that refuses every operation while `down` is set."""

    def __init__(self) -> None:
        self.inner = InMemoryStateStore()
        self.down = False
        self.loads = 0

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailableError("connection refused")

    async def load(self, job_id: str) -> JobState | None:
        self.loads += 1
        self._check()
        return await self.inner.load(job_id)

    async def save(self, state: JobState) -> None:
        self._check()
        await self.inner.save(state)

    async def delete(self, job_id: str) -> None:
        self._check()
        await self.inner.delete(job_id)

    async def close(self) -> None:
        pass


class LateAnsweringStore:
    """One `InMemoryStateStore` shared by replicas, whose load replies arrive when told.

    Each `load` reads at once and returns when `answer()` releases it (the oldest first), so
    replicas that start together all read "nothing stored" before any of them creates it.
    """

    def __init__(self) -> None:
        self.inner = InMemoryStateStore()
        self.pending: list[asyncio.Event] = []

    def answer(self) -> None:
        self.pending.pop(0).set()

    async def load(self, job_id: str) -> JobState | None:
        state = await self.inner.load(job_id)
        reply = asyncio.Event()
        self.pending.append(reply)
        await reply.wait()
        return state

    async def save(self, state: JobState) -> None:
        await self.inner.save(state)

    async def create(self, state: JobState) -> JobState:
        return await self.inner.create(state)

    async def delete(self, job_id: str) -> None:
        await self.inner.delete(job_id)

    async def close(self) -> None:
        pass


SCHEDULE = Interval(seconds(10))


async def _stored(store: SwitchableStore, next_run_at_seconds: int, count: int) -> None:
    await store.inner.save(
        JobState(
            "job",
            trigger_count=count,
            next_run_at=T0 + seconds(next_run_at_seconds),
            schedule_fingerprint=SCHEDULE.fingerprint(),
        )
    )


async def test_an_unreachable_store_at_start_is_waited_for(clock: FakeClock) -> None:
    store = SwitchableStore()
    await _stored(store, 25, count=7)
    store.down = True
    calls = Calls()
    h = harness(clock, store=store)
    await h.start(Job("job", SCHEDULE, calls))
    await clock.advance(20)
    assert calls.contexts == []  # nothing runs on a guessed state
    assert store.loads == 5  # after 0, 1, 3, 7 and 15 s: backoff doubles
    store.down = False
    await clock.advance(20)  # the next attempt, at 31 s, finds the stored state
    (loaded,) = h.recorder.of(StateLoaded)
    assert (loaded.source, loaded.trigger_count) == ("restored", 7)
    assert calls.scheduled == [T0 + seconds(25), T0 + seconds(35)]
    assert calls.contexts[0].run.catch_up  # 25 s came due while the store was away
    await h.stop()


async def test_shutdown_while_waiting_for_the_store_ends_cleanly(clock: FakeClock) -> None:
    store = SwitchableStore()
    store.down = True
    h = harness(clock, store=store)
    await h.start(Job("job", SCHEDULE, Calls()))
    await clock.advance(5)
    report = await h.stop()
    assert report.stop_reason is StopReason.SHUTDOWN
    assert report.runs == 0
    assert h.recorder.of(StateLoaded) == []
    assert await store.inner.load("job") is None


async def test_a_resilient_store_degrades_and_recovers_while_the_job_runs(
    clock: FakeClock,
) -> None:
    primary = SwitchableStore()
    store = ResilientStateStore(primary, probe_interval=timedelta(seconds=15))
    calls = Calls()
    h = harness(clock, store=store)
    await h.start(Job("job", SCHEDULE, calls))
    await clock.advance(10)
    primary.down = True
    await clock.advance(30)  # runs at 20, 30, 40 go on from the mirror
    assert [type(e) for e in h.recorder.events if isinstance(e, StoreDegraded)] == [StoreDegraded]
    stale = await primary.inner.load("job")
    assert stale is not None
    assert stale.trigger_count == 1
    primary.down = False
    await clock.advance(20)  # a probe is due: the mirror's newer state is written back
    (recovered,) = h.recorder.of(StoreRecovered)
    assert recovered.written_back == 1
    assert calls.scheduled == [T0 + seconds(10 * n) for n in range(1, 7)]
    assert len(h.recorder.of(RunCompleted)) == 6
    report = await h.stop()
    assert await primary.inner.load("job") == report.state


async def test_replicas_starting_at_once_follow_the_first_created_series(
    clock: FakeClock,
) -> None:
    store = LateAnsweringStore()
    guard = InMemoryExecutionGuard(ttl=seconds(30), renew_interval=seconds(10))
    calls = Calls()
    first, second = (
        harness(clock, store=store, guard=guard),
        harness(clock, store=store, guard=guard),
    )
    await first.start(Job("job", SCHEDULE, calls, max_runs=3))
    await second.start(Job("job", SCHEDULE, calls, max_runs=3))
    assert len(store.pending) == 2  # both read "nothing stored"
    store.answer()  # the first plans 00:00:10 and creates the state
    await clock.advance(0.003)
    store.answer()  # the second would plan 00:00:10.003: it adopts the stored state instead
    await clock.advance(40)
    assert calls.scheduled == [T0 + seconds(10 * n) for n in range(1, 4)]
    (created,) = first.recorder.of(StateLoaded)
    (adopted,) = second.recorder.of(StateLoaded)
    assert (created.source, adopted.source) == ("new", "restored")
    assert created.next_run_at == adopted.next_run_at == T0 + seconds(10)
    for replica in (first, second):
        report = await replica.stop()
        assert report.state.trigger_count == 3
    stored = await store.inner.load("job")
    assert stored is not None
    assert (stored.trigger_count, stored.next_run_at) == (3, None)
