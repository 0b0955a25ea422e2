"""S2, idle cost: 10,000 cron jobs that will not fire during the test.

Registration time (declaring the jobs: parsing and building them; for cronkit also starting
the App until every job has loaded its state and armed its timer), resident memory per job
(RSS growth over the empty process, after a garbage collection, divided by the jobs) and the
process CPU time and wake-ups (voluntary context switches) during `duration` seconds of
idling. The floor keeps one `loop.call_at` handle per job and nothing else.
"""

from __future__ import annotations

from typing import Any

from bench._report import Profile, Section, Target, fmt, table
from bench._util import median

__all__ = ["cases", "report"]

ID = "S2"
TITLE = "S2 — idle cost of 10,000 cron jobs"
LABELS = {
    "floor": ("floor (one call_at handle per job)", "bench.floor:idle"),
    "apscheduler": ("APScheduler 3.11", "bench.apscheduler3:idle"),
    "cronkit": ("cronkit App", "bench.cronkit_system:idle"),
}
N = 10_000
IDLE_CPU_LIMIT_S = 0.01  # "no measurable idle CPU": at most 10 ms in the idle window


def cases(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    duration = 2.0 if quick else 10.0
    return [(key, target, {"n": N, "duration": duration}) for key, (_, target) in LABELS.items()]


def report(results: dict[str, list[dict[str, Any]]], quick: bool) -> Section:
    def med(key: str, field: str) -> float | None:
        return median(r.get(field) for r in results.get(key, []))

    header = [
        "system",
        "declare s",
        "start s",
        "KiB / job (declared)",
        "KiB / job (running)",
        "idle CPU s",
        "idle wake-ups",
        "memory ÷ floor",
        "memory ÷ APScheduler",
    ]
    rows = []
    for key, (label, _) in LABELS.items():
        if key not in results:
            continue
        rows.append(
            [
                label,
                fmt(med(key, "registration_s"), 3),
                fmt(med(key, "start_s"), 3),
                fmt(med(key, "kib_per_job_declared"), 3),
                fmt(med(key, "kib_per_job"), 3),
                fmt(med(key, "idle_cpu_s"), 2),
                fmt(med(key, "idle_wakeups"), 0),
                _ratio(results, key, "floor"),
                "—" if key != "cronkit" else _ratio(results, key, "apscheduler"),
            ]
        )
    duration = results["cronkit"][0]["idle_wall_s"] if results.get("cronkit") else float("nan")
    body = table(header, rows) + (
        f"\n\n{N:,} jobs; idle window {duration:.0f} s. Wake-ups are the process's voluntary "
        "context switches in the window: a scheduler that polls wakes up on a period. "
        "cronkit's come from `SystemClock`'s wall-clock watchdog (about one per second, one "
        "per event loop whatever the number of jobs), which re-arms wall timers after an NTP "
        "step or a suspend (SPEC §4)."
    )
    kib, cpu = med("cronkit", "kib_per_job"), med("cronkit", "idle_cpu_s")
    wakeups = med("cronkit", "idle_wakeups")
    targets = [
        Target(
            "S2",
            "memory per job (cronkit App, running)",
            f"{fmt(kib, 3)} KiB",
            "≤ 2 KiB",
            None if kib is None else kib <= 2.0,
            ""
            if kib is None
            else f"{kib / 2.0:.1f}x the limit"
            if kib > 2
            else f"{(1 - kib / 2) * 100:.0f}% under",
            note_key="S2-memory",
        ),
        Target(
            "S2",
            "no measurable idle CPU (no polling)",
            f"{fmt(cpu, 2)} s in {duration:.0f} s, {fmt(wakeups, 0)} wake-ups",
            f"≤ {IDLE_CPU_LIMIT_S * 1e3:.0f} ms",
            None if cpu is None else cpu <= IDLE_CPU_LIMIT_S,
            "" if cpu is None else f"{cpu / duration * 100:.3f}% of a core; 1 Hz clock watchdog",
            note_key="S2-idle",
        ),
    ]
    profiles = []
    if targets[0].met is False:
        profiles.append(
            Profile(
                "cronkit App, memory per job by allocation site (S2)",
                "bench.cronkit_system:memory_profile",
                {"n": 2000},
                kind="memory",
            )
        )
    return Section(ID, TITLE, body, targets, profiles)


def _ratio(results: dict[str, list[dict[str, Any]]], key: str, other: str) -> str:
    ratios = [
        a["kib_per_job"] / b["kib_per_job"]
        for a, b in zip(results.get(key, []), results.get(other, []), strict=False)
        if b["kib_per_job"] > 0
    ]
    return "1" if key == other else fmt(median(ratios), 3, "x")
