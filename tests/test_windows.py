"""Tests for `cronkit._windows`: parsing tables, window maths, DST, and a brute-force property."""

from __future__ import annotations

import dataclasses
import enum
import pickle
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cronkit._exceptions import ConfigurationError, CronkitError, InvalidTimeWindowError
from cronkit._windows import JobTimeWindow, TimeWindowSegment

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


class Day(enum.IntEnum):
    MONDAY = 0
    SUNDAY = 6


# --- weekdays ------------------------------------------------------------------------------

WEEKDAY_CASES = [
    pytest.param(0, (0,), id="int-monday"),
    pytest.param(6, (6,), id="int-sunday"),
    pytest.param(Day.SUNDAY, (6,), id="int-enum"),
    pytest.param("mon", (0,), id="short-name"),
    pytest.param("MON", (0,), id="short-name-upper"),
    pytest.param("Wed", (2,), id="short-name-mixed-case"),
    pytest.param("monday", (0,), id="full-name"),
    pytest.param("SUNDAY", (6,), id="full-name-upper"),
    pytest.param("  tue ", (1,), id="padded"),
    pytest.param("mon-fri", (0, 1, 2, 3, 4), id="range"),
    pytest.param("Monday-Friday", (0, 1, 2, 3, 4), id="range-full-names"),
    pytest.param("mon - fri", (0, 1, 2, 3, 4), id="range-spaced"),
    pytest.param("fri-mon", (0, 4, 5, 6), id="range-wrapping"),
    pytest.param("sat-sun", (5, 6), id="range-weekend"),
    pytest.param("sun-sat", (0, 1, 2, 3, 4, 5, 6), id="range-whole-week-wrapping"),
    pytest.param("wed-wed", (2,), id="range-one-day"),
    pytest.param("mon,wed,fri", (0, 2, 4), id="comma-list"),
    pytest.param("fri, mon ,wed", (0, 2, 4), id="comma-list-spaced-unsorted"),
    pytest.param("mon-tue,thu-fri", (0, 1, 3, 4), id="comma-list-of-ranges"),
    pytest.param([0, 2, "fri"], (0, 2, 4), id="list-mixed"),
    pytest.param(("mon-wed", "sun"), (0, 1, 2, 6), id="tuple-of-ranges"),
    pytest.param({6, 0}, (0, 6), id="set"),
    pytest.param(frozenset({"sat"}), (5,), id="frozenset"),
    pytest.param(range(7), (0, 1, 2, 3, 4, 5, 6), id="range-object"),
    pytest.param((d for d in (3, 1)), (1, 3), id="generator"),
    pytest.param([0, 0, "mon", "monday"], (0,), id="duplicates"),
    pytest.param((), (), id="empty-tuple"),
    pytest.param([], (), id="empty-list"),
    pytest.param(None, (), id="none"),
]


@pytest.mark.parametrize(("value", "expected"), WEEKDAY_CASES)
def test_weekdays_are_normalised(value: Any, expected: tuple[int, ...]) -> None:
    window = JobTimeWindow(weekdays=value)
    assert window.weekdays == expected
    assert all(type(day) is int for day in window.weekdays)


WEEKDAY_REJECTIONS = [
    pytest.param(7, "7", id="seven"),
    pytest.param(8, "8", id="eight"),
    pytest.param(-1, "-1", id="negative"),
    pytest.param(True, "True", id="bool-true"),
    pytest.param(False, "False", id="bool-false"),
    pytest.param("funday", "'funday'", id="unknown-name"),
    pytest.param("Funday", "'Funday'", id="unknown-name-keeps-case"),
    pytest.param("mo", "'mo'", id="too-short"),
    pytest.param("tues", "'tues'", id="unsupported-abbreviation"),
    pytest.param("mon-", "'mon-'", id="open-range-end"),
    pytest.param("-fri", "'-fri'", id="open-range-start"),
    pytest.param("mon-fri-sat", "'mon-fri-sat'", id="double-range"),
    pytest.param("mon-funday", "'mon-funday'", id="range-bad-end"),
    pytest.param("-1", "'-1'", id="negative-string"),
    pytest.param("0", "'0'", id="digit-string"),
    pytest.param("", "''", id="empty-string"),
    pytest.param("mon,,fri", "''", id="empty-list-item"),
    pytest.param("mon,funday", "'funday'", id="bad-list-item"),
    pytest.param([0, 9], "9", id="bad-int-in-list"),
    pytest.param([None], "None", id="none-in-list"),
    pytest.param([1.0], "1.0", id="float-in-list"),
    pytest.param([[1]], "[1]", id="nested-list"),
    pytest.param(1.5, "1.5", id="float"),
    pytest.param(b"mon", "b'mon'", id="bytes"),
]


