"""The only place that reads the time or sleeps.

Every other module asks a `Clock`. Production code uses `SystemClock`; tests use
`cronkit.testing.FakeClock`, which moves time only when told to.

Wall time (`now`) and elapsed time (`monotonic`, `sleep`, `call_later`) are kept apart.
`call_at` and `sleep_until` wait for a *wall* instant and fire promptly even when the wall
clock is stepped (NTP, suspend/resume) while they wait. `SystemClock` detects such steps
centrally, with one watchdog per event loop that runs only while wall timers are pending,
rather than by waking every sleeper in short chunks.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, TypeVar, runtime_checkable

__all__ = ["Clock", "SystemClock", "TimerHandle"]

T = TypeVar("T")


@runtime_checkable
class TimerHandle(Protocol):
    """A pending callback; `cancel()` makes sure it will not be called."""

    def cancel(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """Source of wall time, elapsed time, timers and sleeping."""

    def now(self) -> datetime:
        """The current wall time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Elapsed seconds on a clock that never jumps; only differences are meaningful."""
        ...

    def call_at(self, instant: datetime, callback: Callable[[], object]) -> TimerHandle:
        """Call `callback` on the event loop once the wall time reaches `instant`."""
        ...

    def call_later(self, seconds: float, callback: Callable[[], object]) -> TimerHandle:
        """Call `callback` on the event loop after `seconds` of elapsed time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait for `seconds` of elapsed time."""
        ...

    async def sleep_until(self, instant: datetime) -> None:
        """Wait until the wall time reaches `instant`, following wall-clock steps promptly."""
        ...

    async def to_thread(self, func: Callable[[], T]) -> T:
        """Run a blocking `func` in a worker thread and return its result."""
        ...


async def sleep_until_with(clock: Clock, instant: datetime) -> None:
    """`sleep_until` built on `clock.call_at`: one future, no polling."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    handle = clock.call_at(instant, lambda: None if waiter.done() else waiter.set_result(None))
    try:
        await waiter
    finally:
        handle.cancel()


class _WallTimer:
    """A callback due at a wall instant, re-armed whenever the wall clock steps."""

    __slots__ = ("_handle", "_loop", "_timers", "callback", "cancelled", "instant")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        timers: _LoopTimers,
        instant: datetime,
        callback: Callable[[], object],
    ) -> None:
        self._loop = loop
        self._timers = timers
        self.instant = instant
        self.callback = callback
        self.cancelled = False
        self._handle: asyncio.TimerHandle | None = None

    def arm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        delay = (self.instant - datetime.now(UTC)).total_seconds()
        self._handle = self._loop.call_later(max(delay, 0.0), self._fire)

    def _fire(self) -> None:
        if (self.instant - datetime.now(UTC)).total_seconds() > 0:
            self.arm()  # woke early: the wall clock went back while we waited
            return
        self._timers.pending.discard(self)
        self.callback()

    def cancel(self) -> None:
        self.cancelled = True
        if self._handle is not None:
            self._handle.cancel()
        self._timers.pending.discard(self)


class _LoopTimers:
    """The wall timers of one event loop and the watchdog that re-arms them after a step."""

    __slots__ = ("__weakref__", "pending", "watchdog")

    def __init__(self) -> None:
        self.pending: set[_WallTimer] = set()
        self.watchdog: asyncio.Task[None] | None = None


class SystemClock:
    """The real clock: `datetime.now(UTC)`, `time.monotonic()` and the event loop's timers.

    Args:
        jump_check_interval: seconds between two checks for a wall-clock step, made by one
            watchdog task per event loop and only while wall timers are pending.
        jump_tolerance: how far, in seconds, wall and elapsed time may drift apart between
            two checks before the wall timers are re-armed.
    """

    def __init__(self, *, jump_check_interval: float = 1.0, jump_tolerance: float = 0.25) -> None:
        self._jump_check_interval = jump_check_interval
        self._jump_tolerance = jump_tolerance
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopTimers] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return "SystemClock()"

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def call_at(self, instant: datetime, callback: Callable[[], object]) -> TimerHandle:
        loop = asyncio.get_running_loop()
        timers = self._loops.get(loop)
        if timers is None:
            timers = self._loops[loop] = _LoopTimers()
        timer = _WallTimer(loop, timers, instant, callback)
        timers.pending.add(timer)
        timer.arm()
        if timers.watchdog is None:
            timers.watchdog = loop.create_task(self._watch(timers))
        return timer

    def call_later(self, seconds: float, callback: Callable[[], object]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(seconds, 0.0), callback)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    async def sleep_until(self, instant: datetime) -> None:
        await sleep_until_with(self, instant)

    async def to_thread(self, func: Callable[[], T]) -> T:
        return await asyncio.to_thread(func)

    async def _watch(self, timers: _LoopTimers) -> None:
        """Re-arm every wall timer when the wall clock steps away from elapsed time."""
        offset = time.time() - time.monotonic()
        try:
            while timers.pending:
                await asyncio.sleep(self._jump_check_interval)
                current = time.time() - time.monotonic()
                if abs(current - offset) > self._jump_tolerance:
                    for timer in list(timers.pending):
                        timer.arm()
                offset = current
        finally:
            timers.watchdog = None
