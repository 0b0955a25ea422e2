"""Properties of cron evaluation, checked against a brute-force reference of SPEC §2.1.

The reference walks UTC minute by minute, reads the local wall clock, and applies the rules
directly: a cadence fires at every instant whose wall time matches; a pinned expression fires
at the first pass of a matching wall time, and once at the end of a spring-forward gap that
swallowed matching wall times. Expressions are built from random field sets, so the
reference matches against the sets themselves, not against cronkit's parser.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from cronkit._cron import parse_cron
from cronkit._schedules import Cron

ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kolkata",  # +05:30, no DST
    "America/Santiago",  # transitions at midnight
    "America/Havana",  # springs forward at midnight
    "Pacific/Chatham",  # +12:45 / +13:45
)
HORIZON = timedelta(days=3)
MINUTE = timedelta(minutes=1)


def _transitions(zone_key: str) -> list[datetime]:
    """The UTC days of 2024-2026 on which `zone_key` changes its offset."""
    zone = ZoneInfo(zone_key)
    day = datetime(2024, 1, 1, tzinfo=UTC)
    found = []
    previous = day.astimezone(zone).utcoffset()
    while day.year < 2027:
        day += timedelta(hours=6)
        offset = day.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(day)
        previous = offset
    return found


TRANSITIONS = {key: _transitions(key) for key in ZONES}
TRANSITIONS["Pacific/Apia"] = [datetime(2011, 12, 30, 10, tzinfo=UTC)]  # skipped a whole day


@dataclass(frozen=True)
class Fields:
    """A random expression: its text and the sets it stands for."""

    texts: tuple[str, str, str, str, str]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @property
    def text(self) -> str:
        return " ".join(self.texts)

    @property
    def pinned(self) -> bool:
        def wildcard(text: str, high: int) -> bool:  # `*`, `*/n`, `0-high`, `0-high/n`
            return text.split("/")[0] in ("*", f"0-{high}")

        return not wildcard(self.texts[0], 59) and not wildcard(self.texts[1], 23)

    def matches(self, wall: datetime) -> bool:
        weekday = wall.isoweekday() % 7
        day_rule = self.days_rule(wall.day, weekday)
        return (
            wall.minute in self.minutes
            and wall.hour in self.hours
            and wall.month in self.months
            and day_rule
        )

    def days_rule(self, day: int, weekday: int) -> bool:
        days_star, weekdays_star = self.texts[2] == "*", self.texts[4] == "*"
        if not days_star and not weekdays_star:
            return day in self.days or weekday in self.weekdays
        return day in self.days and weekday in self.weekdays


@st.composite
def field(
    draw: st.DrawFn, low: int, high: int, *, allow_full: bool = True, stars: bool = True
) -> tuple[str, set[int]]:
    """One field as (text, values): `*`, `*/n`, a range, a stepped range or a list."""
    kinds = ["star", "step", "range", "list", "list"] if stars else ["range", "list"]
    kind = draw(st.sampled_from(kinds))
    if kind == "star":
        return "*", set(range(low, high + 1))
    if kind == "step":
        step = draw(st.integers(2, high - low))
        return f"*/{step}", set(range(low, high + 1, step))
    if kind == "range":
        start = draw(st.integers(low, high - 1))
        end = draw(st.integers(start + 1, high))
        step = draw(st.integers(1, 4))
        text = f"{start}-{end}" if step == 1 else f"{start}-{end}/{step}"
        values = set(range(start, end + 1, step))
        if allow_full or values != set(range(low, high + 1)):
            return text, values
    values = draw(st.sets(st.integers(low, high), min_size=1, max_size=6))
    if not allow_full and len(values) == high - low + 1:
        values.discard(low)
    return ",".join(str(v) for v in sorted(values)), values


@st.composite
def expressions(draw: st.DrawFn) -> Fields:
    """Random valid expressions; the day fields are `*` or restrict for real."""
    minute_text, minutes = draw(field(0, 59))
    hour_text, hours = draw(st.one_of(field(0, 23), field(0, 3, stars=False)))  # DST lives at night
    day_text, days = draw(field(1, 31, allow_full=False))
    month_text, months = draw(st.one_of(st.just(("*", set(range(1, 13)))), field(1, 12)))
    weekday_text, weekdays = draw(field(0, 7, allow_full=False))
    weekdays = {w % 7 for w in weekdays}
    if weekday_text != "*" and weekdays == set(range(7)):
        weekday_text, weekdays = "1-5", set(range(1, 6))
    if day_text != "*" and weekday_text == "*" and max(months) != 2 and min(days) > 29:
        month_text, months = "*", set(range(1, 13))  # else it may never fire: rejected
    elif day_text != "*" and weekday_text == "*" and min(days) > 28:
        month_text, months = "*", set(range(1, 13))
    texts = (minute_text, hour_text, day_text, month_text, weekday_text)
    return Fields(
        texts,
        frozenset(minutes),
        frozenset(hours),
        frozenset(days),
        frozenset(months),
        frozenset(weekdays),
    )


@st.composite
def starts(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and a start instant, most often within two days before a transition."""
    zone = draw(st.sampled_from([*ZONES, "Pacific/Apia"]))
    seconds = draw(st.integers(0, 59))
    if TRANSITIONS[zone] and draw(st.integers(0, 3)) > 0:
        anchor = draw(st.sampled_from(TRANSITIONS[zone]))
        shift = draw(st.integers(-48 * 60, 12 * 60))
        return zone, anchor + timedelta(minutes=shift, seconds=seconds)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    return zone, base + timedelta(minutes=draw(st.integers(0, 3 * 365 * 1440)), seconds=seconds)


