"""Enumerations of the public API, and the parser that accepts their string values."""

from __future__ import annotations

import enum
from typing import TypeVar

from cronkit._exceptions import InvalidPolicyError

__all__ = [
    "MissedRunPolicy",
    "OverlapPolicy",
    "RunStatus",
    "SkipReason",
    "StopReason",
    "TerminalStatePolicy",
    "TriggerSource",
    "coerce_enum",
]


class MissedRunPolicy(enum.StrEnum):
    """What to do with occurrences that came due while nothing ran them."""

    SKIP = "skip"
    CATCH_UP_ONCE = "catch_up_once"
    REPLAY_ALL = "replay_all"


class OverlapPolicy(enum.StrEnum):
    """What to do with a trigger that arrives while runs of the job are active."""

    FORBID = "forbid"
    QUEUE_ONE = "queue_one"
    ALLOW_PARALLEL = "allow_parallel"
    REPLACE = "replace"


class TerminalStatePolicy(enum.StrEnum):
    """What to do with the stored state of a job that will never run again."""

    RETAIN = "retain"
    DELETE = "delete"


class RunStatus(enum.StrEnum):
    """How a run ended."""

    SUCCESS = "success"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class SkipReason(enum.StrEnum):
    """Why an occurrence was consumed without running."""

    MISSED = "missed"
    OVERLAP = "overlap"
    OUTSIDE_TIME_WINDOW = "outside_time_window"
    CONTENDED = "contended"
    ALREADY_DONE = "already_done"
    GUARD_UNAVAILABLE = "guard_unavailable"


class TriggerSource(enum.StrEnum):
    """What started a run."""

    SCHEDULE = "schedule"
    MANUAL = "manual"


class StopReason(enum.StrEnum):
    """Why `Scheduler.run` returned."""

    TERMINAL = "terminal"
    SHUTDOWN = "shutdown"
    CANCELLED = "cancelled"


E = TypeVar("E", bound=enum.StrEnum)


def coerce_enum(kind: type[E], value: E | str, *, parameter: str) -> E:
    """Return `value` as a member of `kind`, accepting the member itself or its string value.

    Raises:
        InvalidPolicyError: `value` is neither, with the accepted spellings in the message.
    """
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(repr(member.value) for member in kind)
    raise InvalidPolicyError(
        f"{parameter}={value!r} is not a valid {kind.__name__}; use one of {choices} "
        f"or a {kind.__name__} member"
    )
