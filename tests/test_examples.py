"""Every example runs: the quickstart for real (it is `make demo`), the others under fake time."""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from cronkit import App
from cronkit.testing import FakeClock
from tests.app_fixtures.harness import finish, start

ROOT = Path(__file__).resolve().parent.parent


def example_app(name: str, clock: FakeClock) -> App:
    """The App of `examples/<name>.py`, on `clock` instead of the system clock."""
    module: ModuleType = importlib.import_module(f"examples.{name}")
    app: App = module.app
    app.clock = clock
    return app


def test_quickstart_runs_prints_and_ends_by_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cronkit", "examples.quickstart:app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum("heartbeat #" in line for line in lines) == 4
    assert sum("report for" in line for line in lines) == 2
    assert any("minutely (manual run)" in line for line in lines)
    assert any("wrap-up: shutting down" in line for line in lines)
    summary = lines[lines.index("summary") + 2 :]
    assert [line.split()[0] for line in summary] == [
        "heartbeat",
        "report",
        "minutely",
        "kick",
        "wrap-up",
    ]
    rows = {line.split()[0]: line.split()[1:] for line in summary}
    assert rows["heartbeat"] == ["4", "success=4", "terminal"]
    assert rows["report"] == ["2", "success=2", "terminal"]
    assert rows["minutely"][2] == "shutdown"  # the cron job never ends by itself


async def test_depends_example(capsys: pytest.CaptureFixture[str]) -> None:
    app = example_app("depends", FakeClock("2025-01-01T00:00:00Z"))
    task = await start(app)
    await finish(app, task)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "api client created (zone UTC)"  # app scope: before the first run
    assert out[-1] == "api client closed after 2 call(s)"  # ... and after the last
    assert out.count("  settings loaded") == 3  # once per run, though used twice in sync-orders
    assert out.count("  connection opened to postgres://db/orders") == 3
    assert out.count("  connection closed") == 3
    assert out.count("  committed 2 change(s)") == 2
    assert "  rolled back 1 change(s) after RuntimeError('disk full')" in out
    assert [line for line in out if line.startswith("sync-orders")] == [
        "sync-orders run #1 in region eu",
        "sync-orders run #2 in region eu",
    ]


async def test_windows_and_policies_example(capsys: pytest.CaptureFixture[str]) -> None:
    # Monday 10:00 in Berlin: inside office hours, outside the night shift.
    app = example_app("windows_and_policies", FakeClock("2025-01-06T10:00:00+01:00"))
    task = await start(app)
    await finish(app, task)
    out = capsys.readouterr().out.splitlines()
    assert out.count("office-hours ran at Mon 10:00 local time") == 2
    assert out.count("  night-shift: skipped (outside_time_window)") == 2
    assert "  missed-skip: skipped x3 (missed)" in out
    assert "missed-skip ran (it should not)" not in out
    assert "missed-catch-up-once ran once for 11:00Z (catch_up=True)" in out
    replays = [line for line in out if line.startswith("missed-replay-all")]
    assert replays == [f"missed-replay-all ran for {hour}:00Z" for hour in ("09", "10", "11")]
    assert [line for line in out if line.startswith("overlap-forbid")] == [
        "overlap-forbid run #1 started",
        "overlap-forbid run #3 started",
    ]
    assert "  overlap-forbid: skipped (overlap)" in out
    assert len([line for line in out if line.startswith("overlap-queue-one")]) == 3
    assert "  too-slow: timed_out (TimeoutError: run exceeded 0:00:00.500000)" in out
    assert "too-slow finished (it should not)" not in out


def test_an_example_runs_as_a_script_too() -> None:
    result = subprocess.run(
        [sys.executable, "examples/depends.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "api client closed after 2 call(s)"
    assert "status=failed error=RuntimeError: disk full" in result.stderr  # a warning


async def test_fastapi_lifespan_runs_the_jobs_with_the_service(clock: FakeClock) -> None:
    import httpx

    from cronkit import RunStatus, TriggerSource

    module: ModuleType = importlib.import_module("examples.fastapi_lifespan")
    scheduler: App = module.scheduler
    scheduler.clock = clock
    transport = httpx.ASGITransport(app=module.api)
    async with (
        module.lifespan(module.api),
        httpx.AsyncClient(transport=transport, base_url="http://service") as client,
    ):
        await clock.advance(timedelta(minutes=5))
        answer = await client.get("/jobs")
        assert answer.status_code == 200
        assert answer.json() == [
            {"id": "refresh-cache", "last_status": "success", "last_error": None},
            {"id": "nightly-cleanup", "last_status": None, "last_error": None},
        ]
        assert (await client.post("/jobs/nightly-cleanup/trigger")).status_code == 202
        await clock.settle()
        assert (await client.post("/jobs/nope/trigger")).status_code == 404
    [manual] = scheduler.report("nightly-cleanup").history
    assert (manual.status, manual.source) == (RunStatus.SUCCESS, TriggerSource.MANUAL)
    assert module.seen == [
        "refreshed for 2025-01-01T00:05:00+00:00",
        "cleaned up",
    ]
    assert scheduler.report("refresh-cache").history[-1].status is RunStatus.SUCCESS
