"""The three schedules, `Interval`, `AtTimes` and `Cron`: immutable values, pure functions of time.

Each answers the same questions, none of them reading the clock:

- `next_after(instant)`: the first occurrence strictly after `instant` (SPEC §2);
- `first_occurrence(now)`: where a new job starts;
- `replan(now, resume_from=...)`: where a job whose stored state no longer fits resumes;
- `consume_due(first, now, limit=...)`: how many occurrences from `first` on are due by `now`,
  without stepping through them one by one;
- `fingerprint()`: a stable text stored with the job state, so that a changed schedule is
  noticed at start-up.

`timezone` (on every method) is the zone of the job or the App; only a `Cron` without a zone of
its own uses it. Every instant returned is an aware UTC datetime.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypeAlias, final

from cronkit._cron import CronExpression, DueOccurrences, parse_cron, resolve_zone, zone_name
from cronkit._durations import format_duration
from cronkit._exceptions import InvalidScheduleError
from cronkit._state import format_instant, is_count, parse_instant

__all__ = [
    "AtTimes",
    "Cron",
    "DueOccurrences",
    "Interval",
    "Schedule",
    "interval_of",
    "timedelta_of_units",
]

_ZERO = timedelta(0)


def _aware(instant: object, name: str) -> datetime:
    """`instant` in UTC if it is an aware datetime, else `InvalidScheduleError`.

    Converting first matters: Python adds and subtracts datetimes of one zone on the wall clock.
    """
    if not isinstance(instant, datetime):
        raise InvalidScheduleError(
            f"{name}={instant!r} must be a timezone-aware datetime, e.g. "
            "datetime(2025, 1, 1, tzinfo=UTC)"
        )
    if instant.utcoffset() is None:
        raise InvalidScheduleError(
            f"{name}={instant!r} is a naive datetime; give it a zone, e.g. "
            "datetime(2025, 1, 1, 9, 0, tzinfo=ZoneInfo('Europe/Berlin')) or .replace(tzinfo=UTC)"
        )
    return instant if instant.tzinfo is UTC else instant.astimezone(UTC)


def _check_range(first: datetime, now: datetime, limit: int | None) -> tuple[datetime, datetime]:
    """`first` and `now` in UTC, checked."""
    first, now = _aware(first, "first"), _aware(now, "now")
    if now < first:
        raise ValueError(f"first={first!r} is after now={now!r}; nothing can be due")
    if limit is not None and not is_count(limit, minimum=1):
        raise ValueError(f"limit={limit!r} must be at least 1, or None for no limit")
    return first, now


def _plus(instant: datetime, delta: timedelta) -> datetime | None:
    """`instant + delta` (UTC), or None past `datetime.max`."""
    try:
        return instant + delta
    except OverflowError:
        return None


_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def timedelta_of_units(
    *,
    seconds: float | None = None,
    minutes: float | None = None,
    hours: float | None = None,
    days: float | None = None,
) -> timedelta:
    """The sum of the unit keywords given (None = not given): the one home of unit keywords.

    Raises:
        InvalidScheduleError: a unit is not a number, or the sum is beyond `timedelta`.
    """
    given = _given_units(seconds=seconds, minutes=minutes, hours=hours, days=days)
    if any(isinstance(value, bool) for value in given.values()):
        raise InvalidScheduleError(f"{_units_text(given)}: give numbers, e.g. minutes=5")
    try:
        return timedelta(**given)
    except (TypeError, ValueError, OverflowError) as error:  # text, nan, inf, too large
        raise InvalidScheduleError(
            f"{_units_text(given)}: {error}; give numbers, e.g. minutes=5"
        ) from None


def interval_of(
    every: timedelta | float | None = None,
    *,
    seconds: float | None = None,
    minutes: float | None = None,
    hours: float | None = None,
    days: float | None = None,
) -> Interval:
    """The `Interval` of `every`, or of the sum of the unit keywords (`@app.interval`'s).

    Errors quote the arguments as written, e.g. `seconds=-5`.

    Raises:
        InvalidScheduleError: neither or both are given, a unit is not a number, or the
            period is not positive.
    """
    given = _given_units(seconds=seconds, minutes=minutes, hours=hours, days=days)
    if every is None and not given:
        raise InvalidScheduleError(
            "no period given; write every=timedelta(minutes=5) or use seconds=, minutes=, "
            "hours=, days="
        )
    if every is not None and given:
        raise InvalidScheduleError(
            f"every={every!r} and unit keywords ({_units_text(given)}) were both given; "
            "use one of them"
        )
    if every is not None:
        period, written, shown = _period(every), _written(every), _shown(every)
    else:
        period = timedelta_of_units(**given)
        written = sum(value * _UNIT_SECONDS[name] for name, value in given.items())
        shown = _units_text(given)
    return Interval(_positive(period, written, shown, example="seconds=30"))


def _given_units(**units: float | None) -> dict[str, float]:
    return {name: value for name, value in units.items() if value is not None}


def _units_text(units: dict[str, float]) -> str:
    """`seconds=-5, minutes=1`: the unit keywords as written, in signature order."""
    return ", ".join(f"{name}={units[name]!r}" for name in _UNIT_SECONDS if name in units)


def _period(every: object) -> timedelta:
    """`every` (a timedelta or a number of seconds) as a plain timedelta, not yet checked > 0."""
    if isinstance(every, bool) or not isinstance(every, timedelta | int | float):
        raise InvalidScheduleError(
            f"every={every!r} must be a timedelta or a number of seconds, e.g. timedelta(minutes=5)"
        )
    if isinstance(every, timedelta):
        return timedelta(every.days, every.seconds, every.microseconds)  # plain, not a subclass
    try:
        return timedelta(seconds=every)
    except (ValueError, OverflowError):  # nan, inf, beyond timedelta.max
        raise InvalidScheduleError(
            f"every={every!r} is not a usable number of seconds; use e.g. timedelta(hours=1)"
        ) from None


def _positive(period: timedelta, written: float, shown: str, *, example: str) -> timedelta:
    """`period` if it is positive, else `InvalidScheduleError` quoting `shown` (as written).

    `written` is the period in seconds before rounding to microseconds: positive but
    rounded to zero means shorter than one microsecond.
    """
    if period > _ZERO:
        return period
    problem = "is shorter than one microsecond" if written > 0 else "is not positive"
    raise InvalidScheduleError(
        f"interval of {shown} {problem}; give a positive period such as {example}"
    )


def _written(every: timedelta | float) -> float:
    return every.total_seconds() if isinstance(every, timedelta) else every


def _shown(every: timedelta | float) -> str:
    """`every` as the user would write it: `0 seconds`, `timedelta(seconds=-5)`."""
    if not isinstance(every, timedelta):
        return f"{every!r} seconds"
    if not every:
        return "timedelta(0)"
    sign = "-" if every < _ZERO else ""
    size = abs(every)
    minutes, seconds = divmod(size.seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{name}={sign}{amount}"
        for name, amount in (
            ("days", size.days),
            ("hours", hours),
            ("minutes", minutes),
            ("seconds", seconds),
            ("microseconds", size.microseconds),
        )
        if amount
    ]
    return f"timedelta({', '.join(parts)})"


@final
@dataclass(frozen=True, slots=True, init=False)
class Interval:
    """A fixed rate: the first occurrence is `now + every`, each next one `previous + every`.

    Anchored to the schedule, never to when a run ended; elapsed time, so DST does not matter.

    Attributes:
        every: the period, positive.
    """

    every: timedelta

    def __init__(self, every: timedelta | float) -> None:
        """Build an interval of `every` (a timedelta, or a number of seconds).

        Raises:
            InvalidScheduleError: `every` is not positive, or not a duration.
        """
        period = _period(every)
        if period <= _ZERO:
            _positive(period, _written(every), _shown(every), example="timedelta(seconds=30)")
        object.__setattr__(self, "every", period)

    def __str__(self) -> str:
        return f"every {format_duration(self.every)}"

    def next_after(
        self, instant: datetime, *, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """`instant + every`: the occurrence after the one scheduled at `instant`."""
        return _plus(_aware(instant, "instant"), self.every)

    def first_occurrence(
        self, now: datetime, *, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """`now + every`."""
        return _plus(_aware(now, "now"), self.every)

    def replan(
        self, now: datetime, *, resume_from: datetime | None, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """`now + every`: a new anchor."""
        return _plus(_aware(now, "now"), self.every)

    def consume_due(
        self,
        first: datetime,
        now: datetime,
        *,
        limit: int | None,
        timezone: str | tzinfo | None = None,
    ) -> DueOccurrences:
        """Count the occurrences `first + k * every` up to `now`, in O(1)."""
        first, now = _check_range(first, now, limit)
        count = (now - first) // self.every + 1
        if limit is not None:
            count = min(count, limit)
        last = first + (count - 1) * self.every
        return DueOccurrences(count, last, _plus(last, self.every))

    def fingerprint(self, *, timezone: str | tzinfo | None = None) -> str:
        """`interval:PT<seconds>S`, e.g. `interval:PT300S` or `interval:PT0.5S`."""
        seconds, micros = divmod(self.every // timedelta(microseconds=1), 1_000_000)
        fraction = f".{micros:06d}".rstrip("0") if micros else ""
        return f"interval:PT{seconds}{fraction}S"


@final
@dataclass(frozen=True, slots=True, init=False)
class AtTimes:
    """Explicit instants, sorted, duplicates removed, stored in UTC.

    Past instants are due at start. The next instant is the first one strictly after the last
    consumed occurrence, never an index into the list, so the list may be edited between runs.

    Attributes:
        instants: the instants, ascending, aware UTC.
    """

    instants: tuple[datetime, ...]

    def __init__(self, instants: Iterable[datetime | str] | datetime | str) -> None:
        """Build the schedule from aware datetimes and/or RFC 3339 strings with an offset.

        A single datetime or string (not in a list) is accepted as one instant. An empty
        iterable is a valid schedule that never fires.

        Raises:
            InvalidScheduleError: a naive datetime, an unparsable string, or another type.
        """
        items: Iterable[object] = [instants] if isinstance(instants, str | datetime) else instants
        try:
            iterator = iter(items)
        except TypeError:
            raise InvalidScheduleError(
                f"instants={instants!r} must be a list of aware datetimes or ISO 8601 strings, "
                "e.g. ['2026-12-24T17:00:00Z']"
            ) from None
        unique = {_instant(item) for item in iterator}
        object.__setattr__(self, "instants", tuple(sorted(unique)))

    def __repr__(self) -> str:
        shown = [format_instant(instant) for instant in self.instants[:5]]
        more = len(self.instants) - len(shown)
        return f"AtTimes({shown!r}{f' + {more} more' if more else ''})"

    def __str__(self) -> str:
        if len(self.instants) == 1:
            return f"at {format_instant(self.instants[0])}"
        return f"at {len(self.instants)} instants"

    def next_after(
        self, instant: datetime, *, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """The first instant strictly after `instant`, or None."""
        index = bisect_right(self.instants, _aware(instant, "instant"))
        return self.instants[index] if index < len(self.instants) else None

    def first_occurrence(
        self, now: datetime, *, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """The earliest instant, even if it is past (it is due at start); None if empty."""
        _aware(now, "now")
        return self.instants[0] if self.instants else None

    def replan(
        self, now: datetime, *, resume_from: datetime | None, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """The first instant at or after `resume_from` (the earliest one if None)."""
        _aware(now, "now")
        if resume_from is None:
            return self.instants[0] if self.instants else None
        index = bisect_left(self.instants, _aware(resume_from, "resume_from"))
        return self.instants[index] if index < len(self.instants) else None

    def consume_due(
        self,
        first: datetime,
        now: datetime,
        *,
        limit: int | None,
        timezone: str | tzinfo | None = None,
    ) -> DueOccurrences:
        """Count `first` and the instants in `(first, now]`, by bisection."""
        first, now = _check_range(first, now, limit)
        start = bisect_right(self.instants, first)
        count = 1 + bisect_right(self.instants, now) - start
        if limit is not None:
            count = min(count, limit)
        last = first if count == 1 else self.instants[start + count - 2]
        return DueOccurrences(count, last, self.next_after(last))

    def fingerprint(self, *, timezone: str | tzinfo | None = None) -> str:
        """`at:` and 16 hex digits of the SHA-256 of the instants' RFC 3339 text."""
        text = "\n".join(format_instant(instant) for instant in self.instants)
        return f"at:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _instant(item: object) -> datetime:
    if isinstance(item, str):
        try:
            return parse_instant(item)
        except ValueError:
            raise InvalidScheduleError(
                f"instant {item!r} is not an ISO 8601 instant with an offset; write e.g. "
                "'2026-12-24T17:00:00Z' or '2026-12-24T18:00:00+01:00'"
            ) from None
    return _aware(item, "instant")


@final
@dataclass(frozen=True, slots=True, init=False)
class Cron:
    """A cron expression evaluated in a zone, with the DST rules of SPEC §2.1.

    Attributes:
        expr: the expression exactly as given; `str(cron)` returns it.
        timezone: the zone given here, or None to use the job's or App's zone (default UTC).
        pinned: False for a cadence such as `*/15 * * * *` or `@hourly` (SPEC §2.1).
    """

    expr: str
    timezone: tzinfo | None
    _expression: CronExpression = field(init=False, compare=False, hash=False, repr=False)

    def __init__(self, expr: str, timezone: str | tzinfo | None = None) -> None:
        """Parse and validate `expr`; resolve `timezone`.

        Raises:
            InvalidCronExpression: `expr` is not in cronkit's dialect.
            ConfigurationError: `timezone` is not a known zone.
        """
        expression = parse_cron(expr)
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "timezone", None if timezone is None else resolve_zone(timezone))
        object.__setattr__(self, "_expression", expression)

    def __repr__(self) -> str:
        if self.timezone is None:
            return f"Cron({self.expr!r})"
        return f"Cron({self.expr!r}, timezone={zone_name(self.timezone)!r})"

    def __str__(self) -> str:
        return self.expr

    @property
    def pinned(self) -> bool:
        """Whether the expression is pinned (True) or a cadence (False), per SPEC §2.1."""
        return self._expression.pinned

    @property
    def expression(self) -> CronExpression:
        """The parsed expression."""
        return self._expression

    def zone(self, timezone: str | tzinfo | None = None) -> tzinfo:
        """The zone evaluated in: this schedule's own, else `timezone`, else UTC."""
        if self.timezone is not None:
            return self.timezone
        return UTC if timezone is None else resolve_zone(timezone)

    def next_after(
        self, instant: datetime, *, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """The first occurrence strictly after `instant`."""
        return self._expression.next_after(_aware(instant, "instant"), self.zone(timezone))

    def first_occurrence(
        self, now: datetime, *, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """The first occurrence strictly after `now`."""
        return self.next_after(now, timezone=timezone)

    def replan(
        self, now: datetime, *, resume_from: datetime | None, timezone: str | tzinfo | None = None
    ) -> datetime | None:
        """The first occurrence strictly after `now`."""
        return self.next_after(now, timezone=timezone)

    def consume_due(
        self,
        first: datetime,
        now: datetime,
        *,
        limit: int | None,
        timezone: str | tzinfo | None = None,
    ) -> DueOccurrences:
        """Count `first` and the occurrences in `(first, now]`, whole local days at a time."""
        first, now = _check_range(first, now, limit)
        return self._expression.count_due(first, now, self.zone(timezone), limit=limit)

    def fingerprint(self, *, timezone: str | tzinfo | None = None) -> str:
        """`cron:<expression>@<zone>`, e.g. `cron:30 2 * * *@Europe/Berlin`."""
        return f"cron:{self._expression.normalized}@{zone_name(self.zone(timezone))}"


Schedule: TypeAlias = Interval | AtTimes | Cron
"""Any of the three schedules."""