@pytest.mark.parametrize(("value", "quoted"), WEEKDAY_REJECTIONS)
def test_bad_weekdays_are_rejected_quoting_the_value(value: Any, quoted: str) -> None:
    with pytest.raises(InvalidTimeWindowError) as caught:
        JobTimeWindow(weekdays=value)
    message = str(caught.value)
    assert quoted in message
    assert "mon-fri" in message  # says how to write it


def test_weekday_errors_from_a_list_name_the_whole_value() -> None:
    with pytest.raises(InvalidTimeWindowError, match=r"'funday' \(in weekdays='mon,funday'\)"):
        JobTimeWindow(weekdays="mon,funday")


def test_digit_string_weekday_explains_the_ambiguity() -> None:
    with pytest.raises(InvalidTimeWindowError, match="cron counts Sunday as 0"):
        JobTimeWindow(weekdays="0")


# --- segments ------------------------------------------------------------------------------

SEGMENT_CASES = [
    pytest.param("09:00", "12:00", time(9), time(12), id="strings"),
    pytest.param(time(9), time(12), time(9), time(12), id="times"),
    pytest.param("9:05", "12:00", time(9, 5), time(12), id="one-digit-hour"),
    pytest.param(" 09:00 ", "12:00 ", time(9), time(12), id="padded"),
    pytest.param("08:30:15", "09:00:00", time(8, 30, 15), time(9), id="seconds"),
    pytest.param("00:00:00.5", "00:01", time(0, 0, 0, 500_000), time(0, 1), id="fraction"),
    pytest.param("22:00", "02:00", time(22), time(2), id="crossing-midnight"),
    pytest.param("22:00", "00:00", time(22), time(0), id="until-midnight"),
    pytest.param("00:00", "23:59:59", time(0), time(23, 59, 59), id="almost-all-day"),
    pytest.param(time(1, fold=1), "02:00", time(1), time(2), id="fold-dropped"),
]


@pytest.mark.parametrize(("start", "end", "want_start", "want_end"), SEGMENT_CASES)
def test_segment_accepts_times_and_strings(
    start: Any, end: Any, want_start: time, want_end: time
) -> None:
    segment = TimeWindowSegment(start, end)
    assert (segment.start, segment.end) == (want_start, want_end)
    assert segment.start.fold == 0
    assert segment.crosses_midnight is (want_start > want_end)


SEGMENT_PARSE_CASES = [
    pytest.param("09:00-12:00", time(9), time(12), id="plain"),
    pytest.param(" 09:00 - 12:00 ", time(9), time(12), id="spaced"),
    pytest.param("22:00-02:00", time(22), time(2), id="crossing-midnight"),
    pytest.param("08:30:00-09:15:30", time(8, 30), time(9, 15, 30), id="seconds"),
]


@pytest.mark.parametrize(("text", "start", "end"), SEGMENT_PARSE_CASES)
def test_segment_parse(text: str, start: time, end: time) -> None:
    assert TimeWindowSegment.parse(text) == TimeWindowSegment(start, end)


@pytest.mark.parametrize(
    ("segment", "text"),
    [
        pytest.param(TimeWindowSegment("09:00", "12:00"), "09:00-12:00", id="minutes"),
        pytest.param(TimeWindowSegment("08:30:15", "09:00"), "08:30:15-09:00", id="seconds"),
        pytest.param(
            TimeWindowSegment(time(0, 0, 0, 1), time(0, 1)), "00:00:00.000001-00:01", id="micro"
        ),
        pytest.param(TimeWindowSegment("22:00", "00:00"), "22:00-00:00", id="until-midnight"),
    ],
)
def test_segment_str_round_trips(segment: TimeWindowSegment, text: str) -> None:
    assert str(segment) == text
    assert TimeWindowSegment.parse(text) == segment


