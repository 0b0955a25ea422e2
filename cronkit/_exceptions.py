"""Every error cronkit raises.

```
CronkitError
├── ConfigurationError (ValueError) ............ bad input, raised at construction
│   ├── InvalidScheduleError ................... interval <= 0, naive or unparsable instant
│   ├── InvalidCronExpression .................. a cron expression croniter or the dialect rejects
│   ├── InvalidTimeWindowError ................. bad weekday, bad or empty segment
│   ├── InvalidJobError ........................ bad job id, timeout/REPLACE on a thread task
│   ├── DuplicateJobError ...................... a job id registered twice on one App
│   ├── InvalidPolicyError ..................... an unknown policy or enum string
│   ├── InvalidLeaseConfigError ................ ttl/renew_interval out of range
│   ├── InvalidStoreURLError ................... a Valkey URL with an unknown scheme
│   └── DependencyError ........................ a parameter Depends cannot resolve
│       └── DependencyCycleError ............... a dependency that needs itself
├── DependencyFailedError ...................... a job's dependency raised, on entry or in clean-up
├── StoreError ................................. the state store failed
│   ├── StoreUnavailableError (ConnectionError)  connection-class failure: degrade, retry
│   └── StateCorruptedError (ValueError) ....... a stored value that is not valid state
├── GuardUnavailableError (ConnectionError) .... the execution guard cannot be reached
└── AppLoadError ............................... `module:attr` does not name an App
```

Concrete errors also subclass the nearest builtin so that `except ValueError` keeps working.
Messages quote the bad value with `!r` and say how to fix it.
"""

from __future__ import annotations

import traceback
from typing import Literal

__all__ = [
    "AppLoadError",
    "ConfigurationError",
    "CronkitError",
    "DependencyCycleError",
    "DependencyError",
    "DependencyFailedError",
    "DuplicateJobError",
    "GuardUnavailableError",
    "InvalidCronExpression",
    "InvalidJobError",
    "InvalidLeaseConfigError",
    "InvalidPolicyError",
    "InvalidScheduleError",
    "InvalidStoreURLError",
    "InvalidTimeWindowError",
    "StateCorruptedError",
    "StoreError",
    "StoreUnavailableError",
    "describe_error",
    "format_traceback",
]

#: The most traceback text kept for one run; a longer one keeps its end, where the error is.
TRACEBACK_LIMIT = 8 * 1024


class CronkitError(Exception):
    """Root of every error raised by cronkit."""


class ConfigurationError(CronkitError, ValueError):
    """Bad input given to a constructor, decorator or function."""


class InvalidScheduleError(ConfigurationError):
    """A schedule that cannot be built: non-positive interval, naive or unparsable instant."""


class InvalidCronExpression(ConfigurationError):
    """A cron expression outside cronkit's dialect."""


class InvalidTimeWindowError(ConfigurationError):
    """A weekday, segment or window that cannot be built."""


class InvalidJobError(ConfigurationError):
    """A job definition that cannot run as given."""


class DuplicateJobError(ConfigurationError):
    """A job id registered twice."""


class InvalidPolicyError(ConfigurationError):
    """An unknown policy or enum value."""


class InvalidLeaseConfigError(ConfigurationError):
    """Lease timings that cannot work."""


class InvalidStoreURLError(ConfigurationError):
    """A store or guard URL that cronkit cannot connect with."""


class DependencyError(ConfigurationError):
    """A job parameter that `Depends` cannot resolve."""


class DependencyCycleError(DependencyError):
    """A dependency that, directly or not, depends on itself."""


class StoreError(CronkitError):
    """The state store failed."""


class StoreUnavailableError(StoreError, ConnectionError):
    """The state store cannot be reached right now (refused, reset, timeout, loading, ...)."""


class StateCorruptedError(StoreError, ValueError):
    """A stored value that is not valid job state. It is never overwritten silently."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(
            f"stored state at key {key!r} is not valid cronkit job state: {reason}. "
            "Inspect or delete that key; cronkit will not overwrite it."
        )
        self.key = key
        self.reason = reason


class GuardUnavailableError(CronkitError, ConnectionError):
    """The execution guard cannot be reached; the occurrence is skipped (fail closed)."""


class DependencyFailedError(CronkitError):
    """A dependency of a job raised while being set up (`phase="entry"`) or cleaned up.

    The run is recorded as failed with this error's message, which names the dependency;
    the exception the dependency raised is `__cause__`.

    Attributes:
        dependency: The dependency's name, e.g. `"get_db"`.
        phase: `"entry"` (before the job ran) or `"cleanup"` (after it).
    """

    def __init__(
        self, dependency: str, phase: Literal["entry", "cleanup"], error: BaseException
    ) -> None:
        what = "dependency" if phase == "entry" else "clean-up of dependency"
        super().__init__(f"{what} {dependency} failed: {describe_error(error)}")
        self.dependency = dependency
        self.phase = phase


class AppLoadError(CronkitError):
    """`module:attr` could not be loaded as an App."""


def describe_error(error: BaseException) -> str:
    """`"<ExceptionType>: <message>"`, the text cronkit records for a failed run or operation.

    A `DependencyFailedError` is described by its message alone, which already names the
    dependency and the exception it raised.
    """
    if isinstance(error, DependencyFailedError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def format_traceback(error: BaseException, limit: int = TRACEBACK_LIMIT) -> str:
    """The formatted traceback of `error` (with its causes), at most `limit` characters.

    A longer text keeps its end, where the exception and the innermost frames are, behind
    a first line saying how much was cut.
    """
    text = "".join(traceback.format_exception(error))
    if len(text) <= limit:
        return text
    marker = "[... {} characters cut ...]\n"
    kept = limit - len(marker.format(len(text)))
    return marker.format(len(text) - kept) + text[-kept:]
