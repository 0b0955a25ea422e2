"""Outages against real server processes: stopped, killed, frozen, read-only, cluster-down."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import valkey.asyncio
from valkey import exceptions as valkey_errors

from cronkit._events import SchedulerEvent, StoreDegraded, StoreRecovered
from cronkit._exceptions import GuardUnavailableError, StoreUnavailableError
from cronkit._guard import ExecutionSlot
from cronkit._state import JobState, encode_state
from cronkit.testing import FakeClock
from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig, ValkeyStateStore
from cronkit.valkey._connection import classify_error
from tests.valkey_server import ValkeyServer, free_port

STATE = JobState(job_id="nightly", trigger_count=1, next_run_at=datetime(2025, 1, 1, tzinfo=UTC))
SLOT = ExecutionSlot(job_id="nightly", resource_id="nightly", scheduled_at=STATE.next_run_at)  # type: ignore[arg-type]
CONFIG = ValkeyLeaseConfig(ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=10))
QUICK = "?socket_timeout=0.3&socket_connect_timeout=0.3"


class Events:
    def __init__(self) -> None:
        self.events: list[SchedulerEvent] = []

    def on_event(self, event: SchedulerEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[SchedulerEvent]) -> list[SchedulerEvent]:
        return [event for event in self.events if isinstance(event, kind)]


@pytest.fixture
async def store(restartable_valkey: ValkeyServer) -> AsyncIterator[ValkeyStateStore]:
    store = ValkeyStateStore(restartable_valkey.url + QUICK)
    yield store
    await store.close()


@pytest.fixture
async def guard(restartable_valkey: ValkeyServer) -> AsyncIterator[ValkeyExecutionGuard]:
    guard = ValkeyExecutionGuard(restartable_valkey.url + QUICK, CONFIG)
    yield guard
    await guard.close()


def _assert_unavailable(error: BaseException) -> None:
    assert isinstance(error, ConnectionError)
    assert isinstance(error.__cause__, valkey_errors.ValkeyError | OSError)


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_store_unavailable_while_stopped_and_back_after_restart(
    restartable_valkey: ValkeyServer, store: ValkeyStateStore, how: str
) -> None:
    await store.save(STATE)
    getattr(restartable_valkey, how)()

    for operation in (store.load("nightly"), store.save(STATE), store.delete("nightly")):
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError) as caught:
            await operation
        assert time.monotonic() - started < 1.0
        _assert_unavailable(caught.value)
        assert "unreachable" in str(caught.value)

    restartable_valkey.start()
    assert await store.load("nightly") is None  # no persistence: the restart lost the data
    await store.save(STATE)
    assert await store.load("nightly") == STATE


@pytest.mark.parametrize("kill", [False, True])
async def test_a_stale_pooled_connection_does_not_fail_the_next_operation(
    restartable_valkey: ValkeyServer, store: ValkeyStateStore, kill: bool
) -> None:
    await store.save(STATE)
    restartable_valkey.restart(kill=kill)  # the pooled connection is now dead
    await store.save(STATE)
    assert await store.load("nightly") == STATE


async def test_frozen_server_times_out_as_unavailable(
    restartable_valkey: ValkeyServer, store: ValkeyStateStore, guard: ValkeyExecutionGuard
) -> None:
    await store.save(STATE)
    restartable_valkey.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError) as caught:
            await store.load("nightly")
        assert time.monotonic() - started < 1.5
        assert isinstance(caught.value.__cause__, valkey_errors.TimeoutError)
        with pytest.raises(GuardUnavailableError):
            await guard.acquire(SLOT)
    finally:
        restartable_valkey.resume()
    assert await store.load("nightly") == STATE


async def test_guard_unavailable_while_stopped_and_back_after_restart(
    restartable_valkey: ValkeyServer, guard: ValkeyExecutionGuard
) -> None:
    lease = await guard.acquire(SLOT)
    assert lease is not None
    restartable_valkey.stop()

    for operation in (
        guard.acquire(SLOT),
        guard.renew(lease),
        guard.release(lease, completed=True),
    ):
        started = time.monotonic()
        with pytest.raises(GuardUnavailableError) as caught:
            await operation
        assert time.monotonic() - started < 1.0
        _assert_unavailable(caught.value)

    restartable_valkey.start()
    again = await guard.acquire(SLOT)
    assert again is not None


async def test_scripts_are_loaded_again_after_a_restart(
    restartable_valkey: ValkeyServer, guard: ValkeyExecutionGuard
) -> None:
    first = await guard.acquire(SLOT)
    assert first is not None
    admin = valkey.asyncio.Valkey.from_url(restartable_valkey.url)
    try:
        restartable_valkey.restart(kill=True)
        assert await admin.script_exists(guard._acquire.sha) == [False]

        lease = await guard.acquire(SLOT)  # NOSCRIPT -> SCRIPT LOAD -> EVALSHA, transparently
        assert lease is not None
        assert await guard.renew(lease) is True
        await guard.release(lease, completed=True)
        assert await admin.script_exists(
            guard._acquire.sha, guard._renew.sha, guard._release.sha
        ) == [True, True, True]
        assert await guard.acquire(SLOT) is None
        # Without persistence the fencing counter restarted with the data: run Valkey with
        # AOF or RDB persistence when downstream systems rely on fencing tokens.
        assert lease.fencing_token == 1
    finally:
        await admin.aclose()


async def test_read_only_replica_is_unavailable(restartable_valkey: ValkeyServer) -> None:
    admin = valkey.asyncio.Valkey.from_url(restartable_valkey.url)
    store = ValkeyStateStore(restartable_valkey.url)
    guard = ValkeyExecutionGuard(restartable_valkey.url, CONFIG)
    try:
        await admin.replicaof("127.0.0.1", str(free_port()))  # a primary that does not exist
        with pytest.raises(StoreUnavailableError) as caught:
            await store.save(STATE)
        assert isinstance(caught.value.__cause__, valkey_errors.ReadOnlyError)
        with pytest.raises(GuardUnavailableError):
            await guard.acquire(SLOT)

        await admin.config_set("replica-serve-stale-data", "no")
        with pytest.raises(StoreUnavailableError, match="MASTERDOWN"):
            await store.load("nightly")
    finally:
        await admin.aclose()
        await store.close()
        await guard.close()


async def test_cluster_down_is_unavailable(
    make_valkey_server: Callable[..., ValkeyServer],
) -> None:
    # A cluster node with no hash slot assigned answers CLUSTERDOWN to every key command.
    node = make_valkey_server(
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
        "--cluster-port", str(free_port()),  # the default (port + 10000) may exceed 65535
    )  # fmt: skip
    store = ValkeyStateStore(node.url)
    guard = ValkeyExecutionGuard(node.url, CONFIG)
    try:
        with pytest.raises(StoreUnavailableError, match="CLUSTERDOWN"):
            await store.load("nightly")
        with pytest.raises(GuardUnavailableError, match="CLUSTERDOWN"):
            await guard.acquire(SLOT)
    finally:
        await store.close()
        await guard.close()


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (valkey_errors.ConnectionError("Connection reset by peer"), "connection"),
        (valkey_errors.TimeoutError("Timeout reading"), "connection"),
        (valkey_errors.BusyLoadingError("Valkey is loading the dataset in memory"), "connection"),
        (valkey_errors.ReadOnlyError("You can't write against a read only replica."), "connection"),
        (valkey_errors.ResponseError("LOADING Valkey is loading"), "connection"),
        (valkey_errors.ResponseError("CLUSTERDOWN The cluster is down"), "connection"),
        (valkey_errors.ResponseError("MASTERDOWN Link with MASTER is down"), "connection"),
        (
            valkey_errors.ResponseError("TRYAGAIN Multiple keys request during rehashing"),
            "connection",
        ),
        (valkey_errors.ResponseError("READONLY You can't write against a replica"), "connection"),
        (ConnectionResetError(104, "reset"), "connection"),
        (TimeoutError(), "connection"),
        (OSError(5, "I/O error"), "connection"),
        (valkey_errors.AuthenticationError("invalid username-password pair"), "access"),
        (valkey_errors.AuthenticationError("Authentication required."), "access"),
        (valkey_errors.AuthorizationError("not authorized"), "access"),
        (valkey_errors.NoPermissionError("No permissions to access a key"), "access"),
        (valkey_errors.ResponseError("ACL failure in script: no permissions"), "access"),
        (valkey_errors.ResponseError("NOPERM this user has no permissions"), "access"),
        (valkey_errors.ResponseError("WRONGTYPE Operation against a key"), "other"),
        (valkey_errors.OutOfMemoryError("command not allowed when used memory"), "other"),
        (valkey_errors.DataError("Invalid input"), "other"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_error_classes(error: BaseException, kind: str) -> None:
    assert classify_error(error) == kind


# -- the resilient wrapper ----------------------------------------------------------------------


async def test_resilient_store_degrades_and_recovers(restartable_valkey: ValkeyServer) -> None:
    clock = FakeClock("2025-01-01T00:00:00Z")
    events = Events()
    store = ValkeyStateStore.resilient(
        restartable_valkey.url + QUICK, probe_interval=timedelta(seconds=5)
    )
    store.bind(clock=clock, observer=events)
    admin = valkey.asyncio.Valkey.from_url(restartable_valkey.url, decode_responses=True)
    try:
        await store.save(STATE)
        restartable_valkey.stop()

        later = JobState(job_id="nightly", trigger_count=2, next_run_at=STATE.next_run_at)
        await store.save(later)  # served by the mirror
        assert store.degraded
        assert await store.load("nightly") == later
        [degraded] = events.of(StoreDegraded)
        assert "StoreUnavailableError" in degraded.error  # type: ignore[attr-defined]

        restartable_valkey.start()  # empty: the outage lost the data
        newest = JobState(job_id="nightly", trigger_count=3, next_run_at=STATE.next_run_at)
        await store.save(newest)  # no probe before probe_interval has elapsed
        assert store.degraded
        await clock.advance(timedelta(seconds=5))
        assert await store.load("nightly") == newest  # probes, writes back, serves again

        assert not store.degraded
        [recovered] = events.of(StoreRecovered)
        assert recovered.written_back == 1  # type: ignore[attr-defined]
        assert await admin.get("scheduler:valkey:job-state:nightly") == encode_state(newest)
    finally:
        await admin.aclose()
        await store.close()


async def test_resilient_store_without_recovery_stays_degraded(
    restartable_valkey: ValkeyServer,
) -> None:
    clock = FakeClock()
    events = Events()
    store = ValkeyStateStore.resilient(restartable_valkey.url + QUICK, recover=False, clock=clock)
    store.bind(clock=clock, observer=events)
    try:
        restartable_valkey.stop()
        await store.save(STATE)
        restartable_valkey.start()
        await clock.advance(timedelta(minutes=5))
        await store.save(STATE)
        assert store.degraded
        assert events.of(StoreRecovered) == []
    finally:
        await store.close()