SEGMENT_REJECTIONS = [
    pytest.param("09:00", "09:00", "'09:00'", id="start-equals-end"),
    pytest.param(time(0), "00:00", "'00:00'", id="start-equals-end-mixed"),
    pytest.param("25:00", "26:00", "'25:00'", id="hour-25"),
    pytest.param("24:00", "01:00", "'24:00'", id="hour-24"),
    pytest.param("09:60", "10:00", "'09:60'", id="minute-60"),
    pytest.param("09:00", "12:00:60", "'12:00:60'", id="second-60"),
    pytest.param("9", "12", "'9'", id="bare-hours"),
    pytest.param("9am", "12:00", "'9am'", id="am-pm"),
    pytest.param("", "12:00", "''", id="empty"),
    pytest.param("09:00", "12:00:00.1234567", "'12:00:00.1234567'", id="too-many-digits"),
    pytest.param(
        "\u0660\u0669:\u0660\u0660", "12:00", "'\u0660\u0669:\u0660\u0660'", id="non-ascii"
    ),
    pytest.param(time(9, tzinfo=UTC), time(12), "tzinfo", id="aware-start"),
    pytest.param(time(9), time(12, tzinfo=BERLIN), "tzinfo", id="aware-end"),
    pytest.param(9, 12, "9", id="int"),
    pytest.param(None, "12:00", "None", id="none"),
    pytest.param(datetime(2025, 1, 1, 9), "12:00", "datetime.datetime(2025, 1, 1, 9, 0)", id="dt"),
]


@pytest.mark.parametrize(("start", "end", "quoted"), SEGMENT_REJECTIONS)
def test_bad_segments_are_rejected_quoting_the_value(start: Any, end: Any, quoted: str) -> None:
    with pytest.raises(InvalidTimeWindowError) as caught:
        TimeWindowSegment(start, end)
    assert quoted in str(caught.value)


def test_empty_segment_says_to_use_no_segments() -> None:
    with pytest.raises(InvalidTimeWindowError, match="use no segments for a window open all day"):
        TimeWindowSegment("09:00", "09:00")


def test_hour_24_suggests_midnight_as_end() -> None:
    with pytest.raises(InvalidTimeWindowError, match="'22:00-00:00'"):
        TimeWindowSegment.parse("22:00-24:00")


SEGMENT_PARSE_REJECTIONS = [
    pytest.param("9-12", "'9-12'", id="bare-hours"),
    pytest.param("09:00", "'09:00'", id="no-dash"),
    pytest.param("09:00-10:00-11:00", "'09:00-10:00-11:00'", id="two-dashes"),
    pytest.param("09:00-09:00", "'09:00'", id="empty"),
    pytest.param("09:00-", "''", id="missing-end"),
    pytest.param(930, "930", id="not-a-string"),
]


@pytest.mark.parametrize(("text", "quoted"), SEGMENT_PARSE_REJECTIONS)
def test_segment_parse_rejections(text: Any, quoted: str) -> None:
    with pytest.raises(InvalidTimeWindowError) as caught:
        TimeWindowSegment.parse(text)
    assert quoted in str(caught.value)


NINE_TO_NOON = TimeWindowSegment(time(9), time(12))
ONE_TO_SIX = TimeWindowSegment(time(13), time(18))

SEGMENTS_ARGUMENT_CASES = [
    pytest.param("09:00-12:00", (NINE_TO_NOON,), id="one-string"),
    pytest.param("09:00-12:00,13:00-18:00", (NINE_TO_NOON, ONE_TO_SIX), id="comma-string"),
    pytest.param(["09:00-12:00", "13:00-18:00"], (NINE_TO_NOON, ONE_TO_SIX), id="strings"),
    pytest.param(("09:00-12:00", "13:00-18:00"), (NINE_TO_NOON, ONE_TO_SIX), id="two-tuple"),
    pytest.param(("09:00", "12:00"), (NINE_TO_NOON,), id="bare-pair"),
    pytest.param((time(9), time(12)), (NINE_TO_NOON,), id="bare-time-pair"),
    pytest.param([("09:00", "12:00")], (NINE_TO_NOON,), id="list-of-pairs"),
    pytest.param([[time(9), "12:00"]], (NINE_TO_NOON,), id="list-of-lists"),
    pytest.param(NINE_TO_NOON, (NINE_TO_NOON,), id="segment"),
    pytest.param([ONE_TO_SIX, "09:00-12:00"], (ONE_TO_SIX, NINE_TO_NOON), id="mixed-keeps-order"),
    pytest.param((s for s in [NINE_TO_NOON]), (NINE_TO_NOON,), id="generator"),
    pytest.param((), (), id="empty"),
    pytest.param(None, (), id="none"),
]


