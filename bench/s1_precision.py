"""S1, precision and CPU per run; and issue 3, what the App and Depends layer costs.

N = 100 and 1,000 jobs on a 1-second interval, phases spread evenly over the second (the
same for every system; see `bench._workload`), a trivial async body recording its lateness,
`warmup` seconds, then a window of `duration` seconds: runs vs expected, lateness
p50/p99/max, process CPU seconds per 1,000 runs, peak RSS.

Systems: the floor (S0), APScheduler 3.11, and cronkit through the App (`app`). At 1,000
jobs also the issue 3 pair: the App with one cached dependency (`app_depends`) and the bare
engine (`engine`). Ratios are taken per repetition between systems that ran back to back, then
the median of those ratios is reported.
"""

from __future__ import annotations

from typing import Any

from bench._report import Profile, Section, Target, fmt, pct, table
from bench._util import median

__all__ = ["cases", "paired", "report"]

ID = "S1"
TITLE = "S1 — precision and CPU per run (1-second interval)"
LABELS = {
    "floor": "floor (call_at + create_task)",
    "apscheduler": "APScheduler 3.11",
    "app": "cronkit App",
    "app_depends": "cronkit App + cached Depends",
    "engine": "cronkit bare engine",
}
TARGETS = {
    "floor": ("bench.floor:precision", {}),
    "apscheduler": ("bench.apscheduler3:precision", {}),
    "app": ("bench.cronkit_system:precision", {"variant": "app"}),
    "app_depends": ("bench.cronkit_system:precision", {"variant": "app_depends"}),
    "engine": ("bench.cronkit_system:precision", {"variant": "engine"}),
}
CPU = "cpu_per_1000_runs_s"


def paired(a: list[dict[str, Any]], b: list[dict[str, Any]], field: str = CPU) -> float | None:
    """Median over repetitions of `a[i][field] / b[i][field]` (systems run back to back)."""
    ratios = [x[field] / y[field] for x, y in zip(a, b, strict=False) if x[field] and y[field]]
    return median(ratios)


def cases(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    timing = {"warmup": 1.0, "duration": 3.0} if quick else {"warmup": 1.0, "duration": 10.0}
    out = []
    for n, systems in ((100, ("floor", "apscheduler", "app")), (1000, tuple(LABELS))):
        for system in systems:
            target, extra = TARGETS[system]
            out.append((f"n{n}/{system}", target, {"n": n, **timing, **extra}))
    return out


def report(results: dict[str, list[dict[str, Any]]], quick: bool) -> Section:
    header = [
        "jobs",
        "system",
        "runs / expected",
        "lateness p50 ms",
        "p99 ms",
        "max ms",
        "CPU s / 1,000 runs",
        "peak RSS MiB",
        "CPU ÷ floor",
        "CPU ÷ APScheduler",
    ]
    rows, targets = [], []
    for n in (100, 1000):
        floor, aps = results.get(f"n{n}/floor", []), results.get(f"n{n}/apscheduler", [])
        for system, label in LABELS.items():
            reps = results.get(f"n{n}/{system}")
            if not reps:
                continue
            m = {
                k: median(r[k] for r in reps)
                for k in ("runs", "p50_ms", "p99_ms", "max_ms", CPU, "peak_rss_mib")
            }
            rows.append(
                [
                    f"{n:,}",
                    label,
                    f"{fmt(m['runs'], 0)} / {reps[0]['expected']:,}",
                    fmt(m["p50_ms"], 3),
                    fmt(m["p99_ms"], 3),
                    fmt(m["max_ms"], 3),
                    fmt(m[CPU], 3),
                    fmt(m["peak_rss_mib"], 3),
                    "1" if system == "floor" else fmt(paired(reps, floor), 3, "x"),
                    "—" if system in ("floor", "apscheduler") else fmt(paired(reps, aps), 3, "x"),
                ]
            )
        app = results.get(f"n{n}/app", [])
        vs_floor, vs_aps = paired(app, floor), paired(app, aps)
        targets.append(_cpu_target(n, "≤ 2x the floor", vs_floor, 2.0, "S1-cpu"))
        targets.append(_cpu_target(n, "below APScheduler 3", vs_aps, 1.0, "S1-cpu", strict=True))
        if n == 1000:
            p99 = median(r["p99_ms"] for r in app)
            targets.append(
                Target(
                    "S1",
                    "p99 lateness at 1,000 jobs (App)",
                    f"{fmt(p99, 3)} ms",
                    "≤ 2 ms",
                    None if p99 is None else p99 <= 2.0,
                    ""
                    if p99 is None
                    else f"{abs(2.0 - p99):.2f} ms {'under' if p99 <= 2 else 'over'}",
                    note_key="S1-p99",
                )
            )
    body = [table(header, rows)]
    engine, app_depends = results.get("n1000/engine", []), results.get("n1000/app_depends", [])
    app = results.get("n1000/app", [])
    over_depends, over_app = paired(app_depends, engine), paired(app, engine)
    body.append(
        "\n**Issue 3 — the App and Depends layer, 1,000 jobs** (same runs as above; CPU per run "
        "relative to the bare engine of the same repetition):\n"
    )
    issue3 = []
    for key, over in (("engine", 1.0), ("app", over_app), ("app_depends", over_depends)):
        reps = results.get(f"n1000/{key}", [])
        if reps:
            issue3.append(
                [
                    LABELS[key],
                    fmt(median(r["runs"] for r in reps), 0),
                    fmt(median(r["p50_ms"] for r in reps), 3),
                    fmt(median(r["p99_ms"] for r in reps), 3),
                    fmt(median(r[CPU] for r in reps), 3),
                    "—" if key == "engine" else pct(None if over is None else over - 1),
                ]
            )
    body.append(
        table(
            [
                "system",
                "runs",
                "lateness p50 ms",
                "p99 ms",
                "CPU s / 1,000 runs",
                "CPU per run vs engine",
            ],
            issue3,
        )
    )
    if over_depends is not None:
        added = over_depends - 1
        targets.append(
            Target(
                "issue 3",
                "CPU per run added by the App + Depends layer over the bare engine",
                pct(added),
                "≤ +30%",
                added <= 0.30,
                f"{abs(0.30 - added) * 100:.0f} points {'under' if added <= 0.30 else 'over'}",
                note_key="ISSUE3",
            )
        )
    missed = any(t.met is False for t in targets)
    profiles = (
        [
            Profile(
                "cronkit App, 1,000 jobs on a 1 s interval (S1)",
                "bench.cronkit_system:precision",
                {"n": 1000, "warmup": 1.0, "duration": 4.0, "variant": "app"},
            )
        ]
        if missed
        else []
    )
    return Section(ID, TITLE, "\n".join(body), targets, profiles)


def _cpu_target(
    n: int, goal: str, value: float | None, limit: float, key: str, *, strict: bool = False
) -> Target:
    met = None if value is None else (value < limit if strict else value <= limit)
    margin = ""
    if value is not None:
        margin = f"{abs(limit - value) / limit * 100:.0f}% {'under' if met else 'over'} the limit"
    return Target(
        "S1",
        f"CPU per run at {n:,} jobs (App) {goal}",
        fmt(value, 3, "x"),
        f"{'<' if strict else '≤'} {limit:g}x",
        met,
        margin,
        note_key=key,
    )
