"""The `StateStore` port and its in-process adapters.

`InMemoryStateStore` keeps states in a dict. `ResilientStateStore` wraps another store (the
*primary*, e.g. Valkey) with an in-process mirror: when the primary fails with a
connection-class error it serves from the mirror and keeps the scheduler going, then writes the
states changed meanwhile back once the primary answers again. Data errors are never masked.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Protocol, final, runtime_checkable

from cronkit._clock import Clock, SystemClock
from cronkit._events import ObserverGroup, SchedulerObserver, StoreDegraded, StoreRecovered
from cronkit._exceptions import (
    ConfigurationError,
    StateCorruptedError,
    StoreUnavailableError,
    describe_error,
)
from cronkit._state import JobState

__all__ = [
    "BindableStore",
    "CreatingStore",
    "InMemoryStateStore",
    "ResilientStateStore",
    "StateStore",
    "is_connection_error",
]


@runtime_checkable
class StateStore(Protocol):
    """Persists one `JobState` per job id.

    `load` returns None when nothing is stored. Connection-class failures raise
    `StoreUnavailableError`; a stored value that is not valid state raises
    `StateCorruptedError` naming the key.
    """

    async def load(self, job_id: str) -> JobState | None: ...

    async def save(self, state: JobState) -> None: ...

    async def delete(self, job_id: str) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class BindableStore(Protocol):
    """A store that wants the scheduler's clock and observer (for events of its own)."""

    def bind(self, *, clock: Clock, observer: SchedulerObserver) -> None: ...


@runtime_checkable
class CreatingStore(Protocol):
    """A store that can create a job's first state atomically (optional for adapters).

    Replicas that start at the same moment each find nothing stored and plan their own first
    occurrence; `create` lets the first one win and hands its state to the others, so that
    every replica follows the same series of occurrences.
    """

    async def create(self, state: JobState) -> JobState:
        """Store `state` only if nothing is stored for `state.job_id`.

        Returns:
            What is stored afterwards: `state` itself, or the state stored before.
        """
        ...


def is_connection_error(exc: BaseException) -> bool:
    """Whether `exc` says the store cannot be reached right now, rather than bad data.

    Connection-class: `StoreUnavailableError` and every builtin `OSError`, which includes
    `ConnectionError` and `TimeoutError` (and so `asyncio.TimeoutError`). Everything else,
    `StateCorruptedError` first of all, is a data or programming error and must propagate.
    Adapters of other technologies translate their client's connection errors into
    `StoreUnavailableError` so that this predicate recognises them.
    """
    if isinstance(exc, StateCorruptedError):
        return False
    return isinstance(exc, (StoreUnavailableError, OSError))


@final
class InMemoryStateStore:
    """Keeps states in a dict. Share one instance between schedulers to resume across runs."""

    def __init__(self) -> None:
        self._states: dict[str, JobState] = {}

    def __repr__(self) -> str:
        return f"InMemoryStateStore(jobs={sorted(self._states)!r})"

    async def load(self, job_id: str) -> JobState | None:
        return self._states.get(job_id)

    async def save(self, state: JobState) -> None:
        self._states[state.job_id] = state

    async def create(self, state: JobState) -> JobState:
        """Store `state` unless a state is stored for its job; return the stored one."""
        return self._states.setdefault(state.job_id, state)

    async def delete(self, job_id: str) -> None:
        self._states.pop(job_id, None)

    async def close(self) -> None:
        """Nothing to release; the states stay readable."""

    def snapshot(self) -> dict[str, JobState]:
        """A copy of every stored state, by job id."""
        return dict(self._states)


