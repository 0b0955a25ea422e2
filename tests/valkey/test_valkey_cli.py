"""The command line with Valkey: `CRONKIT_VALKEY_URL`, and a job resumed from the crate's key.

`python -m cronkit` runs for real in a subprocess against the shared server; the App
(`tests/valkey/cli_app.py`) has no store or guard of its own, so everything it persists
comes from the URL the command line was given.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import valkey.asyncio

from cronkit._state import JobState, decode_state
from tests.valkey.replicas import run_cli

APP = "tests.valkey.cli_app:app"
JOB = "refresh-a-shares"
STATE_KEY = f"scheduler:valkey:job-state:{JOB}"
CRATE_KEY = f"scheduler:job-state:{JOB}"
# What the Rust crate writes: legacy prefix, serde's field names, chrono's RFC 3339 instants
# with nine fractional digits and `Z`, no format version, no schedule fingerprint.
CRATE_DOCUMENT = {
    "job_id": JOB,
    "trigger_count": 2,
    "next_run_at": "2025-03-30T01:00:00Z",
    "last_run_at": "2025-03-29T01:30:00.123456789Z",
    "last_success_at": "2025-03-29T01:30:00.123456789Z",
    "last_error": None,
}


async def test_the_url_comes_from_the_environment_and_a_crate_key_is_resumed(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    await valkey_admin.set(CRATE_KEY, json.dumps(CRATE_DOCUMENT))

    began = datetime.now(UTC)
    result = run_cli("run", APP, env={"CRONKIT_VALKEY_URL": valkey_url})
    ended = datetime.now(UTC)

    assert result.returncode == 0, result.stderr
    # Two runs were done under the crate; the overdue occurrence is caught up once, the
    # third and last run; its fencing token is the first the guard hands out for the job.
    assert result.stdout == "run 3 fencing=1 catch_up=True\n"
    assert f"StateLoaded job={JOB}" in result.stderr
    assert "source=restored trigger_count=2 next_run_at=2025-03-30T01:00:00+00:00" in (
        result.stderr
    )
    state = decode_state(await valkey_admin.get(STATE_KEY), key=STATE_KEY)
    # As in the crate (SPEC §6): when the run started and when it succeeded, not its instant.
    assert state.last_run_at is not None
    assert state.last_success_at is not None
    assert began <= state.last_run_at <= state.last_success_at <= ended
    assert state == JobState(
        job_id=JOB,
        trigger_count=3,
        next_run_at=None,
        last_run_at=state.last_run_at,
        last_success_at=state.last_success_at,
        last_error=None,
        schedule_fingerprint="interval:PT0.2S",
    )
    assert json.loads(await valkey_admin.get(CRATE_KEY)) == CRATE_DOCUMENT  # left as it was
    lease = f"scheduler:valkey:execution-lease:{{{JOB}}}:occurrence:2025-03-30T01:00:00.000000000Z"
    assert (await valkey_admin.get(lease)).startswith("done:")


async def test_the_option_wins_over_the_environment(
    valkey_url: str, valkey_admin: valkey.asyncio.Valkey
) -> None:
    result = run_cli(
        "--valkey-url", valkey_url, "run", APP, env={"CRONKIT_VALKEY_URL": "redis://127.0.0.1:1/0"}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "run 1 fencing=1 catch_up=False",
        "run 2 fencing=2 catch_up=False",
        "run 3 fencing=3 catch_up=False",
    ]
    state = decode_state(await valkey_admin.get(STATE_KEY), key=STATE_KEY)
    assert state.trigger_count == 3
