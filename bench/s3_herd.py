"""S3, thundering herd: 2,000 one-shot jobs due at the same instant.

Time from the instant to the last start, and the lateness of the starts (p50/p99). The floor
has 2,000 `loop.call_at` callbacks for the instant, each creating the job's task; APScheduler
has 2,000 `DateTrigger` jobs; cronkit has 2,000 `@app.at(instant)` jobs in one App.
"""

from __future__ import annotations

from typing import Any

from bench._report import Profile, Section, Target, fmt, table
from bench._util import median

__all__ = ["cases", "report"]

ID = "S3"
TITLE = "S3 — thundering herd: 2,000 one-shot jobs due at once"
LABELS = {
    "floor": ("floor (call_at + create_task)", "bench.floor:herd"),
    "apscheduler": ("APScheduler 3.11", "bench.apscheduler3:herd"),
    "cronkit": ("cronkit App", "bench.cronkit_system:herd"),
}
N = 2000


def cases(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    return [(key, target, {"n": N}) for key, (_, target) in LABELS.items()]


def _paired(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> float | None:
    return median(x["last_start_ms"] / y["last_start_ms"] for x, y in zip(a, b, strict=False))


def report(results: dict[str, list[dict[str, Any]]], quick: bool) -> Section:
    header = [
        "system",
        "runs",
        "last start ms after the instant",
        "lateness p50 ms",
        "p99 ms",
        "last start ÷ floor",
        "last start ÷ APScheduler",
    ]
    rows = []
    floor, aps = results.get("floor", []), results.get("apscheduler", [])
    for key, (label, _) in LABELS.items():
        reps = results.get(key)
        if not reps:
            continue
        rows.append(
            [
                label,
                f"{fmt(median(r['runs'] for r in reps), 0)} / {N:,}",
                fmt(median(r["last_start_ms"] for r in reps), 3),
                fmt(median(r["p50_ms"] for r in reps), 3),
                fmt(median(r["p99_ms"] for r in reps), 3),
                "1" if key == "floor" else fmt(_paired(reps, floor), 3, "x"),
                "—" if key != "cronkit" else fmt(_paired(reps, aps), 3, "x"),
            ]
        )
    value = _paired(results.get("cronkit", []), floor)
    target = Target(
        "S3",
        "last start after the instant (cronkit App) ≤ 2x the floor's",
        fmt(value, 3, "x"),
        "≤ 2x",
        None if value is None else value <= 2.0,
        ""
        if value is None
        else f"{abs(2 - value) / 2 * 100:.0f}% {'under' if value <= 2 else 'over'} the limit",
        note_key="S3",
    )
    profiles = (
        []
        if target.met is not False
        else [
            Profile(
                "cronkit App, 2,000 one-shot jobs due at once (S3)",
                "bench.cronkit_system:herd",
                {"n": N},
            )
        ]
    )
    return Section(ID, TITLE, table(header, rows), [target], profiles)
