"""The three schedules: construction, bad input (SPEC §11), and every method."""

from __future__ import annotations

import dataclasses
import time
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest

from cronkit._exceptions import (
    ConfigurationError,
    CronkitError,
    InvalidCronExpression,
    InvalidScheduleError,
)
from cronkit._schedules import AtTimes, Cron, DueOccurrences, Interval, Schedule

T0 = datetime(2025, 1, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
PLUS_ONE = timezone(timedelta(hours=1))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# -- bad input (SPEC §11) -------------------------------------------------------------------

BAD = [
    # id, constructor, error type, text the message must contain
    ("interval-zero", lambda: Interval(timedelta(0)), InvalidScheduleError, "timedelta(0)"),
    (
        "interval-negative",
        lambda: Interval(timedelta(seconds=-5)),
        InvalidScheduleError,
        "interval of timedelta(seconds=-5) is not positive",
    ),
    ("interval-zero-seconds", lambda: Interval(0), InvalidScheduleError, "of 0 seconds"),
    ("interval-negative-seconds", lambda: Interval(-1.5), InvalidScheduleError, "-1.5 seconds"),
    ("interval-below-a-microsecond", lambda: Interval(1e-7), InvalidScheduleError, "1e-07 seconds"),
    ("interval-nan", lambda: Interval(float("nan")), InvalidScheduleError, "every=nan"),
    ("interval-inf", lambda: Interval(float("inf")), InvalidScheduleError, "every=inf"),
    ("interval-huge", lambda: Interval(1e20), InvalidScheduleError, "every=1e+20"),
    ("interval-text", lambda: Interval("5m"), InvalidScheduleError, "every='5m'"),  # type: ignore[arg-type]
    ("interval-bool", lambda: Interval(True), InvalidScheduleError, "every=True"),
    (
        "at-naive",
        lambda: AtTimes([datetime(2025, 1, 1, 9)]),
        InvalidScheduleError,
        "datetime.datetime(2025, 1, 1, 9, 0)",
    ),
    ("at-unparsable", lambda: AtTimes(["next tuesday"]), InvalidScheduleError, "'next tuesday'"),
    (
        "at-no-offset",
        lambda: AtTimes(["2025-01-01T09:00:00"]),
        InvalidScheduleError,
        "'2025-01-01T09:00:00'",
    ),
    ("at-empty-string", lambda: AtTimes([""]), InvalidScheduleError, "''"),
    ("at-number", lambda: AtTimes([1735722000]), InvalidScheduleError, "1735722000"),  # type: ignore[list-item]
    ("at-not-iterable", lambda: AtTimes(42), InvalidScheduleError, "42"),  # type: ignore[arg-type]
    (
        "at-date",
        lambda: AtTimes([datetime(2025, 1, 1).date()]),  # type: ignore[list-item]
        InvalidScheduleError,
        "datetime.date(2025, 1, 1)",
    ),
    ("cron-six-fields", lambda: Cron("*/5 * * * * *"), InvalidCronExpression, "'*/5 * * * * *'"),
    ("cron-garbage", lambda: Cron("whenever"), InvalidCronExpression, "'whenever'"),
    ("cron-reboot", lambda: Cron("@reboot"), InvalidCronExpression, "'@reboot'"),
    ("cron-out-of-range", lambda: Cron("0 25 * * *"), InvalidCronExpression, "'0 25 * * *'"),
    (
        "cron-bad-zone",
        lambda: Cron("0 0 * * *", "Mars/Olympus"),
        ConfigurationError,
        "'Mars/Olympus'",
    ),
    ("cron-zone-type", lambda: Cron("0 0 * * *", 1), ConfigurationError, "1"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(
    ("build", "error", "quoted"), [row[1:] for row in BAD], ids=[row[0] for row in BAD]
)
def test_bad_input_raises_at_construction(
    build: Callable[[], object], error: type[Exception], quoted: str
) -> None:
    with pytest.raises(error) as caught:
        build()
    assert isinstance(caught.value, CronkitError)
    assert isinstance(caught.value, ValueError)
    assert quoted in str(caught.value)


@pytest.mark.parametrize(
    ("every", "message"),
    [
        (0, "interval of 0 seconds is not positive"),
        (-5, "interval of -5 seconds is not positive"),
        (1e-7, "interval of 1e-07 seconds is shorter than one microsecond"),
        (timedelta(0), "interval of timedelta(0) is not positive"),
        (timedelta(seconds=-5), "interval of timedelta(seconds=-5) is not positive"),
        (timedelta(minutes=-1, seconds=30), "interval of timedelta(seconds=-30) is not positive"),
        (
            timedelta(days=-1, hours=-2, microseconds=-3),
            "interval of timedelta(days=-1, hours=-2, microseconds=-3) is not positive",
        ),
    ],
    ids=[
        "zero",
        "negative",
        "below-a-microsecond",
        "zero-delta",
        "negative-delta",
        "negative-sum",
        "negative-mixed",
    ],
)
def test_a_period_that_is_not_positive_is_quoted_as_written(
    every: timedelta | float, message: str
) -> None:
    with pytest.raises(InvalidScheduleError) as caught:
        Interval(every)
    assert str(caught.value) == (f"{message}; give a positive period such as timedelta(seconds=30)")


@pytest.mark.parametrize("limit", [0, True, 1.5], ids=["zero", "bool", "float"])
def test_consume_due_refuses_a_limit_that_is_not_a_count(limit: object) -> None:
    with pytest.raises(ValueError, match="limit="):
        Interval(10).consume_due(
            at("2025-01-01T00:00:00Z"), at("2025-01-01T00:01:00Z"), limit=limit
        )  # type: ignore[arg-type]


def test_six_fields_suggest_interval() -> None:
    with pytest.raises(InvalidCronExpression, match=r"Interval\(timedelta\(seconds="):
        Cron("*/10 * * * * *")


def test_naive_message_says_how_to_fix() -> None:
    with pytest.raises(InvalidScheduleError, match=r"naive.*tzinfo"):
        AtTimes([datetime(2025, 1, 1, 9)])


SCHEDULES: list[Schedule] = [
    Interval(timedelta(minutes=5)),
    AtTimes(["2025-06-01T00:00:00Z"]),
    Cron("*/5 * * * *"),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
@pytest.mark.parametrize(
    "call",
    [
        lambda s, t: s.next_after(t),
        lambda s, t: s.first_occurrence(t),
        lambda s, t: s.replan(t, resume_from=None),
        lambda s, t: s.replan(T0, resume_from=t) if isinstance(s, AtTimes) else s.next_after(t),
        lambda s, t: s.consume_due(t, T0, limit=None),
        lambda s, t: s.consume_due(T0, t, limit=None),
    ],
    ids=["next_after", "first_occurrence", "replan", "resume_from", "first", "now"],
)
@pytest.mark.parametrize(
    "instant",
    [datetime(2025, 1, 1), "2025-01-01T00:00:00Z", 1735689600],
    ids=["naive", "string", "number"],
)
def test_methods_reject_what_is_not_an_aware_datetime(
    schedule: Schedule, call: Callable[[Schedule, object], object], instant: object
) -> None:
    with pytest.raises(InvalidScheduleError) as caught:
        call(schedule, instant)
    assert repr(instant) in str(caught.value)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_consume_due_preconditions(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="is after now"):
        schedule.consume_due(T0 + timedelta(seconds=1), T0, limit=None)
    with pytest.raises(ValueError, match="limit=0"):
        schedule.consume_due(T0, T0, limit=0)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_schedules_are_immutable_hashable_values(schedule: Schedule) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(schedule, dataclasses.fields(schedule)[0].name, None)
    assert hash(schedule) == hash(dataclasses.replace(schedule))
    assert schedule == dataclasses.replace(schedule)
    assert not hasattr(schedule, "__dict__")


def test_schedule_is_the_union_of_the_three() -> None:
    assert typing.get_args(Schedule) == (Interval, AtTimes, Cron)


# -- Interval -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "period"),
    [
        (timedelta(minutes=5), timedelta(minutes=5)),
        (300, timedelta(minutes=5)),
        (0.5, timedelta(milliseconds=500)),
    ],
    ids=["timedelta", "int", "float"],
)
def test_interval_takes_a_timedelta_or_seconds(every: timedelta | float, period: timedelta) -> None:
    assert Interval(every).every == period
    assert Interval(every) == Interval(period)


def test_interval_stores_a_plain_timedelta() -> None:
    schedule = Interval(pendulum.duration(minutes=5))
    assert type(schedule.every) is timedelta
    assert schedule == Interval(300)


def test_interval_text() -> None:
    assert str(Interval(300)) == "every 5m"
    assert str(Interval(1.5)) == "every 1.5s"
    assert str(Interval(timedelta(hours=1, minutes=30))) == "every 1h30m"
    assert repr(Interval(300)) == "Interval(every=datetime.timedelta(seconds=300))"


@pytest.mark.parametrize(
    ("every", "fingerprint"),
    [
        (timedelta(minutes=5), "interval:PT300S"),
        (0.5, "interval:PT0.5S"),
        (timedelta(days=1, microseconds=250), "interval:PT86400.00025S"),
    ],
    ids=["minutes", "half-second", "microseconds"],
)
def test_interval_fingerprint(every: timedelta | float, fingerprint: str) -> None:
    assert Interval(every).fingerprint() == fingerprint
    assert Interval(every).fingerprint(timezone="Europe/Berlin") == fingerprint


def test_interval_is_anchored_and_ignores_dst() -> None:
    schedule = Interval(timedelta(hours=1))
    start = datetime(2025, 3, 30, 1, 30, tzinfo=BERLIN)
    assert schedule.next_after(start) == at("2025-03-30T01:30Z")  # 03:30 CEST, an hour later
    assert schedule.first_occurrence(start) == at("2025-03-30T01:30Z")
    assert schedule.replan(start, resume_from=T0) == at("2025-03-30T01:30Z")
    assert schedule.next_after(start, timezone="America/New_York") == at("2025-03-30T01:30Z")
    assert schedule.next_after(start).tzinfo is UTC  # type: ignore[union-attr]


def test_interval_counts_elapsed_time_for_instants_in_a_zone() -> None:
    """Python adds hours on the wall clock within one zone; intervals must not."""
    schedule = Interval(timedelta(hours=2))
    start = datetime(2025, 3, 30, 1, 30, tzinfo=BERLIN)  # 00:30Z
    assert schedule.next_after(start) == at("2025-03-30T02:30Z")  # 04:30 CEST, not 03:30
    hourly = Interval(timedelta(hours=1))
    first = datetime(2025, 3, 30, 1, 0, tzinfo=BERLIN)  # 00:00Z
    now = datetime(2025, 3, 30, 4, 0, tzinfo=BERLIN)  # 02:00Z: two hours later, not three
    assert hourly.consume_due(first, now, limit=None) == (
        3,
        at("2025-03-30T02:00Z"),
        at("2025-03-30T03:00Z"),
    )
    fall_first = datetime(2025, 10, 26, 2, 30, tzinfo=BERLIN)  # 00:30Z, first pass
    fall_now = datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=BERLIN)  # 01:30Z, second pass
    assert hourly.consume_due(fall_first, fall_now, limit=None).count == 2
    at_times = AtTimes([fall_first, fall_now])
    assert at_times.consume_due(fall_first, fall_now, limit=None).count == 2
    assert at_times.next_after(fall_first) == at("2025-10-26T01:30Z")


def test_interval_ends_at_datetime_max() -> None:
    assert Interval(timedelta(days=1)).next_after(datetime.max.replace(tzinfo=UTC)) is None


def test_interval_consume_due_after_a_long_outage() -> None:
    schedule = Interval(timedelta(seconds=10))
    now = T0 + timedelta(days=30, seconds=5)
    due = schedule.consume_due(T0, now, limit=None)
    assert due == DueOccurrences(
        259_201, T0 + timedelta(days=30), T0 + timedelta(days=30, seconds=10)
    )
    assert schedule.consume_due(T0, now, limit=3) == (
        3,
        T0 + timedelta(seconds=20),
        T0 + timedelta(seconds=30),
    )
    assert schedule.consume_due(T0, T0, limit=None) == (1, T0, T0 + timedelta(seconds=10))
    local = T0.astimezone(PLUS_ONE)
    assert schedule.consume_due(local, now, limit=1).last.tzinfo is UTC


# -- AtTimes --------------------------------------------------------------------------------


def test_at_times_sorts_deduplicates_and_stores_utc() -> None:
    schedule = AtTimes(
        [
            "2025-01-01T10:00:00+01:00",
            datetime(2025, 1, 1, 12, tzinfo=UTC),
            "2025-01-01T09:00:00Z",  # the same instant as the first
            datetime(2025, 1, 1, 8, tzinfo=PLUS_ONE),
        ]
    )
    assert schedule.instants == (
        at("2025-01-01T07:00Z"),
        at("2025-01-01T09:00Z"),
        at("2025-01-01T12:00Z"),
    )
    assert all(instant.tzinfo is UTC for instant in schedule.instants)
    assert str(schedule) == "at 3 instants"
    assert repr(schedule) == (
        "AtTimes(['2025-01-01T07:00:00Z', '2025-01-01T09:00:00Z', '2025-01-01T12:00:00Z'])"
    )
    assert schedule == AtTimes(reversed(schedule.instants))


def test_at_times_accepts_one_bare_instant() -> None:
    assert AtTimes("2026-12-24T17:00:00Z") == AtTimes(["2026-12-24T17:00:00Z"])
    assert AtTimes(at("2026-12-24T17:00Z")) == AtTimes(["2026-12-24T17:00:00Z"])
    assert str(AtTimes("2026-12-24T17:00:00Z")) == "at 2026-12-24T17:00:00Z"


def test_at_times_repr_is_short_for_long_lists() -> None:
    schedule = AtTimes(T0 + timedelta(hours=h) for h in range(8))
    assert repr(schedule).endswith("'2025-01-01T04:00:00Z'] + 3 more)")


def test_empty_at_times_never_fires() -> None:
    schedule = AtTimes([])
    assert str(schedule) == "at 0 instants"
    assert schedule.first_occurrence(T0) is None
    assert schedule.next_after(T0) is None
    assert schedule.replan(T0, resume_from=None) is None
    assert schedule.replan(T0, resume_from=T0) is None
    assert schedule.fingerprint() == AtTimes(()).fingerprint()


INSTANTS = ["2025-01-01T00:01:00Z", "2025-01-01T00:02:00Z", "2025-01-01T00:05:00Z"]


def test_at_times_next_after_is_the_first_instant_strictly_after() -> None:
    schedule = AtTimes(INSTANTS)
    assert schedule.next_after(T0) == at(INSTANTS[0])
    assert schedule.next_after(at(INSTANTS[0])) == at(INSTANTS[1])
    assert schedule.next_after(at("2025-01-01T00:03:00Z")) == at(INSTANTS[2])
    assert schedule.next_after(at(INSTANTS[2])) is None


def test_at_times_first_occurrence_is_the_earliest_even_if_past() -> None:
    schedule = AtTimes(INSTANTS)
    assert schedule.first_occurrence(T0 + timedelta(days=1)) == at(INSTANTS[0])


def test_at_times_replan() -> None:
    schedule = AtTimes(INSTANTS)
    assert schedule.replan(T0, resume_from=None) == at(INSTANTS[0])
    assert schedule.replan(T0, resume_from=at(INSTANTS[1])) == at(INSTANTS[1])  # inclusive
    assert schedule.replan(T0, resume_from=at("2025-01-01T00:02:00.000001Z")) == at(INSTANTS[2])
    assert schedule.replan(T0, resume_from=at("2025-01-02T00:00:00Z")) is None


def test_at_times_consume_due() -> None:
    schedule = AtTimes(INSTANTS)
    first, now = at(INSTANTS[0]), at("2025-01-01T00:10:00Z")
    assert schedule.consume_due(first, now, limit=None) == (3, at(INSTANTS[2]), None)
    assert schedule.consume_due(first, now, limit=2) == (2, at(INSTANTS[1]), at(INSTANTS[2]))
    assert schedule.consume_due(first, now, limit=1) == (1, first, at(INSTANTS[1]))
    assert schedule.consume_due(first, at(INSTANTS[1]), limit=None) == (
        2,
        at(INSTANTS[1]),
        at(INSTANTS[2]),
    )


def test_editing_the_list_between_runs_does_not_misalign() -> None:
    """State keeps the last consumed instant; the next one is looked up by time, not index."""
    before = AtTimes(INSTANTS)
    consumed = at(INSTANTS[1])
    # An instant is added before the consumed one and one between: neither old one re-fires.
    after = AtTimes(["2024-12-31T23:00:00Z", *INSTANTS, "2025-01-01T00:03:00Z"])
    assert before.next_after(consumed) == at(INSTANTS[2])
    assert after.next_after(consumed) == at("2025-01-01T00:03:00Z")
    assert after.replan(T0, resume_from=consumed + timedelta(microseconds=1)) == at(
        "2025-01-01T00:03:00Z"
    )
    # The stored next occurrence was removed from the list: it is still counted once, and
    # what follows comes from the new list.
    removed = at("2025-01-01T00:04:00Z")
    due = after.consume_due(removed, at("2025-01-01T00:06:00Z"), limit=None)
    assert due == (2, at(INSTANTS[2]), None)
    assert before.fingerprint() != after.fingerprint()


def test_at_times_fingerprint_is_stable() -> None:
    one = AtTimes(["2025-01-01T10:00:00+01:00", "2025-02-01T00:00:00Z"])
    two = AtTimes([at("2025-02-01T00:00Z"), at("2025-01-01T09:00Z")])
    assert one.fingerprint() == two.fingerprint()
    assert one.fingerprint(timezone="Europe/Berlin") == one.fingerprint()
    prefix, digest = one.fingerprint().split(":")
    assert prefix == "at"
    assert len(digest) == 16
    int(digest, 16)


# -- Cron -----------------------------------------------------------------------------------


def test_cron_keeps_the_expression_as_given() -> None:
    schedule = Cron("  30 2 * * MON-fri ", "Europe/Berlin")
    assert str(schedule) == "  30 2 * * MON-fri "
    assert schedule.expr == "  30 2 * * MON-fri "
    assert schedule.timezone is BERLIN
    assert repr(schedule) == "Cron('  30 2 * * MON-fri ', timezone='Europe/Berlin')"
    assert repr(Cron("@daily")) == "Cron('@daily')"
    assert schedule.pinned
    assert not Cron("@hourly").pinned
    assert schedule.expression.weekdays == {1, 2, 3, 4, 5}


def test_cron_equality() -> None:
    assert Cron("0 0 * * *", "Europe/Berlin") == Cron("0 0 * * *", BERLIN)
    assert Cron("0 0 * * *") != Cron("0 0 * * *", "UTC")
    assert len({Cron("0 0 * * *"), Cron("0 0 * * *"), Cron("@daily")}) == 2


def test_cron_zone_precedence() -> None:
    now = at("2025-01-01T12:00Z")
    assert Cron("0 0 * * *").next_after(now) == at("2025-01-02T00:00Z")
    assert Cron("0 0 * * *").next_after(now, timezone="Europe/Berlin") == at("2025-01-01T23:00Z")
    assert Cron("0 0 * * *").next_after(now, timezone=BERLIN) == at("2025-01-01T23:00Z")
    own = Cron("0 0 * * *", "America/New_York")
    assert own.next_after(now, timezone="Europe/Berlin") == at("2025-01-02T05:00Z")
    assert own.zone("Europe/Berlin") == ZoneInfo("America/New_York")
    assert Cron("0 0 * * *").zone() is UTC
    with pytest.raises(ConfigurationError, match="'Nowhere/Else'"):
        Cron("0 0 * * *").next_after(now, timezone="Nowhere/Else")


def test_cron_first_occurrence_and_replan_are_next_after_now() -> None:
    schedule = Cron("30 2 * * *", "Europe/Berlin")
    now = at("2025-03-29T12:00Z")
    assert schedule.first_occurrence(now) == at("2025-03-30T01:00Z")
    assert schedule.replan(now, resume_from=at("2020-01-01T00:00Z")) == at("2025-03-30T01:00Z")
    assert schedule.replan(now, resume_from=None) == at("2025-03-30T01:00Z")
    on_time = at("2025-03-30T01:00Z")
    assert schedule.first_occurrence(on_time) == at("2025-03-31T00:30Z")  # strictly after


def test_cron_fingerprint_names_the_effective_zone() -> None:
    assert Cron("30 2 * * *", "Europe/Berlin").fingerprint() == "cron:30 2 * * *@Europe/Berlin"
    assert Cron("30 2 * * *").fingerprint() == "cron:30 2 * * *@UTC"
    assert Cron("30 2 * * *").fingerprint(timezone="UTC") == "cron:30 2 * * *@UTC"
    assert Cron("30  2 * * *").fingerprint(timezone=BERLIN) == "cron:30 2 * * *@Europe/Berlin"
    own = Cron("@DAILY", "America/New_York")
    assert own.fingerprint(timezone="Europe/Berlin") == "cron:@daily@America/New_York"


def test_cron_consume_due_in_a_zone() -> None:
    schedule = Cron("30 2 * * *")
    first = at("2025-03-29T01:30Z")
    due = schedule.consume_due(first, at("2025-03-31T12:00Z"), limit=None, timezone=BERLIN)
    assert due == (3, at("2025-03-31T00:30Z"), at("2025-04-01T00:30Z"))
    assert schedule.consume_due(first, at("2025-03-31T12:00Z"), limit=2, timezone=BERLIN) == (
        2,
        at("2025-03-30T01:00Z"),
        at("2025-03-31T00:30Z"),
    )


def test_a_year_of_a_per_minute_cron_is_consumed_fast() -> None:
    schedule = Cron("* * * * *", "Europe/Berlin")
    first = at("2025-01-01T00:00Z")
    began = time.perf_counter()
    due = schedule.consume_due(first, at("2025-12-31T23:59:59Z"), limit=None)
    elapsed = time.perf_counter() - began
    assert due == (525_600, at("2025-12-31T23:59Z"), at("2026-01-01T00:00Z"))
    assert elapsed < 0.25  # about 10 ms
    assert schedule.consume_due(first, at("2026-01-01T00:00Z"), limit=1000).count == 1000
