"""`ValkeyStateStore`: one string key per job holding the JSON codec's document."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, final

from valkey import exceptions as valkey_errors
from valkey.asyncio import Valkey

from cronkit._clock import Clock
from cronkit._exceptions import StateCorruptedError, StoreError, StoreUnavailableError
from cronkit._state import JobState, decode_state, encode_state
from cronkit.valkey._connection import (
    ValkeyConnection,
    ValkeyStoreAccessError,
    classify_error,
    describe_error,
)

if TYPE_CHECKING:
    from cronkit._store import ResilientStateStore

__all__ = ["DEFAULT_STATE_PREFIX", "LEGACY_STATE_PREFIX", "ValkeyStateStore"]

DEFAULT_STATE_PREFIX = "scheduler:valkey:job-state:"
"""Where `ValkeyStateStore` keeps job states unless told otherwise (the crate's prefix)."""

LEGACY_STATE_PREFIX = "scheduler:job-state:"
"""The crate's earlier prefix, still read (and deleted) when the default prefix is used."""

_PROBE_JOB_ID = "cronkit check"  # with a space: no job id can be it


@final
class ValkeyStateStore:
    """Persists each job's state in Valkey, in the string key `<prefix><job_id>`.

    The value is the JSON document of `cronkit`'s state codec (RFC 3339 UTC instants, the
    crate's field names), so the crate and cronkit can read each other's keys. With the default
    prefix a missing key falls back to the crate's legacy key `scheduler:job-state:<job_id>` on
    load, and `delete` removes both.

    A stored value that is not valid state raises `StateCorruptedError` naming the key. `save`
    is a plain `SET` and does not re-check what it replaces: the engine loads a job's state
    before it ever saves it, so a corrupt value stops the job at start-up and is left
    untouched for you to inspect.

    Args:
        url_or_client: a URL (`redis://`, `rediss://`, `valkey://`, `valkeys://`, `unix://`,
            with `user:password@` for ACL users), or an existing `valkey.asyncio.Valkey` client,
            which the store then uses but never closes.
        prefix: the key prefix.

    Raises:
        InvalidStoreURLError: the URL has an unknown scheme or cannot be parsed.

    Operations raise `StoreUnavailableError` on connection-class failures (see
    `cronkit.valkey`), `ValkeyStoreAccessError` when the credentials or the ACL are refused,
    and `StoreError` for any other reply.
    """

    def __init__(self, url_or_client: str | Valkey, *, prefix: str = DEFAULT_STATE_PREFIX) -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix={prefix!r} must be a string such as {DEFAULT_STATE_PREFIX!r}")
        self._connection = ValkeyConnection(url_or_client)
        self._prefix = prefix
        self._legacy_prefix = LEGACY_STATE_PREFIX if prefix == DEFAULT_STATE_PREFIX else None

    @classmethod
    def resilient(
        cls,
        url_or_client: str | Valkey,
        *,
        prefix: str = DEFAULT_STATE_PREFIX,
        recover: bool = True,
        probe_interval: timedelta = timedelta(seconds=5),
        clock: Clock | None = None,
    ) -> ResilientStateStore:
        """A `ValkeyStateStore` wrapped in `ResilientStateStore`.

        On a connection-class failure the wrapper keeps scheduling from its in-process mirror
        (`StoreDegraded`) and, unless `recover=False`, probes Valkey every `probe_interval` and
        writes the newer states back once it answers (`StoreRecovered`). Corrupt state and
        access errors are never masked.
        """
        from cronkit._store import ResilientStateStore

        return ResilientStateStore(
            cls(url_or_client, prefix=prefix),
            recover=recover,
            probe_interval=probe_interval,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"ValkeyStateStore({self._connection.address!r}, prefix={self._prefix!r})"

    @property
    def prefix(self) -> str:
        """The key prefix."""
        return self._prefix

    @property
    def client(self) -> Valkey:
        """The client the store talks through."""
        return self._connection.client

    def key(self, job_id: str) -> str:
        """The key that holds `job_id`'s state."""
        return f"{self._prefix}{job_id}"

    def legacy_key(self, job_id: str) -> str | None:
        """The crate's legacy key read as a fallback, or None with a custom prefix."""
        return None if self._legacy_prefix is None else f"{self._legacy_prefix}{job_id}"

    async def load(self, job_id: str) -> JobState | None:
        """The stored state of `job_id`, or None when nothing is stored.

        Raises:
            StateCorruptedError: the key holds something that is not valid state (or the
                state of another job), naming the key.
        """
        key = self.key(job_id)
        raw = await self._get(key)
        legacy = self.legacy_key(job_id)
        if raw is None and legacy is not None:
            key, raw = legacy, await self._get(legacy)
        if raw is None:
            return None
        return _decode(raw, key=key, job_id=job_id)

    async def save(self, state: JobState) -> None:
        """Store `state` under `<prefix><job_id>` (one `SET`)."""
        key = self.key(state.job_id)
        await self._call(self.client.set(key, encode_state(state)), "SET", key)

    async def create(self, state: JobState) -> JobState:
        """Store `state` unless `<prefix><job_id>` holds a state; return what is stored then.

        One `SET key value NX GET` (Valkey or Redis 7 and later): of replicas creating the
        same job's state at once, the first one wins and every one gets its state back. The
        legacy key is not looked at: the engine creates a state only after `load` found none.

        Returns:
            `state` when it was stored, else the state the key already held.

        Raises:
            StateCorruptedError: the key holds something that is not valid state (or the
                state of another job), naming the key; it is left untouched.
        """
        key = self.key(state.job_id)
        operation = self.client.set(key, encode_state(state), nx=True, get=True)
        previous = await self._string_reply(operation, "SET", key)
        if previous is None:
            return state
        return _decode(previous, key=key, job_id=state.job_id)

    async def delete(self, job_id: str) -> None:
        """Remove the job's key, and its legacy key with the default prefix (one `DEL`)."""
        keys = [self.key(job_id)]
        legacy = self.legacy_key(job_id)
        if legacy is not None:
            keys.append(legacy)
        await self._call(self.client.delete(*keys), "DEL", keys[0])

    async def check(self) -> None:
        """Make sure, before the jobs start, that this user may use the store's keys.

        Sets, reads and deletes the probe key `<prefix>cronkit check` (no job id contains a
        space, so it is no job's key), and with the default prefix reads and deletes the
        legacy probe key too: the commands `load`, `save` and `delete` use, on their key
        prefixes, in one round trip, leaving nothing behind. Call it at start-up so that
        wrong credentials or a missing ACL permission stop the program with one clear error
        instead of stopping every job at its first load.

        Raises:
            ValkeyStoreAccessError: the credentials or the ACL were refused; the message names
                the key and what to grant.
            StoreUnavailableError: the server cannot be reached (a resilient store degrades
                and recovers, so a caller may warn and go on).
            StoreError: any other reply.
        """
        key = self.key(_PROBE_JOB_ID)
        legacy = self.legacy_key(_PROBE_JOB_ID)
        keys = [key] if legacy is None else [key, legacy]
        pipeline = self.client.pipeline(transaction=False)
        pipeline.set(key, "cronkit check", px=60_000)
        steps = [("SET", key)]
        for probe in keys:
            pipeline.get(probe)
            steps.append(("GET", probe))
        pipeline.delete(*keys)
        steps.append(("DEL", key))
        replies = await self._call(pipeline.execute(raise_on_error=False), "SET", key)
        for (command, probe), reply in zip(steps, replies, strict=True):
            if isinstance(reply, Exception):
                raise self._translate(reply, command, probe) from reply

    async def close(self) -> None:
        """Close the client if the store created it; a client passed in stays open."""
        await self._connection.close()

    async def _get(self, key: str) -> str | bytes | None:
        return await self._string_reply(self.client.get(key), "GET", key)

    async def _string_reply(
        self, operation: Awaitable[Any], command: str, key: str
    ) -> str | bytes | None:
        """The string a command read from `key`; a key of another type is corrupt state."""
        try:
            raw: str | bytes | None = await self._call(operation, command, key)
        except StoreError as error:
            cause = error.__cause__
            if isinstance(cause, valkey_errors.ResponseError) and str(cause).startswith(
                "WRONGTYPE"
            ):
                raise StateCorruptedError(
                    key, "it holds a Valkey value that is not a string"
                ) from None
            raise
        return raw

    async def _call(self, operation: Awaitable[Any], command: str, key: str) -> Any:
        try:
            return await operation
        except (valkey_errors.ValkeyError, OSError) as error:
            raise self._translate(error, command, key) from error

    def _translate(self, error: BaseException, command: str, key: str) -> StoreError:
        kind = classify_error(error)
        address = self._connection.address
        if kind == "connection":
            return StoreUnavailableError(
                f"Valkey at {address!r} is unreachable ({command} {key!r}): "
                f"{describe_error(error)}. "
                "Check that the server runs; ValkeyStateStore.resilient(...) keeps "
                "scheduling through outages"
            )
        if kind == "access":
            return ValkeyStoreAccessError(
                self._connection.access_message(error, f"{command} {key!r}")
            )
        return StoreError(
            f"Valkey at {address!r} rejected {command} {key!r}: {describe_error(error)}"
        )


def _decode(raw: str | bytes, *, key: str, job_id: str) -> JobState:
    """The state stored in `key`, which must be `job_id`'s."""
    state = decode_state(raw, key=key)
    if state.job_id != job_id:
        raise StateCorruptedError(
            key, f"it holds the state of job {state.job_id!r}, not of {job_id!r}"
        )
    return state
