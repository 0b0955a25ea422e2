"""cronkit as a system under test: the S1, S2 and S3 workloads through the App and the engine.

Three ways to run the S1 workload:

- `app`: what a user writes: `App()` with its defaults (`LogObserver`, logging left at
  WARNING), one `@app.interval(seconds=1, id=...)` async function per job that takes the
  `RunContext` by annotation.
- `app_depends` (issue 3): the same with one cached dependency (`Depends(get_settings)`,
  a plain function resolved once per run).
- `engine` (issue 3): the bare engine, no App, no Depends: one `Scheduler` running `n` jobs
  whose task is a `Task.from_async` taking the `TaskContext`.
- `app_silent` (diagnosis only, not in the suite): `app` with `observers=[]`, i.e. without
  the default `LogObserver`, to measure what building events nobody logs costs.

Each job's phase is set by saving its state before the start (`next_run_at = base + j / n`),
which is how a restarted job resumes, so that every system runs the same spread schedule.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from bench._util import (
    CpuWindow,
    current_rss_kib,
    lateness_summary,
    settle_memory,
    window_begin,
    window_end,
)
from bench._workload import PERIOD_S, Window, idle_expressions, idle_result, precision_result
from cronkit import (
    App,
    Depends,
    InMemoryStateStore,
    Interval,
    Job,
    JobState,
    LogObserver,
    RunContext,
    Scheduler,
    SchedulerEvent,
    StateLoaded,
    Task,
    TaskContext,
)

__all__ = ["herd", "idle", "memory_profile", "precision"]

_samples: list[tuple[float, datetime]] = []
_record = _samples.append
_now = time.time


class Settings:
    """What the cached dependency of the `app_depends` variant returns."""

    def __init__(self) -> None:
        self.name = "bench"


_SETTINGS = Settings()


def get_settings() -> Settings:
    return _SETTINGS


async def tick(ctx: RunContext) -> None:
    _record((_now(), ctx.scheduled_at))


async def tick_depends(
    ctx: RunContext, settings: Annotated[Settings, Depends(get_settings)]
) -> None:
    _record((_now(), ctx.scheduled_at))


async def tick_engine(context: TaskContext[None]) -> None:
    _record((_now(), context.run.scheduled_at))


class _Loaded:
    """An observer that resolves a future once `n` jobs have loaded their state."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.all = asyncio.get_running_loop().create_future()

    def on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, StateLoaded):
            self.count += 1
            if self.count == self.n and not self.all.done():
                self.all.set_result(None)


async def _seed(store: InMemoryStateStore, n: int, base: float) -> None:
    fingerprint = Interval(timedelta(seconds=PERIOD_S)).fingerprint()
    for j in range(n):
        first = datetime.fromtimestamp(base + j / n, UTC)
        await store.save(JobState(f"job-{j}", next_run_at=first, schedule_fingerprint=fingerprint))


async def precision(
    n: int, warmup: float, duration: float, variant: str = "app", margin: float = 1.0
) -> dict[str, Any]:
    """S1 / issue 3: `n` jobs every second through `variant` (`app`, `app_depends`, `engine`,
    `app_silent`)."""
    store = InMemoryStateStore()
    base = time.time() + margin
    await _seed(store, n, base)
    every = timedelta(seconds=PERIOD_S)
    stop: Any
    began = time.perf_counter()
    if variant == "engine":
        scheduler = Scheduler(store=store)
        jobs = [Job(f"job-{j}", Interval(every), Task.from_async(tick_engine)) for j in range(n)]
        running: Any = asyncio.gather(*(scheduler.run(job) for job in jobs))
        stop = scheduler.handle().shutdown
    else:
        app = App(store=store, observers=[] if variant == "app_silent" else None)
        func = tick_depends if variant == "app_depends" else tick
        for j in range(n):
            app.interval(every, id=f"job-{j}")(func)
        running = asyncio.create_task(app.serve())
        stop = app.shutdown
    declared_s = time.perf_counter() - began
    window = Window.after(base, warmup, duration)
    await asyncio.sleep(window.start - time.time())
    cpu = CpuWindow()
    await asyncio.sleep(window.end - time.time())
    cpu.stop()
    stop()
    await running
    samples = [(started, scheduled.timestamp()) for started, scheduled in _samples]
    return precision_result(samples, window, cpu, n, duration, declared_s=declared_s)


