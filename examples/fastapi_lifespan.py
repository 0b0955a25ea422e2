"""cronkit inside a FastAPI service: the jobs run while the web app runs.

Run it with `uvicorn examples.fastapi_lifespan:api`. The lifespan starts the scheduler with the
service and shuts it down gracefully (active runs finish) when the service stops; an endpoint
shows what the jobs did and one triggers a job by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

from cronkit import App, RunContext

scheduler = App()
seen: list[str] = []


@scheduler.interval(minutes=5, id="refresh-cache")
async def refresh_cache(ctx: RunContext) -> None:
    seen.append(f"refreshed for {ctx.scheduled_at.isoformat()}")


@scheduler.cron("0 3 * * *", timezone="Europe/Berlin", id="nightly-cleanup")
async def nightly_cleanup() -> None:
    seen.append("cleaned up")


@asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    async with scheduler.running():
        yield


api = FastAPI(lifespan=lifespan)


@api.get("/jobs")
async def jobs() -> list[dict[str, Any]]:
    """Each job with its last run, as the scheduler reports it."""
    rows = []
    for job_id in scheduler.jobs:
        report = scheduler.report(job_id)
        last = report.history[-1] if report is not None and report.history else None
        rows.append(
            {
                "id": job_id,
                "last_status": None if last is None else last.status.value,
                "last_error": None if last is None else last.error,
            }
        )
    return rows


@api.post("/jobs/{job_id}/trigger", status_code=202)
async def trigger(job_id: str) -> dict[str, str]:
    """Run a job once now, next to its schedule (an unknown id is a 404)."""
    if job_id not in scheduler.jobs:
        raise HTTPException(status_code=404, detail=f"no job {job_id!r}")
    scheduler.handle(job_id).trigger_now()
    return {"triggered": job_id}
