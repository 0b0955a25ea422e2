"""Pieces of `bench/RESULTS.md`: tables, number formatting, targets and their verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Profile", "Section", "Target", "fmt", "paired_ratio", "pct", "ratio", "table"]


@dataclass
class Target:
    """One target of the issues and how the run did against it.

    Attributes:
        scenario: where it is measured (`S1`, `issue 3`, ...).
        what: the target in words.
        value: the measured value, formatted.
        goal: the target value, formatted.
        met: True, False, or None when it could not be measured.
        margin: by how much it was met or missed, in words.
        note_key: key of the analysis in `bench/notes.py`, shown when the target is missed.
    """

    scenario: str
    what: str
    value: str
    goal: str
    met: bool | None
    margin: str = ""
    note_key: str = ""


@dataclass
class Profile:
    """A profile to take when a target is missed: `target(**kwargs)` run under a profiler.

    `kind="cpu"` runs it under cProfile (its measurement window only, or all of it when
    `whole`); `kind="memory"` calls `target`, which returns its own allocation summary.
    """

    title: str
    target: str
    kwargs: dict[str, Any]
    kind: str = "cpu"
    whole: bool = False


@dataclass
class Section:
    """One scenario's part of the results: its markdown and its targets."""

    id: str
    title: str
    body: str
    targets: list[Target] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)


def ratio(a: float | None, b: float | None) -> float | None:
    """`a / b`, or None when either is missing or `b` is zero."""
    if a is None or b is None or b == 0 or a != a or b != b:
        return None
    return a / b


def paired_ratio(a: Sequence[float | None], b: Sequence[float | None]) -> float | None:
    """The median over repetitions of `a[i] / b[i]` (a and b measured back to back)."""
    ratios = [x / y for x, y in zip(a, b, strict=False) if x is not None and y]
    if not ratios:
        return None
    ordered = sorted(ratios)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    """`value` with `digits` significant decimals, or an em dash when missing."""
    if value is None or value != value:
        return "—"
    if abs(value) >= 100 and digits > 0:
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"
    else:
        text = f"{value:.{digits}g}" if digits > 0 else f"{value:.0f}"
        if "e" in text:
            text = f"{value:.{digits}f}"
    return f"{text}{unit}"


def pct(value: float | None) -> str:
    """`value` (a fraction) as a signed percentage."""
    if value is None or value != value:
        return "—"
    return f"{value * 100:+.0f}%"


def _numeric(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or cell[0] in "\u2014+-\u2212")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table; columns whose cells are all numbers are right-aligned."""
    numeric = [all(_numeric(row[i]) for row in rows) and bool(rows) for i in range(len(header))]
    out = ["| " + " | ".join(header) + " |"]
    out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(out)
