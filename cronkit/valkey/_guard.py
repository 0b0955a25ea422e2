"""`ValkeyExecutionGuard`: one holder per occurrence, with fencing tokens and done markers."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, final

from valkey import exceptions as valkey_errors
from valkey.asyncio import Valkey
from valkey.commands.core import AsyncScript

from cronkit._enums import SkipReason
from cronkit._exceptions import ConfigurationError, GuardUnavailableError, InvalidLeaseConfigError
from cronkit._guard import ExecutionLease, ExecutionSlot, LeaseLostAction
from cronkit.valkey._config import ValkeyLeaseConfig
from cronkit.valkey._connection import (
    ValkeyAccessError,
    ValkeyConnection,
    classify_error,
    describe_error,
)

__all__ = ["DEFAULT_LEASE_PREFIX", "ValkeyExecutionGuard", "format_lease_instant"]

DEFAULT_LEASE_PREFIX = "scheduler:valkey:execution-lease:"
"""Where `ValkeyExecutionGuard` keeps its keys unless told otherwise (the crate's prefix)."""

_MAX_REFUSALS = 1024

_CONSEQUENCES = {
    "acquire": "the occurrence is skipped (fail closed)",
    "renew": "the lease lives on until its ttl runs out",
    "release": "the lease lives on until its ttl runs out",
}
_PROBE_RESOURCE = "cronkit check"  # with a space: no job id or resource id can be it
_PROBE_AT = datetime(2000, 1, 1, tzinfo=UTC)


def format_lease_instant(instant: datetime) -> str:
    """RFC 3339 in UTC with exactly nine fractional digits and `Z`, as in the crate's keys.

    Raises:
        ConfigurationError: `instant` is naive.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ConfigurationError(
            f"scheduled_at={instant!r} is a naive datetime; give it a timezone, e.g. tzinfo=UTC"
        )
    utc = instant.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond * 1000:09d}Z"


def _load_script(client: Valkey, name: str) -> AsyncScript:
    source = resources.files("cronkit.valkey").joinpath("scripts", name).read_text("utf-8")
    return client.register_script(source)


def _text(reply: object) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


@final
class ValkeyExecutionGuard:
    """Lets one scheduler instance among many run each occurrence, using Valkey.

    Keys (every key of one resource shares the hash tag `{<resource_id>}`, so one script only
    touches one Valkey Cluster slot):

    - `<prefix>{<resource_id>}:occurrence:<scheduled_at>`: the lease, holding the holder's
      token, with `PX = ttl`; after a completed run, `done:<token>` with
      `PX = done_retention` (also when the lease had expired and nobody took it since).
      `scheduled_at` is RFC 3339 UTC with nine fractional digits and `Z`, e.g.
      `2025-03-30T01:00:00.000000000Z`.
    - `<prefix>{<resource_id>}:fencing`: a counter incremented by each successful acquire;
      its value is the lease's `fencing_token`, strictly increasing per resource.
    - `<prefix>{<resource_id>}:index`: a sorted set of live lease keys scored by expiry
      (server milliseconds); expired entries are removed by the next acquire.

    Every operation is one Lua script, one round trip: a guarded run costs two (acquire,
    release) plus one per renewal. Scripts are loaded with the client's script helper, so
    after a server restart (`NOSCRIPT`) they are loaded again transparently. Leases expire by
    the server's `PX` only; neither this process's clock nor the engine's is consulted.

    Args:
        url_or_client: a Valkey URL or an existing `valkey.asyncio.Valkey` client (used, never
            closed by the guard).
        config: lease timings and `on_lost`.
        prefix: the key prefix.

    Raises:
        InvalidStoreURLError: the URL has an unknown scheme or cannot be parsed.
        InvalidLeaseConfigError: `config` is not a `ValkeyLeaseConfig`.

    Operations raise `GuardUnavailableError` on connection-class failures (the engine skips
    the occurrence with reason `guard_unavailable`) and `ValkeyAccessError` when the
    credentials or the ACL are refused.
    """

    def __init__(
        self,
        url_or_client: str | Valkey,
        config: ValkeyLeaseConfig,
        *,
        prefix: str = DEFAULT_LEASE_PREFIX,
    ) -> None:
        if not isinstance(config, ValkeyLeaseConfig):
            raise InvalidLeaseConfigError(
                f"config={config!r} is not a ValkeyLeaseConfig; write e.g. "
                "ValkeyLeaseConfig(ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=10))"
            )
        if not isinstance(prefix, str):
            raise TypeError(f"prefix={prefix!r} must be a string such as {DEFAULT_LEASE_PREFIX!r}")
        self._connection = ValkeyConnection(url_or_client)
        self._config = config
        self._prefix = prefix
        client = self._connection.client
        self._acquire = _load_script(client, "acquire.lua")
        self._renew = _load_script(client, "renew.lua")
        self._release = _load_script(client, "release.lua")
        self._refusals: OrderedDict[ExecutionSlot, SkipReason] = OrderedDict()

    def __repr__(self) -> str:
        return (
            f"ValkeyExecutionGuard({self._connection.address!r}, {self._config!r}, "
            f"prefix={self._prefix!r})"
        )

    # -- ExecutionGuard --------------------------------------------------------------------

    @property
    def renew_interval(self) -> timedelta:
        """How often the engine renews a lease while its run lasts."""
        return self._config.renew_interval

    @property
    def on_lost(self) -> LeaseLostAction:
        """What the engine does with a run whose lease is lost."""
        return self._config.on_lost

    @property
    def config(self) -> ValkeyLeaseConfig:
        """The lease timings."""
        return self._config

    @property
    def client(self) -> Valkey:
        """The client the guard talks through."""
        return self._connection.client

    async def acquire(self, slot: ExecutionSlot) -> ExecutionLease | None:
        """Take the slot's lease, or return None when it is held or the occurrence is done.

        `refusal_reason(slot)` then says which. One round trip.
        """
        key = self.lease_key(slot)
        token = uuid.uuid4().hex
        keys = (key, self.fencing_key(slot.resource_id), self.index_key(slot.resource_id))
        reply = await self._run(self._acquire, keys, (token, self._config.ttl_ms), "acquire")
        if isinstance(reply, int):
            self._refusals.pop(slot, None)
            return ExecutionLease(slot=slot, token=token, fencing_token=reply, ttl=self._config.ttl)
        answer = _text(reply)
        if answer == "done":
            self._remember(slot, SkipReason.ALREADY_DONE)
        elif answer == "held":
            self._remember(slot, SkipReason.CONTENDED)
        else:
            raise RuntimeError(f"acquire script of {key!r} answered {reply!r}; expected a number")
        return None

    def refusal_reason(self, slot: ExecutionSlot) -> SkipReason:
        """Why the latest `acquire(slot)` returned None: `ALREADY_DONE` or `CONTENDED`."""
        return self._refusals.get(slot, SkipReason.CONTENDED)

    async def renew(self, lease: ExecutionLease) -> bool:
        """Extend the lease by `ttl` if it is still ours; False when it is lost."""
        keys = (self.lease_key(lease.slot), self.index_key(lease.slot.resource_id))
        reply = await self._run(self._renew, keys, (lease.token, self._config.ttl_ms), "renew")
        return int(reply) == 1

    async def release(self, lease: ExecutionLease, *, completed: bool) -> None:
        """Give the lease back; a completed run leaves `done:<token>` for `done_retention`.

        One script, one round trip. Another holder's live lease and an existing done marker
        are never touched. A completed run whose lease expired marks the occurrence done all
        the same when nobody has taken it since (the key is absent), so a replica reaching it
        late does not run it again; an incomplete run whose lease expired changes nothing.
        """
        keys = (self.lease_key(lease.slot), self.index_key(lease.slot.resource_id))
        args = (lease.token, "1" if completed else "0", self._config.done_retention_ms)
        await self._run(self._release, keys, args, "release")

    async def check(self) -> None:
        """Make sure, before the first occurrence, that this user may run the guard.

        Loads the three scripts (`SCRIPT LOAD`), then acquires, renews and releases a probe
        occurrence of a resource of its own, `cronkit check <random>` (no job's resource can
        contain a space), and deletes the probe's keys: every command the guard needs, on its
        key prefix, in five round trips, leaving nothing behind. Call it at start-up so that
        wrong credentials or a missing ACL permission stop the program with one clear error
        instead of failing each job at its first occurrence.

        Raises:
            ValkeyAccessError: the credentials or the ACL were refused; the message names the
                command, the key and what to grant.
            GuardUnavailableError: the server cannot be reached (occurrences would be skipped
                as `guard_unavailable` until it answers, so a caller may warn and go on).
        """
        probe = f"{_PROBE_RESOURCE} {uuid.uuid4().hex}"
        slot = ExecutionSlot(job_id=probe, resource_id=probe, scheduled_at=_PROBE_AT)
        keys = (self.lease_key(slot), self.fencing_key(probe), self.index_key(probe))
        loads = self.client.pipeline(transaction=False)
        for script in (self._acquire, self._renew, self._release):
            loads.script_load(script.script)
        replies = await self._call(loads.execute(raise_on_error=False), keys, "SCRIPT LOAD")
        for reply in replies:
            if isinstance(reply, Exception):
                raise self._translate(reply, keys, "SCRIPT LOAD") from reply
        lease = await self.acquire(slot)
        if lease is None:  # pragma: no cover - nobody else knows the probe's resource
            raise RuntimeError(f"the probe occurrence {keys[0]!r} was taken by someone else")
        await self.renew(lease)
        await self.release(lease, completed=True)
        await self._call(self.client.delete(*keys), keys, "DEL")

    async def close(self) -> None:
        """Close the client if the guard created it; a client passed in stays open."""
        await self._connection.close()

    # -- keys --------------------------------------------------------------------------------

    def lease_key(self, slot: ExecutionSlot) -> str:
        """The lease key of `slot`."""
        occurrence = format_lease_instant(slot.scheduled_at)
        return f"{self._prefix}{{{slot.resource_id}}}:occurrence:{occurrence}"

    def fencing_key(self, resource_id: str) -> str:
        """The fencing counter of `resource_id`."""
        return f"{self._prefix}{{{resource_id}}}:fencing"

    def index_key(self, resource_id: str) -> str:
        """The sorted set of `resource_id`'s live lease keys, scored by expiry."""
        return f"{self._prefix}{{{resource_id}}}:index"

    # -- internals ---------------------------------------------------------------------------

    def _remember(self, slot: ExecutionSlot, reason: SkipReason) -> None:
        self._refusals[slot] = reason
        self._refusals.move_to_end(slot)
        while len(self._refusals) > _MAX_REFUSALS:
            self._refusals.popitem(last=False)

    async def _run(
        self,
        script: AsyncScript,
        keys: Sequence[str],
        args: Sequence[str | int],
        action: str,
    ) -> Any:
        return await self._call(script(keys=list(keys), args=list(args)), keys, action)

    async def _call(self, operation: Awaitable[Any], keys: Sequence[str], action: str) -> Any:
        try:
            return await operation
        except (valkey_errors.ValkeyError, OSError) as error:
            translated = self._translate(error, keys, action)
            if translated is error:
                raise
            raise translated from error

    def _translate(self, error: Exception, keys: Sequence[str], action: str) -> Exception:
        """The error to raise for `error`: unavailable, access, or `error` itself (noted)."""
        kind = classify_error(error)
        if kind == "connection":
            consequence = _CONSEQUENCES.get(
                action, "occurrences are skipped as guard_unavailable (fail closed)"
            )
            return GuardUnavailableError(
                f"Valkey at {self._connection.address!r} is unreachable ({action} "
                f"{keys[0]!r}): {describe_error(error)}. Meanwhile {consequence}; check "
                "that the server runs"
            )
        if kind == "access":
            message = self._connection.access_message(error, f"{action} {keys[0]!r}")
            return ValkeyAccessError(message)
        what = f"the {action} script" if action in _CONSEQUENCES else action
        error.add_note(f"cronkit: while running {what} on {keys[0]!r}")
        return error
