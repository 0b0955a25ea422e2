"""Cron dialect, pinned/cadence classification, DST rules (SPEC §2.1) and counting."""

from __future__ import annotations

import time
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pendulum
import pytest

from cronkit._cron import CronExpression, parse_cron, resolve_zone, zone_name
from cronkit._cron_dst import MAX_DAY, CronPattern, ZonePlan
from cronkit._exceptions import ConfigurationError, CronkitError, InvalidCronExpression

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ALL = frozenset
MINUTES, HOURS, DAYS = ALL(range(60)), ALL(range(24)), ALL(range(1, 32))
MONTHS, WEEKDAYS = ALL(range(1, 13)), ALL(range(7))


def at(text: str) -> datetime:
    """An aware UTC instant from RFC 3339 text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def occurrences(expr: str, zone: tzinfo, start: str, end: str) -> list[str]:
    """The occurrences in `(start, end]` as `...Z` text, by stepping `next_after`."""
    expression = parse_cron(expr)
    found: list[str] = []
    instant: datetime | None = at(start)
    while True:
        assert instant is not None
        instant = expression.next_after(instant, zone)
        if instant is None or instant > at(end):
            return found
        assert instant.tzinfo is UTC
        found.append(instant.strftime("%Y-%m-%dT%H:%MZ"))


# -- dialect --------------------------------------------------------------------------------

ACCEPTED = [
    # expression, minutes, hours, days, months, weekdays
    ("* * * * *", MINUTES, HOURS, DAYS, MONTHS, WEEKDAYS),
    ("30 2 * * *", {30}, {2}, DAYS, MONTHS, WEEKDAYS),
    ("*/15 9-17 * * mon-fri", {0, 15, 30, 45}, set(range(9, 18)), DAYS, MONTHS, {1, 2, 3, 4, 5}),
    ("0 0 1 JAN,Jul *", {0}, {0}, {1}, {1, 7}, WEEKDAYS),
    ("0 0 * * SUN", {0}, {0}, DAYS, MONTHS, {0}),
    ("0 0 * * 7", {0}, {0}, DAYS, MONTHS, {0}),
    ("0 0 * * 0,7", {0}, {0}, DAYS, MONTHS, {0}),
    ("0 0 * * 5-7", {0}, {0}, DAYS, MONTHS, {5, 6, 0}),
    ("0 0 * * fri-sun", {0}, {0}, DAYS, MONTHS, {5, 6, 0}),
    ("0 0 * * 1-7/2", {0}, {0}, DAYS, MONTHS, {1, 3, 5, 0}),
    (
        "10-50/20 */6 1-10/3 jan-dec/5 *",
        {10, 30, 50},
        {0, 6, 12, 18},
        {1, 4, 7, 10},
        {1, 6, 11},
        WEEKDAYS,
    ),
    ("5/15 * * * *", {5, 20, 35, 50}, HOURS, DAYS, MONTHS, WEEKDAYS),
    ("59/15 * * * *", {59}, HOURS, DAYS, MONTHS, WEEKDAYS),
    ("*/20,7 * * * *", {0, 7, 20, 40}, HOURS, DAYS, MONTHS, WEEKDAYS),
    ("  05   01 * *   * ", {5}, {1}, DAYS, MONTHS, WEEKDAYS),
    ("0 0 29 2 *", {0}, {0}, {29}, {2}, WEEKDAYS),
    ("0 0 31 2 mon", {0}, {0}, {31}, {2}, {1}),  # never the 31st, but every Monday of February
    ("@yearly", {0}, {0}, {1}, {1}, WEEKDAYS),
    ("@annually", {0}, {0}, {1}, {1}, WEEKDAYS),
    ("@monthly", {0}, {0}, {1}, MONTHS, WEEKDAYS),
    ("@weekly", {0}, {0}, DAYS, MONTHS, {0}),
    ("@daily", {0}, {0}, DAYS, MONTHS, WEEKDAYS),
    ("@midnight", {0}, {0}, DAYS, MONTHS, WEEKDAYS),
    ("@HOURLY", {0}, HOURS, DAYS, MONTHS, WEEKDAYS),
]


@pytest.mark.parametrize(
    ("expr", "minutes", "hours", "days", "months", "weekdays"),
    ACCEPTED,
    ids=[row[0].strip() for row in ACCEPTED],
)
def test_accepted_expressions_expand(
    expr: str,
    minutes: AbstractSet[int],
    hours: AbstractSet[int],
    days: AbstractSet[int],
    months: AbstractSet[int],
    weekdays: AbstractSet[int],
) -> None:
    parsed = CronExpression(expr)
    assert parsed.text == expr
    assert (parsed.minutes, parsed.hours, parsed.days) == (minutes, hours, days)
    assert (parsed.months, parsed.weekdays) == (months, weekdays)


REJECTED = [
    # expression, fragment of the reason
    ("", "empty"),
    ("   ", "empty"),
    ("* * * *", "4 fields"),
    ("* * * * * *", "Interval"),
    ("0 30 2 * * *", "no seconds"),
    ("* * * * * * *", "7 fields"),
    ("@reboot", "not a schedule"),
    ("@fortnightly", "unknown macro"),
    ("@daily extra", "unknown macro"),
    ("every day", "2 fields"),
    ("a b c d e", "'a' in the minute field"),
    ("0 0 * * %2", "'%2'"),
    ("60 * * * *", "out of range"),
    ("* 24 * * *", "out of range"),
    ("* * 0 * *", "out of range"),
    ("* * 32 * *", "out of range"),
    ("* * * 0 *", "out of range"),
    ("* * * 13 *", "out of range"),
    ("* * * * 8", "out of range"),
    ("-1 * * * *", "'-1'"),
    ("0 0 L * *", "'L' (last)"),
    ("0 0 * * 5L", "'L' (last)"),
    ("0 0 15W * *", "'W' (nearest weekday)"),
    ("0 0 * * 5#2", "'#' (nth weekday"),
    ("0 0 ? * *", "'?'"),
    ("H * * * *", "'H' (hashed"),
    ("H(0-29)/10 * * * *", "'H' (hashed"),
    ("R * * * *", "'R' (random"),
    ("*/0 * * * *", "step 0"),
    ("5-5 * * * *", "equal bounds"),
    ("0 0 * * sun-sun", "equal bounds"),
    ("50-10 * * * *", "runs backwards"),
    ("0 0 * dec-feb *", "runs backwards"),
    ("*,5 * * * *", "'*' is listed"),
    ("1-2-3 * * * *", "'1-2-3'"),
    ("1,,2 * * * *", "''"),
    ("jan * * * *", "'jan' in the minute field"),
    ("0 0 * * funday", "one of sun, mon"),
    ("0 0 * foo *", "one of jan, feb"),
    ("0 0 * * 7/2", "croniter reads the day-of-week field"),
    ("0 0 30 2 *", "never fires"),
    ("0 0 31 4,6,9,11 *", "never fires"),
]


@pytest.mark.parametrize(("expr", "reason"), REJECTED, ids=[row[0] or "empty" for row in REJECTED])
def test_rejected_expressions_name_the_expression_and_the_reason(expr: str, reason: str) -> None:
    with pytest.raises(InvalidCronExpression) as caught:
        CronExpression(expr)
    message = str(caught.value)
    assert repr(expr) in message
    assert reason in message
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, CronkitError)


@pytest.mark.parametrize("value", [None, 5, ["* * * * *"]], ids=["none", "int", "list"])
def test_a_non_string_is_rejected(value: object) -> None:
    with pytest.raises(InvalidCronExpression, match="must be a string"):
        parse_cron(value)  # type: ignore[arg-type]
    with pytest.raises(InvalidCronExpression, match="must be a string"):
        CronExpression(value)  # type: ignore[arg-type]


def test_parsing_is_cached_and_expressions_compare_by_meaning() -> None:
    assert parse_cron("*/5 * * * *") is parse_cron("*/5 * * * *")
    assert CronExpression("@weekly") == CronExpression("0 0 * * sun")
    assert hash(CronExpression("@weekly")) == hash(CronExpression("0 0 * * 7"))
    assert CronExpression("@weekly") != CronExpression("@daily")
    assert CronExpression("@weekly") != "@weekly"
    assert repr(CronExpression("0 0 * * 7")) == "CronExpression('0 0 * * 7')"
    assert CronExpression("0  0 * * MON").normalized == "0 0 * * mon"


# -- day matching: Vixie OR rule ------------------------------------------------------------

DAY_RULES = [
    # expression, start, end, expected days (UTC midnight)
    (
        "0 0 13 * 5",
        "2025-01-31T00:00Z",
        "2025-02-28T00:00Z",
        ["02-07", "02-13", "02-14", "02-21", "02-28"],
    ),
    (
        "0 0 */10 * mon",
        "2025-01-31T00:00Z",
        "2025-02-24T00:00Z",
        ["02-01", "02-03", "02-10", "02-11", "02-17", "02-21", "02-24"],
    ),
    ("0 0 * * mon", "2025-01-31T00:00Z", "2025-02-24T00:00Z", ["02-03", "02-10", "02-17", "02-24"]),
    ("0 0 1 * *", "2025-01-31T00:00Z", "2025-04-01T00:00Z", ["02-01", "03-01", "04-01"]),
    ("0 0 1 * 0-6", "2025-01-31T00:00Z", "2025-02-03T00:00Z", ["02-01", "02-02", "02-03"]),
    ("0 0 1-31 * mon", "2025-01-31T00:00Z", "2025-02-03T00:00Z", ["02-01", "02-02", "02-03"]),
    ("0 0 */2 * 1-7", "2025-01-31T00:00Z", "2025-02-05T00:00Z", ["02-01", "02-03", "02-05"]),
    ("0 0 31 * *", "2025-01-31T00:00Z", "2025-06-01T00:00Z", ["03-31", "05-31"]),
    ("0 0 29 2 *", "2025-01-01T00:00Z", "2033-01-01T00:00Z", ["02-29", "02-29"]),
]


@pytest.mark.parametrize(("expr", "start", "end", "days"), DAY_RULES, ids=[r[0] for r in DAY_RULES])
def test_day_fields_follow_vixie_and_croniter(
    expr: str, start: str, end: str, days: list[str]
) -> None:
    assert [text[5:10] for text in occurrences(expr, UTC, start, end)] == days


def test_the_29th_of_february_is_found_across_a_century_without_one() -> None:
    assert occurrences("0 0 29 2 *", UTC, "2096-03-01T00:00Z", "2104-03-01T00:00Z") == [
        "2104-02-29T00:00Z"
    ]


def test_matches_reads_the_wall_clock() -> None:
    expression = CronExpression("*/15 9-17 * * mon-fri")
    assert expression.matches(datetime(2025, 6, 2, 9, 15))
    assert not expression.matches(datetime(2025, 6, 1, 9, 15))  # a Sunday
    assert not expression.matches(datetime(2025, 6, 2, 9, 16))
    assert not expression.matches(datetime(2025, 6, 2, 18, 0))
    assert not CronExpression("0 0 1 jan *").matches(datetime(2025, 2, 1))


# -- pinned or cadence ----------------------------------------------------------------------

CLASSES = [
    ("30 2 * * *", True),
    ("0,30 2 * * *", True),
    ("0-30 2 * * *", True),
    ("15 1-3 * * *", True),
    ("5/15 3 * * *", True),
    ("@daily", True),
    ("@midnight", True),
    ("@weekly", True),
    ("@monthly", True),
    ("@yearly", True),
    ("@annually", True),
    ("@hourly", False),
    ("0 * * * *", False),
    ("*/15 * * * *", False),
    ("* 2 * * *", False),
    ("*/15 2 * * *", False),
    ("0-59/15 2 * * *", False),
    ("0/15 2 * * *", False),
    ("0-59 2 * * *", False),
    ("30 */2 * * *", False),
    ("30 0-23/3 * * *", False),
    ("30 0-23 * * *", False),
]


@pytest.mark.parametrize(("expr", "pinned"), CLASSES, ids=[row[0] for row in CLASSES])
def test_pinned_or_cadence(expr: str, pinned: bool) -> None:
    assert CronExpression(expr).pinned is pinned


# -- DST: the reference vectors of SPEC §2.1, verbatim ---------------------------------------


def test_berlin_pinned_0230_around_both_changes() -> None:
    days = occurrences("30 2 * * *", BERLIN, "2025-03-28T12:00Z", "2025-03-31T12:00Z")
    assert days == ["2025-03-29T01:30Z", "2025-03-30T01:00Z", "2025-03-31T00:30Z"]
    fall = occurrences("30 2 * * *", BERLIN, "2025-10-25T12:00Z", "2025-10-26T12:00Z")
    assert fall == ["2025-10-26T00:30Z"]


def test_berlin_half_hourly_cadence_on_both_change_days() -> None:
    # SPEC lists the March window without its end, 02:00Z (04:00 CEST, which also fires) ...
    spring = occurrences("*/30 * * * *", BERLIN, "2025-03-29T23:59Z", "2025-03-30T01:59Z")
    assert spring == [
        "2025-03-30T00:00Z",
        "2025-03-30T00:30Z",
        "2025-03-30T01:00Z",
        "2025-03-30T01:30Z",
    ]
    # ... and the October window with it.
    fall = occurrences("*/30 * * * *", BERLIN, "2025-10-25T23:59Z", "2025-10-26T02:00Z")
    assert fall == [
        "2025-10-26T00:00Z",
        "2025-10-26T00:30Z",
        "2025-10-26T01:00Z",
        "2025-10-26T01:30Z",
        "2025-10-26T02:00Z",
    ]


def test_berlin_hourly_cadence_is_hourly_in_real_time_on_fall_back() -> None:
    got = occurrences("0 * * * *", BERLIN, "2025-10-25T21:30Z", "2025-10-26T04:00Z")
    assert got == [f"2025-10-25T{h}:00Z" for h in (22, 23)] + [
        f"2025-10-26T0{h}:00Z" for h in range(5)
    ]


@pytest.mark.parametrize(
    ("expr", "start", "expected"),
    [
        ("30 1 * * *", "2025-11-01T12:00Z", ["2025-11-02T05:30Z"]),
        ("30 2 * * *", "2025-03-08T12:00Z", ["2025-03-09T07:00Z"]),
        ("30 2 * * *", "2025-11-01T12:00Z", ["2025-11-02T07:30Z"]),
    ],
    ids=["0130-repeated", "0230-missing", "0230-after-fall-back"],
)
def test_new_york_pinned(expr: str, start: str, expected: list[str]) -> None:
    end = (at(start) + timedelta(hours=23)).isoformat()
    assert occurrences(expr, NEW_YORK, start, end) == expected


# -- DST: more shapes of gaps and folds ------------------------------------------------------

DST_CASES = [
    # id, expression, zone, start, end, expected
    (
        "gap-collapses",
        "0,15,30,45 2 * * *",
        "Europe/Berlin",
        "2025-03-29T12:00Z",
        "2025-03-31T00:59Z",
        [
            "2025-03-30T01:00Z",
            "2025-03-31T00:00Z",
            "2025-03-31T00:15Z",
            "2025-03-31T00:30Z",
            "2025-03-31T00:45Z",
        ],
    ),
    (
        "fold-pinned-first-pass",
        "0,15,30,45 2 * * *",
        "Europe/Berlin",
        "2025-10-25T12:00Z",
        "2025-10-26T12:00Z",
        ["2025-10-26T00:00Z", "2025-10-26T00:15Z", "2025-10-26T00:30Z", "2025-10-26T00:45Z"],
    ),
    (
        "fold-cadence-both-passes",
        "*/15 2 * * *",
        "Europe/Berlin",
        "2025-10-25T12:00Z",
        "2025-10-26T12:00Z",
        [
            "2025-10-26T00:00Z",
            "2025-10-26T00:15Z",
            "2025-10-26T00:30Z",
            "2025-10-26T00:45Z",
            "2025-10-26T01:00Z",
            "2025-10-26T01:15Z",
            "2025-10-26T01:30Z",
            "2025-10-26T01:45Z",
        ],
    ),
    (
        "gap-cadence-nothing",
        "*/15 2 * * *",
        "Europe/Berlin",
        "2025-03-29T12:00Z",
        "2025-03-30T23:00Z",
        [],
    ),
    (
        "midnight-gap-havana",
        "0 0 * * *",
        "America/Havana",
        "2025-03-08T00:00Z",
        "2025-03-10T12:00Z",
        ["2025-03-08T05:00Z", "2025-03-09T05:00Z", "2025-03-10T04:00Z"],
    ),
    (
        "midnight-fold-santiago-pinned",
        "30 23 * * *",
        "America/Santiago",
        "2025-04-05T12:00Z",
        "2025-04-07T12:00Z",
        ["2025-04-06T02:30Z", "2025-04-07T03:30Z"],
    ),
    (
        "midnight-fold-santiago-cadence",
        "*/30 23 * * *",
        "America/Santiago",
        "2025-04-05T12:00Z",
        "2025-04-06T12:00Z",
        ["2025-04-06T02:00Z", "2025-04-06T02:30Z", "2025-04-06T03:00Z", "2025-04-06T03:30Z"],
    ),
    (
        "midnight-gap-santiago",
        "0 0 * * *",
        "America/Santiago",
        "2025-09-05T12:00Z",
        "2025-09-08T12:00Z",
        ["2025-09-06T04:00Z", "2025-09-07T04:00Z", "2025-09-08T03:00Z"],
    ),
    (
        "half-hour-fold-lord-howe",
        "45 1 * * *",
        "Australia/Lord_Howe",
        "2025-04-04T00:00Z",
        "2025-04-06T00:00Z",
        ["2025-04-04T14:45Z", "2025-04-05T14:45Z"],
    ),
    (
        "half-hour-gap-lord-howe",
        "15 2 * * *",
        "Australia/Lord_Howe",
        "2025-10-03T00:00Z",
        "2025-10-05T00:00Z",
        ["2025-10-03T15:45Z", "2025-10-04T15:30Z"],
    ),
    (
        "skipped-day-apia-midnight",
        "0 0 * * *",
        "Pacific/Apia",
        "2011-12-28T00:00Z",
        "2012-01-01T12:00Z",
        [
            "2011-12-28T10:00Z",
            "2011-12-29T10:00Z",
            "2011-12-30T10:00Z",
            "2011-12-31T10:00Z",
            "2012-01-01T10:00Z",
        ],
    ),
    (
        "skipped-day-apia-noon",
        "0 12 * * *",
        "Pacific/Apia",
        "2011-12-28T00:00Z",
        "2012-01-01T00:00Z",
        [
            "2011-12-28T22:00Z",
            "2011-12-29T22:00Z",
            "2011-12-30T10:00Z",
            "2011-12-30T22:00Z",
            "2011-12-31T22:00Z",
        ],
    ),
    (
        "skipped-day-apia-friday",
        "0 12 * * fri",
        "Pacific/Apia",
        "2011-12-26T00:00Z",
        "2012-01-07T00:00Z",
        ["2011-12-30T10:00Z", "2012-01-05T22:00Z"],
    ),
    (
        "fixed-offset",
        "30 2 * * *",
        "UTC+05:30",
        "2025-03-29T12:00Z",
        "2025-03-31T00:00Z",
        ["2025-03-29T21:00Z", "2025-03-30T21:00Z"],
    ),
]


@pytest.mark.parametrize(
    ("expr", "zone", "start", "end", "expected"),
    [row[1:] for row in DST_CASES],
    ids=[row[0] for row in DST_CASES],
)
def test_dst_shapes(expr: str, zone: str, start: str, end: str, expected: list[str]) -> None:
    tz = timezone(timedelta(hours=5, minutes=30)) if zone == "UTC+05:30" else ZoneInfo(zone)
    assert occurrences(expr, tz, start, end) == expected


def test_results_are_utc_and_strictly_after_sub_second_instants() -> None:
    expression = parse_cron("* * * * *")
    instant = datetime(2025, 3, 30, 3, 0, 0, 1, tzinfo=BERLIN)
    assert expression.next_after(instant, BERLIN) == at("2025-03-30T01:01:00Z")
    assert expression.next_after(at("2025-03-30T00:59:59.999999Z"), BERLIN) == at(
        "2025-03-30T01:00:00Z"
    )


def test_the_ends_of_the_calendar() -> None:
    expression = parse_cron("* * * * *")
    assert expression.next_after(datetime.max.replace(tzinfo=UTC), UTC) is None
    assert expression.next_after(datetime.max.replace(tzinfo=UTC), BERLIN) is None
    assert expression.next_after(at("9998-12-31T23:59:00Z"), UTC) is None
    assert expression.next_after(at("9998-12-31T23:58:00Z"), UTC) == at("9998-12-31T23:59:00Z")
    first = expression.next_after(datetime.min.replace(tzinfo=UTC), NEW_YORK)
    assert first is not None
    assert first.year == 2  # supported from year 2 on
    assert parse_cron("0 0 29 2 *").next_after(at("9996-03-01T00:00Z"), UTC) is None


class Unhashable(tzinfo):
    """A fixed +01:00 zone that cannot be a dict key."""

    __hash__ = None  # type: ignore[assignment]

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "+01"


def test_any_tzinfo_works_even_unhashable() -> None:
    expression = parse_cron("30 2 * * *")
    assert expression.next_after(at("2025-01-01T00:00Z"), Unhashable()) == at("2025-01-01T01:30Z")
    assert expression.plan(Unhashable()) is not expression.plan(Unhashable())
    assert expression.plan(BERLIN) is expression.plan(BERLIN)


def test_plan_caches_stay_bounded() -> None:
    expression = CronExpression("0 0 * * *")
    for minutes in range(70):
        expression.plan(timezone(timedelta(minutes=minutes)))
    assert len(expression._plans) <= 64
    plan = ZonePlan(expression.pattern, BERLIN)
    instant: int | None = 0
    for _ in range(9000):  # more days than the block cache holds
        assert instant is not None
        instant = plan.next_after(instant)
    last_day = datetime(1970, 1, 2, tzinfo=BERLIN) + timedelta(days=8999)
    assert instant == last_day.timestamp()


def test_next_date_gives_up_past_the_last_supported_year() -> None:
    pattern = CronPattern((0,), ALL({2}), ALL({29}), ALL(range(7)), True, False, True)
    assert pattern.next_date(MAX_DAY) is None


# -- counting -------------------------------------------------------------------------------


def stepped(expr: str, zone: tzinfo, first: datetime, now: datetime) -> list[datetime]:
    expression = parse_cron(expr)
    found = [first]
    while True:
        following = expression.next_after(found[-1], zone)
        if following is None or following > now:
            return found
        found.append(following)


COUNTS = [
    ("* * * * *", "Europe/Berlin", "2025-03-29T22:00Z", "2025-03-30T03:00Z"),
    ("*/7 * * * *", "Europe/Berlin", "2025-10-25T20:00Z", "2025-10-26T05:00Z"),
    ("30 2 * * *", "Europe/Berlin", "2025-03-01T01:30Z", "2025-11-01T00:00Z"),
    ("0,15,30,45 2 * * *", "Europe/Berlin", "2025-03-29T01:00Z", "2025-03-31T03:00Z"),
    ("*/30 23 * * *", "America/Santiago", "2025-04-04T02:00Z", "2025-04-08T00:00Z"),
    ("0 12 * * *", "Pacific/Apia", "2011-12-20T23:00Z", "2012-01-05T00:00Z"),
    ("*/5 9-17 * * mon-fri", "America/New_York", "2025-03-03T14:00Z", "2025-03-20T00:00Z"),
]


@pytest.mark.parametrize(
    ("expr", "zone", "first", "now"), COUNTS, ids=[f"{r[0]}@{r[1]}" for r in COUNTS]
)
@pytest.mark.parametrize("limit", [None, 1, 2, 7, 100, 10_000], ids=lambda v: f"limit={v}")
def test_count_due_agrees_with_stepping(
    expr: str, zone: str, first: str, now: str, limit: int | None
) -> None:
    tz = ZoneInfo(zone)
    expected = stepped(expr, tz, at(first), at(now))
    if limit is not None:
        expected = expected[:limit]
    due = parse_cron(expr).count_due(at(first), at(now), tz, limit=limit)
    assert due.count == len(expected)
    assert due.last == expected[-1]
    assert due.following == parse_cron(expr).next_after(expected[-1], tz)


def test_count_due_takes_first_as_given_and_now_inclusive() -> None:
    expression = parse_cron("0 * * * *")
    first = datetime(2025, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # not on the hour
    due = expression.count_due(first, at("2025-01-01T02:00Z"), UTC)
    assert due == (4, at("2025-01-01T02:00Z"), at("2025-01-01T03:00Z"))
    alone = expression.count_due(first, first, UTC)
    assert alone.last.tzinfo is UTC
    assert alone == (1, at("2024-12-31T23:30Z"), at("2025-01-01T00:00Z"))


@pytest.mark.parametrize("zone", [UTC, BERLIN, NEW_YORK], ids=zone_name)
def test_a_year_of_minutes_is_counted_fast(zone: tzinfo) -> None:
    expression = CronExpression("* * * * *")
    began = time.perf_counter()
    due = expression.count_due(at("2025-01-01T00:00Z"), at("2025-12-31T23:59Z"), zone)
    elapsed = time.perf_counter() - began
    assert due.count == 525_600  # a cadence fires every minute of real time, DST or not
    assert due.last == at("2025-12-31T23:59Z")
    assert elapsed < 0.2  # ~10 ms in practice


def test_a_pinned_year_in_berlin_counts_each_day_once() -> None:
    due = parse_cron("30 2 * * *").count_due(
        at("2025-01-01T01:30Z"), at("2025-12-31T23:59Z"), BERLIN, limit=None
    )
    assert due.count == 365


def test_cadence_counts_the_repeated_hour_twice_and_the_missing_one_never() -> None:
    expression = parse_cron("0 * * * *")
    spring = expression.count_due(at("2025-03-29T23:00Z"), at("2025-03-30T22:00Z"), BERLIN)
    assert spring.count == 24  # 23 local hours, each once: hourly in real time
    fall = expression.count_due(at("2025-10-25T22:00Z"), at("2025-10-26T23:00Z"), BERLIN)
    assert fall.count == 26


# -- zones ----------------------------------------------------------------------------------

ZONE_NAMES = [
    ("Europe/Berlin", "Europe/Berlin"),
    (" America/New_York ", "America/New_York"),
    ("UTC", "UTC"),
    ("utc", "UTC"),
]


@pytest.mark.parametrize(("name", "key"), ZONE_NAMES, ids=[row[0].strip() for row in ZONE_NAMES])
def test_resolve_zone_by_name(name: str, key: str) -> None:
    zone = resolve_zone(name)
    assert isinstance(zone, ZoneInfo)
    assert zone_name(zone) == key


@pytest.mark.parametrize(
    "zone", [UTC, BERLIN, timezone(timedelta(hours=2)), Unhashable()], ids=repr
)
def test_resolve_zone_passes_a_tzinfo_through(zone: tzinfo) -> None:
    assert resolve_zone(zone) is zone


@pytest.mark.parametrize(
    "value",
    ["Mars/Olympus", "", "Europe", "../etc/passwd", 3600, None],
    ids=["unknown", "empty", "directory", "path", "int", "none"],
)
def test_resolve_zone_rejects_unknown_zones(value: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_zone(value)  # type: ignore[arg-type]
    assert repr(value) in str(caught.value)
    assert "Europe/Berlin" in str(caught.value)
    assert isinstance(caught.value, ValueError)


class Nameless(tzinfo):
    """A tzinfo that implements only `utcoffset`."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return "Nameless()"


def test_zone_names() -> None:
    assert zone_name(UTC) == "UTC"
    assert zone_name(ZoneInfo("UTC")) == "UTC"
    assert zone_name(timezone(timedelta(hours=2))) == "UTC+02:00"
    assert zone_name(BERLIN) == "Europe/Berlin"
    assert zone_name(pendulum.timezone("Europe/Berlin")) == "Europe/Berlin"
    assert zone_name(pendulum.FixedTimezone(3600)) == "+01:00"
    assert zone_name(Unhashable()) == "+01"
    assert zone_name(Nameless()) == "Nameless()"


def test_pendulum_zones_follow_the_same_rules() -> None:
    zone = pendulum.timezone("Europe/Berlin")
    assert occurrences("30 2 * * *", zone, "2025-03-29T12:00Z", "2025-03-31T12:00Z") == [
        "2025-03-30T01:00Z",
        "2025-03-31T00:30Z",
    ]
    assert occurrences("30 2 * * *", zone, "2025-10-25T12:00Z", "2025-10-26T12:00Z") == [
        "2025-10-26T00:30Z"
    ]