@pytest.mark.parametrize(("value", "expected"), SEGMENTS_ARGUMENT_CASES)
def test_window_segments_argument(value: Any, expected: tuple[TimeWindowSegment, ...]) -> None:
    assert JobTimeWindow(segments=value).segments == expected


SEGMENTS_ARGUMENT_REJECTIONS = [
    pytest.param(3, "3", id="int"),
    pytest.param(b"09:00-12:00", "b'09:00-12:00'", id="bytes"),
    pytest.param(["09:00"], "'09:00'", id="lone-time"),
    pytest.param([("09:00",)], "('09:00',)", id="one-tuple"),
    pytest.param([("09:00", "10:00", "11:00")], "('09:00', '10:00', '11:00')", id="three-tuple"),
    pytest.param([3], "3", id="int-item"),
    pytest.param("09:00-12:00,", "''", id="trailing-comma"),
    pytest.param(("9", "12"), "'9'", id="bad-pair"),
]


@pytest.mark.parametrize(("value", "quoted"), SEGMENTS_ARGUMENT_REJECTIONS)
def test_window_segments_argument_rejections(value: Any, quoted: str) -> None:
    with pytest.raises(InvalidTimeWindowError) as caught:
        JobTimeWindow(segments=value)
    assert quoted in str(caught.value)


# --- errors --------------------------------------------------------------------------------

ALL_REJECTIONS = [
    pytest.param(lambda: JobTimeWindow(weekdays="funday"), id="weekday"),
    pytest.param(lambda: JobTimeWindow(weekdays=True), id="weekday-bool"),
    pytest.param(
        lambda: JobTimeWindow(weekdays=1.5),  # type: ignore[arg-type]
        id="weekdays-type",
    ),
    pytest.param(lambda: JobTimeWindow(segments="9-12"), id="segment"),
    pytest.param(
        lambda: JobTimeWindow(segments=3),  # type: ignore[arg-type]
        id="segments-type",
    ),
    pytest.param(lambda: TimeWindowSegment("09:00", "09:00"), id="empty-segment"),
    pytest.param(lambda: TimeWindowSegment(time(9, tzinfo=UTC), "10:00"), id="aware-time"),
    pytest.param(lambda: JobTimeWindow(timezone="Mars/Olympus"), id="zone"),
    pytest.param(lambda: JobTimeWindow().matches(datetime(2025, 1, 1)), id="naive-instant"),
]


@pytest.mark.parametrize("build", ALL_REJECTIONS)
def test_errors_are_cronkit_and_value_errors(build: Any) -> None:
    with pytest.raises(InvalidTimeWindowError) as caught:
        build()
    assert isinstance(caught.value, CronkitError)
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, ValueError)


# --- zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        pytest.param("Mars/Olympus", "'Mars/Olympus'", id="unknown"),
        pytest.param("europe/berlin", "'europe/berlin'", id="wrong-case"),
        pytest.param("Europe", "'Europe'", id="directory"),
        pytest.param("", "''", id="empty"),
        pytest.param("../etc/passwd", "'../etc/passwd'", id="path"),
        pytest.param(3600, "3600", id="int"),
    ],
)
def test_bad_zones_are_rejected(value: Any, quoted: str) -> None:
    with pytest.raises(InvalidTimeWindowError, match="Europe/Berlin") as caught:
        JobTimeWindow(timezone=value)
    assert quoted in str(caught.value)
    with pytest.raises(InvalidTimeWindowError):
        JobTimeWindow().matches(utc(2025, 1, 1), timezone=value)


def test_zone_names_are_resolved() -> None:
    assert JobTimeWindow(timezone="Europe/Berlin").timezone == BERLIN
    assert JobTimeWindow(timezone=TOKYO).timezone is TOKYO
    assert JobTimeWindow().timezone is None


