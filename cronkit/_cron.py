"""Cron expressions in cronkit's dialect, and the zones they are evaluated in.

The dialect (SPEC §2): five fields (minute, hour, day-of-month, month, day-of-week); lists,
ranges and steps (`1-5`, `*/15`, `10-50/20`, `5/15` = `5-59/15`); month and weekday names,
case-insensitive; day-of-week 0-7 with 0 and 7 = Sunday, and a range may end on Sunday
(`fri-sun`); the macros `@yearly @annually @monthly @weekly @daily @midnight @hourly`. When
both day fields restrict, a date matches if either does (Vixie cron). As in croniter, a day
field restricts unless it is `*`, or covers its whole range while the other day field holds a
`*`: `0 0 */2 * mon` fires on odd days and on Mondays, `0 0 1-31 * mon` every day.

croniter validates and expands each expression. cronkit also reads every field itself and
rejects, naming the expression and the reason, anything croniter would read differently from
standard cron or that cronkit cannot evaluate exactly: 6 or 7 fields, `@reboot`, the croniter
and Quartz extensions (`L`, `W`, `#`, `?`, `H`, `R`), ranges with equal bounds (croniter reads
`5-5` as the whole field) or running backwards (`50-10`), a bare `*` in a list (`*,5`), and
dates that never occur (`0 0 30 2 *`).

An expression is *pinned* (SPEC §2.1) unless its minute or its hour field is `*`, `*/n`, the
full range (`0-59`, `0-23`) or a step over it (`0-59/n`, `0/n`); `@hourly` is a cadence, the
other macros are pinned. Occurrences come from cronkit's own evaluator (`cronkit._cron_dst`),
which applies the DST rules of SPEC §2.1 in microseconds per call, not croniter's `get_next`.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple, final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from cronkit._cron_dst import CronPattern, ZonePlan, days_in_month
from cronkit._exceptions import ConfigurationError, InvalidCronExpression

__all__ = ["CronExpression", "DueOccurrences", "parse_cron", "resolve_zone", "zone_name"]

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class _Field(NamedTuple):
    name: str
    low: int
    high: int  # highest value written (7 for day-of-week)
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, {name: number for number, name in enumerate(_MONTHS, 1)}),
    _Field("day-of-week", 0, 7, {name: number for number, name in enumerate(_WEEKDAYS)}),
)
_DOW = 4
_ITEM = re.compile(r"(?:(\*)|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?")
_EXTENSIONS = (  # croniter and Quartz syntax that cronkit rejects
    (re.compile(r"\?"), "'?' (any value, Quartz)"),
    (re.compile(r"#"), "'#' (nth weekday of the month)"),
    (re.compile(r"^h(\(|/|$)"), "'H' (hashed values)"),
    (re.compile(r"^r$"), "'R' (random values)"),
    (re.compile(r"^\d*l$|^l\d*$"), "'L' (last)"),
    (re.compile(r"^\d*w$|^w\d*$"), "'W' (nearest weekday)"),
)
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_MAX_PLANS = 64


class DueOccurrences(NamedTuple):
    """What `consume_due` counted.

    Attributes:
        count: occurrences counted, at least 1 (the first one).
        last: the newest counted occurrence.
        following: the occurrence right after `last`, None when the schedule has ended.
    """

    count: int  # type: ignore[assignment]  # shadows tuple.count, as the engine expects
    last: datetime
    following: datetime | None


def resolve_zone(value: str | tzinfo) -> tzinfo:
    """A `tzinfo` for an IANA zone name (`"Europe/Berlin"`, `"UTC"`); a tzinfo as given.

    Raises:
        ConfigurationError: an unknown name or a value of another type.
    """
    if isinstance(value, tzinfo):
        return value
    if isinstance(value, str) and value.strip().upper() == "UTC":
        return ZoneInfo("UTC")
    if isinstance(value, str) and value.strip():
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ConfigurationError(
        f"unknown time zone {value!r}; use an IANA zone name such as 'Europe/Berlin' or "
        "'UTC', or a tzinfo such as zoneinfo.ZoneInfo('America/New_York')"
    )


def zone_name(zone: tzinfo) -> str:
    """The name of `zone` for fingerprints and tables: its IANA key, else its fixed name."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    try:
        name = zone.tzname(None)
    except NotImplementedError:
        name = None
    return name if isinstance(name, str) else str(zone)


def parse_cron(text: str) -> CronExpression:
    """The parsed `CronExpression` for `text`, shared between equal texts (cached).

    Raises:
        InvalidCronExpression: `text` is not an expression of cronkit's dialect.
    """
    if not isinstance(text, str):
        raise _invalid(text, "it must be a string such as '30 2 * * *'")
    return _parse_cached(text)


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str) -> CronExpression:
    return CronExpression(text)


