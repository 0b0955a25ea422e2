"""S4, cron arithmetic: µs per next occurrence, cold and warm, cronkit vs croniter's `get_next`.

Ten expressions, five of them in zones with daylight-saving time. For each:

- **cold**: parse + first occurrence: `Cron(expr, zone).next_after(start)` with cronkit's
  parse cache cleared before each call (so every call parses and builds its zone plan), vs
  `croniter(expr, start).get_next(datetime)`. Median of single calls.
- **warm**: successive occurrences, each from the previous one, over `steps` occurrences
  from 2025-03-01 (through the March DST changes), on an already parsed expression; median
  µs per step over several walks (the first walk, which fills cronkit's per-day caches, is
  not counted).

Also: cronkit's results on the DST vectors of SPEC §2.1 (must all hold), what croniter answers
on the same vectors (for information: why cronkit evaluates occurrences itself), and the time
to count a year of a per-minute job at once (`consume_due`, what catching up uses). This folds
in the earlier `bench/bench_cron.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench._report import Section, Target, fmt, paired_ratio, table
from bench._util import clear_cron_parse_cache, median

__all__ = ["EXPRESSIONS", "VECTORS", "cases", "cronkit", "croniter_", "report"]

ID = "S4"
TITLE = "S4 — cron arithmetic"

EXPRESSIONS: tuple[tuple[str, str], ...] = (
    ("* * * * *", "UTC"),
    ("*/15 * * * *", "UTC"),
    ("*/5 9-17 * * mon-fri", "UTC"),
    ("0 0 1 * *", "UTC"),
    ("30 2 * * *", "Europe/Berlin"),
    ("*/30 * * * *", "Europe/Berlin"),
    ("0 * * * *", "Europe/Berlin"),
    ("30 1 * * *", "America/New_York"),
    ("30 2 * * *", "America/New_York"),
    ("0 12 * * sun", "Australia/Sydney"),
)
START = datetime(2025, 3, 1, tzinfo=UTC)


def _z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _hourly(first: str, count: int) -> list[str]:
    return [(_z(first) + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%MZ") for h in range(count)]


# SPEC §2.1: (expression, zone, after, until, the occurrences in (after, until]).
VECTORS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    (
        "30 2 * * *",
        "Europe/Berlin",
        "2025-03-28T12:00Z",
        "2025-03-31T12:00Z",
        ["2025-03-29T01:30Z", "2025-03-30T01:00Z", "2025-03-31T00:30Z"],
    ),
    (
        "30 2 * * *",
        "Europe/Berlin",
        "2025-10-25T12:00Z",
        "2025-10-26T23:59Z",
        ["2025-10-26T00:30Z"],
    ),
    (
        "*/30 * * * *",
        "Europe/Berlin",
        "2025-03-29T23:59Z",
        "2025-03-30T01:59Z",
        ["2025-03-30T00:00Z", "2025-03-30T00:30Z", "2025-03-30T01:00Z", "2025-03-30T01:30Z"],
    ),
    (
        "*/30 * * * *",
        "Europe/Berlin",
        "2025-10-25T23:59Z",
        "2025-10-26T02:00Z",
        [
            "2025-10-26T00:00Z",
            "2025-10-26T00:30Z",
            "2025-10-26T01:00Z",
            "2025-10-26T01:30Z",
            "2025-10-26T02:00Z",
        ],
    ),
    (
        "0 * * * *",
        "Europe/Berlin",
        "2025-10-25T21:30Z",
        "2025-10-26T04:00Z",
        _hourly("2025-10-25T22:00Z", 7),
    ),
    (
        "30 1 * * *",
        "America/New_York",
        "2025-11-01T12:00Z",
        "2025-11-02T12:00Z",
        ["2025-11-02T05:30Z"],
    ),
    (
        "30 2 * * *",
        "America/New_York",
        "2025-03-08T12:00Z",
        "2025-03-09T12:00Z",
        ["2025-03-09T07:00Z"],
    ),
    (
        "30 2 * * *",
        "America/New_York",
        "2025-11-01T12:00Z",
        "2025-11-02T12:00Z",
        ["2025-11-02T07:30Z"],
    ),
)


def _label(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _collect(step: Callable[[datetime], datetime | None], after: str, until: str) -> list[str]:
    found, instant, end = [], _z(after), _z(until)
    while True:
        following = step(instant)
        if following is None or following > end:
            return found
        found.append(_label(following))
        instant = following


def _instants(labels: list[str]) -> str:
    """`2025-10-26: 00:00Z, 00:30Z` when the instants share a date, else them in full."""
    if len({label[:10] for label in labels}) == 1:
        return f"{labels[0][:10]}: " + ", ".join(label[11:] for label in labels)
    return ", ".join(labels)


def _walk_times(walk: Callable[[], None], steps: int, min_walks: int, budget_s: float) -> float:
    """Median µs per step over walks after a first, uncounted one."""
    walk()
    per_step = []
    began = time.perf_counter()
    while len(per_step) < min_walks or (
        time.perf_counter() - began < budget_s and len(per_step) < 50
    ):
        t0 = time.perf_counter()
        walk()
        per_step.append((time.perf_counter() - t0) / steps * 1e6)
    return float(median(per_step) or 0.0)


def _cold_times(call: Callable[[], object], repeats: int) -> float:
    """Median µs of single `call()`s."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1e6)
    return float(median(times) or 0.0)