MONDAY_0830_UTC = utc(2025, 1, 6, 8, 30)  # 09:30 in Berlin, 17:30 in Tokyo

ZONE_PRECEDENCE = [
    pytest.param(BERLIN, None, True, id="window-zone"),
    pytest.param("Europe/Berlin", "Asia/Tokyo", True, id="window-zone-beats-argument"),
    pytest.param(TOKYO, BERLIN, False, id="window-zone-beats-argument-negative"),
    pytest.param("UTC", "Europe/Berlin", False, id="window-utc-beats-argument"),
    pytest.param(None, "Europe/Berlin", True, id="argument-name"),
    pytest.param(None, BERLIN, True, id="argument-tzinfo"),
    pytest.param(None, timezone(timedelta(hours=1)), True, id="argument-fixed-offset"),
    pytest.param(None, TOKYO, False, id="argument-beats-utc"),
    pytest.param(None, None, False, id="utc-by-default"),
]


@pytest.mark.parametrize(("window_zone", "argument", "expected"), ZONE_PRECEDENCE)
def test_zone_precedence(window_zone: Any, argument: Any, expected: bool) -> None:
    window = JobTimeWindow(segments="09:00-10:00", timezone=window_zone)
    assert window.matches(MONDAY_0830_UTC, timezone=argument) is expected
    # The instant's own zone never matters, only the instant.
    elsewhere = MONDAY_0830_UTC.astimezone(timezone(timedelta(hours=-5)))
    assert window.matches(elsewhere, timezone=argument) is expected


def test_effective_zone() -> None:
    assert JobTimeWindow().effective_zone() is UTC
    assert JobTimeWindow().effective_zone("Europe/Berlin") == BERLIN
    assert JobTimeWindow(timezone=TOKYO).effective_zone(BERLIN) is TOKYO
    assert JobTimeWindow(timezone=TOKYO).effective_zone() is TOKYO


@pytest.mark.parametrize(
    "instant",
    [
        pytest.param(datetime(2025, 1, 6, 9, 30), id="naive"),
        pytest.param(date(2025, 1, 6), id="date"),
        pytest.param("2025-01-06T09:30:00Z", id="string"),
    ],
)
def test_matches_rejects_what_is_not_an_aware_datetime(instant: Any) -> None:
    with pytest.raises(InvalidTimeWindowError, match="aware") as caught:
        JobTimeWindow().matches(instant)
    assert repr(instant) in str(caught.value)


# --- window maths --------------------------------------------------------------------------

