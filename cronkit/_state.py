"""Persisted job state, run records, and the JSON codec that stores them (never pickle).

The document keeps the crate's field names, instants as RFC 3339 UTC with `Z`, the
`schedule_fingerprint` and a format version:

```json
{"v": 1, "job_id": "nightly", "trigger_count": 3, "next_run_at": "2025-03-30T01:00:00Z",
 "last_run_at": "2025-03-29T01:30:00Z", "last_success_at": "2025-03-29T01:30:04Z",
 "last_error": null, "schedule_fingerprint": "cron:30 2 * * *@Europe/Berlin"}
```

Unknown fields are ignored on read, so newer writers stay readable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cronkit._enums import RunStatus, TriggerSource
from cronkit._exceptions import StateCorruptedError

__all__ = [
    "FORMAT_VERSION",
    "JobState",
    "RunRecord",
    "decode_state",
    "encode_state",
    "format_instant",
    "is_count",
    "parse_instant",
]

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class JobState:
    """What survives a restart of one job.

    Attributes:
        job_id: the persistence key.
        trigger_count: occurrences consumed so far (run, failed, skipped, lost to another
            instance); compared with `Job.max_runs`.
        next_run_at: the first occurrence not consumed yet, or None when the job is finished.
        last_run_at: when the latest completed run started (as in the crate; the scheduled
            instant of a run is in its `RunRecord`).
        last_success_at: when the latest successful run finished.
        last_error: `"<ExceptionType>: <message>"` of the latest failed run, cleared by a success.
        schedule_fingerprint: identifies the schedule that planned `next_run_at`; a different
            schedule in code makes the engine re-plan.
    """

    job_id: str
    trigger_count: int = 0
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    schedule_fingerprint: str | None = None

    def consumed(self, trigger_count: int, next_run_at: datetime | None) -> JobState:
        """This state after consuming occurrences up to `trigger_count`."""
        return JobState(
            self.job_id,
            trigger_count,
            next_run_at,
            self.last_run_at,
            self.last_success_at,
            self.last_error,
            self.schedule_fingerprint,
        )

    def finished(self, started_at: datetime, finished_at: datetime, error: str | None) -> JobState:
        """This state once a run that started at `started_at` ended at `finished_at`.

        The run succeeded if `error` is None; a success clears `last_error`.
        """
        return JobState(
            self.job_id,
            self.trigger_count,
            self.next_run_at,
            started_at,
            finished_at if error is None else self.last_success_at,
            error,
            self.schedule_fingerprint,
        )


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One executed run, as kept in `SchedulerReport.history`.

    `error` is `"<ExceptionType>: <message>"` of a failed or timed-out run, and `traceback`
    its formatted traceback (at most 8 KiB, the end kept): where a timed-out run was when
    its time ran out.
    """

    scheduled_at: datetime
    started_at: datetime
    finished_at: datetime
    catch_up: bool
    status: RunStatus
    error: str | None = None
    source: TriggerSource = TriggerSource.SCHEDULE
    traceback: str | None = None

    @property
    def duration(self) -> timedelta:
        """How long the run took."""
        return self.finished_at - self.started_at


def is_count(value: object, minimum: int = 0) -> bool:
    """Whether `value` is a whole number (an `int`, not a `bool`) of at least `minimum`.

    The one test behind every count cronkit checks: `max_runs`, `max_parallel`,
    `history_limit`, a `limit`, a stored `trigger_count`; each caller words its own error.
    """
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def format_instant(instant: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, microseconds only when present."""
    text = instant.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 instant with `Z` or an offset into an aware UTC datetime.

    Raises:
        ValueError: not an instant, one without an offset, or one outside the years 1 to 9999
            once in UTC.
    """
    normalized = text.strip()
    if normalized[-1:] in ("Z", "z"):
        normalized = normalized[:-1] + "+00:00"
    # RFC 3339 allows any number of fractional digits; datetime takes at most six.
    head, dot, tail = normalized.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        fraction, rest = tail[:digits], tail[digits:]
        if not fraction:
            raise ValueError(f"{text!r} has a '.' without fractional digits")
        normalized = f"{head}.{fraction[:6].ljust(6, '0')}{rest}"
    parsed = datetime.fromisoformat(normalized)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is past datetime.max in UTC
        raise ValueError(f"{text!r} is outside the years 1 to 9999 in UTC") from None


def encode_state(state: JobState) -> str:
    """Serialize `state` as the JSON document described in the module docstring."""
    document: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "job_id": state.job_id,
        "trigger_count": state.trigger_count,
        "next_run_at": _optional_instant(state.next_run_at),
        "last_run_at": _optional_instant(state.last_run_at),
        "last_success_at": _optional_instant(state.last_success_at),
        "last_error": state.last_error,
        "schedule_fingerprint": state.schedule_fingerprint,
    }
    return json.dumps(document, separators=(",", ":"))


def decode_state(raw: str | bytes, *, key: str) -> JobState:
    """Parse a stored document; `key` names where it was read, for the error message.

    Raises:
        StateCorruptedError: the value is not valid job state.
    """
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise StateCorruptedError(key, f"not JSON ({error})") from None
    except RecursionError:  # json recurses once per nesting level: "[[[[..." is not state
        raise StateCorruptedError(key, "not JSON (nested too deeply to parse)") from None
    if not isinstance(document, dict):
        raise StateCorruptedError(key, f"expected a JSON object, got {type(document).__name__}")
    version = document.get("v", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise StateCorruptedError(
            key, f"format version {version!r} is not {FORMAT_VERSION} (written by another cronkit?)"
        )
    job_id = document.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise StateCorruptedError(key, f"job_id {job_id!r} is not a non-empty string")
    trigger_count = document.get("trigger_count", 0)
    if not is_count(trigger_count):
        raise StateCorruptedError(key, f"trigger_count {trigger_count!r} is not a count")
    return JobState(
        job_id=job_id,
        trigger_count=trigger_count,
        next_run_at=_read_instant(document, "next_run_at", key),
        last_run_at=_read_instant(document, "last_run_at", key),
        last_success_at=_read_instant(document, "last_success_at", key),
        last_error=_read_text(document, "last_error", key),
        schedule_fingerprint=_read_text(document, "schedule_fingerprint", key),
    )


def _optional_instant(instant: datetime | None) -> str | None:
    return None if instant is None else format_instant(instant)


def _read_instant(document: dict[str, Any], name: str, key: str) -> datetime | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise StateCorruptedError(key, f"{name} {value!r} is not an RFC 3339 string")
    try:
        return parse_instant(value)
    except ValueError as error:
        raise StateCorruptedError(
            key, f"{name} {value!r} is not an RFC 3339 instant ({error})"
        ) from None


def _read_text(document: dict[str, Any], name: str, key: str) -> str | None:
    value = document.get(name)
    if value is None or isinstance(value, str):
        return value
    raise StateCorruptedError(key, f"{name} {value!r} is not a string")
