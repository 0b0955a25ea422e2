"""S5, a virtual year: 365 days of a per-minute cron job under `FakeClock`, in wall seconds.

No peer can do this: cronkit's engine takes all its time from a `Clock`, so a test can move
through a year of occurrences at once. Three ways, each in its own process:

- `app`: an `App(clock=FakeClock(...))` with `@app.cron("* * * * *")` on an async function that
  takes the `RunContext` and one cached dependency, `serve()` running as a task and the clock
  advanced by 365 days in one call (issue 5's workload);
- `run_app`: the same through `cronkit.testing.run_app(app, clock)` (SPEC §12), the helper a
  user's test would use, when this checkout has it (it also makes `datetime.now()` follow the
  fake clock);
- `engine`: one `Scheduler(clock=FakeClock(...))` running a `Job` with a `Task.from_async`,
  no App, no Depends (issue 2's workload).

Each run checks that it saw 525,600 runs (365 days) and that the n-th run was scheduled
n minutes after the start.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from bench._report import Profile, Section, Target, fmt, paired_ratio, table
from bench._util import median, peak_rss_kib
from cronkit import App, Cron, Depends, Job, RunContext, Scheduler, Task, TaskContext
from cronkit.testing import FakeClock

__all__ = ["cases", "report", "year"]

ID = "S5"
TITLE = "S5 — a virtual year under FakeClock"
_REAL = {"perf": time.perf_counter, "cpu": time.process_time}  # out of freezegun's reach
START = datetime(2025, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class Counter:
    """Counts runs and checks each one is the next minute."""

    def __init__(self) -> None:
        self.runs = 0
        self.wrong = 0
        self.expected = START + MINUTE

    def saw(self, scheduled_at: datetime) -> None:
        self.runs += 1
        if scheduled_at != self.expected:
            self.wrong += 1
        self.expected = scheduled_at + MINUTE


class Settings:
    """The cached dependency's value."""


_SETTINGS = Settings()
_counter = Counter()


def get_settings() -> Settings:
    return _SETTINGS


async def per_minute(ctx: RunContext, settings: Annotated[Settings, Depends(get_settings)]) -> None:
    _counter.saw(ctx.scheduled_at)


async def per_minute_task(context: TaskContext[None]) -> None:
    _counter.saw(context.run.scheduled_at)


async def year(variant: str, days: int) -> dict[str, Any]:
    """Simulate `days` days of `* * * * *` through `variant` (`app` or `engine`).

    `app` uses `cronkit.testing.run_app` when this checkout has it (falling back to a
    `serve()` task, with the error noted, if it fails), else a `serve()` task.
    """
    perf, cpu = _REAL["perf"], _REAL["cpu"]
    began, cpu0 = perf(), cpu()
    driver, run_app_error = variant, None
    if variant == "engine":
        clock = FakeClock(START)
        scheduler = Scheduler(clock=clock)
        job = Job("year", Cron("* * * * *"), Task.from_async(per_minute_task))
        running = asyncio.create_task(scheduler.run(job))
        await clock.settle()
        await clock.advance(timedelta(days=days))
        scheduler.handle().shutdown()
        await running
    else:
        driver = "serve"
        if has_run_app():
            try:
                await _through_run_app(days)
                driver = "run_app"
            except Exception as error:  # a helper still being built: measure without it
                run_app_error = f"{type(error).__name__}: {error}"
                _counter.__init__()  # type: ignore[misc]
                began, cpu0 = perf(), cpu()
        if driver == "serve":
            await _through_serve(days)
    wall_s, cpu_s = perf() - began, cpu() - cpu0
    return {
        "driver": driver,
        "run_app_error": run_app_error,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "runs": _counter.runs,
        "expected": days * 1440,
        "wrong_instants": _counter.wrong,
        "us_per_run": wall_s / _counter.runs * 1e6 if _counter.runs else float("nan"),
        "peak_rss_mib": peak_rss_kib() / 1024,
    }


def _app(clock: FakeClock) -> App:
    app = App(clock=clock)
    app.cron("* * * * *", id="year")(per_minute)
    return app