# 2025-01-03 is a Friday, 2025-01-04 a Saturday, 2025-01-05 a Sunday, 2025-01-06 a Monday.
MATCH_CASES = [
    # boundaries: start included, end excluded
    pytest.param((), "09:00-12:00", utc(2025, 1, 6, 8, 59, 59, 999_999), False, id="before-start"),
    pytest.param((), "09:00-12:00", utc(2025, 1, 6, 9), True, id="at-start"),
    pytest.param((), "09:00-12:00", utc(2025, 1, 6, 11, 59, 59, 999_999), True, id="before-end"),
    pytest.param((), "09:00-12:00", utc(2025, 1, 6, 12), False, id="at-end"),
    pytest.param((), "09:00-12:00,13:00-18:00", utc(2025, 1, 6, 12, 30), False, id="in-the-gap"),
    pytest.param((), "09:00-12:00,13:00-18:00", utc(2025, 1, 6, 13), True, id="second-segment"),
    pytest.param("mon-fri", "09:00-12:00", utc(2025, 1, 5, 10), False, id="weekday-excluded"),
    pytest.param("mon-fri", "09:00-12:00", utc(2025, 1, 6, 10), True, id="weekday-included"),
    # weekday alone
    pytest.param("mon", (), utc(2025, 1, 6, 0), True, id="weekday-only-midnight"),
    pytest.param("mon", (), utc(2025, 1, 6, 23, 59, 59, 999_999), True, id="weekday-only-late"),
    pytest.param("mon", (), utc(2025, 1, 5, 23, 59, 59), False, id="weekday-only-day-before"),
    pytest.param((), (), utc(2025, 1, 5, 3), True, id="empty-window-always"),
    # Friday 22:00-02:00, Friday allowed
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 3, 21, 59, 59), False, id="fri-before"),
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 3, 22), True, id="fri-start"),
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 3, 23, 59, 59), True, id="fri-late"),
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 4, 0), True, id="sat-midnight"),
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 4, 1, 59), True, id="sat-0159"),
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 4, 2), False, id="sat-0200"),
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 4, 22), False, id="sat-evening"),
    pytest.param("fri", "22:00-02:00", utc(2025, 1, 3, 1), False, id="fri-0100-thu-excluded"),
    pytest.param("thu,fri", "22:00-02:00", utc(2025, 1, 3, 1), True, id="fri-0100-thu-allowed"),
    pytest.param("sat", "22:00-02:00", utc(2025, 1, 4, 1), False, id="sat-0100-belongs-to-fri"),
    pytest.param((), "22:00-02:00", utc(2025, 1, 4, 1), True, id="every-day-after-midnight"),
    pytest.param((), "22:00-02:00", utc(2025, 1, 4, 12), False, id="every-day-midday"),
    # across the week's end: Sunday's segment runs into Monday
    pytest.param("sun", "23:00-01:00", utc(2025, 1, 6, 0, 30), True, id="sun-into-mon"),
    pytest.param("mon", "23:00-01:00", utc(2025, 1, 6, 0, 30), False, id="mon-early-is-sun"),
    pytest.param("mon", "23:00-01:00", utc(2025, 1, 6, 23, 30), True, id="mon-late"),
    # "until midnight"
    pytest.param("fri", "22:00-00:00", utc(2025, 1, 3, 23, 59, 59), True, id="until-midnight"),
    pytest.param("fri", "22:00-00:00", utc(2025, 1, 4, 0), False, id="midnight-excluded"),
]


@pytest.mark.parametrize(("weekdays", "segments", "instant", "expected"), MATCH_CASES)
def test_matches(weekdays: Any, segments: Any, instant: datetime, expected: bool) -> None:
    assert JobTimeWindow(weekdays, segments).matches(instant) is expected


# Europe/Berlin 2025: clocks go 02:00 CET -> 03:00 CEST on 2025-03-30 at 01:00Z,
# and 03:00 CEST -> 02:00 CET on 2025-10-26 at 01:00Z. Windows read the wall clock.
DST_CASES = [
    pytest.param((), "02:00-03:00", utc(2025, 3, 29, 1, 30), True, id="skipped-hour-day-before"),
    pytest.param((), "02:00-03:00", utc(2025, 3, 30, 0, 59, 59), False, id="spring-0159-cet"),
    pytest.param((), "02:00-03:00", utc(2025, 3, 30, 1), False, id="spring-0300-cest"),
    pytest.param((), "02:00-03:00", utc(2025, 10, 26, 0, 30), True, id="fall-first-0230"),
    pytest.param((), "02:00-03:00", utc(2025, 10, 26, 1, 30), True, id="fall-second-0230"),
    pytest.param((), "02:00-03:00", utc(2025, 10, 26, 2), False, id="fall-0300-cet"),
    pytest.param("mon-fri", "09:00-17:00", utc(2025, 3, 28, 8), True, id="fri-0900-cet"),
    pytest.param("mon-fri", "09:00-17:00", utc(2025, 3, 28, 7, 30), False, id="fri-0830-cet"),
    pytest.param("mon-fri", "09:00-17:00", utc(2025, 3, 31, 7), True, id="mon-0900-cest"),
    pytest.param("mon-fri", "09:00-17:00", utc(2025, 3, 31, 6, 59), False, id="mon-0859-cest"),
    pytest.param("mon-fri", "09:00-17:00", utc(2025, 3, 31, 14, 59), True, id="mon-1659-cest"),
    pytest.param("mon-fri", "09:00-17:00", utc(2025, 3, 31, 15), False, id="mon-1700-cest"),
    pytest.param("sat", "22:00-04:00", utc(2025, 3, 29, 20, 59), False, id="sat-2159-cet"),
    pytest.param("sat", "22:00-04:00", utc(2025, 3, 29, 21), True, id="sat-2200-cet"),
    pytest.param("sat", "22:00-04:00", utc(2025, 3, 30, 1, 30), True, id="sun-0330-cest"),
    pytest.param("sat", "22:00-04:00", utc(2025, 3, 30, 2), False, id="sun-0400-cest"),
    pytest.param("sun", (), utc(2025, 3, 29, 22, 59), False, id="sat-2359-local"),
    pytest.param("sun", (), utc(2025, 3, 29, 23), True, id="sun-0000-cet-is-sat-utc"),
    pytest.param("sun", (), utc(2025, 3, 30, 21, 59), True, id="sun-2359-cest"),
    pytest.param("sun", (), utc(2025, 3, 30, 22), False, id="mon-0000-cest-is-sun-utc"),
]


