"""The `ExecutionGuard` port: distributed mutual exclusion per occurrence.

`InMemoryExecutionGuard` is the in-process adapter, with the semantics the Valkey guard has
across processes: one lease per (resource, occurrence), a done marker after a completed run,
and a per-resource fencing counter.
"""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, cast, final, get_args, runtime_checkable

from cronkit._clock import Clock, SystemClock
from cronkit._enums import SkipReason
from cronkit._exceptions import InvalidLeaseConfigError

__all__ = [
    "BindableGuard",
    "ExecutionGuard",
    "ExecutionLease",
    "ExecutionSlot",
    "InMemoryExecutionGuard",
    "LeaseLostAction",
    "validate_lease_config",
]

LeaseLostAction = Literal["cancel", "continue", "shutdown"]


@dataclass(frozen=True, slots=True)
class ExecutionSlot:
    """One occurrence of one job on one shared resource."""

    job_id: str
    resource_id: str
    scheduled_at: datetime


@dataclass(frozen=True, slots=True)
class ExecutionLease:
    """Proof of holding a slot until `ttl` after the latest acquire or renewal.

    Attributes:
        slot: what is held.
        token: unique value identifying this holder; renew and release check it.
        fencing_token: strictly increasing per resource; hand it to downstream systems so
            they can refuse writes from a stale holder.
        ttl: how long the lease lives without a renewal.
    """

    slot: ExecutionSlot
    token: str
    fencing_token: int
    ttl: timedelta


@runtime_checkable
class ExecutionGuard(Protocol):
    """Lets exactly one scheduler instance run each occurrence.

    `acquire` returns None when another holder has the slot or the occurrence already ran;
    `refusal_reason(slot)` then tells which (`SkipReason.CONTENDED` or `ALREADY_DONE`).
    Unreachable infrastructure raises `GuardUnavailableError` (or any `ConnectionError`).
    """

    @property
    def renew_interval(self) -> timedelta: ...

    @property
    def on_lost(self) -> LeaseLostAction: ...

    async def acquire(self, slot: ExecutionSlot) -> ExecutionLease | None: ...

    def refusal_reason(self, slot: ExecutionSlot) -> SkipReason: ...

    async def renew(self, lease: ExecutionLease) -> bool: ...

    async def release(self, lease: ExecutionLease, *, completed: bool) -> None: ...


@runtime_checkable
class BindableGuard(Protocol):
    """A guard that keeps time on the scheduler's clock (the in-memory guard)."""

    def bind(self, *, clock: Clock) -> None: ...


def validate_lease_config(
    *, ttl: timedelta, renew_interval: timedelta, done_retention: timedelta, on_lost: str
) -> LeaseLostAction:
    """Check lease timings the way every guard does, at construction.

    Returns:
        `on_lost`, checked and normalized (`" Cancel"` → `"cancel"`).

    Raises:
        InvalidLeaseConfigError: a duration that is not a `timedelta`, `ttl <= 0`,
            `renew_interval <= 0`, `renew_interval >= ttl`, `done_retention < 0`, or an
            unknown `on_lost`; the message quotes the values and says how to fix them.
    """
    durations = {"ttl": ttl, "renew_interval": renew_interval, "done_retention": done_retention}
    for name, value in durations.items():
        if not isinstance(value, timedelta):
            raise InvalidLeaseConfigError(
                f"{name}={value!r} is not a duration; use a timedelta, e.g. timedelta(seconds=30)"
            )
    if ttl <= timedelta(0):
        raise InvalidLeaseConfigError(
            f"ttl={ttl!r} must be positive; use e.g. timedelta(seconds=30)"
        )
    if renew_interval <= timedelta(0):
        raise InvalidLeaseConfigError(
            f"renew_interval={renew_interval!r} must be positive; use e.g. a third of the ttl"
        )
    if renew_interval >= ttl:
        raise InvalidLeaseConfigError(
            f"renew_interval={renew_interval!r} must be shorter than ttl={ttl!r}, or the lease "
            "expires before it is renewed; use e.g. a third of the ttl"
        )
    if done_retention < timedelta(0):
        raise InvalidLeaseConfigError(
            f"done_retention={done_retention!r} must not be negative; use timedelta(0) to "
            "keep no done marker, or e.g. timedelta(hours=24)"
        )
    actions: tuple[str, ...] = get_args(LeaseLostAction)
    action = on_lost.strip().lower() if isinstance(on_lost, str) else None
    if action not in actions:
        raise InvalidLeaseConfigError(
            f"on_lost={on_lost!r} is not a lease-lost action; use one of "
            f"{', '.join(map(repr, actions))}"
        )
    return cast(LeaseLostAction, action)


@dataclass(slots=True)
class _Entry:
    """A live lease (`token` set) or a done marker (`token` None), until `expires_at`."""

    token: str | None
    expires_at: float


_SlotKey = tuple[str, datetime]