@final
class ResilientStateStore:
    """A store that keeps scheduling on an in-process mirror while its primary is unreachable.

    Every state loaded from or saved to the primary is also kept in the mirror. When the
    primary raises a connection-class error (see `is_connection_error`), the store *degrades*:
    it emits `StoreDegraded` once, and `load`, `save`, `create` and `delete` are served by the
    mirror from then on. With `recover=True` an operation made at least `probe_interval` of elapsed
    time after the previous attempt tries the primary again; when it answers, every state
    saved or deleted while degraded is written back (the mirror's value wins: it is the newer
    one), `StoreRecovered` is emitted and the primary serves again. With `recover=False` the
    downgrade is permanent (the crate's behaviour) unless `probe()` is called explicitly.

    Data errors are never masked: a `StateCorruptedError` or any other exception that is not
    connection-class propagates unchanged, degraded or not. Write-back reads each key first and
    never overwrites a stored value it cannot decode; the error propagates and the store stays
    degraded until the key is repaired.

    A job that the store has not seen since it was created (neither loaded nor saved) is
    loaded from the primary even while degraded: the mirror does not know what the primary
    holds for it, and answering "nothing stored" would let the job start over and later
    overwrite its real state. If the primary does not answer, that `load` raises
    `StoreUnavailableError`; the engine waits and tries again.

    Args:
        primary: the store that persists states, e.g. `cronkit.valkey.ValkeyStateStore`.
        recover: probe the primary while degraded and return to it when it answers.
        probe_interval: least elapsed time between two attempts to reach the primary.
        clock: time source for probes and event instants; when None, the scheduler's clock is
            adopted by `bind`, or `SystemClock` if the store is needed before that.

    Raises:
        ConfigurationError: `primary` is not a `StateStore`, or `probe_interval` is not a
            non-negative `timedelta`.
    """

    def __init__(
        self,
        primary: StateStore,
        *,
        recover: bool = True,
        probe_interval: timedelta = timedelta(seconds=5),
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(primary, StateStore):
            raise ConfigurationError(
                f"primary={primary!r} is not a StateStore; give an object with async "
                "load, save, delete and close methods, e.g. InMemoryStateStore()"
            )
        if not isinstance(probe_interval, timedelta) or probe_interval < timedelta(0):
            raise ConfigurationError(
                f"probe_interval={probe_interval!r} is not a non-negative duration; "
                "use e.g. timedelta(seconds=5)"
            )
        self._primary = primary
        self._recover = recover
        self._probe_seconds = probe_interval.total_seconds()
        self._clock = clock
        self._observers = ObserverGroup()
        self._mirror: dict[str, JobState] = {}
        self._dirty: set[str] = set()  # changed while degraded; absent from mirror = deleted
        self._known: set[str] = set()  # jobs whose stored state the mirror reflects
        self._degraded = False
        self._last_attempt = 0.0
        self._written_back: set[str] = set()
        self._last_job_id: str | None = None
        self._probe_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ResilientStateStore(primary={self._primary!r}, degraded={self._degraded!r})"

    @property
    def degraded(self) -> bool:
        """Whether the mirror serves because the primary could not be reached."""
        return self._degraded

    def bind(self, *, clock: Clock, observer: SchedulerObserver) -> None:
        """Adopt the scheduler's clock (unless one is set) and send events to `observer` too.

        Several schedulers may share the store: each observer is kept once.
        """
        if self._clock is None:
            self._clock = clock
        if not any(known is observer for known in self._observers.observers):
            self._observers = ObserverGroup((*self._observers.observers, observer))

    async def load(self, job_id: str) -> JobState | None:
        await self._before(job_id)
        if not self._degraded:
            try:
                state = await self._primary.load(job_id)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self._degrade(job_id, exc)
            else:
                if state is None:
                    self._mirror.pop(job_id, None)
                else:
                    self._mirror[job_id] = state
                self._known.add(job_id)
                return state
        if job_id not in self._known:
            return await self._load_unknown(job_id)
        return self._mirror.get(job_id)

    async def _load_unknown(self, job_id: str) -> JobState | None:
        """While degraded, ask the primary for a job the mirror knows nothing about."""
        try:
            state = await self._primary.load(job_id)
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            raise StoreUnavailableError(
                f"the stored state of job {job_id!r} is unknown: the primary store is "
                "unreachable and this job was not loaded before it went away; retry when "
                "the primary answers"
            ) from exc
        if state is not None:
            self._mirror[job_id] = state
        self._known.add(job_id)
        return state

    async def save(self, state: JobState) -> None:
        await self._before(state.job_id)
        self._known.add(state.job_id)
        if not self._degraded:
            try:
                await self._primary.save(state)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self._degrade(state.job_id, exc)
            else:
                self._mirror[state.job_id] = state
                return
        self._mirror[state.job_id] = state
        self._dirty.add(state.job_id)

    async def create(self, state: JobState) -> JobState:
        """Store `state` unless a state is stored for its job; return the stored one.

        Uses the primary's own `create` when it has one (atomic), else a load then a save.
        While degraded the mirror answers: it keeps a state it knows of, or takes `state`
        like `save` does (written back on recovery).
        """
        job_id = state.job_id
        await self._before(job_id)
        if not self._degraded:
            try:
                stored = await self._create_in_primary(state)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self._degrade(job_id, exc)
            else:
                self._mirror[job_id] = stored
                self._known.add(job_id)
                return stored
        if job_id in self._known and job_id in self._mirror:
            return self._mirror[job_id]
        self._known.add(job_id)
        self._mirror[job_id] = state
        self._dirty.add(job_id)
        return state

    async def _create_in_primary(self, state: JobState) -> JobState:
        if isinstance(self._primary, CreatingStore):
            return await self._primary.create(state)
        stored = await self._primary.load(state.job_id)
        if stored is not None:
            return stored
        await self._primary.save(state)
        return state

    async def delete(self, job_id: str) -> None:
        await self._before(job_id)
        self._known.add(job_id)
        if not self._degraded:
            try:
                await self._primary.delete(job_id)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self._degrade(job_id, exc)
            else:
                self._mirror.pop(job_id, None)
                return
        self._mirror.pop(job_id, None)
        self._dirty.add(job_id)

    async def probe(self) -> bool:
        """Try the primary now, whatever `probe_interval` and `recover` say.

        When degraded and the primary answers, the states changed meanwhile are written back
        and `StoreRecovered` is emitted for the job of the latest operation.

        Returns:
            True when the primary serves (again), False while it is still unreachable.

        Raises:
            StateCorruptedError: write-back found a stored value it cannot decode.
        """
        async with self._probe_lock:
            if not self._degraded:
                return True
            return await self._try_recover()

    async def close(self) -> None:
        """Write back what changed while degraded if the primary answers, then close it."""
        try:
            if self._degraded and self._recover:
                await self.probe()
        finally:
            await self._primary.close()

    # -- internals ----------------------------------------------------------------------------

    def _get_clock(self) -> Clock:
        if self._clock is None:
            self._clock = SystemClock()
        return self._clock

    async def _before(self, job_id: str) -> None:
        """Note the job and, when degraded and a probe is due, try to recover first."""
        self._last_job_id = job_id
        if not (self._degraded and self._recover) or self._probe_lock.locked():
            return
        if self._get_clock().monotonic() - self._last_attempt >= self._probe_seconds:
            async with self._probe_lock:
                await self._try_recover()

    def _degrade(self, job_id: str, exc: Exception) -> None:
        """Switch to the mirror after the connection-class error `exc`."""
        clock = self._get_clock()
        self._last_attempt = clock.monotonic()
        if self._degraded:
            return
        self._degraded = True
        self._written_back.clear()
        self._observers.on_event(
            StoreDegraded(job_id=job_id, at=clock.now(), error=describe_error(exc))
        )

    async def _try_recover(self) -> bool:
        """Write the changed states back; leave degraded mode when the primary answered."""
        clock = self._get_clock()
        self._last_attempt = clock.monotonic()
        job_id = self._last_job_id
        assert job_id is not None  # degrading needs an operation, which records its job
        try:
            if not self._dirty:
                await self._primary.load(job_id)  # nothing to write: a read is the probe
            while self._dirty:  # operations running meanwhile may add to it
                await self._write_back(min(self._dirty))  # in job id order
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            return False
        self._degraded = False
        self._observers.on_event(
            StoreRecovered(job_id=job_id, at=clock.now(), written_back=len(self._written_back))
        )
        return True

    async def _write_back(self, job_id: str) -> None:
        """Copy one changed job to the primary; it stays dirty if that fails."""
        self._dirty.discard(job_id)  # changed again while we write: added again, written again
        try:
            # Read first: a value that cannot be decoded is never overwritten (the load raises).
            await self._primary.load(job_id)
            state = self._mirror.get(job_id)
            if state is None:
                await self._primary.delete(job_id)
            else:
                await self._primary.save(state)
        except BaseException:
            self._dirty.add(job_id)
            raise
        self._written_back.add(job_id)
