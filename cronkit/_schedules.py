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
from cronkit._exceptions import InvalidScheduleError
from cronkit._state import format_instant, parse_instant

__all__ = ["AtTimes", "Cron", "DueOccurrences", "Interval", "Schedule"]

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
    if limit is not None and limit < 1:
        raise ValueError(f"limit={limit!r} must be at least 1, or None for no limit")
    return first, now


def _plus(instant: datetime, delta: timedelta) -> datetime | None:
    """`instant + delta` (UTC), or None past `datetime.max`."""
    try:
        return instant + delta
    except OverflowError:
        return None


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
        if isinstance(every, bool) or not isinstance(every, timedelta | int | float):
            raise InvalidScheduleError(
                f"every={every!r} must be a timedelta or a number of seconds, "
                "e.g. timedelta(minutes=5)"
            )
        try:
            period = (
                timedelta(every.days, every.seconds, every.microseconds)  # plain, not a subclass
                if isinstance(every, timedelta)
                else timedelta(seconds=every)
            )
        except (ValueError, OverflowError):  # nan, inf, beyond timedelta.max
            raise InvalidScheduleError(
                f"every={every!r} is not a usable number of seconds; use e.g. timedelta(hours=1)"
            ) from None
        if period <= _ZERO:
            raise InvalidScheduleError(
                f"every={every!r} must be positive (at least one microsecond), "
                "e.g. timedelta(seconds=30)"
            )
        object.__setattr__(self, "every", period)

    def __str__(self) -> str:
        return f"every {self.every}"

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
