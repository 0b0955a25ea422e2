"""The command line, run for real: `python -m cronkit` in a subprocess.

The subprocesses run in real time, so each is short: jobs are due at start (a past instant)
or triggered, and every wait is bounded. `test_cli_inprocess.py` covers the same code paths
that need no process of their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = "tests.app_fixtures"
TIMEOUT = 20


def cronkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cronkit", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last line of stderr, which must be the one-line error."""
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            f"{FIXTURES}.no_such_module:app",
            f"cronkit: error: module '{FIXTURES}.no_such_module' not found; run cronkit from ",
        ),
        (
            f"{FIXTURES}.broken:app",
            f"cronkit: error: importing module '{FIXTURES}.broken' failed: RuntimeError: this "
            "module is broken on purpose (traceback above)",
        ),
        (
            f"{FIXTURES}.needs_missing:app",
            f"cronkit: error: importing module '{FIXTURES}.needs_missing' failed: "
            "ModuleNotFoundError: No module named 'cronkit_no_such_package' (traceback above)",
        ),
        (
            f"{FIXTURES}.basic:application",
            f"cronkit: error: module '{FIXTURES}.basic' has no attribute 'application' (it has "
            "the App 'app'); write 'module:attribute' with the name of your App",
        ),
        (
            f"{FIXTURES}.basic:not_an_app",
            f"cronkit: error: '{FIXTURES}.basic:not_an_app' is int 42, not a cronkit App; ",
        ),
        (
            f"{FIXTURES}.basic:not_an_app_factory",
            f"cronkit: error: the factory '{FIXTURES}.basic:not_an_app_factory' returned int 42, "
            "not a cronkit App; ",
        ),
        (f"{FIXTURES}.basic", f"cronkit: error: '{FIXTURES}.basic' is not 'module:attribute'"),
    ],
    ids=[
        "module-not-found",
        "error-inside-module",
        "missing-import-inside-module",
        "attribute-missing",
        "not-an-app",
        "factory-returns-no-app",
        "no-attribute-given",
    ],
)
def test_each_loader_error_has_its_own_one_line_message(spec: str, message: str) -> None:
    result = cronkit("check", spec)
    assert result.returncode == 1
    assert error_line(result).startswith(message)
    assert result.stdout == ""
    if "traceback above" in message:
        assert result.stderr.startswith("Traceback (most recent call last):")
    else:
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [("--log-level", "loud", f"{FIXTURES}.basic:app"), ("trigger",), ("run", "a", "b")],
    ids=["bad-log-level", "trigger-without-job", "extra-argument"],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = cronkit(*args)
    assert result.returncode == 2
    assert "usage: cronkit" in result.stderr


@pytest.mark.parametrize(
    ("args", "command"),
    [
        ((), "run"),
        (("--log-level", "debug"), "run"),
        (("run",), "run"),
        (("trigger", "ok"), "trigger"),
        (("status", "--json"), "status"),
    ],
    ids=["nothing", "only-an-option", "run", "trigger-with-job", "status"],
)
def test_a_missing_app_is_named_as_such(args: tuple[str, ...], command: str) -> None:
    result = cronkit(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(f"usage: cronkit {command} ")
    assert error_line(result) == (
        f"cronkit {command}: error: missing APP: give the module:attribute of your App, "
        "e.g. myapp:app"
    )


def test_jobs_prints_the_next_fire_times() -> None:
    result = cronkit("jobs", f"{FIXTURES}.basic:factory")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "ID", "SCHEDULE", "ZONE", "WINDOW", "MISSED", "OVERLAP", "LIMITS", "NEXT", "RUNS"
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == ["every-5-minutes", "nightly", "once", "ok", "boom", "closed"]
    # The fixture's clock stands at 2025-03-29 12:00Z; Berlin skips 02:00-03:00 on the 30th.
    assert " 30 2 * * *  " in rows["nightly"]
    assert " Europe/Berlin  -  " in rows["nightly"]
    assert " skip " in rows["nightly"]
    assert rows["nightly"].endswith(
        "2025-03-30 03:00:00+02:00, 2025-03-31 02:30:00+02:00, 2025-04-01 02:30:00+02:00"
    )
    assert " every 5m " in rows["every-5-minutes"]
    assert rows["every-5-minutes"].endswith(
        "2025-03-29 12:05:00+00:00, 2025-03-29 12:10:00+00:00, 2025-03-29 12:15:00+00:00"
    )
    assert " at 2025-12-24T17:00:00Z " in rows["once"]
    assert " max_runs=1 " in rows["once"]
    assert rows["once"].endswith("2025-12-24 17:00:00+00:00")  # max_runs=1: one fire time
    # Hourly from 12:00, but runs may start only in 00:00-00:01: one a day, at midnight.
    assert " every day 00:00-00:01 " in rows["closed"]
    assert rows["closed"].endswith(
        "2025-03-30 00:00:00+00:00, 2025-03-31 00:00:00+00:00, 2025-04-01 00:00:00+00:00"
    )


def test_jobs_json_is_a_parseable_list_with_rfc3339_instants() -> None:
    result = cronkit("jobs", "--json", f"{FIXTURES}.basic:app")
    assert result.returncode == 0, result.stderr
    jobs = {job["id"]: job for job in json.loads(result.stdout)}
    assert jobs["once"] == {
        "id": "once",
        "schedule": "at 2025-12-24T17:00:00Z",
        "timezone": "UTC",
        "window": None,
        "missed": "catch_up_once",
        "overlap": "forbid",
        "limits": {"max_runs": 1},
        "next_runs": [
            {
                "at": "2025-12-24T17:00:00Z",
                "scheduled_at": "2025-12-24T17:00:00Z",
                "catch_up": False,
                "occurrences": 1,
            }
        ],
        "search_truncated": False,
    }
    assert [run["at"] for run in jobs["nightly"]["next_runs"]] == [
        "2025-03-30T01:00:00Z",
        "2025-03-31T00:30:00Z",
        "2025-04-01T00:30:00Z",
    ]
    assert jobs["closed"]["window"] == "every day 00:00-00:01"


def test_status_of_an_app_that_never_ran_shows_dashes() -> None:
    result = cronkit("status", f"{FIXTURES}.basic:app")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "ID", "SCHEDULE", "NEXT", "RUN", "LAST", "RUN", "LAST", "STATUS", "LAST", "ERROR"
    ]  # fmt: skip
    assert lines[1].split() == ["every-5-minutes", "every", "5m", "-", "-", "never", "-"]
    assert len(lines) == 7


