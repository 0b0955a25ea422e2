"""Valkey adapters: `ValkeyStateStore`, `ValkeyExecutionGuard`, `ValkeyLeaseConfig`.

Needs the extra: `pip install "cronkit[valkey]"`. This is the only cronkit module that
imports the `valkey` client; `import cronkit` never does.

```python
from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig, ValkeyStateStore

store = ValkeyStateStore.resilient("valkey://scheduler:secret@cache:6379/0")
guard = ValkeyExecutionGuard(
    "valkey://scheduler:secret@cache:6379/0",
    ValkeyLeaseConfig(ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=10)),
)
```

URLs: `redis://`, `rediss://` (TLS), `valkey://`, `valkeys://` (TLS), `unix:///path/to.sock`,
with `user:password@` for an ACL user and client options in the query string
(`?socket_timeout=2&socket_connect_timeout=2`; both default to 5 seconds). A URL with another
scheme raises `InvalidStoreURLError` at construction.

Failures: connection-class errors (refused, reset, timeout, I/O, and the replies `LOADING`,
`CLUSTERDOWN`, `MASTERDOWN`, `TRYAGAIN`, `READONLY`) raise `StoreUnavailableError` /
`GuardUnavailableError`; refused credentials or ACL permissions raise `ValkeyAccessError`
(`ValkeyStoreAccessError` from the store), which no wrapper masks.

ACL: a user restricted to cronkit's keys needs
`~scheduler:* +get +set +del +evalsha +script|load +incr +pexpire +pttl +time +zadd +zrem
+zremrangebyscore` (the last seven are run by the guard's Lua scripts). `await store.check()`
and `await guard.check()` try every command once on probe keys of their own, so that a program
can refuse to start with one clear `ValkeyAccessError` instead of failing at the first run.
"""

from __future__ import annotations

try:
    import valkey as _valkey  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "cronkit.valkey needs the valkey client; install it with: pip install 'cronkit[valkey]'"
    ) from error

from cronkit.valkey._config import ValkeyLeaseConfig
from cronkit.valkey._connection import (
    SUPPORTED_SCHEMES,
    ValkeyAccessError,
    ValkeyStoreAccessError,
)
from cronkit.valkey._guard import DEFAULT_LEASE_PREFIX, ValkeyExecutionGuard
from cronkit.valkey._store import DEFAULT_STATE_PREFIX, LEGACY_STATE_PREFIX, ValkeyStateStore

__all__ = [
    "DEFAULT_LEASE_PREFIX",
    "DEFAULT_STATE_PREFIX",
    "LEGACY_STATE_PREFIX",
    "SUPPORTED_SCHEMES",
    "ValkeyAccessError",
    "ValkeyExecutionGuard",
    "ValkeyLeaseConfig",
    "ValkeyStateStore",
    "ValkeyStoreAccessError",
]
