"""`cronkit check`, `status` and `jobs` with `--valkey-url`, against real Valkey servers.

`check` connects and runs every command the store and the guard need, and fails with one
line naming the cause; `status` and `jobs` read each job's stored state. Each command runs
for real in a subprocess (`tests/valkey/replicas.py`'s `run_cli`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import valkey.asyncio

from cronkit import JobState
from cronkit._state import encode_state
from cronkit.valkey import DEFAULT_STATE_PREFIX
from tests.valkey.replicas import run_cli
from tests.valkey_server import ValkeyServer, free_port

APP = "tests.valkey.cli_app:app"
STATUS_APP = "tests.valkey.status_app:app"
PASSWORD = "s3cr3t-pw"
HOURLY = "interval:PT3600S"
LATER = datetime(2099, 1, 1, tzinfo=UTC)


def only_line(stderr: str) -> str:
    """The one line `stderr` holds."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


async def create_user(admin: valkey.asyncio.Valkey, name: str, *rules: str) -> str:
    await admin.execute_command("ACL", "SETUSER", name, "reset", "on", f">{PASSWORD}", *rules)
    return name


def user_url(server: ValkeyServer, user: str, password: str = PASSWORD) -> str:
    return f"valkey://{user}:{password}@127.0.0.1:{server.port}/0"


async def test_check_connects_and_leaves_nothing_behind(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    result = run_cli("--valkey-url", valkey_url, "check", APP)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{APP}: 1 job(s) OK; ValkeyStateStore({valkey_url!r}, prefix={DEFAULT_STATE_PREFIX!r}) "
        "and its guard answer, ACL OK\n"
    )
    assert result.stderr == ""
    assert await valkey_admin.keys("*") == []


async def test_check_with_a_wrong_password_fails_in_one_line(
    make_valkey_server: Callable[..., ValkeyServer],
) -> None:
    server = make_valkey_server("--requirepass", PASSWORD)

    result = run_cli("--valkey-url", f"redis://:wrong@127.0.0.1:{server.port}/0", "check", APP)

    assert result.returncode == 1
    line = only_line(result.stderr)
    assert line.startswith(f"cronkit: error: Valkey at 'redis://:***@127.0.0.1:{server.port}/0' ")
    assert "refused" in line
    assert "password" in line
    assert "wrong" not in line
    assert result.stdout == ""


def test_check_of_an_unreachable_server_fails_in_one_line() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    result = run_cli("check", APP, env={"CRONKIT_VALKEY_URL": url})

    assert result.returncode == 1
    line = only_line(result.stderr)
    assert line.startswith(f"cronkit: error: Valkey at {url!r} is unreachable")
    assert result.stdout == ""


async def test_check_of_a_user_without_the_key_prefix_fails_in_one_line(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    user = await create_user(valkey_admin, "stranger", "~other:*", "+@all")

    result = run_cli("--valkey-url", user_url(valkey_server, user), "check", APP)

    assert result.returncode == 1
    line = only_line(result.stderr)
    assert "refused SET 'scheduler:valkey:job-state:cronkit check'" in line
    assert "~scheduler:*" in line
    assert PASSWORD not in line


async def test_check_of_a_user_who_may_not_run_the_guard_fails_in_one_line(
    valkey_server: ValkeyServer, valkey_admin: valkey.asyncio.Valkey
) -> None:
    # Enough for the store, not for the guard's scripts.
    user = await create_user(valkey_admin, "store-only", "~scheduler:*", "+get", "+set", "+del")

    result = run_cli("--valkey-url", user_url(valkey_server, user), "check", APP)

    assert result.returncode == 1
    line = only_line(result.stderr)
    assert "refused SCRIPT LOAD" in line
    assert "+script|load" in line


async def store(admin: valkey.asyncio.Valkey, state: JobState) -> None:
    await admin.set(f"{DEFAULT_STATE_PREFIX}{state.job_id}", encode_state(state))


async def stored_states(admin: valkey.asyncio.Valkey) -> None:
    await store(
        admin,
        JobState(
            "succeeded",
            trigger_count=2,
            next_run_at=LATER,
            last_run_at=datetime(2025, 3, 29, 1, 30, tzinfo=UTC),
            last_success_at=datetime(2025, 3, 29, 1, 30, 2, tzinfo=UTC),
            schedule_fingerprint=HOURLY,
        ),
    )
    await store(
        admin,
        JobState(
            "failed",
            trigger_count=5,
            next_run_at=LATER,
            last_run_at=datetime(2025, 3, 29, 2, 0, tzinfo=UTC),
            last_error="ValueError: the job failed on purpose",
            schedule_fingerprint=HOURLY,
        ),
    )
    await admin.set(f"{DEFAULT_STATE_PREFIX}corrupt", "not json")


async def test_status_reads_each_job_from_valkey(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await stored_states(valkey_admin)

    table = run_cli("--valkey-url", valkey_url, "status", STATUS_APP)
    listed = run_cli("status", "--json", STATUS_APP, env={"CRONKIT_VALKEY_URL": valkey_url})

    assert table.returncode == 1  # the corrupt key
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    assert rows["succeeded"] == [
        "succeeded", "every", "1h", "2099-01-01", "00:00:00+00:00", "2025-03-29",
        "01:30:00+00:00", "success", "-",
    ]  # fmt: skip
    assert rows["failed"][3:9] == [
        "2099-01-01", "00:00:00+00:00", "2025-03-29", "02:00:00+00:00", "failed", "ValueError:"
    ]  # fmt: skip
    assert table.stdout.splitlines()[2].endswith("  ValueError: the job failed on purpose")
    assert rows["missing"][-4:] == ["-", "-", "never", "-"]
    assert rows["corrupt"][3:6] == ["-", "-", "error"]
    assert f"key '{DEFAULT_STATE_PREFIX}corrupt'" in table.stdout
    assert table.stderr == ""

    assert listed.returncode == 1
    documents = {row["id"]: row for row in json.loads(listed.stdout)}
    assert documents["failed"]["last_status"] == "failed"
    assert documents["failed"]["next_run_at"] == "2099-01-01T00:00:00Z"
    assert documents["missing"]["stored"] is False
    assert "error" in documents["corrupt"]


async def test_jobs_starts_from_the_stored_next_run_at(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await stored_states(valkey_admin)
    await valkey_admin.delete(f"{DEFAULT_STATE_PREFIX}corrupt")

    result = run_cli("--valkey-url", valkey_url, "jobs", "--json", STATUS_APP)

    assert result.returncode == 0, result.stderr
    jobs = {job["id"]: job for job in json.loads(result.stdout)}
    assert [run["at"] for run in jobs["succeeded"]["next_runs"]] == [
        "2099-01-01T00:00:00Z",
        "2099-01-01T01:00:00Z",
        "2099-01-01T02:00:00Z",
    ]
    first_new = datetime.fromisoformat(jobs["missing"]["next_runs"][0]["at"])
    assert first_new < LATER  # a new job starts an hour from now


def test_status_of_an_unreachable_server_fails_in_one_line() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"

    result = run_cli("--valkey-url", url, "status", STATUS_APP)

    assert result.returncode == 1
    assert "is unreachable" in only_line(result.stderr)
    assert result.stdout == ""