@pytest.mark.parametrize(("weekdays", "segments", "instant", "expected"), DST_CASES)
def test_dst_days_in_berlin_use_the_wall_clock(
    weekdays: Any, segments: Any, instant: datetime, expected: bool
) -> None:
    assert JobTimeWindow(weekdays, segments, BERLIN).matches(instant) is expected
    assert JobTimeWindow(weekdays, segments).matches(instant, timezone=BERLIN) is expected


def test_skipped_hour_matches_nothing_on_the_spring_forward_day() -> None:
    window = JobTimeWindow(segments="02:00-03:00", timezone=BERLIN)
    start = utc(2025, 3, 29, 22)
    minutes = [start + timedelta(minutes=m) for m in range(6 * 60)]
    assert not any(window.matches(instant) for instant in minutes)


def test_repeated_hour_matches_twice_on_the_fall_back_day() -> None:
    window = JobTimeWindow(segments="02:00-03:00", timezone=BERLIN)
    start = utc(2025, 10, 25, 22)
    hits = [m for m in range(6 * 60) if window.matches(start + timedelta(minutes=m))]
    assert len(hits) == 120


# --- presentation and value semantics -------------------------------------------------------

STR_CASES = [
    pytest.param(JobTimeWindow(), "every day all day", id="empty"),
    pytest.param(
        JobTimeWindow("mon-fri", "09:00-12:00,13:00-18:00", "Europe/Berlin"),
        "mon-fri 09:00-12:00,13:00-18:00 Europe/Berlin",
        id="office-hours",
    ),
    pytest.param(JobTimeWindow(range(7)), "every day all day", id="all-seven"),
    pytest.param(JobTimeWindow("sat,sun"), "sat,sun all day", id="pair-listed"),
    pytest.param(JobTimeWindow("fri-mon"), "fri-mon all day", id="wrapping-range"),
    pytest.param(JobTimeWindow("sun,mon"), "sun,mon all day", id="wrapping-pair"),
    pytest.param(JobTimeWindow([0, 2, 4]), "mon,wed,fri all day", id="singles"),
    pytest.param(JobTimeWindow([0, 1, 3, 4, 5]), "mon,tue,thu-sat all day", id="runs"),
    pytest.param(JobTimeWindow([0, 6, 2]), "sun,mon,wed all day", id="wrap-and-single"),
    pytest.param(
        JobTimeWindow("fri", "22:00-02:00", timezone(timedelta(hours=5, minutes=30))),
        "fri 22:00-02:00 UTC+05:30",
        id="fixed-offset",
    ),
    pytest.param(JobTimeWindow(segments="08:30:15-09:00"), "every day 08:30:15-09:00", id="secs"),
]


@pytest.mark.parametrize(("window", "text"), STR_CASES)
def test_str(window: JobTimeWindow, text: str) -> None:
    assert str(window) == text


@pytest.mark.parametrize(("window", "text"), STR_CASES)
def test_str_parts_parse_back(window: JobTimeWindow, text: str) -> None:
    days: str | None
    segments: str | None
    if text.startswith("every day "):
        days, rest = None, text.removeprefix("every day ")
    else:
        days, rest = text.split(" ", 1)
    segments = None if rest.startswith("all day") else rest.split(" ")[0]
    parsed = JobTimeWindow(days, segments, window.timezone)
    assert parsed.segments == window.segments
    assert str(parsed) == text


def test_windows_are_frozen_hashable_values() -> None:
    a = JobTimeWindow("mon-fri", "09:00-12:00", "Europe/Berlin")
    b = JobTimeWindow([4, 3, 2, 1, 0], [(time(9), time(12))], BERLIN)
    assert a == b
    assert hash(a) == hash(b)
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.weekdays = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        NINE_TO_NOON.start = time(8)  # type: ignore[misc]
    assert not hasattr(a, "__dict__")