def reference(fields: Fields, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Occurrences in `(start, end]` by walking UTC minute by minute (SPEC §2.1 verbatim)."""
    found: list[datetime] = []
    instant = start.replace(second=0, microsecond=0)
    previous = instant.astimezone(zone)
    while instant + MINUTE <= end:
        instant += MINUTE
        local = instant.astimezone(zone)
        wall, previous_wall = local.replace(tzinfo=None), previous.replace(tzinfo=None)
        fires = fields.matches(wall) and (not fields.pinned or local.fold == 0)
        if fields.pinned and wall - previous_wall > MINUTE:  # a gap: walls the clock skipped
            skipped = previous_wall + MINUTE
            while skipped < wall and not fires:
                fires = fields.matches(skipped)
                skipped += MINUTE
        if fires:
            found.append(instant)
        previous = local
    return found


def ours(schedule: Cron, start: datetime, end: datetime) -> list[datetime]:
    found: list[datetime] = []
    current = start
    while True:
        following = schedule.next_after(current)
        if following is None or following > end:
            return found
        assert following > current
        found.append(following)
        current = following


@settings(max_examples=150, deadline=None)
@given(fields=expressions(), start=starts())
def test_next_after_agrees_with_the_minute_by_minute_reference(
    fields: Fields, start: tuple[str, datetime]
) -> None:
    zone_key, instant = start
    zone = ZoneInfo(zone_key)
    schedule = Cron(fields.text, zone)
    assert schedule.pinned == fields.pinned
    end = instant + HORIZON
    expected = reference(fields, zone, instant, end)
    got = ours(schedule, instant, end)
    assert got == expected
    assert all(a < b for a, b in itertools.pairwise(got))


@settings(max_examples=60, deadline=None)
@given(fields=expressions(), start=starts(), limit=st.none() | st.integers(1, 500))
def test_consume_due_agrees_with_stepping(
    fields: Fields, start: tuple[str, datetime], limit: int | None
) -> None:
    zone_key, instant = start
    schedule = Cron(fields.text, zone_key)
    first = schedule.next_after(instant)
    assert first is not None
    now = instant + HORIZON
    if first > now:
        return
    stepped = [first, *ours(schedule, first, now)]
    if limit is not None:
        stepped = stepped[:limit]
    due = schedule.consume_due(first, now, limit=limit)
    assert due.count == len(stepped)
    assert due.last == stepped[-1]
    assert due.following == schedule.next_after(stepped[-1])


@settings(max_examples=100, deadline=None)
@given(
    fields=expressions(),
    full_days=st.sampled_from(["*", "1-31", "*/1"]),
    full_weekdays=st.sampled_from(["*", "0-6", "1-7", "0-7"]),
    which=st.sampled_from(["none", "days", "weekdays"]),
    offset=st.integers(0, 20 * 365 * 1440),
)
def test_agrees_with_croniter_in_utc(
    fields: Fields, full_days: str, full_weekdays: str, which: str, offset: int
) -> None:
    """Without DST, occurrences are croniter's, Vixie OR rule and full-but-explicit fields too."""
    texts = list(fields.texts)
    if which == "days":
        texts[2] = full_days
    elif which == "weekdays":
        texts[4] = full_weekdays
    expression = " ".join(texts)
    start = datetime(2015, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    iterator = croniter(expression, start)
    schedule = Cron(expression)
    instant: datetime | None = start
    for _ in range(15):
        assert instant is not None
        instant = schedule.next_after(instant)
        assert instant == iterator.get_next(datetime)


@settings(max_examples=200, deadline=None)
@given(fields=expressions())
def test_parsed_sets_are_the_generated_sets(fields: Fields) -> None:
    parsed = parse_cron(fields.text)
    assert (parsed.minutes, parsed.hours, parsed.days, parsed.months, parsed.weekdays) == (
        fields.minutes,
        fields.hours,
        fields.days if fields.texts[2] != "*" else frozenset(range(1, 32)),
        fields.months,
        fields.weekdays if fields.texts[4] != "*" else frozenset(range(7)),
    )
    assert parsed.days_restricted == (fields.texts[2] != "*")
    assert parsed.weekdays_restricted == (fields.texts[4] != "*")
