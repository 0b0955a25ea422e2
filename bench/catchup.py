"""Issue 2: catching up after a year of downtime, under CATCH_UP_ONCE and under SKIP.

A per-minute job (cron `* * * * *`, and `Interval(1 min)` for comparison) whose stored state
says `next_run_at = 2025-01-01T00:01Z` starts on the bare engine at 2026-01-01T00:00:30Z
(`FakeClock`, in-memory store): 525,600 occurrences are due. Measured: wall time from
`Scheduler.run(job)` to the decision (the catch-up run starting, or the `RunSkipped` event
covering every missed occurrence). Each repetition uses a freshly parsed expression (the
parse cache is cleared), so every number is a cold start, as after a real restart; each run
also checks the decision (count, scheduled instant, `catch_up` flag).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._report import Section, Target, fmt, table
from bench._util import clear_cron_parse_cache, median
from cronkit import (
    Cron,
    InMemoryStateStore,
    Interval,
    Job,
    JobState,
    RunSkipped,
    RunStarted,
    Scheduler,
    SchedulerEvent,
    Task,
    TaskContext,
)
from cronkit.testing import FakeClock

__all__ = ["cases", "catch_up", "report"]

ID = "CATCHUP"
TITLE = "Issue 2 — catching up after a year of downtime"
STORED_NEXT = datetime(2025, 1, 1, 0, 1, tzinfo=UTC)
RESTART = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
DUE = 525_600
NEWEST = datetime(2026, 1, 1, tzinfo=UTC)


class _Decision:
    def __init__(self) -> None:
        self.at: float | None = None
        self.event: SchedulerEvent | None = None
        self.done = asyncio.get_running_loop().create_future()

    def on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, RunStarted | RunSkipped) and self.at is None:
            self.at = time.perf_counter()
            self.event = event
            self.done.set_result(None)


async def _noop(context: TaskContext[None]) -> None:
    pass


async def catch_up(policy: str, kind: str, repeats: int) -> dict[str, Any]:
    """Time `repeats` cold catch-ups of a year of a per-minute `kind` job under `policy`."""

    times, problems = [], []
    for i in range(repeats):
        clear_cron_parse_cache()
        schedule = Cron("* * * * *") if kind == "cron" else Interval(timedelta(minutes=1))
        store = InMemoryStateStore()
        job_id = f"catch-up-{i}"
        await store.save(
            JobState(job_id, next_run_at=STORED_NEXT, schedule_fingerprint=schedule.fingerprint())
        )
        decision = _Decision()
        scheduler = Scheduler(store=store, clock=FakeClock(RESTART), observer=decision)
        job = Job(job_id, schedule, Task.from_async(_noop), missed=policy)
        began = time.perf_counter()
        running = asyncio.create_task(scheduler.run(job))
        await asyncio.wait_for(decision.done, timeout=60)
        assert decision.at is not None
        times.append(decision.at - began)
        scheduler.handle().shutdown()
        report = await running
        event = decision.event
        if report.state.trigger_count != DUE:
            problems.append(f"trigger_count {report.state.trigger_count}")
        if policy == "skip" and not (isinstance(event, RunSkipped) and event.count == DUE):
            problems.append(f"expected one RunSkipped of {DUE}, got {event!r}")
        if policy == "catch_up_once" and not (
            isinstance(event, RunStarted) and event.scheduled_at == NEWEST and event.catch_up
        ):
            problems.append(f"expected a catch-up run for {NEWEST}, got {event!r}")
    return {"times_s": times, "problems": problems}


def cases(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    repeats = 3 if quick else 7
    return [
        (
            f"{kind}/{policy}",
            "bench.catchup:catch_up",
            {"policy": policy, "kind": kind, "repeats": repeats},
        )
        for kind in ("cron", "interval")
        for policy in ("catch_up_once", "skip")
    ]


def report(results: dict[str, list[dict[str, Any]]], quick: bool) -> Section:
    rows, targets = [], []
    for key, reps in results.items():
        kind, policy = key.split("/")
        times = [t for r in reps for t in r["times_s"]]
        problems = [p for r in reps for p in r["problems"]]
        med, worst = median(times), max(times) if times else None
        rows.append(
            [
                f"`{'* * * * *' if kind == 'cron' else 'Interval(1 min)'}`",
                policy.upper(),
                f"{DUE:,}",
                fmt(med * 1e3 if med else None, 3),
                fmt(worst * 1e3 if worst else None, 3),
                "yes" if not problems else "NO: " + "; ".join(sorted(set(problems))),
            ]
        )
        if worst is not None:
            targets.append(
                Target(
                    "issue 2",
                    f"catch up a year of per-minute {kind} under {policy.upper()} "
                    "(slowest cold start)",
                    f"{worst * 1e3:.1f} ms",
                    "< 200 ms",
                    worst < 0.2 and not problems,
                    f"{(1 - worst / 0.2) * 100:.0f}% under"
                    if worst < 0.2
                    else f"{(worst / 0.2 - 1) * 100:.0f}% over",
                    note_key="CATCHUP",
                )
            )
    header = ["schedule", "policy", "due occurrences", "median ms", "slowest ms", "decision right"]
    n = sum(len(r["times_s"]) for reps in results.values() for r in reps[:1])
    body = table(header, rows) + (
        f"\n\n{n // max(len(results), 1)} cold starts per process and repetition "
        "(the parse cache is cleared before each)."
    )
    return Section(ID, TITLE, body, targets)
