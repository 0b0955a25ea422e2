"""`ValkeyLeaseConfig`: the timings of the Valkey execution lease, checked at construction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cronkit._exceptions import InvalidLeaseConfigError
from cronkit._guard import LeaseLostAction, validate_lease_config

__all__ = ["ValkeyLeaseConfig"]

_RESOLUTION = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class ValkeyLeaseConfig:
    """How long a lease lives, how often it is renewed, and what a lost lease does.

    Attributes:
        ttl: lifetime of a lease without renewal; a holder that dies frees the occurrence
            after at most this long. Valkey keeps it with millisecond resolution.
        renew_interval: how often the engine renews a lease while its run lasts; must be
            shorter than `ttl` (a third of it leaves room for two failed renewals).
        done_retention: how long a completed occurrence stays marked `done`, so that an
            instance reaching it late (clock skew, slow start, restart) skips it. Make it
            longer than the worst clock skew and restart delay you expect.
        on_lost: what the engine does with a run whose lease is lost: `"cancel"` it,
            let it `"continue"`, or let it finish and then `"shutdown"` the scheduler.

    Raises:
        InvalidLeaseConfigError: a duration that is not a positive `timedelta` of at least
            1 ms, `renew_interval >= ttl`, or an unknown `on_lost` (the checks every guard
            makes, see `cronkit._guard.validate_lease_config`, plus `done_retention > 0`).
    """

    ttl: timedelta
    renew_interval: timedelta
    done_retention: timedelta = timedelta(hours=24)
    on_lost: LeaseLostAction = "cancel"

    def __post_init__(self) -> None:
        on_lost = validate_lease_config(
            ttl=self.ttl,
            renew_interval=self.renew_interval,
            done_retention=self.done_retention,
            on_lost=self.on_lost,
        )
        if self.done_retention == timedelta(0):
            raise InvalidLeaseConfigError(
                f"done_retention={self.done_retention!r} would keep no done marker, so a late "
                "instance could run a finished occurrence again; use e.g. timedelta(hours=24)"
            )
        for name in ("ttl", "renew_interval", "done_retention"):
            value = getattr(self, name)
            if value < _RESOLUTION:
                raise InvalidLeaseConfigError(
                    f"{name}={value!r} is below Valkey's 1 ms resolution; use at least "
                    "timedelta(milliseconds=1)"
                )
        object.__setattr__(self, "on_lost", on_lost)

    @property
    def ttl_ms(self) -> int:
        """`ttl` in whole milliseconds, as Valkey's `PX` takes it."""
        return _milliseconds(self.ttl)

    @property
    def done_retention_ms(self) -> int:
        """`done_retention` in whole milliseconds."""
        return _milliseconds(self.done_retention)


def _milliseconds(delta: timedelta) -> int:
    return max(1, delta // _RESOLUTION)
