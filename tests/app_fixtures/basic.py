"""An App with one job of each schedule kind, a failing job, and a few things that are not Apps."""

from __future__ import annotations

from datetime import UTC, datetime

from cronkit import App, JobTimeWindow, RunContext
from cronkit.testing import FakeClock

# A fake clock that never moves: `jobs` shows fire times relative to a fixed instant.
app = App(clock=FakeClock(datetime(2025, 3, 29, 12, 0, tzinfo=UTC)))


@app.interval(minutes=5, id="every-5-minutes")
async def tick() -> None:
    print("tick", flush=True)


@app.cron("30 2 * * *", id="nightly", timezone="Europe/Berlin", missed="skip")
async def nightly(ctx: RunContext) -> None:
    print("nightly", ctx.scheduled_at, flush=True)


@app.at("2025-12-24T18:00:00+01:00", id="once", max_runs=1)
def once() -> None:
    print("once", flush=True)


@app.interval(hours=1, id="ok")
def ok(ctx: RunContext) -> None:
    print(f"ok ran ({ctx.source})", flush=True)


@app.interval(hours=1, id="boom")
async def boom() -> None:
    raise ValueError("the job failed on purpose")


@app.interval(hours=1, id="closed", window=JobTimeWindow(segments="00:00-00:01"))
async def closed() -> None:
    print("closed ran", flush=True)


def factory() -> App:
    return app


def not_an_app_factory() -> int:
    return 42


not_an_app = 42