def cronkit(steps: int, cold_repeats: int, budget_s: float) -> dict[str, Any]:
    """cronkit's `Cron.next_after`: cold and warm µs per expression, DST vectors, year count."""
    from cronkit import Cron

    rows = {}
    for expr, zone in EXPRESSIONS:

        def cold(expr: str = expr, zone: str = zone) -> object:
            clear_cron_parse_cache()
            return Cron(expr, zone).next_after(START)

        schedule = Cron(expr, zone)

        def walk(schedule: Cron = schedule) -> None:
            instant: datetime | None = START
            for _ in range(steps):
                assert instant is not None
                instant = schedule.next_after(instant)

        rows[f"{expr} @ {zone}"] = {
            "cold_us": _cold_times(cold, cold_repeats),
            "warm_us": _walk_times(walk, steps, 3, budget_s),
        }
    vectors = []
    for expr, zone, after, until, expected in VECTORS:
        schedule = Cron(expr, zone)
        got = _collect(schedule.next_after, after, until)
        vectors.append(
            {
                "vector": f"{expr} @ {zone} ({after} .. {until}]",
                "got": got,
                "expected": expected,
                "ok": got == expected,
            }
        )
    year = {}
    for zone in ("UTC", "Europe/Berlin"):
        times = []
        for _ in range(5):
            clear_cron_parse_cache()
            schedule = Cron("* * * * *", zone)
            t0 = time.perf_counter()
            due = schedule.consume_due(
                datetime(2025, 1, 1, tzinfo=UTC),
                datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
                limit=None,
            )
            times.append((time.perf_counter() - t0) * 1e3)
            assert due.count == 525_600, due
        year[zone] = median(times)
    return {"rows": rows, "vectors": vectors, "year_count_ms": year}


