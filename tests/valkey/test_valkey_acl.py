"""ACL users: the minimal permissions cronkit needs, and clear errors without them."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
import valkey.asyncio

from cronkit._enums import SkipReason
from cronkit._exceptions import GuardUnavailableError, StoreError, StoreUnavailableError
from cronkit._guard import ExecutionSlot
from cronkit._state import JobState, encode_state
from cronkit.valkey import (
    ValkeyAccessError,
    ValkeyExecutionGuard,
    ValkeyLeaseConfig,
    ValkeyStateStore,
    ValkeyStoreAccessError,
)
from tests.valkey.replicas import run_cli
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
CLI_APP = "tests.valkey.cli_app:app"
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


# -- checking access at start-up ------------------------------------------------------------


async def check_both(url: str) -> None:
    store, guard = ValkeyStateStore(url), ValkeyExecutionGuard(url, CONFIG)
    try:
        await store.check()
        await guard.check()
    finally:
        await store.close()
        await guard.close()


async def test_check_passes_for_the_minimal_user_and_leaves_nothing_behind(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "cronkit", "~scheduler:*", commands=MINIMAL_COMMANDS)
    await valkey_admin.script_flush()

    await check_both(user_url(valkey_server, "cronkit"))

    assert await valkey_admin.keys("*") == []
    loaded = await valkey_admin.script_exists(*guard_script_shas())
    assert loaded == [True, True, True]  # SCRIPT LOAD was allowed and done


def guard_script_shas() -> list[str]:
    scripts = resources.files("cronkit.valkey").joinpath("scripts")
    names = ("acquire.lua", "renew.lua", "release.lua")
    return [hashlib.sha1(scripts.joinpath(name).read_bytes()).hexdigest() for name in names]


@pytest.mark.parametrize("missing", MINIMAL_COMMANDS)
async def test_check_finds_every_missing_command(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey, missing: str
) -> None:
    commands = tuple(command for command in MINIMAL_COMMANDS if command != missing)
    await create_user(valkey_admin, "cronkit", "~scheduler:*", commands=commands)

    with pytest.raises(ValkeyAccessError) as caught:
        await check_both(user_url(valkey_server, "cronkit"))

    message = str(caught.value)
    assert "\n" not in message
    assert "~scheduler:*" in message
    assert PASSWORD not in message


@pytest.mark.parametrize(
    ("rules", "password", "error"),
    [
        (("~other:*",), PASSWORD, ValkeyStoreAccessError),
        (("~scheduler:valkey:*",), PASSWORD, ValkeyStoreAccessError),  # no legacy keys
        (("~scheduler:*",), "wrong-password", ValkeyStoreAccessError),
    ],
    ids=["no-key-access", "no-legacy-keys", "wrong-password"],
)
async def test_store_check_refuses_a_user_without_access(
    valkey_server: ValkeyServer,
    valkey_admin: valkey.asyncio.Valkey,
    rules: tuple[str, ...],
    password: str,
    error: type[Exception],
) -> None:
    await create_user(valkey_admin, "cronkit", *rules, commands=("@all",))
    store = ValkeyStateStore(user_url(valkey_server, "cronkit", password))
    try:
        with pytest.raises(error) as caught:
            await store.check()
    finally:
        await store.close()
    assert "cronkit:***@" in str(caught.value)
    assert not isinstance(caught.value, ConnectionError | OSError)


async def test_guard_check_refuses_a_user_without_access_to_the_lease_keys(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "cronkit", "~scheduler:valkey:job-state:*", commands=("@all",))
    guard = ValkeyExecutionGuard(user_url(valkey_server, "cronkit"), CONFIG)
    try:
        with pytest.raises(ValkeyAccessError, match="execution-lease:"):
            await guard.check()
    finally:
        await guard.close()


async def test_check_of_an_unreachable_server_is_a_connection_class_error() -> None:
    store = ValkeyStateStore("redis://127.0.0.1:1/0")
    guard = ValkeyExecutionGuard("redis://127.0.0.1:1/0", CONFIG)
    try:
        with pytest.raises(StoreUnavailableError):
            await store.check()
        with pytest.raises(GuardUnavailableError):
            await guard.check()
    finally:
        await store.close()
        await guard.close()


# -- through the command line -----------------------------------------------------------------


async def test_the_cli_runs_an_app_as_the_minimal_user(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "cronkit", "~scheduler:*", commands=MINIMAL_COMMANDS)
    url = user_url(valkey_server, "cronkit")

    result = run_cli("--valkey-url", url, "run", CLI_APP)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "run 1 fencing=1 catch_up=False",
        "run 2 fencing=2 catch_up=False",
        "run 3 fencing=3 catch_up=False",
    ]
    assert PASSWORD not in result.stderr
    stored = await valkey_admin.get("scheduler:valkey:job-state:refresh-a-shares")
    assert json.loads(stored)["trigger_count"] == 3
    assert (
        await valkey_admin.get("scheduler:valkey:execution-lease:{refresh-a-shares}:fencing") == "3"
    )


async def test_the_cli_stops_a_user_without_access_at_once_without_degrading(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "stranger", "~other:*", commands=("@all",))
    started = time.monotonic()

    result = run_cli("--valkey-url", user_url(valkey_server, "stranger"), "run", CLI_APP)

    assert result.returncode == 1
    assert time.monotonic() - started < 10
    assert result.stdout == ""  # no job ran
    assert "StoreDegraded" not in result.stderr
    assert "refused" in result.stderr
    assert "'scheduler:valkey:job-state:" in result.stderr  # the key it was refused
    assert "~scheduler:*" in result.stderr
    assert PASSWORD not in result.stderr


async def test_the_cli_names_the_access_problem_in_one_line(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await create_user(valkey_admin, "stranger", "~other:*", commands=("@all",))

    result = run_cli("--valkey-url", user_url(valkey_server, "stranger"), "run", CLI_APP)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cronkit: error: Valkey at 'valkey://stranger:***@127.0.0.1:"), (
        result.stderr
    )
    assert "refused" in last
    assert "~scheduler:*" in last
