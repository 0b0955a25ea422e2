"""Cron evaluation speed: cronkit's `next_after` and year count against croniter's `get_next`.

Run with `python bench/bench_cron.py`. Prints microseconds per warm call (best of 5 rounds)
for each expression and zone, and the time to count a year of a per-minute job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from cronkit._schedules import Cron

EXPRESSIONS = ("* * * * *", "*/5 9-17 * * mon-fri", "30 2 * * *")
ZONES = ("UTC", "Europe/Berlin")
START = datetime(2025, 3, 1, tzinfo=UTC)
CALLS = 20_000


def best_of(rounds: int, func: Callable[[], object]) -> float:
    """The fastest of `rounds` runs of `func`, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - began)
    return best


def ours(expr: str, zone: str) -> float:
    """Microseconds per `Cron.next_after`, stepping from occurrence to occurrence."""
    schedule = Cron(expr, zone)
    calls = CALLS if schedule.expression.pattern.times[1:] else CALLS // 10  # daily: 5 years

    def run() -> None:
        instant: datetime | None = START
        for _ in range(calls):
            assert instant is not None
            instant = schedule.next_after(instant)

    run()  # warm the per-day caches
    return best_of(5, run) / calls * 1e6


def theirs(expr: str, zone: str) -> float:
    """Microseconds per croniter `get_next(datetime)` on a warm iterator."""
    iterator = croniter(expr, START.astimezone(ZoneInfo(zone)))
    iterator.get_next(datetime)
    calls = CALLS // 10

    def run() -> None:
        for _ in range(calls):
            iterator.get_next(datetime)

    return best_of(5, run) / calls * 1e6


def year_count(zone: str) -> float:
    """Milliseconds to count a year of `* * * * *` with `consume_due` (cold caches)."""
    first = datetime(2025, 1, 1, tzinfo=UTC)
    now = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)

    def run() -> None:
        schedule = Cron("* * * * *", ZoneInfo(zone))
        schedule.expression._plans.clear()
        due = schedule.consume_due(first, now, limit=None)
        assert due.count == 525_600, due

    return best_of(5, run) * 1e3


def main() -> None:
    """Print the table."""
    print(f"{'expression':<24}{'zone':<16}{'cronkit µs':>12}{'croniter µs':>13}")
    for expr in EXPRESSIONS:
        for zone in ZONES:
            print(f"{expr:<24}{zone:<16}{ours(expr, zone):>12.2f}{theirs(expr, zone):>13.2f}")
    for zone in ZONES:
        print(f"year of '* * * * *' counted in {zone}: {year_count(zone):.2f} ms")


if __name__ == "__main__":
    main()
