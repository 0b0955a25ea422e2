"""`ResilientStateStore`: degrade to the mirror, keep scheduling, recover, never mask data errors.

The primary is `FlakyStore`, a test double of cronkit's own `StateStore` port: an
`InMemoryStateStore` that raises a chosen error while told to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from cronkit._events import SchedulerEvent, StoreDegraded, StoreRecovered
from cronkit._exceptions import ConfigurationError, StateCorruptedError, StoreUnavailableError
from cronkit._state import JobState
from cronkit._store import (
    BindableStore,
    CreatingStore,
    InMemoryStateStore,
    ResilientStateStore,
    StateStore,
)
from cronkit.testing import FakeClock

START = datetime(2025, 1, 1, tzinfo=UTC)
DOWN = StoreUnavailableError("connection refused")


class FlakyStore:
    """An `InMemoryStateStore` whose operations raise `error` while it is set.

    `fail(error, ops=..., jobs=...)` limits the failure to some operations or job ids; `gate`,
    when set, holds every operation until the event is set.
    """

    def __init__(self) -> None:
        self.inner = InMemoryStateStore()
        self.error: Exception | None = None
        self.ops: tuple[str, ...] = ()
        self.jobs: tuple[str, ...] | None = None
        self.gate: asyncio.Event | None = None
        self.calls: list[tuple[str, str]] = []
        self.closed = 0

    def fail(
        self,
        error: Exception | None,
        *,
        ops: Iterable[str] = ("load", "save", "delete"),
        jobs: Iterable[str] | None = None,
    ) -> None:
        self.error, self.ops = error, tuple(ops)
        self.jobs = None if jobs is None else tuple(jobs)

    async def _enter(self, op: str, job_id: str) -> None:
        self.calls.append((op, job_id))
        if self.gate is not None:
            await self.gate.wait()
        if self.error is None or op not in self.ops:
            return
        if self.jobs is None or job_id in self.jobs:
            raise self.error

    async def load(self, job_id: str) -> JobState | None:
        await self._enter("load", job_id)
        return await self.inner.load(job_id)

    async def save(self, state: JobState) -> None:
        await self._enter("save", state.job_id)
        await self.inner.save(state)

    async def delete(self, job_id: str) -> None:
        await self._enter("delete", job_id)
        await self.inner.delete(job_id)

    async def close(self) -> None:
        self.closed += 1


class CreatingFlakyStore(FlakyStore):
    """A `FlakyStore` with an atomic `create`, as `ValkeyStateStore` has."""

    async def create(self, state: JobState) -> JobState:
        await self._enter("create", state.job_id)
        return await self.inner.create(state)


class Recorder:
    def __init__(self) -> None:
        self.events: list[SchedulerEvent] = []

    def on_event(self, event: SchedulerEvent) -> None:
        self.events.append(event)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def primary() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def store(primary: FlakyStore, clock: FakeClock, recorder: Recorder) -> ResilientStateStore:
    resilient = ResilientStateStore(primary, probe_interval=timedelta(seconds=5))
    resilient.bind(clock=clock, observer=recorder)
    return resilient


def state(job_id: str = "job", count: int = 1) -> JobState:
    return JobState(
        job_id=job_id, trigger_count=count, next_run_at=START + timedelta(minutes=count)
    )


# -- healthy ----------------------------------------------------------------------------------


async def test_a_healthy_primary_serves_every_operation(
    store: ResilientStateStore, primary: FlakyStore, recorder: Recorder
) -> None:
    await store.save(state(count=1))
    await primary.inner.save(state(count=7))  # another instance wrote meanwhile

    assert await store.load("job") == state(count=7)
    await store.delete("job")
    assert await primary.inner.load("job") is None
    assert await store.load("job") is None
    assert [op for op, _ in primary.calls] == ["save", "load", "delete", "load"]
    assert recorder.events == []
    assert not store.degraded


def test_is_a_bindable_state_store(store: ResilientStateStore) -> None:
    assert isinstance(store, StateStore)
    assert isinstance(store, BindableStore)
    assert repr(store).startswith("ResilientStateStore(primary=<")
    assert repr(store).endswith("degraded=False)")


# -- degrading --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        StoreUnavailableError("LOADING Valkey is loading the dataset in memory"),
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError("reset by peer"),
        BrokenPipeError("broken pipe"),
        TimeoutError("timed out"),
        OSError(5, "Input/output error"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_a_connection_error_degrades_to_the_mirror(
    store: ResilientStateStore,
    primary: FlakyStore,
    clock: FakeClock,
    recorder: Recorder,
    error: Exception,
) -> None:
    await store.save(state(count=1))
    await clock.advance(timedelta(seconds=3))
    primary.fail(error)

    loaded = await store.load("job")

    assert loaded == state(count=1)
    assert store.degraded
    assert recorder.events == [
        StoreDegraded(
            job_id="job", at=START + timedelta(seconds=3), error=f"{type(error).__name__}: {error}"
        )
    ]


async def test_degrading_on_save_keeps_the_state_in_the_mirror(
    store: ResilientStateStore, primary: FlakyStore, recorder: Recorder
) -> None:
    primary.fail(DOWN)

    await store.save(state("a", 2))

    assert await store.load("a") == state("a", 2)
    assert await primary.inner.load("a") is None
    assert recorder.events == [
        StoreDegraded(job_id="a", at=START, error="StoreUnavailableError: connection refused")
    ]


async def test_degrading_on_delete_forgets_the_state(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    await store.save(state())
    primary.fail(DOWN)

    await store.delete("job")

    assert await store.load("job") is None
    assert await primary.inner.load("job") == state()
    assert store.degraded


# -- create -----------------------------------------------------------------------------------


async def test_create_without_a_primary_create_loads_then_saves(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    await primary.inner.save(state("taken", 7))  # another instance created it first

    assert await store.create(state("taken", 1)) == state("taken", 7)
    assert await store.create(state("free", 1)) == state("free", 1)

    assert primary.calls == [("load", "taken"), ("load", "free"), ("save", "free")]
    assert primary.inner.snapshot() == {"taken": state("taken", 7), "free": state("free", 1)}


async def test_create_uses_the_primary_create_and_mirrors_its_answer(
    clock: FakeClock, recorder: Recorder
) -> None:
    primary = CreatingFlakyStore()
    store = ResilientStateStore(primary)
    store.bind(clock=clock, observer=recorder)
    await primary.inner.save(state(count=7))

    assert await store.create(state(count=1)) == state(count=7)
    primary.fail(DOWN)
    assert await store.load("job") == state(count=7)  # from the mirror

    assert primary.calls == [("create", "job"), ("load", "job")]
    assert store.degraded


@pytest.mark.parametrize("failing", ["load", "save"])
async def test_degrading_on_create_keeps_the_state_and_writes_it_back(
    store: ResilientStateStore,
    primary: FlakyStore,
    clock: FakeClock,
    recorder: Recorder,
    failing: str,
) -> None:
    primary.fail(DOWN, ops=(failing,))

    assert await store.create(state()) == state()

    assert store.degraded
    assert await store.load("job") == state()
    assert await primary.inner.load("job") is None
    primary.fail(None)
    await clock.advance(timedelta(seconds=5))
    await store.load("job")
    assert not store.degraded
    assert await primary.inner.load("job") == state()
    assert [type(event) for event in recorder.events] == [StoreDegraded, StoreRecovered]


async def test_create_while_degraded_keeps_a_state_the_mirror_holds(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    await store.save(state(count=7))
    primary.fail(DOWN)
    await store.load("job")  # degrades

    assert await store.create(state(count=1)) == state(count=7)
    assert await store.load("job") == state(count=7)


async def test_a_job_never_seen_cannot_be_loaded_while_degraded(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    # Answering None would let the job start over and later overwrite what is really stored.
    await primary.inner.save(state("unseen"))
    primary.fail(DOWN)

    with pytest.raises(StoreUnavailableError, match="'unseen' is unknown"):
        await store.load("unseen")
    assert await primary.inner.load("unseen") == state("unseen")


async def test_a_job_never_seen_is_read_from_the_primary_while_degraded(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    await primary.inner.save(state("later", 3))
    primary.fail(DOWN, ops=("save",))
    await store.save(state("first"))  # degrades
    assert store.degraded

    assert await store.load("later") == state("later", 3)
    assert await store.load("later") == state("later", 3)  # now from the mirror
    assert primary.calls.count(("load", "later")) == 1
    assert store.degraded


async def test_jobs_seen_before_the_outage_load_from_the_mirror(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    await primary.inner.save(state("loaded"))
    assert await store.load("loaded") == state("loaded")
    assert await store.load("absent") is None
    await store.delete("deleted")
    primary.fail(DOWN)

    assert await store.load("loaded") == state("loaded")
    assert await store.load("absent") is None
    assert await store.load("deleted") is None


async def test_one_event_per_degradation_and_scheduling_continues_from_the_mirror(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    for job_id in ("a", "b"):  # both jobs started before the outage
        assert await store.load(job_id) is None
    primary.fail(DOWN)
    for count in range(1, 4):  # a job's loop: save, run, load, within one probe interval
        for job_id in ("a", "b"):
            await store.save(state(job_id, count))
            assert await store.load(job_id) == state(job_id, count)
        await clock.advance(timedelta(seconds=1))

    assert [type(event) for event in recorder.events] == [StoreDegraded]
    assert recorder.events[0].job_id == "a"
    assert primary.calls == [("load", "a"), ("load", "b"), ("save", "a")]


async def test_a_connection_error_of_a_second_inflight_operation_adds_no_event(
    store: ResilientStateStore, primary: FlakyStore, recorder: Recorder
) -> None:
    primary.gate = asyncio.Event()
    primary.fail(DOWN)
    first = asyncio.ensure_future(store.save(state("a")))
    second = asyncio.ensure_future(store.save(state("b")))
    await asyncio.sleep(0)
    primary.gate.set()
    await asyncio.gather(first, second)

    assert [event.job_id for event in recorder.events] == ["a"]
    assert await store.load("b") == state("b")


# -- recovering -------------------------------------------------------------------------------


async def test_no_probe_before_probe_interval(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock
) -> None:
    primary.fail(DOWN)
    await store.save(state())
    primary.fail(None)
    calls = len(primary.calls)

    await clock.advance(timedelta(seconds=4.9))
    await store.load("job")

    assert len(primary.calls) == calls
    assert store.degraded


async def test_recovers_after_probe_interval_and_writes_back_saves_and_deletes(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    await store.save(state("deleted-while-down"))
    await store.save(state("untouched", 1))
    primary.fail(DOWN)
    await store.save(state("a", 5))
    await store.save(state("b", 9))
    await store.delete("deleted-while-down")
    await store.delete("never-existed")
    await primary.inner.save(state("untouched", 8))  # another instance moved it on meanwhile
    primary.fail(None)

    await clock.advance(timedelta(seconds=5))
    loaded = await store.load("a")

    assert loaded == state("a", 5)
    assert not store.degraded
    assert primary.inner.snapshot() == {
        "a": state("a", 5),
        "b": state("b", 9),
        "untouched": state("untouched", 8),
    }
    assert recorder.events[1:] == [
        StoreRecovered(job_id="a", at=START + timedelta(seconds=5), written_back=4)
    ]


async def test_the_mirror_wins_over_a_value_written_to_the_primary_while_degraded(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock
) -> None:
    primary.fail(DOWN)
    await store.save(state(count=3))
    await primary.inner.save(state(count=99))
    primary.fail(None)
    await clock.advance(timedelta(seconds=5))

    assert await store.load("job") == state(count=3)
    assert await primary.inner.load("job") == state(count=3)


async def test_a_failed_probe_stays_degraded_silently_and_waits_another_interval(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    primary.fail(DOWN)
    await store.save(state())
    await clock.advance(timedelta(seconds=5))
    await store.load("job")  # probe fails
    probes = len(primary.calls)
    primary.fail(None)
    await clock.advance(timedelta(seconds=4))
    await store.load("job")
    assert len(primary.calls) == probes
    assert store.degraded

    await clock.advance(timedelta(seconds=1))
    await store.load("job")

    assert not store.degraded
    assert [type(event) for event in recorder.events] == [StoreDegraded, StoreRecovered]


async def test_a_write_back_that_fails_halfway_is_completed_by_the_next_probe(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    primary.fail(DOWN)
    for job_id in ("a", "b", "c"):
        await store.save(state(job_id))
    primary.fail(DOWN, ops=("save",), jobs=("b",))
    await clock.advance(timedelta(seconds=5))
    await store.load("a")
    assert store.degraded
    assert primary.inner.snapshot() == {"a": state("a")}  # written back in job id order

    primary.fail(None)
    await clock.advance(timedelta(seconds=5))
    await store.load("a")

    assert not store.degraded
    assert primary.inner.snapshot() == {job_id: state(job_id) for job_id in ("a", "b", "c")}
    recovered = recorder.events[-1]
    assert isinstance(recovered, StoreRecovered)
    assert recovered.written_back == 3


async def test_a_second_failure_after_recovery_degrades_again(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    primary.fail(DOWN)
    await store.save(state())
    primary.fail(None)
    await clock.advance(timedelta(seconds=5))
    await store.save(state(count=2))
    primary.fail(TimeoutError("again"))

    await store.save(state(count=3))

    assert [type(event) for event in recorder.events] == [
        StoreDegraded,
        StoreRecovered,
        StoreDegraded,
    ]
    assert recorder.events[-1] == StoreDegraded(
        job_id="job", at=START + timedelta(seconds=5), error="TimeoutError: again"
    )


async def test_a_probe_with_nothing_to_write_back_reads_the_operations_job(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    await primary.inner.save(state("other", 4))
    primary.fail(DOWN)
    with pytest.raises(StoreUnavailableError):
        await store.load("other")  # unknown while degraded
    primary.fail(None)
    primary.calls.clear()
    await clock.advance(timedelta(seconds=5))

    assert await store.load("other") == state("other", 4)

    assert primary.calls == [("load", "other"), ("load", "other")]
    assert recorder.events[-1] == StoreRecovered(
        job_id="other", at=START + timedelta(seconds=5), written_back=0
    )


async def test_operations_during_write_back_use_the_mirror_and_are_written_back_too(
    primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    store = ResilientStateStore(primary, probe_interval=timedelta(0), clock=clock)
    store.bind(clock=clock, observer=recorder)
    primary.fail(DOWN)
    await store.save(state("a", 1))
    primary.fail(None)
    primary.gate = asyncio.Event()

    probing = asyncio.ensure_future(store.load("a"))
    await asyncio.sleep(0)
    await store.save(state("b", 2))  # the probe holds the lock: served by the mirror
    await store.save(state("a", 3))
    primary.gate.set()
    assert await probing == state("a", 3)

    assert primary.inner.snapshot() == {"a": state("a", 3), "b": state("b", 2)}
    assert recorder.events[-1] == StoreRecovered(job_id="a", at=START, written_back=2)


async def test_recover_false_never_probes(primary: FlakyStore, clock: FakeClock) -> None:
    store = ResilientStateStore(primary, recover=False, clock=clock)
    primary.fail(DOWN)
    await store.save(state())
    primary.fail(None)
    calls = len(primary.calls)

    await clock.advance(timedelta(days=1))
    await store.save(state(count=2))
    await store.load("job")
    await store.close()

    assert len(primary.calls) == calls
    assert store.degraded
    assert primary.closed == 1
    assert await primary.inner.load("job") is None


async def test_an_explicit_probe_recovers_even_with_recover_false(
    primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    store = ResilientStateStore(primary, recover=False, clock=clock)
    store.bind(clock=FakeClock(), observer=recorder)
    primary.fail(DOWN)
    await store.save(state())
    await store.delete("other")

    assert await store.probe() is False
    primary.fail(None)
    assert await store.probe() is True
    assert await store.probe() is True

    assert await primary.inner.load("job") == state()
    assert recorder.events[-1] == StoreRecovered(job_id="other", at=START, written_back=2)


async def test_probe_of_a_healthy_store_does_not_call_the_primary(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    assert await store.probe() is True
    assert primary.calls == []


# -- data errors are never masked -------------------------------------------------------------


async def test_corrupt_state_propagates_unchanged(
    store: ResilientStateStore, primary: FlakyStore, recorder: Recorder
) -> None:
    await store.save(state())
    corrupt = StateCorruptedError("scheduler:job-state:job", "not JSON")
    primary.fail(corrupt)

    with pytest.raises(StateCorruptedError) as caught:
        await store.load("job")

    assert caught.value is corrupt
    assert not store.degraded
    assert recorder.events == []


async def call(store: StateStore, op: str) -> None:
    if op == "load":
        await store.load("job")
    elif op == "save":
        await store.save(state())
    elif op == "create":
        assert isinstance(store, CreatingStore)
        await store.create(state())
    else:
        await store.delete("job")


@pytest.mark.parametrize("op", ["load", "save", "create", "delete"])
@pytest.mark.parametrize(
    "error",
    [ValueError("bad value"), RuntimeError("bug"), KeyError("job")],
    ids=lambda error: type(error).__name__,
)
async def test_other_errors_propagate_unchanged_and_do_not_degrade(
    store: ResilientStateStore, primary: FlakyStore, recorder: Recorder, op: str, error: Exception
) -> None:
    primary.fail(error, ops=("load", "save") if op == "create" else (op,))  # create: load+save

    with pytest.raises(type(error)) as caught:
        await call(store, op)

    assert caught.value is error
    assert not store.degraded
    assert recorder.events == []


@pytest.mark.parametrize("op", ["load", "save", "create", "delete"])
async def test_data_errors_propagate_while_degraded_too(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, op: str
) -> None:
    primary.fail(DOWN)
    await store.save(state())
    error = ValueError("bad value")
    primary.fail(error)
    await clock.advance(timedelta(seconds=5))

    with pytest.raises(ValueError, match="bad value") as caught:
        await call(store, op)

    assert caught.value is error
    assert store.degraded


async def test_write_back_never_overwrites_a_value_it_cannot_decode(
    store: ResilientStateStore, primary: FlakyStore, clock: FakeClock, recorder: Recorder
) -> None:
    primary.fail(DOWN)
    await store.save(state())
    primary.fail(StateCorruptedError("scheduler:job-state:job", "not JSON"), ops=("load",))
    await clock.advance(timedelta(seconds=5))

    with pytest.raises(StateCorruptedError, match="scheduler:job-state:job"):
        await store.save(state(count=2))

    assert store.degraded
    assert [op for op, _ in primary.calls][-1] == "load"
    assert await primary.inner.load("job") is None
    assert [type(event) for event in recorder.events] == [StoreDegraded]
    primary.fail(None)
    await clock.advance(timedelta(seconds=5))
    assert await store.load("job") == state()  # the key was repaired: the mirror is written
    assert not store.degraded


# -- binding, configuration, closing ----------------------------------------------------------


async def test_bind_adopts_the_first_clock_and_collects_observers_once(
    primary: FlakyStore,
) -> None:
    store = ResilientStateStore(primary)
    first, second = Recorder(), Recorder()
    clock = FakeClock(START + timedelta(hours=1))
    store.bind(clock=clock, observer=first)
    store.bind(clock=FakeClock(START), observer=second)
    store.bind(clock=FakeClock(START), observer=first)
    primary.fail(DOWN)

    await store.save(state())

    assert first.events == second.events
    assert [event.at for event in first.events] == [START + timedelta(hours=1)]


async def test_an_explicit_clock_is_kept_and_a_raising_observer_is_ignored(
    primary: FlakyStore, clock: FakeClock, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def on_event(self, event: SchedulerEvent) -> None:
            raise RuntimeError("observer bug")

    store = ResilientStateStore(primary, clock=clock)
    store.bind(clock=FakeClock(START + timedelta(days=9)), observer=Broken())
    store.bind(clock=FakeClock(START + timedelta(days=9)), observer=recorder)
    primary.fail(DOWN)

    await store.save(state())

    assert [event.at for event in recorder.events] == [START]
    assert "observer bug" in caplog.text


async def test_without_a_clock_the_system_clock_stamps_events(primary: FlakyStore) -> None:
    store = ResilientStateStore(primary)
    recorder = Recorder()
    primary.fail(DOWN)

    await store.save(state())
    store.bind(clock=FakeClock(START), observer=recorder)  # too late to replace the clock
    primary.fail(None)
    await store.probe()

    assert recorder.events[0].at.tzinfo is not None
    assert recorder.events[0].at != START


@pytest.mark.parametrize(
    ("kwargs", "quoted"),
    [
        ({"primary": object()}, "primary=<object object at"),
        ({"primary": None}, "primary=None is not a StateStore"),
        ({"probe_interval": timedelta(seconds=-1)}, "probe_interval=datetime.timedelta(days=-1"),
        ({"probe_interval": 5}, "probe_interval=5 is not a non-negative duration"),
    ],
    ids=["not-a-store", "none", "negative-interval", "interval-not-timedelta"],
)
def test_bad_configuration_is_refused(kwargs: dict[str, object], quoted: str) -> None:
    arguments: dict[str, object] = {"primary": InMemoryStateStore(), **kwargs}

    with pytest.raises(ConfigurationError) as caught:
        ResilientStateStore(**arguments)  # type: ignore[arg-type]

    assert quoted in str(caught.value)


async def test_close_closes_the_primary(store: ResilientStateStore, primary: FlakyStore) -> None:
    await store.close()

    assert primary.closed == 1
    assert primary.calls == []


async def test_close_writes_back_when_the_primary_answers_again(
    store: ResilientStateStore, primary: FlakyStore, recorder: Recorder
) -> None:
    primary.fail(DOWN)
    await store.save(state())
    primary.fail(None)

    await store.close()  # before probe_interval: closing is the last chance

    assert await primary.inner.load("job") == state()
    assert primary.closed == 1
    assert isinstance(recorder.events[-1], StoreRecovered)


async def test_close_still_closes_when_the_primary_is_down(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    primary.fail(DOWN)
    await store.save(state())

    await store.close()

    assert primary.closed == 1
    assert store.degraded


async def test_close_closes_the_primary_even_when_write_back_finds_corrupt_state(
    store: ResilientStateStore, primary: FlakyStore
) -> None:
    primary.fail(DOWN)
    await store.save(state())
    primary.fail(StateCorruptedError("k", "not JSON"))

    with pytest.raises(StateCorruptedError):
        await store.close()

    assert primary.closed == 1