async def _through_serve(days: int) -> None:
    clock = FakeClock(START)
    app = _app(clock)
    serving = asyncio.create_task(app.serve())
    await clock.settle()
    await clock.advance(timedelta(days=days))
    app.shutdown()
    await serving


async def _through_run_app(days: int) -> None:
    import cronkit.testing

    clock = FakeClock(START)
    async with cronkit.testing.run_app(_app(clock), clock):  # type: ignore[attr-defined]
        await clock.advance(timedelta(days=days))


def has_run_app() -> bool:
    """Whether this checkout's `cronkit.testing` has `run_app` (issue 5)."""
    import cronkit.testing

    return hasattr(cronkit.testing, "run_app")


def cases(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    days = 30 if quick else 365
    return [(v, "bench.s5_year:year", {"variant": v, "days": days}) for v in ("app", "engine")]


LABELS = {
    "app": "App + cached Depends under FakeClock",
    "engine": "bare engine (`Scheduler`, no App)",
}
DRIVERS = {
    "run_app": "driven by `cronkit.testing.run_app(app, clock)`",
    "serve": "`app.serve()` as a task, clock advanced by the benchmark",
    "engine": "`Scheduler.run(job)` as a task, clock advanced by the benchmark",
}


def report(results: dict[str, list[dict[str, Any]]], quick: bool) -> Section:
    rows, targets, notes = [], [], []
    engine_walls = [r["wall_s"] for r in results.get("engine", [])]
    for key, label in LABELS.items():
        reps = results.get(key)
        if not reps:
            continue
        wall = median(r["wall_s"] for r in reps)
        runs = median(r["runs"] for r in reps)
        ok = all(r["runs"] == r["expected"] and r["wrong_instants"] == 0 for r in reps)
        drivers = sorted({r.get("driver", key) for r in reps})
        notes += sorted({r["run_app_error"] for r in reps if r.get("run_app_error")})
        rows.append(
            [
                label,
                "; ".join(DRIVERS.get(d, d) for d in drivers),
                f"{fmt(runs, 0)} / {reps[0]['expected']:,}" + ("" if ok else " (WRONG)"),
                fmt(wall, 3),
                fmt(median(r["cpu_s"] for r in reps), 3),
                fmt(median(r["us_per_run"] for r in reps), 3),
                fmt(paired_ratio([r["wall_s"] for r in reps], engine_walls), 3, "x"),
                fmt(median(r["peak_rss_mib"] for r in reps), 3),
            ]
        )
        if wall is not None:
            days = reps[0]["expected"] / 1440
            year_s = wall * 365 / days
            goal = 20.0
            targets.append(
                Target(
                    "S5" if key != "engine" else "issue 2",
                    f"virtual year of `* * * * *`: {label}"
                    + ("" if days == 365 else f" (extrapolated from {days:.0f} days)"),
                    f"{year_s:.2f} s" + ("" if ok else ", wrong runs"),
                    "< 20 s",
                    year_s < goal and ok,
                    f"{(1 - year_s / goal) * 100:.0f}% under"
                    if year_s < goal
                    else f"{(year_s / goal - 1) * 100:.0f}% over",
                    note_key="S5",
                )
            )
    header = ["system", "how", "runs", "wall s", "CPU s", "µs per run", "vs engine", "peak RSS MiB"]
    body = table(header, rows)
    if not has_run_app():
        body += (
            "\n\n`cronkit.testing.run_app` (issue 5) is not in this checkout yet; the App row "
            "drives `app.serve()` as a task under the `FakeClock` instead."
        )
    for note in notes:
        body += f"\n\n`run_app` failed, so the App row used `serve()`: {note}"
    return Section(ID, TITLE, body, targets, _profiles(targets))


def _profiles(targets: list[Target]) -> list[Profile]:
    if all(t.met is not False for t in targets):
        return []
    return [
        Profile(
            "30 virtual days of `* * * * *` through the App under FakeClock (S5)",
            "bench.s5_year:year",
            {"variant": "app", "days": 30},
            whole=True,
        )
    ]