@final
class InMemoryExecutionGuard:
    """Per-occurrence leases in a dict, for schedulers that share one process.

    Several schedulers (or Apps) in one process can share one instance. Expiry is measured on
    the clock's elapsed time, so a `FakeClock` drives it in tests; expired leases and done
    markers are purged lazily.

    Args:
        ttl: how long a lease lives without a renewal.
        renew_interval: how often the engine renews a lease while the run lasts.
        done_retention: how long a completed occurrence stays marked done; `timedelta(0)`
            keeps no marker.
        on_lost: what the engine does with a run whose lease is lost: `"cancel"` it, let it
            `"continue"`, or let it finish and `"shutdown"` the scheduler.
        clock: time source; when None, the scheduler's clock is adopted by `bind`, or
            `SystemClock` if the guard is used before that.

    Raises:
        InvalidLeaseConfigError: see `validate_lease_config`.
    """

    def __init__(
        self,
        ttl: timedelta = timedelta(seconds=30),
        renew_interval: timedelta = timedelta(seconds=10),
        *,
        done_retention: timedelta = timedelta(hours=24),
        on_lost: LeaseLostAction = "cancel",
        clock: Clock | None = None,
    ) -> None:
        self._on_lost = validate_lease_config(
            ttl=ttl, renew_interval=renew_interval, done_retention=done_retention, on_lost=on_lost
        )
        self._ttl = ttl
        self._renew_interval = renew_interval
        self._done_retention = done_retention
        self._clock = clock
        self._entries: dict[_SlotKey, _Entry] = {}
        self._expiries: list[tuple[float, int, _SlotKey]] = []  # heap; may hold stale items
        self._pushes = 0
        self._fencing: dict[str, int] = {}
        self._refusals: dict[_SlotKey, SkipReason] = {}

    def __repr__(self) -> str:
        return (
            f"InMemoryExecutionGuard(ttl={self._ttl!r}, renew_interval={self._renew_interval!r}, "
            f"entries={len(self._entries)})"
        )

    @property
    def ttl(self) -> timedelta:
        """How long a lease lives without a renewal."""
        return self._ttl

    @property
    def renew_interval(self) -> timedelta:
        """How often the engine renews a held lease."""
        return self._renew_interval

    @property
    def done_retention(self) -> timedelta:
        """How long a completed occurrence stays marked done."""
        return self._done_retention

    @property
    def on_lost(self) -> LeaseLostAction:
        """What the engine does with a run whose lease is lost."""
        return self._on_lost

    def bind(self, *, clock: Clock) -> None:
        """Adopt the scheduler's clock unless the guard already has one."""
        if self._clock is None:
            self._clock = clock

    async def acquire(self, slot: ExecutionSlot) -> ExecutionLease | None:
        """Take the slot, or return None when it is held or done (see `refusal_reason`)."""
        now = self._purge()
        key = _key(slot)
        entry = self._entries.get(key)
        if entry is not None:
            done = entry.token is None
            self._refusals[key] = SkipReason.ALREADY_DONE if done else SkipReason.CONTENDED
            return None
        self._refusals.pop(key, None)
        fencing_token = self._fencing.get(slot.resource_id, 0) + 1
        self._fencing[slot.resource_id] = fencing_token
        token = uuid.uuid4().hex
        self._put(key, _Entry(token, now + self._ttl.total_seconds()))
        return ExecutionLease(slot=slot, token=token, fencing_token=fencing_token, ttl=self._ttl)

    def refusal_reason(self, slot: ExecutionSlot) -> SkipReason:
        """Why the latest `acquire` of `slot` returned None (`CONTENDED` if none did)."""
        return self._refusals.get(_key(slot), SkipReason.CONTENDED)

    async def renew(self, lease: ExecutionLease) -> bool:
        """Extend `lease` by `ttl`; False when it expired or another holder has the slot."""
        now = self._purge()
        key = _key(lease.slot)
        entry = self._entries.get(key)
        if entry is None or entry.token != lease.token:
            return False
        self._put(key, _Entry(lease.token, now + self._ttl.total_seconds()))
        return True

    async def release(self, lease: ExecutionLease, *, completed: bool) -> None:
        """Give the slot up; `completed` leaves a done marker.

        Another holder's lease and an existing done marker are left alone. A completed run
        whose lease expired marks the slot done when nobody has taken it since; an incomplete
        one whose lease expired changes nothing.
        """
        now = self._purge()
        key = _key(lease.slot)
        entry = self._entries.get(key)
        if entry is not None and entry.token != lease.token:
            return  # another holder's lease, or a done marker already
        if entry is None and not completed:
            return
        self._entries.pop(key, None)
        self._refusals.pop(key, None)
        if completed and self._done_retention > timedelta(0):
            self._put(key, _Entry(None, now + self._done_retention.total_seconds()))

    # -- internals ----------------------------------------------------------------------------

    def _put(self, key: _SlotKey, entry: _Entry) -> None:
        self._entries[key] = entry
        self._pushes += 1
        heapq.heappush(self._expiries, (entry.expires_at, self._pushes, key))

    def _purge(self) -> float:
        """Drop every entry whose time is up; return the clock's elapsed time."""
        if self._clock is None:
            self._clock = SystemClock()
        now = self._clock.monotonic()
        while self._expiries and self._expiries[0][0] <= now:
            _, _, key = heapq.heappop(self._expiries)
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at <= now:
                del self._entries[key]
                self._refusals.pop(key, None)
        return now


def _key(slot: ExecutionSlot) -> _SlotKey:
    return (slot.resource_id, slot.scheduled_at)