async def idle(n: int, duration: float) -> dict[str, Any]:
    """S2: `n` yearly cron jobs through the App; registration, memory per job, idle CPU."""

    async def noop() -> None:
        raise AssertionError("an idle job fired")

    expressions = idle_expressions(n)
    loaded = _Loaded(n)
    app = App(observers=[LogObserver(), loaded])
    settle_memory()
    rss0 = current_rss_kib()
    began = time.perf_counter()
    for j, (minute, hour, day, month) in enumerate(expressions):
        app.cron(f"{minute} {hour} {day} {month} *", id=f"cron-{j}")(noop)
    registration_s = time.perf_counter() - began
    settle_memory()
    rss_declared = current_rss_kib()
    began = time.perf_counter()
    serving = asyncio.create_task(app.serve())
    await loaded.all
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
    app.shutdown()
    await serving
    return result


async def herd(n: int, margin: float = 2.0) -> dict[str, Any]:
    """S3: `n` one-shot `@app.at` jobs due at the same instant."""
    starts: list[float] = []

    async def once() -> None:
        starts.append(time.time())

    instant = datetime.fromtimestamp(round(time.time() + margin, 3), UTC)
    app = App()
    for j in range(n):
        app.at(instant, id=f"once-{j}")(once)
    serving = asyncio.create_task(app.serve())
    await asyncio.sleep(instant.timestamp() - time.time() - 0.05)
    window_begin()
    await asyncio.wait_for(serving, timeout=margin + 60)
    window_end()
    lateness = [start - instant.timestamp() for start in starts]
    return {
        "runs": len(starts),
        "last_start_ms": max(lateness) * 1e3 if lateness else float("nan"),
        **lateness_summary(lateness),
    }


async def memory_profile(n: int, top: int = 12) -> dict[str, Any]:
    """Where the memory of `n` idle cron jobs goes: tracemalloc, per job, by allocation site.

    Two steps: declaring the jobs (`@app.cron`) and starting them (`serve()` until every job
    waits for its timer).
    """
    import linecache
    import tracemalloc

    async def noop() -> None:
        raise AssertionError("an idle job fired")

    loaded = _Loaded(n)
    app = App(observers=[LogObserver(), loaded])
    expressions = idle_expressions(n)
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    for j, (minute, hour, day, month) in enumerate(expressions):
        app.cron(f"{minute} {hour} {day} {month} *", id=f"cron-{j}")(noop)
    declared = tracemalloc.take_snapshot()
    serving = asyncio.create_task(app.serve())
    await loaded.all
    await asyncio.sleep(0.1)
    started = tracemalloc.take_snapshot()
    tracemalloc.stop()
    app.shutdown()
    await serving
    steps = {}
    for step, (old, new) in {"declare": (before, declared), "start": (declared, started)}.items():
        stats = [s for s in new.compare_to(old, "lineno") if s.size_diff > 0]
        rows = []
        for stat in stats[:top]:
            frame = stat.traceback[0]
            where = _short_path(frame.filename)
            rows.append(
                {
                    "site": f"{where}:{frame.lineno}",
                    "code": linecache.getline(frame.filename, frame.lineno).strip()[:90],
                    "bytes_per_job": stat.size_diff / n,
                    "objects_per_job": stat.count_diff / n,
                }
            )
        steps[step] = {"bytes_per_job": sum(s.size_diff for s in stats) / n, "top": rows}
    return {"kind": "memory", "n": n, "steps": steps}


def _short_path(filename: str) -> str:
    """`cronkit/_runner.py`, `bench/...`, `stdlib/asyncio/tasks.py` or `<pkg>/...`."""
    stdlib = re.search(r"/lib/python3\.\d+/(?!site-packages/)(.*)", filename)
    if stdlib:
        return "stdlib/" + stdlib.group(1)
    for marker in ("/site-packages/", "/cronkit/", "/bench/"):
        if marker in filename:
            head = "" if marker == "/site-packages/" else marker.strip("/") + "/"
            return head + filename.rsplit(marker, 1)[1]
    return filename
