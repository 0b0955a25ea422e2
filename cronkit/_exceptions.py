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

__all__ = [
    "AppLoadError",
    "ConfigurationError",
    "CronkitError",
    "DependencyCycleError",
    "DependencyError",
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
]


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


class AppLoadError(CronkitError):
    """`module:attr` could not be loaded as an App."""


def describe_error(error: BaseException) -> str:
    """`"<ExceptionType>: <message>"`, the text cronkit records for a failed run or operation."""
    return f"{type(error).__name__}: {error}"
