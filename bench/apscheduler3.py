"""APScheduler 3.11 (`AsyncIOScheduler`, default memory job store and asyncio executor).

The most used peer. Jobs are added as a user would, with triggers in UTC and the defaults
(`coalesce=True`, `max_instances=1`, `misfire_grace_time=1`). APScheduler does not pass the
scheduled instant to the job, so the S1 body records its start and the job index; the
scheduled instant is recovered from the job's known anchor (`anchor + whole periods`), exact
while a run is less than a period late.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bench._util import CpuWindow, current_rss_kib, lateness_summary, settle_memory
from bench._workload import PERIOD_S, Window, idle_expressions, idle_result, precision_result

__all__ = ["herd", "idle", "precision"]

_samples: list[tuple[float, int]] = []
_record = _samples.append
_now = time.time


async def tick(j: int) -> None:
    _record((_now(), j))


async def precision(n: int, warmup: float, duration: float, margin: float = 1.0) -> dict[str, Any]:
    """S1: `n` interval jobs every second, phases spread over the second."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    base = time.time() + margin
    anchors = [datetime.fromtimestamp(base + j / n, UTC) for j in range(n)]
    began = time.perf_counter()
    for j, anchor in enumerate(anchors):
        trigger = IntervalTrigger(seconds=PERIOD_S, start_date=anchor, timezone=UTC)
        scheduler.add_job(tick, trigger, args=(j,), id=f"job-{j}")
    scheduler.start()
    declared_s = time.perf_counter() - began
    window = Window.after(base, warmup, duration)
    await asyncio.sleep(window.start - time.time())
    cpu = CpuWindow()
    await asyncio.sleep(window.end - time.time())
    cpu.stop()
    scheduler.shutdown(wait=False)
    epochs = [anchor.timestamp() for anchor in anchors]
    samples = []
    for started, j in _samples:
        periods = math.floor((started - epochs[j]) / PERIOD_S)
        samples.append((started, epochs[j] + periods * PERIOD_S))
    return precision_result(samples, window, cpu, n, duration, declared_s=declared_s)


async def idle(n: int, duration: float) -> dict[str, Any]:
    """S2: `n` yearly cron jobs; registration, memory per job, idle CPU."""

    async def noop() -> None:
        raise AssertionError("an idle job fired")

    expressions = idle_expressions(n)
    scheduler = AsyncIOScheduler(timezone=UTC)
    settle_memory()
    rss0 = current_rss_kib()
    began = time.perf_counter()
    for j, (minute, hour, day, month) in enumerate(expressions):
        trigger = CronTrigger.from_crontab(f"{minute} {hour} {day} {month} *", timezone=UTC)
        scheduler.add_job(noop, trigger, id=f"cron-{j}")
    registration_s = time.perf_counter() - began
    settle_memory()
    rss_declared = current_rss_kib()
    began = time.perf_counter()
    scheduler.start()
    await asyncio.sleep(0)
    start_s = time.perf_counter() - began
    result = await idle_result(
        n,
        duration,
        rss0=rss0,
        rss_declared=rss_declared,
        registration_s=registration_s,
        start_s=start_s,
    )
    scheduler.shutdown(wait=False)
    return result


async def herd(n: int, margin: float = 2.0) -> dict[str, Any]:
    """S3: `n` one-shot date jobs due at the same instant."""
    starts: list[float] = []

    async def once() -> None:
        starts.append(time.time())

    instant = datetime.fromtimestamp(round(time.time() + margin, 3), UTC)
    scheduler = AsyncIOScheduler(timezone=UTC)
    for j in range(n):
        scheduler.add_job(once, DateTrigger(run_date=instant, timezone=UTC), id=f"once-{j}")
    scheduler.start()
    await asyncio.sleep(instant.timestamp() - time.time() + 1.0)
    deadline = time.time() + 30
    while len(starts) < n and time.time() < deadline:
        await asyncio.sleep(0.1)
    scheduler.shutdown(wait=False)
    lateness = [start - instant.timestamp() for start in starts]
    return {
        "runs": len(starts),
        "last_start_ms": max(lateness) * 1e3 if lateness else float("nan"),
        **lateness_summary(lateness),
    }
