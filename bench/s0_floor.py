"""S0, the floor: what the bare-asyncio workloads of S1-S3 measured in this run.

The floor (`bench/floor.py`) runs in S1, S2 and S3 next to the other systems; this table
gathers its numbers and sets them beside what the issue measured when it was written, which
shows how loaded the machine was during this run (all ratios in the other tables are taken
between systems of the same run, so load affects them far less).
"""

from __future__ import annotations

from typing import Any

from bench._report import Section, fmt, table
from bench._util import median

__all__ = ["report"]

ID = "S0"
TITLE = "S0 — the floor: loop.call_at + create_task, no library"


def report(everything: dict[str, dict[str, list[dict[str, Any]]]]) -> Section | None:
    """The S0 table from the floor's results in S1, S2 and S3, or None if it did not run."""
    s1, s2, s3 = everything.get("S1", {}), everything.get("S2", {}), everything.get("S3", {})
    rows = []

    def med(reps: list[dict[str, Any]], field: str) -> float | None:
        return median(r.get(field) for r in reps)

    for n in (100, 1000):
        reps = s1.get(f"n{n}/floor")
        if reps:
            reference = "0.065 CPU s / 1,000 runs, p99 1.15 ms" if n == 1000 else "—"
            rows.append(
                [
                    f"S1, {n:,} jobs every second",
                    f"{fmt(med(reps, 'cpu_per_1000_runs_s'), 3)} CPU s / 1,000 runs, "
                    f"p99 {fmt(med(reps, 'p99_ms'), 3)} ms",
                    reference,
                ]
            )
    if s2.get("floor"):
        rows.append(
            [
                "S2, 10,000 idle timers",
                f"{fmt(med(s2['floor'], 'kib_per_job'), 3)} KiB / job, idle CPU "
                f"{fmt(med(s2['floor'], 'idle_cpu_s'), 2)} s",
                "0.23 KiB / job",
            ]
        )
    if s3.get("floor"):
        rows.append(
            [
                "S3, 2,000 tasks due at once",
                f"last start {fmt(med(s3['floor'], 'last_start_ms'), 3)} ms after the instant",
                "13 ms",
            ]
        )
    if not rows:
        return None
    return Section(ID, TITLE, table(["workload", "this run", "when the issue was written"], rows))