@final
class CronExpression:
    """A validated cron expression, its expanded fields and its occurrences in any zone.

    Attributes:
        text: the expression exactly as given.
        normalized: lower case, single spaces; what fingerprints use.
        minutes, hours, days, months, weekdays: the expanded fields (weekdays 0-6, 0 = Sunday).
        days_restricted, weekdays_restricted: whether the day fields restrict (Vixie OR rule).
        pinned: SPEC §2.1: False for a cadence such as `*/15 * * * *` or `@hourly`.
    """

    __slots__ = (
        "_plans",
        "days",
        "days_restricted",
        "hours",
        "minutes",
        "months",
        "normalized",
        "pattern",
        "pinned",
        "text",
        "weekdays",
        "weekdays_restricted",
    )

    def __init__(self, text: str) -> None:
        """Parse and validate `text`.

        Raises:
            InvalidCronExpression: `text` is not an expression of cronkit's dialect.
        """
        if not isinstance(text, str):
            raise _invalid(text, "it must be a string such as '30 2 * * *'")
        self.text = text
        fields = _split(text)
        self.normalized = " ".join(text.lower().split())
        read = [_read_field(text, spec, f) for spec, f in zip(_FIELDS, fields, strict=True)]
        sets = tuple(values for values, _ in read)
        restricted = _check_with_croniter(text, fields, sets)
        self.minutes: frozenset[int] = sets[0]
        self.hours: frozenset[int] = sets[1]
        self.days: frozenset[int] = sets[2]
        self.months: frozenset[int] = sets[3]
        self.weekdays: frozenset[int] = sets[4]
        self.days_restricted, self.weekdays_restricted = restricted
        self.pinned = not read[0][1] and not read[1][1]
        if self.days_restricted and not self.weekdays_restricted:
            _check_days_occur(text, self.days, self.months)
        self.pattern = CronPattern(
            times=tuple(
                h * 3600 + m * 60 for h in sorted(self.hours) for m in sorted(self.minutes)
            ),
            months=self.months,
            days=self.days,
            weekdays=self.weekdays,
            days_restricted=self.days_restricted,
            weekdays_restricted=self.weekdays_restricted,
            pinned=self.pinned,
        )
        self._plans: dict[tzinfo, ZonePlan] = {}

    def __repr__(self) -> str:
        return f"CronExpression({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CronExpression):
            return NotImplemented
        return self.pattern == other.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def matches(self, wall: datetime) -> bool:
        """Whether the wall time `wall` (its fields as written, zone ignored) matches."""
        weekday = (wall.weekday() + 1) % 7
        return (
            wall.minute in self.minutes
            and wall.hour in self.hours
            and wall.month in self.months
            and self.pattern.day_matches(wall.day, weekday)
        )

    def plan(self, zone: tzinfo) -> ZonePlan:
        """The (cached) evaluator of this expression in `zone`."""
        try:
            return self._plans[zone]
        except KeyError:
            pass
        except TypeError:  # an unhashable tzinfo: evaluate without a cache
            return ZonePlan(self.pattern, zone)
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        plan = self._plans[zone] = ZonePlan(self.pattern, zone)
        return plan

    def next_after(self, instant: datetime, zone: tzinfo) -> datetime | None:
        """The first occurrence strictly after the aware `instant`, evaluated in `zone`.

        Returns:
            An aware UTC datetime, or None past the end of year 9998.
        """
        found = self.plan(zone).next_after((instant - _UTC_EPOCH) // _SECOND)
        return None if found is None else _UTC_EPOCH + timedelta(seconds=found)

    def count_due(
        self, first: datetime, now: datetime, zone: tzinfo, *, limit: int | None = None
    ) -> DueOccurrences:
        """Count `first` (taken as an occurrence) and the occurrences in `(first, now]`.

        Counts whole local days at once, so a year of a per-minute job takes milliseconds.

        Args:
            first: the oldest unconsumed occurrence, aware.
            now: the end of the range, aware, not before `first`.
            zone: the zone the expression is evaluated in.
            limit: count at most this many (at least 1); None for no limit.
        """
        plan = self.plan(zone)
        start = (first - _UTC_EPOCH) // _SECOND
        count, last = plan.count(start, (now - _UTC_EPOCH) // _SECOND, limit)
        last_at = first.astimezone(UTC) if last == start else _UTC_EPOCH + timedelta(seconds=last)
        following = plan.next_after(last)
        return DueOccurrences(
            count,
            last_at,
            None if following is None else _UTC_EPOCH + timedelta(seconds=following),
        )


def _invalid(text: object, reason: str) -> InvalidCronExpression:
    return InvalidCronExpression(f"invalid cron expression {text!r}: {reason}")


def _split(text: str) -> list[str]:
    """The five lower-case fields of `text`, macros expanded."""
    body = text.strip().lower()
    fields = MACROS.get(body, body).split()
    if body == "@reboot":
        reason = "@reboot runs once at start-up, it is not a schedule; run that code at start-up"
    elif body.startswith("@") and body not in MACROS:
        reason = f"unknown macro; use one of {', '.join(MACROS)} or five fields"
    elif len(fields) == 5:
        return fields
    elif not fields:
        reason = "it is empty; write five fields such as '30 2 * * *' (02:30 every day)"
    elif len(fields) == 6:
        reason = (
            "it has 6 fields, but cron in cronkit has 5 (minute hour day-of-month month "
            "day-of-week) and no seconds; for a sub-minute cadence use "
            "Interval(timedelta(seconds=...))"
        )
    else:
        reason = f"it has {len(fields)} fields; write 5, e.g. '30 2 * * *' (02:30 every day)"
    raise _invalid(text, reason)


def _read_field(text: str, spec: _Field, field: str) -> tuple[frozenset[int], bool]:
    """The values of one field and whether it is a wildcard or a full-range step (§2.1)."""
    items = field.split(",")
    values = {v for item in items for v in _read_item(text, spec, item, alone=len(items) == 1)}
    if spec.name == "day-of-week":
        values = {value % 7 for value in values}
    match = _ITEM.fullmatch(field)  # one item: * */n 0-59 0-59/n 0/n are wildcards
    if match is None or match[1] is not None:
        return frozenset(values), match is not None
    low, high, step = match[2], match[3], match[4]
    starts_low = _value(text, spec, low) == spec.low
    if high is None:
        wildcard = starts_low and step is not None
    else:
        wildcard = starts_low and _value(text, spec, high) == spec.high
    return frozenset(values), wildcard


def _read_item(text: str, spec: _Field, item: str, *, alone: bool) -> range:
    match = _ITEM.fullmatch(item)
    if match is None:
        raise _invalid(text, f"{item!r} in the {spec.name} field: {_unsupported(item)}")
    star, low_text, high_text, step_text = match.groups()
    step = 1 if step_text is None else int(step_text)
    if step == 0:
        raise _invalid(text, f"{item!r} in the {spec.name} field has step 0; use 1 or more")
    top = spec.high if spec.name != "day-of-week" else 6  # '*' and 'a/n' stop at Saturday
    if star is not None:
        if not alone and step_text is None:
            raise _invalid(text, f"'*' is listed with other values in the {spec.name} field")
        return range(spec.low, top + 1, step)
    low = _value(text, spec, low_text)
    if high_text is None:
        return range(low, (top if step_text and low <= top else low) + 1, step)
    high = _value(text, spec, high_text)
    if spec.name == "day-of-week" and high == 0 and low > 0:
        high = 7  # fri-sun
    if low == high:
        raise _invalid(
            text,
            f"range {item!r} has equal bounds, which croniter reads as the whole {spec.name} "
            f"field; write {low_text!r} for that one value",
        )
    if low > high:
        raise _invalid(
            text,
            f"range {item!r} in the {spec.name} field runs backwards; write it as two "
            f"ranges, e.g. '{low_text}-{spec.high},{spec.low}-{high_text}'",
        )
    return range(low, high + 1, step)


def _value(text: str, spec: _Field, token: str) -> int:
    if token.isdigit() and spec.low <= int(token) <= spec.high:
        return int(token)
    if token.isdigit():
        reason = f"out of range, use {spec.low}-{spec.high}"
    elif token in spec.names:
        return spec.names[token]
    elif any(pattern.search(token) for pattern, _ in _EXTENSIONS) or not spec.names:
        reason = _unsupported(token)
    else:
        reason = f"use a number or one of {', '.join(spec.names)}"
    raise _invalid(text, f"{token!r} in the {spec.name} field: {reason}")


def _unsupported(token: str) -> str:
    name = next((name for pattern, name in _EXTENSIONS if pattern.search(token)), None)
    if name is None:
        return "write a number, a name ('mon', 'jan'), '*', a range '1-5', a step '*/15' or a list"
    return f"{name} is croniter or Quartz syntax that cronkit does not support; list the values"


def _check_with_croniter(
    text: str, fields: list[str], sets: tuple[frozenset[int], ...]
) -> tuple[bool, bool]:
    """Validate with croniter, insist it reads every field as cronkit does.

    Returns:
        Whether croniter reads the day-of-month and the day-of-week fields as restricting.
    """
    try:
        expanded, _ = croniter.expand(" ".join(fields))
    except CroniterError as error:  # pragma: no cover - cronkit's own checks come first
        raise _invalid(text, f"croniter rejects it: {error}") from None
    for spec, field, ours, theirs in zip(_FIELDS, fields, sets, expanded, strict=True):
        top = 6 if spec.name == "day-of-week" else spec.high
        read = set(range(spec.low, top + 1)) if "*" in theirs else {int(v) for v in theirs}
        if read != ours:
            raise _invalid(
                text,
                f"croniter reads the {spec.name} field {field!r} as {sorted(read)}, standard "
                f"cron as {sorted(ours)}; write the values out as a list",
            )
    return expanded[2][0] != "*", expanded[_DOW][0] != "*"


def _check_days_occur(text: str, days: frozenset[int], months: frozenset[int]) -> None:
    """Reject a day-of-month list that no allowed month has (`0 0 30 2 *`)."""
    if not any(day <= days_in_month(2000, month) for day in days for month in months):
        raise _invalid(
            text,
            f"it never fires: day(s) {sorted(days)} never occur in month(s) {sorted(months)}; "
            "check the day-of-month and month fields",
        )
