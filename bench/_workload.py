"""The workloads every system runs, defined once so that the systems run exactly the same thing.

- **Precision** (S1, issue 3): `n` jobs on a 1-second interval. Job `j` first fires at
  `base + j / n` (the phases are spread evenly over the second, the same for every system:
  S3 measures the aligned case), then every second. After `warmup` seconds the window of
  `duration` seconds starts; each run's body appends `(started, scheduled)` and nothing else.
  Runs whose scheduled instant falls in the window are counted; expected = `n * duration`.
- **Idle** (S2): `n` cron jobs that will not fire during the test (each fires once a year,
  six months from now); registration, memory per job, then `duration` seconds of idling.
- **Herd** (S3): `n` one-shot jobs due at the same instant; time from the instant to the last
  start, lateness of each start.

`Window` turns the samples a system collected into the numbers reported.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench._util import (
    CpuWindow,
    current_rss_kib,
    lateness_summary,
    peak_rss_kib,
    settle_memory,
)

__all__ = [
    "IDLE_EXPRESSIONS",
    "PERIOD_S",
    "Window",
    "idle_expressions",
    "idle_result",
    "precision_result",
]

PERIOD_S = 1.0
IDLE_EXPRESSIONS = 1440  # distinct expressions in S2: every minute of a day, one day a year


def idle_expressions(n: int, now: datetime | None = None) -> list[tuple[int, int, int, int]]:
    """`(minute, hour, day, month)` of `n` yearly cron jobs that will not fire soon.

    They all fire on the 1st of the month six months from now, at distinct minutes of the day
    (1,440 distinct expressions, repeated beyond that), so no job fires during the test and
    each system parses realistic, mostly distinct expressions.
    """
    now = now or datetime.now(UTC)
    month = (now.month + 5) % 12 + 1
    return [(i % 60, (i // 60) % 24, 1, month) for i in range(n)]


@dataclass
class Window:
    """The measurement window of a precision run, in the system's own clock (seconds)."""

    start: float
    end: float

    @classmethod
    def after(cls, base: float, warmup: float, duration: float) -> Window:
        return cls(base + warmup, base + warmup + duration)


def precision_result(
    samples: list[tuple[float, float]],
    window: Window,
    cpu: CpuWindow,
    n: int,
    duration: float,
    **extra: Any,
) -> dict[str, Any]:
    """The numbers of a precision run from its `(started, scheduled)` samples."""
    lateness = [
        started - scheduled
        for started, scheduled in samples
        if window.start <= scheduled < window.end
    ]
    runs = len(lateness)
    expected = round(n * duration / PERIOD_S)
    return {
        "runs": runs,
        "expected": expected,
        "cpu_s": cpu.cpu_s,
        "wall_s": cpu.wall_s,
        "cpu_per_1000_runs_s": cpu.cpu_s / runs * 1000 if runs else float("nan"),
        **lateness_summary(lateness),
        "peak_rss_mib": peak_rss_kib() / 1024,
        **extra,
    }


async def idle_result(
    n: int,
    duration: float,
    *,
    rss0: float,
    rss_declared: float,
    registration_s: float,
    start_s: float,
) -> dict[str, Any]:
    """S2's numbers once `n` jobs are registered and started: memory, then idle CPU."""
    await asyncio.sleep(0.2)
    settle_memory()
    rss1 = current_rss_kib()
    cpu = CpuWindow()
    await asyncio.sleep(duration)
    cpu.stop()
    return {
        "registration_s": registration_s,
        "start_s": start_s,
        "kib_per_job": (rss1 - rss0) / n,
        "kib_per_job_declared": (rss_declared - rss0) / n,
        "idle_cpu_s": cpu.cpu_s,
        "idle_wakeups": cpu.wakeups,
        "idle_wall_s": cpu.wall_s,
    }
