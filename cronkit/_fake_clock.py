"""`FakeClock` and `FrozenTime`: time that moves only when a test says so.

Public through `cronkit.testing`; see its docstring.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from cronkit._clock import TimerHandle, sleep_until_with
from cronkit._exceptions import ConfigurationError

__all__ = ["DEFAULT_START", "FakeClock", "FrozenTime"]

T = TypeVar("T")

DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)
"""Where a `FakeClock` starts when no instant is given."""

_ZERO = timedelta(0)
_MAX_SETTLE_ROUNDS = 10_000
_FALLBACK_SETTLE_ROUNDS = 64


class _Timer:
    """A callback due at an elapsed deadline (wall timers also remember their instant)."""

    __slots__ = ("callback", "cancelled", "deadline", "seq", "wall_instant")

    def __init__(
        self,
        deadline: timedelta,
        seq: int,
        callback: Callable[[], object],
        wall_instant: datetime | None,
    ) -> None:
        self.deadline = deadline
        self.seq = seq
        self.callback = callback
        self.wall_instant = wall_instant
        self.cancelled = False

    def __lt__(self, other: _Timer) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _in_thread(func: Callable[[], T]) -> T:
    """Call `func` a few frames away from the `threading` module, for freezegun.

    freezegun gives the real time to callers that have a module of its ignore list (which
    includes `threading`) within `call_stack_inspection_limit` frames up the stack. A plain
    job runs only a few frames below `Thread.run`, so `time.time()` in it would see the real
    time under `run_app`; these frames keep `threading` out of sight.
    """
    freezegun = sys.modules.get("freezegun.api")
    depth = 0 if freezegun is None else getattr(freezegun, "call_stack_inspection_limit", 5)
    return _nested(func, depth)


def _nested(func: Callable[[], T], depth: int) -> T:
    if depth > 0:
        return _nested(func, depth - 1)
    return func()


def _aware_utc(value: datetime | str, *, what: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ConfigurationError(
                f"{what}={value!r} is not an ISO 8601 instant; write e.g. '2025-01-01T00:00:00Z'"
            ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            f"{what}={value!r} is a naive datetime; give it a timezone, e.g. tzinfo=UTC"
        )
    return value.astimezone(UTC)


class FakeClock:
    """A `Clock` whose time moves only when a test says so.

    Timers fire and sleepers wake in deadline order; between two wake-ups the event loop
    runs until it has nothing left to do (and worker threads started through the clock have
    finished), so that every consequence of one instant happens before time moves on.

    Args:
        start: the initial wall time, an aware `datetime` or an ISO 8601 string with offset.
    """

    def __init__(self, start: datetime | str = DEFAULT_START) -> None:
        self._start = _aware_utc(start, what="start")
        self._elapsed = _ZERO
        self._wall_offset = _ZERO
        self._now = self._start  # start + elapsed + wall offset, kept up to date
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._threads: set[asyncio.Future[Any]] = set()
        self._listeners: list[Callable[[datetime], None]] = []

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now().isoformat()!r})"

    # -- Clock --------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._elapsed.total_seconds()

    def call_at(self, instant: datetime, callback: Callable[[], object]) -> TimerHandle:
        deadline = self._elapsed + max(instant - self._now, _ZERO)
        return self._push(_Timer(deadline, next(self._seq), callback, instant))

    def call_later(self, seconds: float, callback: Callable[[], object]) -> TimerHandle:
        deadline = self._elapsed + timedelta(seconds=max(seconds, 0.0))
        return self._push(_Timer(deadline, next(self._seq), callback, None))

    async def sleep(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        handle = self.call_later(seconds, lambda: _resolve(waiter))
        try:
            await waiter
        finally:
            handle.cancel()

    async def sleep_until(self, instant: datetime) -> None:
        await sleep_until_with(self, instant)

    async def to_thread(self, func: Callable[[], T]) -> T:
        # A plain executor future, not a task: a BaseException raised by `func` then reaches
        # the awaiting run instead of escaping the event loop.
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(None, context.run, _in_thread, func)
        self._threads.add(future)
        try:
            return await future
        finally:
            self._threads.discard(future)

    # -- moving time --------------------------------------------------------------------------

    async def advance(self, delta: timedelta | float) -> None:
        """Move time forward by `delta`, waking each sleeper at its own deadline, in order."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ConfigurationError(
                f"advance({delta!r}) would move time backwards; "
                "use step_wall() to simulate a wall clock stepped back"
            )
        target = self._elapsed + delta
        await self.settle()
        timers = self._timers
        while timers and timers[0].deadline <= target:
            timer = heapq.heappop(timers)
            if timer.cancelled:
                continue
            if timer.deadline > self._elapsed:
                self._moved(timer.deadline, self._wall_offset)
            timer.callback()
            # Fire every timer due at this same instant before letting the loop run.
            while timers and timers[0].deadline <= self._elapsed:
                timer = heapq.heappop(timers)
                if not timer.cancelled:
                    timer.callback()
            await self.settle()
        if target > self._elapsed:
            self._moved(target, self._wall_offset)
        await self.settle()

    async def advance_to(self, instant: datetime | str) -> None:
        """Move wall time forward to `instant` (see `advance`)."""
        target = _aware_utc(instant, what="instant")
        await self.advance(target - self.now())

    def step_wall(self, delta: timedelta | float) -> None:
        """Step the wall clock by `delta` without elapsed time passing (NTP step, resume).

        Wall timers (and `sleep_until`) whose instant is now reached fire at once, in order;
        the others are re-armed for the new distance to their instant.
        """
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        self._moved(self._elapsed, self._wall_offset + delta)
        now = self._now
        due: list[_Timer] = []
        for timer in self._timers:
            if timer.wall_instant is not None and not timer.cancelled:
                timer.deadline = self._elapsed + max(timer.wall_instant - now, timedelta(0))
                if timer.deadline <= self._elapsed:
                    due.append(timer)
        heapq.heapify(self._timers)
        for timer in sorted(due):
            timer.cancel()
            timer.callback()

    async def settle(self) -> None:
        """Let the event loop run until nothing is ready and no clock thread is busy."""
        ready = getattr(asyncio.get_running_loop(), "_ready", None)
        rounds = _MAX_SETTLE_ROUNDS if ready is not None else _FALLBACK_SETTLE_ROUNDS
        threads = self._threads
        for _ in range(rounds):
            await asyncio.sleep(0)
            if threads:
                await asyncio.wait(list(threads))
            elif ready is not None and not ready:
                return

    # -- introspection ------------------------------------------------------------------------

    @property
    def pending_timers(self) -> int:
        """How many timers and sleepers wait for a deadline that has not come."""
        return sum(1 for timer in self._timers if not timer.cancelled)

    @property
    def next_deadline(self) -> datetime | None:
        """The wall instant at which the earliest pending timer fires, if any."""
        pending = [timer.deadline for timer in self._timers if not timer.cancelled]
        if not pending:
            return None
        return self.now() + (min(pending) - self._elapsed)

    def subscribe(self, listener: Callable[[datetime], None]) -> Callable[[], None]:
        """Call `listener(now)` whenever wall time changes; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- internals ----------------------------------------------------------------------------

    def _push(self, timer: _Timer) -> _Timer:
        heapq.heappush(self._timers, timer)
        return timer

    def _moved(self, elapsed: timedelta, wall_offset: timedelta) -> None:
        """Set elapsed time and the wall offset, then tell the listeners the new wall time."""
        self._elapsed = elapsed
        self._wall_offset = wall_offset
        self._now = now = self._start + elapsed + wall_offset
        if self._listeners:
            for listener in list(self._listeners):
                listener(now)


class FrozenTime:
    """freezegun's `freeze_time(tick=False, real_asyncio=True)`, moved with a `FakeClock`.

    Started at the clock's instant on creation, stopped by `stop()`; `run_app` uses one for
    its block. While it runs, `datetime.now()`, `date.today()`, `time.time()` (and
    `time.monotonic()`) return the clock's wall time, in every thread.

    The clock calls `_move` at every change of wall time, so in a simulated year it runs
    once per occurrence: it sets freezegun's frozen instant directly (about 1 µs; freezegun's
    own `move_to` parses its argument and costs about 3.5 µs), falling back to `move_to` for a
    factory that is not the plain frozen one.
    """

    def __init__(self, clock: FakeClock) -> None:
        """Raises ImportError (with what to do) when freezegun is not installed."""
        try:
            from freezegun import freeze_time
            from freezegun.api import FrozenDateTimeFactory
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "run_app makes datetime.now(), date.today() and time.time() follow the fake "
                "clock with freezegun, which is not installed: pip install freezegun "
                "(or pass freeze_time=False to leave the real time alone)"
            ) from None
        self._freezer = freeze_time(clock.now(), tick=False, real_asyncio=True)
        self._factory: Any = self._freezer.start()
        self._direct = type(self._factory) is FrozenDateTimeFactory
        self._unsubscribe = clock.subscribe(self._move)

    def _move(self, now: datetime) -> None:
        naive_utc = now.replace(tzinfo=None)  # a FakeClock is in UTC; freezegun keeps naive UTC
        if self._direct:
            self._factory.time_to_freeze = naive_utc
        else:  # pragma: no cover - a future freezegun
            self._factory.move_to(naive_utc)

    def stop(self) -> None:
        self._unsubscribe()
        self._freezer.stop()
