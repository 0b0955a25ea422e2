"""How a duration reads to a person: `1h30m`, `1.5s`, `2d`."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["format_duration"]

_ONE_MICROSECOND = timedelta(microseconds=1)
_UNITS = ((86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m"))


def format_duration(delta: timedelta) -> str:
    """A non-negative duration as `1d2h`, `1h30m`, `5m`, `1.5s` or `0.25s` (`0s` for zero)."""
    micros = delta // _ONE_MICROSECOND
    parts: list[str] = []
    for size, unit in _UNITS:
        amount, micros = divmod(micros, size)
        if amount:
            parts.append(f"{amount}{unit}")
    if micros or not parts:
        seconds, fraction = divmod(micros, 1_000_000)
        decimals = f".{fraction:06d}".rstrip("0") if fraction else ""
        parts.append(f"{seconds}{decimals}s")
    return "".join(parts)
