"""The JSON codec of `JobState`: round trips, the instant format, and corrupt documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronkit._exceptions import StateCorruptedError, StoreError
from cronkit._state import (
    FORMAT_VERSION,
    JobState,
    decode_state,
    encode_state,
    format_instant,
    parse_instant,
)

KEY = "scheduler:valkey:job-state:nightly"

FULL = JobState(
    job_id="nightly",
    trigger_count=3,
    next_run_at=datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
    last_run_at=datetime(2025, 3, 29, 1, 30, 0, 250000, tzinfo=UTC),
    last_success_at=datetime(2025, 3, 29, 1, 30, tzinfo=UTC),
    last_error="RuntimeError: boom",
    schedule_fingerprint="cron:30 2 * * *@Europe/Berlin",
)


def document(**overrides: Any) -> str:
    base = json.loads(encode_state(FULL))
    base.update(overrides)
    return json.dumps({name: value for name, value in base.items() if value is not ...})


# -- encoding ---------------------------------------------------------------------------------


def test_encoded_document_has_the_crate_fields_the_fingerprint_and_the_version() -> None:
    assert json.loads(encode_state(FULL)) == {
        "v": FORMAT_VERSION,
        "job_id": "nightly",
        "trigger_count": 3,
        "next_run_at": "2025-03-30T01:00:00Z",
        "last_run_at": "2025-03-29T01:30:00.250000Z",
        "last_success_at": "2025-03-29T01:30:00Z",
        "last_error": "RuntimeError: boom",
        "schedule_fingerprint": "cron:30 2 * * *@Europe/Berlin",
    }


def test_absent_values_are_encoded_as_null() -> None:
    assert json.loads(encode_state(JobState(job_id="bare"))) == {
        "v": FORMAT_VERSION,
        "job_id": "bare",
        "trigger_count": 0,
        "next_run_at": None,
        "last_run_at": None,
        "last_success_at": None,
        "last_error": None,
        "schedule_fingerprint": None,
    }


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (datetime(2025, 1, 1, tzinfo=UTC), "2025-01-01T00:00:00Z"),
        (datetime(2025, 1, 1, 0, 0, 0, 1, tzinfo=UTC), "2025-01-01T00:00:00.000001Z"),
        (datetime(2025, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))), "2025-06-01T00:00:00Z"),
        (
            datetime(2025, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
            "2025-01-01T05:30:00Z",
        ),
    ],
    ids=["whole-seconds", "microseconds", "offset-east", "offset-west"],
)
def test_instants_are_rfc3339_utc_with_z(instant: datetime, text: str) -> None:
    assert format_instant(instant) == text


# -- decoding ---------------------------------------------------------------------------------


def test_round_trip() -> None:
    assert decode_state(encode_state(FULL), key=KEY) == FULL


def test_bytes_are_accepted() -> None:
    assert decode_state(encode_state(FULL).encode(), key=KEY) == FULL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T00:00:00z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T00:00:00.123456789Z", datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2025-01-01T00:00:00.5Z", datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-01T02:00:00.999999999+02:00", datetime(2025, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)),
        ("2025-01-01T00:00:00-05:00", datetime(2025, 1, 1, 5, tzinfo=UTC)),
        (" 2025-01-01T00:00:00Z ", datetime(2025, 1, 1, tzinfo=UTC)),
    ],
    ids=["z", "lower-z", "nanoseconds", "tenths", "nanos-with-offset", "offset", "padded"],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)

    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2025-01-01T00:00:00",
        "2025-13-01T00:00:00Z",
        "2025-01-01T00:00:00.Z",
    ],
    ids=["empty", "words", "naive", "month-13", "empty-fraction"],
)
def test_parse_instant_refuses_what_is_not_an_instant(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_instant(text)

    assert not isinstance(caught.value, StateCorruptedError)


def test_nine_fractional_digits_as_the_crate_writes_them_are_read() -> None:
    state = decode_state(document(last_run_at="2025-03-29T01:30:00.123456789Z"), key=KEY)

    assert state.last_run_at == datetime(2025, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)


def test_unknown_fields_are_ignored() -> None:
    raw = document(owner="replica-7", next_version={"a": 1}, tags=["x"])

    assert decode_state(raw, key=KEY) == FULL


def test_a_document_in_the_crates_layout_is_read() -> None:
    crate = json.dumps(
        {
            "job_id": "refresh-cache",
            "trigger_count": 12,
            "next_run_at": "2025-03-29T01:30:05.000000001Z",
            "last_run_at": "2025-03-29T01:30:00Z",
            "last_success_at": None,
            "last_error": "task failed",
        }
    )

    assert decode_state(crate, key=KEY) == JobState(
        job_id="refresh-cache",
        trigger_count=12,
        next_run_at=datetime(2025, 3, 29, 1, 30, 5, tzinfo=UTC),
        last_run_at=datetime(2025, 3, 29, 1, 30, tzinfo=UTC),
        last_success_at=None,
        last_error="task failed",
        schedule_fingerprint=None,
    )


def test_missing_optional_fields_default() -> None:
    assert decode_state('{"job_id": "j"}', key=KEY) == JobState(job_id="j")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"text"', "expected a JSON object, got str"),
        ("null", "expected a JSON object, got NoneType"),
        (document(v=2), "format version 2"),
        (document(v="1"), "format version '1'"),
        (document(job_id=...), "job_id None"),
        (document(job_id=""), "job_id ''"),
        (document(job_id=7), "job_id 7"),
        (document(trigger_count=-1), "trigger_count -1"),
        (document(trigger_count=True), "trigger_count True"),
        (document(trigger_count=1.5), "trigger_count 1.5"),
        (document(trigger_count="3"), "trigger_count '3'"),
        (document(next_run_at=1743296400), "next_run_at 1743296400 is not an RFC 3339 string"),
        (document(last_run_at="tomorrow"), "last_run_at 'tomorrow' is not an RFC 3339 instant"),
        (document(last_success_at="2025-03-29T01:30:00"), "last_success_at '2025-03-29T01:30"),
        (document(last_error=["boom"]), "last_error ['boom'] is not a string"),
        (document(schedule_fingerprint=5), "schedule_fingerprint 5 is not a string"),
        ("[" * 200_000, "nested too deeply"),
        ('{"job_id": "nightly", "a": ' * 100_000, "nested too deeply"),
        (
            document(next_run_at="9999-12-31T23:59:59-23:59"),
            "next_run_at '9999-12-31T23:59:59-23:59' is not an RFC 3339 instant",
        ),
        (
            document(last_success_at="0001-01-01T00:00:00+00:01"),
            "last_success_at '0001-01-01T00:00:00+00:01' is not an RFC 3339 instant",
        ),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "empty",
        "array",
        "string",
        "null",
        "newer-version",
        "version-as-string",
        "job-id-missing",
        "job-id-empty",
        "job-id-number",
        "count-negative",
        "count-bool",
        "count-float",
        "count-string",
        "instant-number",
        "instant-words",
        "instant-naive",
        "error-list",
        "fingerprint-number",
        "nested-arrays",
        "nested-objects",
        "instant-past-max-in-utc",
        "instant-before-min-in-utc",
    ],
)
def test_corrupt_documents_raise_naming_the_key(raw: str | bytes, reason: str) -> None:
    with pytest.raises(StateCorruptedError) as caught:
        decode_state(raw, key=KEY)

    error = caught.value
    assert error.key == KEY
    assert reason in error.reason
    assert repr(KEY) in str(error)
    assert "will not overwrite" in str(error)
    assert isinstance(error, StoreError)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    "text",
    ["9999-12-31T23:59:59-23:59", "9999-12-31T23:00:00-01:00", "0001-01-01T00:00:00+00:01"],
    ids=["past-max-far-west", "past-max", "before-min"],
)
def test_an_instant_outside_the_range_in_utc_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="outside the years 1 to 9999 in UTC"):
        parse_instant(text)


def test_a_finished_run_stores_its_start_and_the_finish_of_a_success() -> None:
    scheduled = datetime(2025, 3, 29, 1, 30, tzinfo=UTC)
    started, finished = scheduled + timedelta(seconds=2), scheduled + timedelta(seconds=9)
    state = JobState("nightly", trigger_count=1, last_error="RuntimeError: boom")

    succeeded = state.finished(started, finished, None)
    assert (succeeded.last_run_at, succeeded.last_success_at) == (started, finished)
    assert succeeded.last_error is None

    later = finished + timedelta(hours=1)
    failed = succeeded.finished(later, later + timedelta(seconds=1), "ValueError: x")
    assert (failed.last_run_at, failed.last_success_at) == (later, finished)
    assert failed.last_error == "ValueError: x"
    assert failed.trigger_count == 1


# -- properties -------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=45)), timezone.min]),
)
texts = st.text(max_size=40)


@given(
    st.builds(
        JobState,
        job_id=st.text(min_size=1, max_size=40),
        trigger_count=st.integers(min_value=0, max_value=2**63),
        next_run_at=st.none() | instants,
        last_run_at=st.none() | instants,
        last_success_at=st.none() | instants,
        last_error=st.none() | texts,
        schedule_fingerprint=st.none() | texts,
    )
)
def test_every_state_round_trips(state: JobState) -> None:
    assert decode_state(encode_state(state), key=KEY) == state


@given(instants)
def test_every_instant_round_trips_as_utc(instant: datetime) -> None:
    text = format_instant(instant)

    assert text.endswith("Z")
    assert parse_instant(text) == instant
