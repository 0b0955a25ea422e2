"""URLs, clients, and how Valkey's failures map onto cronkit's errors.

Accepted URL schemes: `redis://`, `rediss://` (TLS), `valkey://`, `valkeys://` (TLS) and
`unix://`; user and password (ACL) go in the URL, options such as `socket_timeout` in its
query string. Errors fall into three classes:

- *connection-class* (refused, reset, timeout, I/O, and the replies `LOADING`, `CLUSTERDOWN`,
  `MASTERDOWN`, `TRYAGAIN`, `READONLY`): the server may answer again later. Stores raise
  `StoreUnavailableError`, guards `GuardUnavailableError`, with the cause chained.
- *access* (`WRONGPASS`, `NOAUTH`, `NOPERM`, an ACL failure inside a script): retrying will not
  help; `ValkeyAccessError` says which credentials or permissions to fix.
- anything else is a data or programming error and is reported as such.
"""

from __future__ import annotations

from typing import Literal, final
from urllib.parse import parse_qsl, urlencode, urlsplit

from valkey import exceptions as valkey_errors
from valkey.asyncio import Valkey
from valkey.asyncio.retry import Retry
from valkey.backoff import NoBackoff

from cronkit._exceptions import CronkitError, InvalidStoreURLError, StoreError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_SOCKET_TIMEOUT",
    "SUPPORTED_SCHEMES",
    "ValkeyAccessError",
    "ValkeyConnection",
    "ValkeyStoreAccessError",
    "classify_error",
    "describe_error",
    "mask_url",
]

SUPPORTED_SCHEMES = ("redis", "rediss", "valkey", "valkeys", "unix")
"""URL schemes `ValkeyStateStore` and `ValkeyExecutionGuard` accept."""

DEFAULT_CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a TCP or Unix connection when the URL sets no `socket_connect_timeout`."""

DEFAULT_SOCKET_TIMEOUT = 5.0
"""Seconds to wait for a reply when the URL sets no `socket_timeout`."""

_SCHEME_ALIASES = {"valkey": "redis", "valkeys": "rediss"}

_UNAVAILABLE_REPLIES = ("LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN", "READONLY")

_REQUIRED_ACL = (
    "~scheduler:* +get +set +del +evalsha +script|load "
    "(scripts also run +incr +pexpire +pttl +time +zadd +zrem +zremrangebyscore)"
)

ErrorClass = Literal["connection", "access", "other"]


class ValkeyAccessError(CronkitError):
    """Valkey refused the credentials in the URL, or its ACL denies a key or a command.

    Retrying does not help, so it is never treated as an outage: fix the user, the password or
    the ACL rules. (Not a `PermissionError`: that is an `OSError`, which callers may take for a
    connection failure and mask.)
    """


class ValkeyStoreAccessError(ValkeyAccessError, StoreError):
    """`ValkeyAccessError` raised by `ValkeyStateStore`, so that `except StoreError` sees it."""


def mask_url(url: str) -> str:
    """`url` with its password (in the authority or the query) replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    masked = url
    if parts.password is not None:
        userinfo, _, hostinfo = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        masked = masked.replace(f"//{parts.netloc}", f"//{user}:***@{hostinfo}", 1)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(name == "password" for name, _ in pairs):
            query = urlencode([(n, "***" if n == "password" else v) for n, v in pairs], safe="*")
            masked = masked.replace(f"?{parts.query}", f"?{query}", 1)
    return masked


def classify_error(error: BaseException) -> ErrorClass:
    """Whether `error` from the client means "unreachable", "access denied" or something else."""
    if isinstance(error, valkey_errors.AuthenticationError | valkey_errors.AuthorizationError):
        return "access"
    if isinstance(error, valkey_errors.NoPermissionError):
        return "access"
    if isinstance(
        error,
        valkey_errors.ConnectionError
        | valkey_errors.TimeoutError
        | valkey_errors.ReadOnlyError
        | OSError,  # includes ConnectionError and TimeoutError (asyncio's too)
    ):
        return "connection"
    if isinstance(error, valkey_errors.ResponseError):
        message = str(error)
        if message.startswith(_UNAVAILABLE_REPLIES):
            return "connection"
        if message.startswith("NOPERM") or "ACL failure" in message:
            return "access"
    return "other"


def describe_error(error: BaseException) -> str:
    """The error's message without a trailing period, or its type when it has none."""
    return str(error).strip().rstrip(".") or type(error).__name__


def _create_client(url: str) -> Valkey:
    if not isinstance(url, str):
        raise InvalidStoreURLError(
            f"url_or_client={url!r} is neither a URL string nor a valkey.asyncio.Valkey client; "
            "pass e.g. 'redis://localhost:6379/0' or valkey.asyncio.Valkey(...)"
        )
    masked = mask_url(url)
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme not in SUPPORTED_SCHEMES:
        schemes = ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES)
        raise InvalidStoreURLError(
            f"Valkey URL {masked!r} has the scheme {scheme!r}; use one of {schemes}, "
            "e.g. 'redis://user:password@localhost:6379/0'"
        )
    rest = url.partition(":")[2]
    normalized = f"{_SCHEME_ALIASES.get(scheme, scheme)}:{rest}"
    try:
        client: Valkey = Valkey.from_url(
            normalized,
            socket_connect_timeout=DEFAULT_CONNECT_TIMEOUT,
            socket_timeout=DEFAULT_SOCKET_TIMEOUT,
            # One immediate retry on a broken connection: a pooled connection goes stale when
            # the server restarts, and the retry reconnects instead of failing one operation.
            retry=Retry(NoBackoff(), 1, supported_errors=(valkey_errors.ConnectionError,)),
            retry_on_error=[valkey_errors.ConnectionError],
        )
    except (ValueError, TypeError) as error:
        raise InvalidStoreURLError(
            f"Valkey URL {masked!r} cannot be used: {error}. "
            "Check the host, port, database number and query options"
        ) from None
    return client


def _describe_client(client: Valkey) -> str:
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


@final
class ValkeyConnection:
    """A client and whether it is ours to close.

    Args:
        url_or_client: a Valkey URL (a client is created, and closed by `close`), or an
            existing `valkey.asyncio.Valkey` client (used as is, never closed by us).

    Raises:
        InvalidStoreURLError: the URL has an unknown scheme or cannot be parsed.
    """

    def __init__(self, url_or_client: str | Valkey) -> None:
        if isinstance(url_or_client, Valkey):
            self.client = url_or_client
            self.owned = False
            self.address = _describe_client(url_or_client)
        else:
            self.client = _create_client(url_or_client)
            self.owned = True
            self.address = mask_url(url_or_client)
        self._closed = False

    async def close(self) -> None:
        """Close the client if we created it; idempotent."""
        if self.owned and not self._closed:
            self._closed = True
            await self.client.aclose()

    def access_message(self, error: BaseException, action: str) -> str:
        """A message for an access error met while doing `action`."""
        return (
            f"Valkey at {self.address!r} refused {action}: {describe_error(error)}. "
            "Check the user and password "
            f"in the URL and that the user's ACL allows {_REQUIRED_ACL}"
        )