# --- property: agrees with a brute-force reference ------------------------------------------

DAY_US = 86_400 * 1_000_000
WEEK_US = 7 * DAY_US
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "Pacific/Kiritimati",
]
DST_DATES = [
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2025, 3, 9),
    date(2025, 11, 2),
    date(2025, 4, 6),
    date(2025, 10, 5),
]


def _micros(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def reference_matches(
    weekdays: set[int], segments: list[tuple[time, time]], zone: tzinfo, instant: datetime
) -> bool:
    """Lay every allowed stretch out on a week-long line and look the instant up on it."""
    local = instant.astimezone(zone)
    position = local.weekday() * DAY_US + _micros(local.time())
    stretches: list[tuple[int, int]] = []
    for day in weekdays or set(range(7)):
        if not segments:
            stretches.append((day * DAY_US, (day + 1) * DAY_US))
        for start, end in segments:
            begin = day * DAY_US + _micros(start)
            stretches.append((begin, begin + (_micros(end) - _micros(start)) % DAY_US))
    return any(b <= p < e for b, e in stretches for p in (position, position + WEEK_US))


round_times = st.builds(
    time,
    st.integers(0, 23),
    st.sampled_from([0, 1, 15, 30, 59]),
    st.sampled_from([0, 0, 0, 30]),
)
any_times = st.one_of(round_times, st.times())


@st.composite
def window_cases(draw: st.DrawFn) -> tuple[Any, ...]:
    """Weekdays, segments, the zone that must apply, how it is given, and an instant.

    Three instants in four sit on (or one microsecond beside) a segment boundary or midnight,
    on a day often moved onto an allowed weekday or the day after one, so that boundaries,
    the after-midnight rule and DST transitions are exercised, not just random points.
    """
    weekdays = draw(st.sets(st.integers(0, 6)))
    segments = draw(
        st.lists(st.tuples(any_times, any_times).filter(lambda p: p[0] != p[1]), max_size=3)
    )
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    placement = draw(st.sampled_from(["window", "window-beats-argument", "argument", "utc"]))
    if placement == "utc":
        zone = ZoneInfo("UTC")
    if draw(st.integers(0, 3)):
        day = draw(
            st.one_of(st.sampled_from(DST_DATES), st.dates(date(1990, 1, 1), date(2060, 1, 1)))
        )
        move_onto_allowed_day: bool = draw(st.booleans())
        if weekdays and move_onto_allowed_day:
            target = (draw(st.sampled_from(sorted(weekdays))) + draw(st.integers(0, 1))) % 7
            day += timedelta(days=(target - day.weekday()) % 7)
        boundary = draw(st.sampled_from([t for pair in segments for t in pair] + [time(0)]))
        wall = datetime.combine(day, boundary, tzinfo=zone)
        nudge = timedelta(microseconds=draw(st.sampled_from([-1, 0, 0, 1])))
        instant = wall.astimezone(UTC) + nudge
    else:
        instant = draw(
            st.datetimes(datetime(1990, 1, 1), datetime(2060, 1, 1), timezones=st.just(UTC))
        )
    shown_in = timezone(timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
    return weekdays, segments, zone, placement, instant.astimezone(shown_in)


def _spell(days: set[int], as_names: bool) -> list[int | str]:
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return [names[d] if as_names and d % 2 else d for d in sorted(days)]


@settings(max_examples=400, deadline=None)
@given(case=window_cases(), as_names=st.booleans())
def test_matches_agrees_with_brute_force(case: tuple[Any, ...], as_names: bool) -> None:
    weekdays, segments, zone, placement, instant = case
    window = JobTimeWindow(
        _spell(weekdays, as_names),
        [TimeWindowSegment(start, end) for start, end in segments],
        zone if placement.startswith("window") else None,
    )
    decoy = ZoneInfo("Asia/Tokyo") if zone.key == "UTC" else ZoneInfo("UTC")
    argument = {"argument": zone, "window-beats-argument": decoy}.get(placement)
    expected = reference_matches(weekdays, segments, zone, instant)
    assert window.matches(instant, timezone=argument) is expected
