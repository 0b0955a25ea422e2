"""ValkeyStateStore against a real server: key layout, codec, legacy keys, URLs, corruption."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import valkey
import valkey.asyncio
from valkey.asyncio.connection import SSLConnection, UnixDomainSocketConnection

from cronkit._exceptions import InvalidStoreURLError, StateCorruptedError, StoreError
from cronkit._state import JobState, encode_state
from cronkit._store import ResilientStateStore, StateStore
from cronkit.valkey import (
    DEFAULT_STATE_PREFIX,
    LEGACY_STATE_PREFIX,
    ValkeyStateStore,
)
from cronkit.valkey._connection import mask_url
from tests.valkey_server import ValkeyServer, unique_prefix

STATE = JobState(
    job_id="nightly",
    trigger_count=3,
    next_run_at=datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
    last_run_at=datetime(2025, 3, 29, 1, 30, 0, 250000, tzinfo=UTC),
    last_success_at=datetime(2025, 3, 29, 1, 30, tzinfo=UTC),
    last_error=None,
    schedule_fingerprint="cron:30 2 * * *@Europe/Berlin",
)


@pytest.fixture
async def store(valkey_url: str) -> AsyncIterator[ValkeyStateStore]:
    store = ValkeyStateStore(valkey_url)
    try:
        yield store
    finally:
        await store.close()


async def test_is_a_state_store(store: ValkeyStateStore) -> None:
    assert isinstance(store, StateStore)


async def test_saves_the_codec_document_under_one_key_per_job(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await store.save(STATE)

    assert await valkey_admin.keys("*") == ["scheduler:valkey:job-state:nightly"]
    raw = await valkey_admin.get("scheduler:valkey:job-state:nightly")
    assert raw == encode_state(STATE)
    assert json.loads(raw) == {
        "v": 1,
        "job_id": "nightly",
        "trigger_count": 3,
        "next_run_at": "2025-03-30T01:00:00Z",
        "last_run_at": "2025-03-29T01:30:00.250000Z",
        "last_success_at": "2025-03-29T01:30:00Z",
        "last_error": None,
        "schedule_fingerprint": "cron:30 2 * * *@Europe/Berlin",
    }
    assert await valkey_admin.ttl("scheduler:valkey:job-state:nightly") == -1


async def test_load_returns_what_was_saved_and_none_when_nothing_is(
    store: ValkeyStateStore,
) -> None:
    assert await store.load("nightly") is None
    await store.save(STATE)
    assert await store.load("nightly") == STATE
    assert await store.load("other") is None


async def test_save_replaces_the_previous_state(store: ValkeyStateStore) -> None:
    await store.save(STATE)
    newer = JobState(job_id="nightly", trigger_count=4, last_error="ValueError: boom")
    await store.save(newer)
    assert await store.load("nightly") == newer


async def test_custom_prefix_and_no_legacy_fallback(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    prefix = unique_prefix()
    store = ValkeyStateStore(valkey_url, prefix=prefix)
    await valkey_admin.set(f"{LEGACY_STATE_PREFIX}nightly", encode_state(STATE))
    try:
        assert store.key("nightly") == f"{prefix}nightly"
        assert store.legacy_key("nightly") is None
        assert await store.load("nightly") is None
        await store.save(STATE)
        assert await valkey_admin.get(f"{prefix}nightly") == encode_state(STATE)
        await store.delete("nightly")
        assert await valkey_admin.exists(f"{prefix}nightly") == 0
        assert await valkey_admin.exists(f"{LEGACY_STATE_PREFIX}nightly") == 1
    finally:
        await store.close()


async def test_missing_key_falls_back_to_the_legacy_prefix(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await valkey_admin.set("scheduler:job-state:nightly", encode_state(STATE))
    assert await store.load("nightly") == STATE

    newer = JobState(job_id="nightly", trigger_count=9)
    await store.save(newer)
    assert await valkey_admin.get(f"{DEFAULT_STATE_PREFIX}nightly") == encode_state(newer)
    assert await store.load("nightly") == newer  # the current key wins over the legacy one


async def test_delete_removes_the_key_and_the_legacy_key(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await valkey_admin.set("scheduler:job-state:nightly", encode_state(STATE))
    await store.save(STATE)
    await valkey_admin.set("scheduler:valkey:job-state:other", encode_state(STATE))

    await store.delete("nightly")

    assert await valkey_admin.keys("*") == ["scheduler:valkey:job-state:other"]
    assert await store.load("nightly") is None
    await store.delete("nightly")  # deleting nothing is fine


async def test_reads_a_key_written_by_the_crate(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    # The Rust crate's layout: legacy prefix, serde's field names, chrono's RFC 3339 instants
    # with up to nine fractional digits and `Z`, no format version, no fingerprint.
    crate_document = {
        "job_id": "refresh-a-shares",
        "trigger_count": 2,
        "next_run_at": "2025-03-30T01:00:00Z",
        "last_run_at": "2025-03-29T01:30:00.123456789Z",
        "last_success_at": "2025-03-29T01:30:00.123456789Z",
        "last_error": None,
    }
    await valkey_admin.set("scheduler:job-state:refresh-a-shares", json.dumps(crate_document))

    state = await store.load("refresh-a-shares")

    assert state == JobState(
        job_id="refresh-a-shares",
        trigger_count=2,
        next_run_at=datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
        last_run_at=datetime(2025, 3, 29, 1, 30, 0, 123456, tzinfo=UTC),
        last_success_at=datetime(2025, 3, 29, 1, 30, 0, 123456, tzinfo=UTC),
        last_error=None,
        schedule_fingerprint=None,
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("not json {", id="not-json"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param('{"job_id": "nightly", "trigger_count": -1}', id="bad-count"),
        pytest.param('{"job_id": "nightly", "next_run_at": "yesterday"}', id="bad-instant"),
        pytest.param("[" * 200_000, id="nested-too-deeply"),
        pytest.param(
            '{"job_id": "nightly", "next_run_at": "9999-12-31T23:59:59-23:59"}',
            id="instant-past-max-in-utc",
        ),
        pytest.param('{"v": 99, "job_id": "nightly"}', id="future-version"),
        pytest.param('{"job_id": "someone-else"}', id="other-job"),
    ],
)
@pytest.mark.parametrize("prefix", [DEFAULT_STATE_PREFIX, LEGACY_STATE_PREFIX])
async def test_corrupt_value_names_the_key_and_stays_untouched(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey, raw: str, prefix: str
) -> None:
    key = f"{prefix}nightly"
    await valkey_admin.set(key, raw)

    with pytest.raises(StateCorruptedError) as caught:
        await store.load("nightly")

    assert caught.value.key == key
    assert repr(key) in str(caught.value)
    assert await valkey_admin.get(key) == raw


async def test_corrupt_current_key_does_not_fall_back_to_the_legacy_key(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await valkey_admin.set("scheduler:valkey:job-state:nightly", "garbage")
    await valkey_admin.set("scheduler:job-state:nightly", encode_state(STATE))
    with pytest.raises(StateCorruptedError, match="scheduler:valkey:job-state:nightly"):
        await store.load("nightly")


async def test_a_key_of_another_type_is_corrupt_state(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await valkey_admin.hset("scheduler:valkey:job-state:nightly", "job_id", "nightly")
    with pytest.raises(StateCorruptedError) as caught:
        await store.load("nightly")
    assert caught.value.key == "scheduler:valkey:job-state:nightly"
    assert await valkey_admin.type("scheduler:valkey:job-state:nightly") == "hash"


async def test_corrupt_state_is_not_masked_by_the_resilient_wrapper(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    resilient = ValkeyStateStore.resilient(valkey_url)
    assert isinstance(resilient, ResilientStateStore)
    await valkey_admin.set("scheduler:valkey:job-state:nightly", "garbage")
    try:
        with pytest.raises(StateCorruptedError):
            await resilient.load("nightly")
        assert not resilient.degraded
    finally:
        await resilient.close()


# -- create -------------------------------------------------------------------------------------


async def test_stores_racing_to_create_one_key_agree_on_the_winner(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    replicas = [ValkeyStateStore(valkey_url) for _ in range(2)]
    job_ids = [f"job-{n}" for n in range(20)]
    try:
        for job_id in job_ids:
            # Each replica planned its own first occurrence, a few milliseconds apart.
            planned = [
                JobState(job_id=job_id, next_run_at=STATE.next_run_at + timedelta(milliseconds=n))
                for n in range(2)
            ]
            results = await asyncio.gather(
                *(store.create(state) for store, state in zip(replicas, planned, strict=True))
            )
            assert results[0] == results[1]
            assert results[0] in planned
            raw = await valkey_admin.get(f"{DEFAULT_STATE_PREFIX}{job_id}")
            assert raw == encode_state(results[0])
    finally:
        for store in replicas:
            await store.close()


async def test_create_is_one_set_and_never_overwrites(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    assert await store.create(STATE) == STATE
    assert await store.create(JobState(job_id="nightly")) == STATE

    stats = await valkey_admin.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 2
    assert "cmdstat_get" not in stats
    assert await valkey_admin.get(f"{DEFAULT_STATE_PREFIX}nightly") == encode_state(STATE)


@pytest.mark.parametrize("value", ["garbage", json.dumps({"v": 1, "job_id": "other"})])
async def test_create_over_a_corrupt_value_raises_and_leaves_it(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey, value: str
) -> None:
    key = f"{DEFAULT_STATE_PREFIX}nightly"
    await valkey_admin.set(key, value)
    with pytest.raises(StateCorruptedError) as caught:
        await store.create(STATE)
    assert caught.value.key == key
    assert await valkey_admin.get(key) == value


async def test_create_over_a_key_of_another_type_is_corrupt_state(
    store: ValkeyStateStore, valkey_admin: valkey.asyncio.Valkey
) -> None:
    key = f"{DEFAULT_STATE_PREFIX}nightly"
    await valkey_admin.hset(key, "job_id", "nightly")
    with pytest.raises(StateCorruptedError) as caught:
        await store.create(STATE)
    assert caught.value.key == key
    assert await valkey_admin.type(key) == "hash"


async def test_create_needs_only_the_set_permission(
    valkey_server: ValkeyServer, valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await valkey_admin.execute_command(
        "ACL", "SETUSER", "creator", "reset", "on", ">pw", "~scheduler:*", "+set"
    )
    store = ValkeyStateStore(f"valkey://creator:pw@127.0.0.1:{valkey_server.port}/0")
    try:
        assert await store.create(STATE) == STATE
        assert await store.create(JobState(job_id="nightly")) == STATE
    finally:
        await store.close()


# -- clients and URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize("decode_responses", [False, True])
async def test_uses_a_given_client_and_leaves_it_open(
    valkey_url: str, decode_responses: bool
) -> None:
    client = valkey.asyncio.Valkey.from_url(valkey_url, decode_responses=decode_responses)
    try:
        store = ValkeyStateStore(client)
        assert store.client is client
        await store.save(STATE)
        assert await store.load("nightly") == STATE
        await store.close()
        assert await client.ping() is True
    finally:
        await client.aclose()


@pytest.mark.parametrize("scheme", ["redis", "valkey", "REDIS", "Valkey"])
async def test_tcp_url_schemes(valkey_server: ValkeyServer, valkey_url: str, scheme: str) -> None:
    store = ValkeyStateStore(f"{scheme}://127.0.0.1:{valkey_server.port}/0")
    try:
        await store.save(STATE)
        assert await store.load("nightly") == STATE
    finally:
        await store.close()


async def test_database_number_in_the_url(
    valkey_server: ValkeyServer, valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    store = ValkeyStateStore(f"valkey://127.0.0.1:{valkey_server.port}/3")
    try:
        await store.save(STATE)
    finally:
        await store.close()
    assert await valkey_admin.exists(f"{DEFAULT_STATE_PREFIX}nightly") == 0
    await valkey_admin.select(3)
    assert await valkey_admin.exists(f"{DEFAULT_STATE_PREFIX}nightly") == 1


async def test_unix_socket_url(valkey_server: ValkeyServer, valkey_url: str) -> None:
    store = ValkeyStateStore(valkey_server.unix_url)
    try:
        pool = store.client.connection_pool
        assert pool.connection_class is UnixDomainSocketConnection
        await store.save(STATE)
        assert await store.load("nightly") == STATE
    finally:
        await store.close()


@pytest.mark.parametrize("scheme", ["rediss", "valkeys"])
async def test_tls_schemes_use_tls_connections(scheme: str) -> None:
    store = ValkeyStateStore(f"{scheme}://user:secret@cache.example:6380/1")
    try:
        pool = store.client.connection_pool
        assert pool.connection_class is SSLConnection
        assert pool.connection_kwargs["host"] == "cache.example"
        assert pool.connection_kwargs["port"] == 6380
        assert pool.connection_kwargs["db"] == 1
        assert pool.connection_kwargs["username"] == "user"
        assert "secret" not in repr(store)
    finally:
        await store.close()


async def test_url_options_and_default_timeouts() -> None:
    default = ValkeyStateStore("redis://localhost")
    tuned = ValkeyStateStore("redis://localhost?socket_timeout=0.5&socket_connect_timeout=0.25")
    try:
        kwargs = default.client.connection_pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (5.0, 5.0)
        kwargs = tuned.client.connection_pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.5, 0.25)
    finally:
        await default.close()
        await tuned.close()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://user:s3cr3t@localhost:6379/0", id="http"),
        pytest.param("memcached://localhost", id="memcached"),
        pytest.param("localhost:6379", id="no-scheme"),
        pytest.param("", id="empty"),
        pytest.param("redis+sentinel://u:s3cr3t@host/0", id="sentinel"),
    ],
)
def test_unknown_scheme_is_rejected_at_construction(url: str) -> None:
    with pytest.raises(InvalidStoreURLError) as caught:
        ValkeyStateStore(url)
    message = str(caught.value)
    assert "s3cr3t" not in message
    assert "redis://" in message  # says what to use instead
    assert isinstance(caught.value, ValueError)


def test_unknown_scheme_quotes_the_url_with_the_password_masked() -> None:
    with pytest.raises(InvalidStoreURLError, match=r"'http://user:\*\*\*@localhost:6379/0'"):
        ValkeyStateStore("http://user:s3cr3t@localhost:6379/0")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("redis://localhost:6379/0?db=zero", id="bad-db"),
        pytest.param("redis://localhost:port/0", id="bad-port"),
        pytest.param("redis://:s3cr3t@localhost/0?socket_timeout=soon", id="bad-timeout"),
    ],
)
def test_unusable_url_is_rejected_at_construction(url: str) -> None:
    with pytest.raises(InvalidStoreURLError) as caught:
        ValkeyStateStore(url)
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize("value", [None, 6379, b"redis://localhost"])
def test_a_value_that_is_neither_url_nor_client_is_rejected(value: object) -> None:
    with pytest.raises(InvalidStoreURLError, match=r"valkey\.asyncio\.Valkey"):
        ValkeyStateStore(value)  # type: ignore[arg-type]


def test_a_synchronous_client_is_rejected() -> None:
    client = valkey.Valkey()
    try:
        with pytest.raises(InvalidStoreURLError, match=r"valkey\.asyncio\.Valkey"):
            ValkeyStateStore(client)  # type: ignore[arg-type]
    finally:
        client.close()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://user:pw@host:1/0", "redis://user:***@host:1/0"),
        ("redis://:pw@host/0", "redis://:***@host/0"),
        ("redis://user@host/0", "redis://user@host/0"),
        ("redis://host/0", "redis://host/0"),
        ("unix:///tmp/v.sock?db=1&password=pw", "unix:///tmp/v.sock?db=1&password=***"),
        ("rediss://u:p%40ss@host", "rediss://u:***@host"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


async def test_repr_masks_the_password(valkey_url: str) -> None:
    store = ValkeyStateStore("redis://user:s3cr3t@localhost:6379/0", prefix="p:")
    try:
        assert repr(store) == "ValkeyStateStore('redis://user:***@localhost:6379/0', prefix='p:')"
    finally:
        await store.close()


async def test_other_server_errors_are_store_errors(restartable_valkey: ValkeyServer) -> None:
    store = ValkeyStateStore(restartable_valkey.url)
    admin = valkey.asyncio.Valkey.from_url(restartable_valkey.url)
    try:
        await admin.config_set("maxmemory", "1")
        with pytest.raises(StoreError, match=r"rejected SET 'scheduler:valkey:job-state:nightly'"):
            await store.save(STATE)
    finally:
        await admin.aclose()
        await store.close()


async def test_close_is_idempotent(valkey_url: str) -> None:
    store = ValkeyStateStore(valkey_url)
    await store.save(STATE)
    await store.close()
    await store.close()
