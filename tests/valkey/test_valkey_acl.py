"""ACL users: the minimal permissions cronkit needs, and clear errors without them."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import valkey.asyncio

from cronkit._enums import SkipReason
from cronkit._exceptions import StoreError
from cronkit._guard import ExecutionSlot
from cronkit._state import JobState, encode_state
from cronkit.valkey import (
    ValkeyAccessError,
    ValkeyExecutionGuard,
    ValkeyLeaseConfig,
    ValkeyStateStore,
    ValkeyStoreAccessError,
)
from tests.valkey_server import ValkeyServer

# Everything cronkit runs: the store's GET/SET/DEL, the guard's EVALSHA (and SCRIPT LOAD
# after a server restart), and what the guard's Lua scripts call inside the server.
MINIMAL_COMMANDS = (
    "get",
    "set",
    "del",
    "evalsha",
    "script|load",
    "incr",
    "pexpire",
    "pttl",
    "time",
    "zadd",
    "zrem",
    "zremrangebyscore",
)
PASSWORD = "s3cr3t-pw"
STATE = JobState(job_id="nightly", trigger_count=2, next_run_at=datetime(2025, 1, 1, tzinfo=UTC))
CONFIG = ValkeyLeaseConfig(ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=10))


def slot(minute: int) -> ExecutionSlot:
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    return ExecutionSlot(job_id="nightly", resource_id="nightly", scheduled_at=at)


async def create_user(
    admin: valkey.asyncio.Valkey, name: str, *rules: str, commands: tuple[str, ...]
) -> None:
    await admin.execute_command(
        "ACL", "SETUSER", name, "reset", "on", f">{PASSWORD}", *rules,
        *(f"+{command}" for command in commands),
    )  # fmt: skip


def user_url(server: ValkeyServer, user: str, password: str = PASSWORD) -> str:
    return f"valkey://{user}:{password}@127.0.0.1:{server.port}/0"


async def everything(url: str, admin: valkey.asyncio.Valkey) -> None:
    """Every operation cronkit performs, starting with no script loaded."""
    await admin.script_flush()
    await admin.set("scheduler:job-state:legacy", encode_state(JobState(job_id="legacy")))
    store = ValkeyStateStore(url)
    guard = ValkeyExecutionGuard(url, CONFIG)
    other = ValkeyExecutionGuard(url, CONFIG)
    try:
        assert await store.load("nightly") is None
        assert await store.load("legacy") == JobState(job_id="legacy")
        await store.save(STATE)
        assert await store.load("nightly") == STATE
        await store.delete("nightly")
        await store.delete("legacy")
        assert await admin.keys("scheduler:*-state:*") == []

        lease = await guard.acquire(slot(0))
        assert lease is not None
        assert await other.acquire(slot(0)) is None
        assert other.refusal_reason(slot(0)) is SkipReason.CONTENDED
        assert await guard.renew(lease) is True
        await guard.release(lease, completed=True)
        assert await other.acquire(slot(0)) is None
        assert other.refusal_reason(slot(0)) is SkipReason.ALREADY_DONE

        lease = await guard.acquire(slot(1))
        assert lease is not None
        await guard.release(lease, completed=False)
        retry = await other.acquire(slot(1))
        assert retry is not None
        assert retry.fencing_token == 3
    finally:
        await store.close()
        await guard.close()
        await other.close()


async def test_a_user_limited_to_cronkit_keys_and_commands_can_do_everything(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(
        valkey_admin, "cronkit", "~scheduler:*", "resetchannels", commands=MINIMAL_COMMANDS
    )
    await everything(user_url(valkey_server, "cronkit"), valkey_admin)


@pytest.mark.parametrize("missing", MINIMAL_COMMANDS)
async def test_every_command_of_the_minimal_set_is_needed(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey, missing: str
) -> None:
    commands = tuple(command for command in MINIMAL_COMMANDS if command != missing)
    await create_user(valkey_admin, "cronkit", "~scheduler:*", commands=commands)
    with pytest.raises(ValkeyAccessError) as caught:
        await everything(user_url(valkey_server, "cronkit"), valkey_admin)
    assert "ACL" in str(caught.value)
    assert PASSWORD not in str(caught.value)


async def test_a_user_without_access_to_the_keys_gets_a_clear_error(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "stranger", "~other:*", commands=("@all",))
    url = user_url(valkey_server, "stranger")
    store = ValkeyStateStore(url)
    guard = ValkeyExecutionGuard(url, CONFIG)
    try:
        started = time.monotonic()
        with pytest.raises(ValkeyStoreAccessError) as caught:
            await store.load("nightly")
        assert time.monotonic() - started < 1.0
        message = str(caught.value)
        assert "scheduler:valkey:job-state:nightly" in message
        assert "~scheduler:*" in message  # says what to grant
        assert PASSWORD not in message
        assert isinstance(caught.value, StoreError)
        assert not isinstance(caught.value, ConnectionError | OSError)

        with pytest.raises(ValkeyAccessError) as caught_guard:
            await guard.acquire(slot(0))
        assert not isinstance(caught_guard.value, ConnectionError | OSError)
    finally:
        await store.close()
        await guard.close()


async def test_access_errors_are_not_masked_by_the_resilient_store(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "stranger", "~other:*", commands=("@all",))
    store = ValkeyStateStore.resilient(user_url(valkey_server, "stranger"))
    try:
        with pytest.raises(ValkeyStoreAccessError):
            await store.load("nightly")
        with pytest.raises(ValkeyStoreAccessError):
            await store.save(STATE)
        assert not store.degraded
    finally:
        await store.close()


async def test_a_wrong_password_is_an_access_error(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "cronkit", "~scheduler:*", commands=MINIMAL_COMMANDS)
    store = ValkeyStateStore(user_url(valkey_server, "cronkit", "wrong-password"))
    guard = ValkeyExecutionGuard(user_url(valkey_server, "cronkit", "wrong-password"), CONFIG)
    try:
        with pytest.raises(ValkeyStoreAccessError, match="username-password") as caught:
            await store.save(STATE)
        assert "wrong-password" not in str(caught.value)
        assert "cronkit:***@" in str(caught.value)
        with pytest.raises(ValkeyAccessError, match="username-password"):
            await guard.acquire(slot(0))
    finally:
        await store.close()
        await guard.close()


async def test_a_missing_password_is_an_access_error(
    make_valkey_server: Callable[..., ValkeyServer],
) -> None:
    server = make_valkey_server("--requirepass", PASSWORD)
    store = ValkeyStateStore(server.url)
    authenticated = ValkeyStateStore(f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0")
    try:
        with pytest.raises(ValkeyStoreAccessError, match="Authentication required"):
            await store.load("nightly")
        await authenticated.save(STATE)
        assert await authenticated.load("nightly") == STATE
    finally:
        await store.close()
        await authenticated.close()