def croniter_(steps: int, cold_repeats: int, budget_s: float) -> dict[str, Any]:
    """croniter's own `get_next(datetime)` on the same expressions, and on the DST vectors."""
    from croniter import croniter

    rows = {}
    for expr, zone in EXPRESSIONS:
        start = START.astimezone(ZoneInfo(zone))

        def cold(expr: str = expr, start: datetime = start) -> object:
            return croniter(expr, start).get_next(datetime)

        # croniter is much slower: fewer steps per walk keep the run short, same µs per step.
        few = max(steps // 10, 100)

        def walk(expr: str = expr, start: datetime = start, few: int = few) -> None:
            iterator = croniter(expr, start)
            for _ in range(few):
                iterator.get_next(datetime)

        rows[f"{expr} @ {zone}"] = {
            "cold_us": _cold_times(cold, cold_repeats),
            "warm_us": _walk_times(walk, few, 3, budget_s),
        }
    vectors = []
    for expr, zone, after, until, expected in VECTORS:
        iterator = croniter(expr, _z(after).astimezone(ZoneInfo(zone)))
        got = _collect(lambda _i, it=iterator: it.get_next(datetime), after, until)
        vectors.append({"got": got, "ok": got == expected})
    return {"rows": rows, "vectors": vectors}


def cases(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    kwargs = {
        "steps": 2000,
        "cold_repeats": 50 if quick else 200,
        "budget_s": 0.15 if quick else 0.3,
    }
    return [
        ("cronkit", "bench.s4_cron:cronkit", kwargs),
        ("croniter", "bench.s4_cron:croniter_", kwargs),
    ]


def report(results: dict[str, list[dict[str, Any]]], quick: bool) -> Section:
    ours, theirs = results.get("cronkit", []), results.get("croniter", [])
    header = [
        "expression @ zone",
        "cronkit cold µs",
        "croniter cold µs",
        "cold ratio",
        "cronkit warm µs",
        "croniter warm µs",
        "warm ratio",
    ]
    rows: list[list[str]] = []
    warm_ratios: dict[str, float] = {}
    for expr, zone in EXPRESSIONS:
        key = f"{expr} @ {zone}"
        oc = median(r["rows"][key]["cold_us"] for r in ours)
        tc = median(r["rows"][key]["cold_us"] for r in theirs)
        ow = median(r["rows"][key]["warm_us"] for r in ours)
        tw = median(r["rows"][key]["warm_us"] for r in theirs)
        rw = paired_ratio(
            [r["rows"][key]["warm_us"] for r in ours], [r["rows"][key]["warm_us"] for r in theirs]
        )
        if rw is not None:
            warm_ratios[key] = rw
        rows.append(
            [
                f"`{key}`",
                fmt(oc, 2),
                fmt(tc, 2),
                fmt(
                    paired_ratio(
                        [r["rows"][key]["cold_us"] for r in ours],
                        [r["rows"][key]["cold_us"] for r in theirs],
                    ),
                    3,
                    "x",
                ),
                fmt(ow, 2),
                fmt(tw, 2),
                fmt(rw, 3, "x"),
            ]
        )
    lines = [
        table(header, rows),
        "\nCold cronkit includes validating the expression with croniter (cronkit parses with "
        "croniter first, then expands the fields itself) and building its zone plan.",
    ]
    vector_rows = []
    cronkit_ok = bool(ours) and all(all(v["ok"] for v in r["vectors"]) for r in ours)
    for i, (expr, zone, after, until, expected) in enumerate(VECTORS):
        ours_v = ours[0]["vectors"][i] if ours else None
        theirs_v = theirs[0]["vectors"][i] if theirs else None
        vector_rows.append(
            [
                f"`{expr}` {zone} ({after} .. {until}]",
                _instants(expected),
                "—"
                if ours_v is None
                else ("yes" if ours_v["ok"] else "NO: " + ", ".join(ours_v["got"])),
                "—"
                if theirs_v is None
                else ("yes" if theirs_v["ok"] else ", ".join(theirs_v["got"])),
            ]
        )
    lines.append("\nSPEC §2.1 daylight-saving vectors (occurrences in `(after .. until]`, UTC):\n")
    lines.append(table(["vector", "SPEC §2.1", "cronkit", "croniter get_next"], vector_rows))
    if ours:
        year = {z: median(r["year_count_ms"][z] for r in ours) for z in ("UTC", "Europe/Berlin")}
        lines.append(
            "\nCounting a year of `* * * * *` at once (`Cron.consume_due`, what catching up uses, "
            f"cold caches): {fmt(year['UTC'], 2)} ms in UTC, "
            f"{fmt(year['Europe/Berlin'], 2)} ms in Europe/Berlin."
        )
    worst = max(warm_ratios, key=warm_ratios.__getitem__) if warm_ratios else None
    max_ratio = warm_ratios[worst] if worst is not None else None
    targets = [
        Target(
            "S4",
            "warm next occurrence ≤ croniter's own cost (worst expression)",
            f"{fmt(max_ratio, 3)}x croniter (`{worst}`)" if max_ratio is not None else "—",
            "≤ 1x",
            None if max_ratio is None else max_ratio <= 1.0,
            "" if max_ratio is None else f"{(1 - max_ratio) * 100:.0f}% below croniter at worst",
        ),
        Target(
            "S4",
            "DST-zone expressions give the SPEC §2.1 results",
            f"{sum(v['ok'] for v in ours[0]['vectors'])}/{len(VECTORS)} vectors" if ours else "—",
            f"{len(VECTORS)}/{len(VECTORS)}",
            cronkit_ok if ours else None,
            "",
        ),
    ]
    return Section(ID, TITLE, "\n".join(lines), targets)