def test_status_shows_corrupt_state_in_its_row_and_exits_1() -> None:
    result = cronkit("status", "--json", f"{FIXTURES}.corrupt:app")
    assert result.returncode == 1
    healthy, broken = json.loads(result.stdout)
    assert healthy["id"] == "healthy"
    assert (healthy["stored"], healthy["last_status"], healthy["next_run_at"]) == (
        False,
        "never",
        None,
    )
    assert broken == {
        "id": "broken",
        "schedule": "at 2000-01-01T00:00:00Z",
        "error": "stored state at key 'jobs:broken' is not valid cronkit job state: "
        "'next_run_at' is not an instant. Inspect or delete that key; cronkit will not "
        "overwrite it.",
    }


def test_check_loads_and_validates_only() -> None:
    result = cronkit("check", f"{FIXTURES}.basic:app")
    assert (result.returncode, result.stdout) == (0, f"{FIXTURES}.basic:app: 6 job(s) OK\n")


def test_trigger_runs_one_job_and_exits_0_on_success() -> None:
    result = cronkit("trigger", "ok", f"{FIXTURES}.basic:app")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ok ran (manual)", "job 'ok': success in 0.000s"]
    assert "RunCompleted job=ok" in result.stderr  # the event log is on at --log-level info


def test_trigger_exits_1_when_the_run_fails() -> None:
    result = cronkit("--log-level", "error", "trigger", "boom", f"{FIXTURES}.basic:app")
    assert result.returncode == 1
    assert result.stdout == (
        "job 'boom': failed in 0.000s: ValueError: the job failed on purpose\n"
    )
    assert result.stderr == ""


def test_trigger_exits_1_when_the_run_is_skipped() -> None:
    result = cronkit("trigger", "closed", f"{FIXTURES}.basic:app")
    assert result.returncode == 1
    assert result.stdout == "job 'closed' was skipped (outside_time_window)\n"


def test_trigger_of_an_unknown_job_lists_the_jobs() -> None:
    result = cronkit("trigger", "nope", f"{FIXTURES}.basic:app")
    assert result.returncode == 1
    assert error_line(result) == (
        "cronkit: error: the App has no job 'nope'; its jobs are: 'every-5-minutes', "
        "'nightly', 'once', 'ok', 'boom', 'closed'"
    )


def test_run_is_the_default_command_and_exits_0_when_every_job_is_done() -> None:
    result = cronkit(f"{FIXTURES}.slow:app", "--log-level", "warning", env={"HOLD_SECONDS": "0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\nfinished\n"


def test_run_exits_1_when_a_job_stopped_on_a_fatal_error() -> None:
    result = cronkit("run", f"{FIXTURES}.corrupt:app")
    assert result.returncode == 1
    assert result.stdout == "healthy ran\n"
    assert "job 'broken' stopped on a fatal error" in result.stderr
    assert error_line(result) == "cronkit: error: job(s) stopped on a fatal error: 'broken'"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_valkey_url_with_a_bad_scheme_is_a_clear_error(how: str) -> None:
    url = "http://localhost:6379"
    if how == "option":
        result = cronkit("--valkey-url", url, "check", f"{FIXTURES}.basic:app")
    else:
        result = cronkit("check", f"{FIXTURES}.basic:app", env={"CRONKIT_VALKEY_URL": url})
    assert result.returncode == 1
    line = error_line(result)
    assert line.startswith("cronkit: error: Valkey URL 'http://localhost:6379' has the scheme")
    assert "redis://" in line
    assert "valkey://" in line


def start_slow(spec: str) -> subprocess.Popen[str]:
    """Start `spec` and wait until its job printed that it started."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cronkit", spec],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "started\n"
    return process


def test_sigterm_while_a_job_runs_lets_it_finish_and_exits_0() -> None:
    process = start_slow(f"{FIXTURES}.slow:app")
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr
    assert stdout == "finished\n"
    assert "received SIGTERM: shutting down" in stderr
    assert "status=success" in stderr
    assert "reason=shutdown" in stderr


def test_a_second_sigint_cancels_the_running_job() -> None:
    began = time.monotonic()
    process = start_slow(f"{FIXTURES}.slow:long_app")  # its job would take 30 seconds
    process.send_signal(signal.SIGINT)
    assert process.stderr is not None
    for _ in range(10):  # the first signal was handled once it is logged
        if "received SIGINT: shutting down" in process.stderr.readline():
            break
    else:
        pytest.fail("the first SIGINT was not logged")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr
    assert stdout == ""  # never finished
    assert "received SIGINT again: cancelling active runs" in stderr
    assert "status=cancelled" in stderr
    assert time.monotonic() - began < 15
