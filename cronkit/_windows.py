"""Time windows: the local weekdays and daily segments a job's runs may start in.

The rules follow the Rust crate `cloudiful-scheduler` (SPEC §5):

- No segments: the window matches on the weekday alone; no weekdays: every day is allowed.
- A segment contains local time `t` when `start <= t < end`.
- A segment with `start > end` crosses midnight: it covers `[start, 24:00)` on its weekday and
  `[00:00, end)` of the *next* calendar day, and that after-midnight part belongs to the
  previous weekday. `Friday 22:00-02:00` therefore matches Saturday 01:00 when Friday is
  allowed, whether or not Saturday is. `22:00-00:00` means "22:00 until midnight".
- `start == end` is an error: use no segments for a window open all day.

A window is a predicate on the *wall-clock reading* in its zone: an instant is converted to the
zone and its local weekday and time are tested. On a daylight-saving day this means a segment
inside the skipped hour (`02:00-02:30` in Europe/Berlin on the last Sunday of March) matches
nothing that day, and a segment inside the repeated hour matches both passes through it.

Everything here is pure: nothing reads the current time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from typing import TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronkit._exceptions import InvalidTimeWindowError

__all__ = ["JobTimeWindow", "TimeWindowSegment"]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_BY_NAME = {
    name: day for names in (_DAY_NAMES, _FULL_DAY_NAMES) for day, name in enumerate(names)
}
_WEEKDAY_HELP = (
    "use a datetime weekday number 0-6 (Monday=0), a name 'mon'...'sun' or 'monday'...'sunday', "
    "a range like 'mon-fri' or a list like 'mon,wed,fri'"
)
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?", re.ASCII)
_TIME_HELP = "write 'HH:MM' or 'HH:MM:SS' on a 24-hour clock, e.g. '09:30'"
_SEGMENT_HELP = "write 'HH:MM-HH:MM', e.g. '09:00-12:00' (or '22:00-02:00' across midnight)"

TimeLike: TypeAlias = time | str
WeekdayLike: TypeAlias = int | str


def _resolve_zone(value: str | tzinfo) -> tzinfo:
    """A zone from an IANA name or a `tzinfo`.

    Stands in for `cronkit._cron.resolve_zone` (same contract) so this module does not depend
    on `_cron` while that is written; swap it in when it lands.
    """
    if isinstance(value, tzinfo):
        return value
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise InvalidTimeWindowError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin' or "
                "'UTC', or a tzinfo object"
            ) from None
    raise InvalidTimeWindowError(
        f"timezone={value!r} is not a time zone: use an IANA name such as 'Europe/Berlin' or "
        "'UTC', or a tzinfo object"
    )


def _format_time(value: time) -> str:
    if value.microsecond:
        return value.isoformat()
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _parse_time(value: object, role: str, context: str | None = None) -> time:
    where = "" if context is None else f" (in {context!r})"
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise InvalidTimeWindowError(
                f"segment {role} {value!r}{where} has a tzinfo: pass a naive time; the "
                "window's timezone (else the job's or the scheduler's) applies"
            )
        return value.replace(fold=0)
    if isinstance(value, str):
        text = value.strip()
        found = _TIME_RE.fullmatch(text)
        if found is None:
            raise InvalidTimeWindowError(
                f"segment {role} {value!r}{where} is not a time: {_TIME_HELP}"
            )
        hour, minute, second, fraction = found.groups()
        if text.startswith("24:"):
            raise InvalidTimeWindowError(
                f"segment {role} {value!r}{where} is out of range: hours go 00-23; "
                "use '00:00' as the end for 'until midnight' (e.g. '22:00-00:00')"
            )
        try:
            return time(
                int(hour), int(minute), int(second or 0), int((fraction or "").ljust(6, "0"))
            )
        except ValueError:
            raise InvalidTimeWindowError(
                f"segment {role} {value!r}{where} is out of range: {_TIME_HELP}"
            ) from None
    raise InvalidTimeWindowError(
        f"segment {role} {value!r}{where} is not a time: pass a datetime.time or a string; "
        f"{_TIME_HELP}"
    )


@dataclass(frozen=True, slots=True, init=False)
class TimeWindowSegment:
    """One daily stretch of local time, `start` included and `end` excluded.

    When `start > end` the segment crosses midnight; its part after midnight belongs to the
    weekday on which the segment started.

    Args:
        start: first local time inside the segment: a naive `datetime.time` or "HH:MM[:SS]".
        end: first local time after the segment ("00:00" means midnight).

    Raises:
        InvalidTimeWindowError: a time that cannot be read, an aware `time`, or
            `start == end` (use no segments for a window open all day).

    Example:
        >>> TimeWindowSegment("22:00", "02:00").crosses_midnight
        True
    """

    start: time
    end: time

    def __init__(self, start: TimeLike, end: TimeLike) -> None:
        start_time = _parse_time(start, "start")
        end_time = _parse_time(end, "end")
        if start_time == end_time:
            raise InvalidTimeWindowError(
                f"segment start={_format_time(start_time)!r} equals end="
                f"{_format_time(end_time)!r}, which is empty: use no segments for a window "
                "open all day, or give two different times"
            )
        object.__setattr__(self, "start", start_time)
        object.__setattr__(self, "end", end_time)

    @classmethod
    def parse(cls, text: str) -> TimeWindowSegment:
        """Read one segment written as "HH:MM-HH:MM".

        Args:
            text: e.g. "09:00-12:00", "22:00-02:00" or "08:30:00-09:15:30".

        Returns:
            The segment.

        Raises:
            InvalidTimeWindowError: text that is not one such segment.
        """
        if not isinstance(text, str):
            raise InvalidTimeWindowError(f"segment {text!r} is not a string: {_SEGMENT_HELP}")
        parts = text.split("-")
        if len(parts) != 2:
            raise InvalidTimeWindowError(f"{text!r} is not a segment: {_SEGMENT_HELP}")
        return cls(_parse_time(parts[0], "start", text), _parse_time(parts[1], "end", text))

    @property
    def crosses_midnight(self) -> bool:
        """True when the segment runs past midnight into the next calendar day."""
        return self.start > self.end

    def _covers(self, local: time, today_allowed: bool, yesterday_allowed: bool) -> bool:
        if self.start < self.end:
            return today_allowed and self.start <= local < self.end
        return (today_allowed and local >= self.start) or (yesterday_allowed and local < self.end)

    def __str__(self) -> str:
        return f"{_format_time(self.start)}-{_format_time(self.end)}"


SegmentLike: TypeAlias = TimeWindowSegment | str | tuple[TimeLike, TimeLike]


def _weekday_error(bad: object, whole: object) -> InvalidTimeWindowError:
    alone = bad is whole or (isinstance(whole, str) and whole.strip() == bad)
    where = "" if alone else f" (in weekdays={whole!r})"
    hint = ""
    if isinstance(bad, str) and bad.strip().isdigit():
        hint = " (digit strings are ambiguous: cron counts Sunday as 0; pass an int or a name)"
    return InvalidTimeWindowError(f"{bad!r}{where} is not a weekday{hint}: {_WEEKDAY_HELP}")


def _day_by_name(name: str, token: str, whole: object) -> int:
    day = _DAY_BY_NAME.get(name.strip().lower())
    if day is None:
        raise _weekday_error(token, whole)
    return day


def _parse_weekday_token(token: str, whole: object) -> list[int]:
    if "-" not in token:
        return [_day_by_name(token, token, whole)]
    parts = token.split("-")
    if len(parts) != 2:
        raise _weekday_error(token, whole)
    first = _day_by_name(parts[0], token, whole)
    last = _day_by_name(parts[1], token, whole)
    return [(first + step) % 7 for step in range((last - first) % 7 + 1)]


def _parse_weekday_item(item: object, whole: object) -> list[int]:
    if isinstance(item, bool):
        raise _weekday_error(item, whole)
    if isinstance(item, int):
        if not 0 <= item <= 6:
            raise _weekday_error(item, whole)
        return [int(item)]
    if isinstance(item, str):
        return [
            day for token in item.split(",") for day in _parse_weekday_token(token.strip(), whole)
        ]
    raise _weekday_error(item, whole)


def _parse_weekdays(value: object) -> tuple[int, ...]:
    if value is None:
        return ()
    items: Iterable[object]
    if isinstance(value, (int, str)):
        items = (value,)
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)):
        items = value
    else:
        raise InvalidTimeWindowError(
            f"weekdays={value!r} is not a weekday or a collection: {_WEEKDAY_HELP}"
        )
    days = {day for item in items for day in _parse_weekday_item(item, value)}
    return tuple(sorted(days))


def _is_time_like(value: object) -> bool:
    return isinstance(value, time) or (isinstance(value, str) and "-" not in value)


def _parse_segment_item(item: object) -> list[TimeWindowSegment]:
    if isinstance(item, TimeWindowSegment):
        return [item]
    if isinstance(item, str):
        return [TimeWindowSegment.parse(part) for part in item.split(",")]
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return [TimeWindowSegment(item[0], item[1])]
    raise InvalidTimeWindowError(
        f"{item!r} is not a segment: pass a TimeWindowSegment, a (start, end) pair of "
        f"times, or a string; {_SEGMENT_HELP}"
    )


def _parse_segments(value: object) -> tuple[TimeWindowSegment, ...]:
    if value is None:
        return ()
    items: Iterable[object]
    if isinstance(value, (TimeWindowSegment, str)) or (
        isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_time_like, value))
    ):
        items = (value,)
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)):
        items = value
    else:
        raise InvalidTimeWindowError(
            f"segments={value!r} is not a segment or a collection of segments: {_SEGMENT_HELP}"
        )
    return tuple(segment for item in items for segment in _parse_segment_item(item))


def _format_weekdays(days: tuple[int, ...]) -> str:
    if len(days) in (0, 7):
        return "every day"
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:
        runs[0] = runs.pop() + runs[0]  # a run over the week's end: "sat-mon"
    parts: list[str] = []
    for run in runs:
        names = [_DAY_NAMES[day] for day in run]
        parts.append(f"{names[0]}-{names[-1]}" if len(run) >= 3 else ",".join(names))
    return ",".join(parts)


@dataclass(frozen=True, slots=True, init=False)
class JobTimeWindow:
    """The local weekdays and daily segments in which a job's runs may start.

    Args:
        weekdays: allowed weekdays; empty (or None) allows every day. Accepts datetime weekday
            numbers (Monday=0 ... Sunday=6), names "mon"..."sun" or "monday"..."sunday"
            (any case), ranges such as "mon-fri" or "fri-mon" (wrapping), comma lists such as
            "mon,wed,fri", and any iterable mixing these. Digit strings are rejected: cron
            counts Sunday as 0, datetime counts Monday as 0, so "0" would be ambiguous.
        segments: allowed daily segments; empty (or None) matches on the weekday alone.
            Accepts `TimeWindowSegment`s, `(start, end)` pairs of `time` or "HH:MM" strings,
            and strings such as "09:00-12:00" or "09:00-12:00,13:00-18:00"; a single one of
            these, or an iterable of them.
        timezone: the zone the window is read in (IANA name or `tzinfo`); None uses the job's
            zone, else the scheduler's, else UTC.

    Raises:
        InvalidTimeWindowError: a weekday, segment or zone that cannot be read, quoting it.

    Example:
        >>> window = JobTimeWindow("mon-fri", "09:00-12:00,13:00-18:00", "Europe/Berlin")
        >>> str(window)
        'mon-fri 09:00-12:00,13:00-18:00 Europe/Berlin'
    """

    weekdays: tuple[int, ...]
    segments: tuple[TimeWindowSegment, ...]
    timezone: tzinfo | None

    def __init__(
        self,
        weekdays: WeekdayLike | Iterable[WeekdayLike] | None = (),
        segments: SegmentLike | Iterable[SegmentLike] | None = (),
        timezone: str | tzinfo | None = None,
    ) -> None:
        object.__setattr__(self, "weekdays", _parse_weekdays(weekdays))
        object.__setattr__(self, "segments", _parse_segments(segments))
        object.__setattr__(self, "timezone", None if timezone is None else _resolve_zone(timezone))

    def effective_zone(self, default: str | tzinfo | None = None) -> tzinfo:
        """The zone the window is read in.

        Args:
            default: the job's (else the scheduler's) zone, used when the window has none.

        Returns:
            The window's own zone, else `default`, else UTC.

        Raises:
            InvalidTimeWindowError: `default` is not a known zone (checked even when unused).
        """
        fallback = UTC if default is None else _resolve_zone(default)
        return fallback if self.timezone is None else self.timezone

    def matches(self, instant: datetime, *, timezone: str | tzinfo | None = None) -> bool:
        """Whether a run may start at `instant`.

        Args:
            instant: an aware datetime (any zone; it is converted to the window's zone).
            timezone: the job's (else the scheduler's) zone, used when the window has none;
                without either the window is read in UTC.

        Returns:
            True when the local weekday and time of `instant` fall inside the window.

        Raises:
            InvalidTimeWindowError: `instant` is naive or not a datetime, or `timezone` is not
                a known zone.
        """
        if not isinstance(instant, datetime) or instant.utcoffset() is None:
            raise InvalidTimeWindowError(
                f"instant {instant!r} is not an aware datetime: attach a zone, e.g. "
                "datetime(..., tzinfo=UTC)"
            )
        local = instant.astimezone(self.effective_zone(timezone))
        weekday = local.weekday()
        days = self.weekdays
        today_allowed = not days or weekday in days
        if not self.segments:
            return today_allowed
        yesterday_allowed = not days or (weekday - 1) % 7 in days
        wall = local.time()
        return any(
            segment._covers(wall, today_allowed, yesterday_allowed) for segment in self.segments
        )

    def __str__(self) -> str:
        parts = [_format_weekdays(self.weekdays)]
        parts.append(",".join(map(str, self.segments)) if self.segments else "all day")
        if self.timezone is not None:
            parts.append(str(self.timezone))
        return " ".join(parts)
