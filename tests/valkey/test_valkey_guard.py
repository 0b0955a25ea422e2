"""ValkeyExecutionGuard against a real server: keys, contention, done markers, fencing, TTLs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import valkey.asyncio
from valkey.crc import key_slot

from cronkit._enums import SkipReason
from cronkit._exceptions import ConfigurationError
from cronkit._guard import ExecutionGuard, ExecutionLease, ExecutionSlot
from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig
from cronkit.valkey._guard import format_lease_instant

AT = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
SLOT = ExecutionSlot(job_id="nightly", resource_id="nightly", scheduled_at=AT)
CONFIG = ValkeyLeaseConfig(
    ttl=timedelta(seconds=30),
    renew_interval=timedelta(seconds=10),
    done_retention=timedelta(hours=1),
)
LEASE_KEY = "scheduler:valkey:execution-lease:{nightly}:occurrence:2025-03-30T01:00:00.000000000Z"
FENCING_KEY = "scheduler:valkey:execution-lease:{nightly}:fencing"
INDEX_KEY = "scheduler:valkey:execution-lease:{nightly}:index"

GuardFactory = Callable[..., ValkeyExecutionGuard]


@pytest.fixture
async def make_guard(valkey_url: str) -> AsyncIterator[GuardFactory]:
    """Guards of separate "instances": each has its own client (own connection pool)."""
    guards: list[ValkeyExecutionGuard] = []

    def make(config: ValkeyLeaseConfig = CONFIG, **kwargs: object) -> ValkeyExecutionGuard:
        guard = ValkeyExecutionGuard(valkey_url, config, **kwargs)  # type: ignore[arg-type]
        guards.append(guard)
        return guard

    yield make
    for guard in guards:
        await guard.close()


@pytest.fixture
def guard(make_guard: GuardFactory) -> ValkeyExecutionGuard:
    return make_guard()


def slot_at(minute: int, resource_id: str = "nightly") -> ExecutionSlot:
    return ExecutionSlot(
        job_id=resource_id, resource_id=resource_id, scheduled_at=AT + timedelta(minutes=minute)
    )


async def test_is_an_execution_guard(guard: ValkeyExecutionGuard) -> None:
    assert isinstance(guard, ExecutionGuard)
    assert guard.renew_interval == timedelta(seconds=10)
    assert guard.on_lost == "cancel"


async def test_acquire_writes_the_lease_key_fencing_counter_and_index(
    guard: ValkeyExecutionGuard, valkey_admin: valkey.asyncio.Valkey
) -> None:
    lease = await guard.acquire(SLOT)

    assert lease == ExecutionLease(
        slot=SLOT, token=lease.token if lease else "", fencing_token=1, ttl=timedelta(seconds=30)
    )
    assert lease is not None
    assert len(lease.token) == 32
    assert sorted(await valkey_admin.keys("*")) == sorted([LEASE_KEY, FENCING_KEY, INDEX_KEY])
    assert await valkey_admin.get(LEASE_KEY) == lease.token
    assert 29_000 < await valkey_admin.pttl(LEASE_KEY) <= 30_000
    assert await valkey_admin.get(FENCING_KEY) == "1"
    assert await valkey_admin.ttl(FENCING_KEY) == -1  # the counter never expires
    assert await valkey_admin.zrange(INDEX_KEY, 0, -1) == [LEASE_KEY]
    assert 0 < await valkey_admin.pttl(INDEX_KEY) <= 30_000
    assert guard.lease_key(SLOT) == LEASE_KEY


async def test_every_key_of_a_resource_is_in_one_cluster_slot(
    guard: ValkeyExecutionGuard,
) -> None:
    for resource in ("nightly", "a:b", "with}brace", "{odd"):
        keys = [
            guard.lease_key(slot_at(0, resource)),
            guard.lease_key(slot_at(1, resource)),
            guard.fencing_key(resource),
            guard.index_key(resource),
        ]
        assert len({key_slot(key.encode()) for key in keys}) == 1, keys


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (datetime(2025, 3, 30, 1, 0, tzinfo=UTC), "2025-03-30T01:00:00.000000000Z"),
        (datetime(2025, 3, 30, 1, 0, 0, 123456, tzinfo=UTC), "2025-03-30T01:00:00.123456000Z"),
        (
            datetime(2025, 3, 30, 3, 0, tzinfo=timezone(timedelta(hours=2))),
            "2025-03-30T01:00:00.000000000Z",
        ),
        (datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC), "1999-12-31T23:59:59.000001000Z"),
    ],
)
def test_lease_instants_have_nine_fractional_digits(instant: datetime, text: str) -> None:
    assert format_lease_instant(instant) == text


async def test_a_naive_scheduled_at_is_rejected(guard: ValkeyExecutionGuard) -> None:
    naive = ExecutionSlot(job_id="j", resource_id="j", scheduled_at=datetime(2025, 1, 1))
    with pytest.raises(ConfigurationError, match="naive"):
        await guard.acquire(naive)


async def test_custom_prefix(make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey) -> None:
    guard = make_guard(prefix="app:lease:")
    assert await guard.acquire(SLOT) is not None
    assert (
        await valkey_admin.exists(
            "app:lease:{nightly}:occurrence:2025-03-30T01:00:00.000000000Z",
            "app:lease:{nightly}:fencing",
            "app:lease:{nightly}:index",
        )
        == 3
    )


async def test_a_held_slot_is_contended_for_another_instance(make_guard: GuardFactory) -> None:
    first, second = make_guard(), make_guard()
    assert await first.acquire(SLOT) is not None

    assert await second.acquire(SLOT) is None
    assert second.refusal_reason(SLOT) is SkipReason.CONTENDED
    assert await first.acquire(SLOT) is None  # the holder itself cannot take it twice
    assert first.refusal_reason(SLOT) is SkipReason.CONTENDED


async def test_completed_release_leaves_a_done_marker(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    first, late = make_guard(), make_guard()
    lease = await first.acquire(SLOT)
    assert lease is not None

    await first.release(lease, completed=True)

    assert await valkey_admin.get(LEASE_KEY) == f"done:{lease.token}"
    assert 3_590_000 < await valkey_admin.pttl(LEASE_KEY) <= 3_600_000
    assert await valkey_admin.zrange(INDEX_KEY, 0, -1) == []
    assert await late.acquire(SLOT) is None
    assert late.refusal_reason(SLOT) is SkipReason.ALREADY_DONE
    assert await first.acquire(SLOT) is None
    assert first.refusal_reason(SLOT) is SkipReason.ALREADY_DONE


async def test_incomplete_release_frees_the_slot(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    first, second = make_guard(), make_guard()
    lease = await first.acquire(SLOT)
    assert lease is not None

    await first.release(lease, completed=False)

    assert await valkey_admin.exists(LEASE_KEY) == 0
    assert await valkey_admin.zrange(INDEX_KEY, 0, -1) == []
    retry = await second.acquire(SLOT)
    assert retry is not None
    assert retry.fencing_token == 2


async def test_fencing_tokens_strictly_increase_per_resource(make_guard: GuardFactory) -> None:
    guards = [make_guard() for _ in range(3)]
    tokens: dict[str, list[int]] = {"a": [], "b": []}
    for minute in range(12):
        for resource in ("a", "b"):
            slot = slot_at(minute, resource)
            lease = await guards[(minute + len(resource)) % 3].acquire(slot)
            assert lease is not None
            tokens[resource].append(lease.fencing_token)
            await guards[0].release(lease, completed=minute % 2 == 0)
    assert tokens == {"a": list(range(1, 13)), "b": list(range(1, 13))}


async def test_refusal_reason_follows_the_latest_acquire(make_guard: GuardFactory) -> None:
    first, second = make_guard(), make_guard()
    lease = await first.acquire(SLOT)
    assert lease is not None
    assert await second.acquire(SLOT) is None
    assert second.refusal_reason(SLOT) is SkipReason.CONTENDED
    await first.release(lease, completed=True)
    assert await second.acquire(SLOT) is None
    assert second.refusal_reason(SLOT) is SkipReason.ALREADY_DONE


async def test_concurrent_acquires_of_one_slot_give_exactly_one_lease(
    make_guard: GuardFactory,
) -> None:
    guards = [make_guard() for _ in range(10)]
    results = await asyncio.gather(*(g.acquire(SLOT) for g in guards for _ in range(3)))
    leases = [lease for lease in results if lease is not None]
    assert len(leases) == 1
    assert leases[0].fencing_token == 1


async def test_different_occurrences_are_separate_leases(guard: ValkeyExecutionGuard) -> None:
    first = await guard.acquire(slot_at(0))
    second = await guard.acquire(slot_at(1))
    assert first is not None
    assert second is not None
    assert (first.fencing_token, second.fencing_token) == (1, 2)


async def test_renew_extends_only_a_lease_still_held(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    guard = make_guard()
    lease = await guard.acquire(SLOT)
    assert lease is not None
    await valkey_admin.pexpire(LEASE_KEY, 1_000)

    assert await guard.renew(lease) is True
    assert 29_000 < await valkey_admin.pttl(LEASE_KEY) <= 30_000

    stranger = ExecutionLease(slot=SLOT, token="0" * 32, fencing_token=1, ttl=lease.ttl)
    assert await guard.renew(stranger) is False
    await guard.release(stranger, completed=True)  # not its lease: nothing changes
    assert await valkey_admin.get(LEASE_KEY) == lease.token

    await guard.release(lease, completed=True)
    assert await guard.renew(lease) is False
    assert await valkey_admin.get(LEASE_KEY) == f"done:{lease.token}"


# -- real expiry (short TTLs: the server's PX is the only clock) -----------------------------

SHORT = ValkeyLeaseConfig(
    ttl=timedelta(milliseconds=250),
    renew_interval=timedelta(milliseconds=100),
    done_retention=timedelta(milliseconds=400),
)


async def test_an_expired_lease_can_be_taken_and_the_old_holder_cannot_touch_it(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    old, new = make_guard(SHORT), make_guard(SHORT)
    stale = await old.acquire(SLOT)
    assert stale is not None
    assert await new.acquire(SLOT) is None

    await asyncio.sleep(0.3)

    fresh = await new.acquire(SLOT)
    assert fresh is not None
    assert fresh.fencing_token > stale.fencing_token
    assert await old.renew(stale) is False
    await old.release(stale, completed=True)
    assert await valkey_admin.get(LEASE_KEY) == fresh.token


async def test_renewal_keeps_a_short_lease_alive(make_guard: GuardFactory) -> None:
    holder, other = make_guard(SHORT), make_guard(SHORT)
    lease = await holder.acquire(SLOT)
    assert lease is not None
    for _ in range(4):
        await asyncio.sleep(0.1)
        assert await holder.renew(lease) is True
    assert await other.acquire(SLOT) is None
    assert other.refusal_reason(SLOT) is SkipReason.CONTENDED


async def test_done_marker_expires_after_done_retention(make_guard: GuardFactory) -> None:
    guard = make_guard(SHORT)
    lease = await guard.acquire(SLOT)
    assert lease is not None
    await guard.release(lease, completed=True)
    assert await guard.acquire(SLOT) is None

    await asyncio.sleep(0.45)

    again = await guard.acquire(SLOT)
    assert again is not None
    assert again.fencing_token == 2


async def test_a_run_that_outlived_its_lease_marks_the_untaken_occurrence_done(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    guard, late = make_guard(SHORT), make_guard(SHORT)
    lease = await guard.acquire(SLOT)
    assert lease is not None
    await asyncio.sleep(0.3)
    assert await valkey_admin.exists(LEASE_KEY) == 0

    await guard.release(lease, completed=True)  # the key is absent: nobody took it

    assert await valkey_admin.get(LEASE_KEY) == f"done:{lease.token}"
    assert 300 < await valkey_admin.pttl(LEASE_KEY) <= 400
    assert await valkey_admin.zrange(INDEX_KEY, 0, -1) == []
    assert await late.acquire(SLOT) is None
    assert late.refusal_reason(SLOT) is SkipReason.ALREADY_DONE


async def test_an_incomplete_run_that_outlived_its_lease_leaves_the_key_absent(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    guard = make_guard(SHORT)
    lease = await guard.acquire(SLOT)
    assert lease is not None
    await asyncio.sleep(0.3)

    await guard.release(lease, completed=False)

    assert await valkey_admin.exists(LEASE_KEY) == 0


async def test_a_late_completed_release_never_overwrites_another_holders_lease(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    old, new = make_guard(SHORT), make_guard(CONFIG)
    stale = await old.acquire(SLOT)
    assert stale is not None
    await asyncio.sleep(0.3)
    fresh = await new.acquire(SLOT)
    assert fresh is not None

    await old.release(stale, completed=True)

    assert await valkey_admin.get(LEASE_KEY) == fresh.token
    assert 29_000 < await valkey_admin.pttl(LEASE_KEY) <= 30_000
    assert await valkey_admin.zrange(INDEX_KEY, 0, -1) == [LEASE_KEY]
    await new.release(fresh, completed=True)
    await old.release(stale, completed=True)
    assert await valkey_admin.get(LEASE_KEY) == f"done:{fresh.token}"


async def test_acquire_cleans_expired_entries_from_the_index(
    make_guard: GuardFactory, valkey_admin: valkey.asyncio.Valkey
) -> None:
    crashed = make_guard(SHORT)
    for minute in range(3):
        assert await crashed.acquire(slot_at(minute)) is not None  # never released
    assert await valkey_admin.zcard(INDEX_KEY) == 3

    await asyncio.sleep(0.3)

    survivor = make_guard(CONFIG)
    assert await survivor.acquire(slot_at(10)) is not None
    assert await valkey_admin.zrange(INDEX_KEY, 0, -1) == [survivor.lease_key(slot_at(10))]


async def test_given_client_is_used_and_left_open(valkey_url: str) -> None:
    client = valkey.asyncio.Valkey.from_url(valkey_url, decode_responses=True)
    try:
        guard = ValkeyExecutionGuard(client, CONFIG)
        lease = await guard.acquire(SLOT)
        assert lease is not None
        assert await guard.renew(lease) is True
        await guard.release(lease, completed=True)
        assert await guard.acquire(SLOT) is None
        assert guard.refusal_reason(SLOT) is SkipReason.ALREADY_DONE
        await guard.close()
        assert await client.ping() is True
    finally:
        await client.aclose()


# -- round trips --------------------------------------------------------------------------------

# Commands the scripts run inside the server; INFO commandstats counts them as well.
SCRIPT_COMMANDS = {
    "get",
    "set",
    "del",
    "incr",
    "time",
    "zadd",
    "zrem",
    "zremrangebyscore",
    "pttl",
    "pexpire",
}


async def _command_calls(admin: valkey.asyncio.Valkey) -> dict[str, int]:
    stats = await admin.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()}
    calls.pop("config|resetstat", None)
    return calls


async def test_a_guarded_run_costs_two_round_trips_plus_one_per_renewal(
    guard: ValkeyExecutionGuard, valkey_admin: valkey.asyncio.Valkey
) -> None:
    warm_up = await guard.acquire(slot_at(-1))  # every script loaded, connection open
    assert warm_up is not None
    assert await guard.renew(warm_up) is True
    await guard.release(warm_up, completed=True)
    await valkey_admin.config_resetstat()

    lease = await guard.acquire(SLOT)
    assert lease is not None
    await guard.release(lease, completed=True)
    calls = await _command_calls(valkey_admin)

    assert calls.pop("evalsha") == 2
    assert calls.pop("info", 0) <= 1  # the measuring INFO itself
    assert set(calls) <= SCRIPT_COMMANDS, calls  # nothing but what the scripts ran inside
    assert calls["incr"] == 1

    await valkey_admin.config_resetstat()
    lease = await guard.acquire(slot_at(1))
    assert lease is not None
    assert await guard.renew(lease) is True
    await guard.release(lease, completed=True)
    calls = await _command_calls(valkey_admin)
    assert calls.pop("evalsha") == 3
    assert calls.pop("info", 0) <= 1
    assert set(calls) <= SCRIPT_COMMANDS, calls
