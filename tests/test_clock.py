"""`SystemClock`: real time, so these tests wait milliseconds, never for a schedule.

A wall-clock step is simulated by shifting what the module reads as wall time, while the
event loop's elapsed time goes on as usual (as after an NTP step or a resume from suspend).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronkit import _clock
from cronkit._clock import Clock, SystemClock


class _Wall:
    """Shifts the wall time `_clock` reads by `offset` seconds."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        wall = self

        class ShiftedDatetime(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> ShiftedDatetime:  # type: ignore[override]
                real = datetime.now(tz) + timedelta(seconds=wall.offset)
                return cls.fromtimestamp(real.timestamp(), tz)

        class ShiftedTime:
            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

            def time(self) -> float:
                return time.time() + wall.offset

        monkeypatch.setattr(_clock, "datetime", ShiftedDatetime)
        monkeypatch.setattr(_clock, "time", ShiftedTime())


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> _Wall:
    return _Wall(monkeypatch)


def test_system_clock_reads_aware_utc_and_monotonic_time() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    assert clock.now().tzinfo is UTC
    first = clock.monotonic()
    assert clock.monotonic() >= first
    assert repr(clock) == "SystemClock()"


async def test_timers_sleeps_and_threads() -> None:
    clock = SystemClock()
    fired: list[str] = []
    clock.call_later(0.001, lambda: fired.append("later"))
    cancelled = clock.call_at(clock.now() + timedelta(milliseconds=1), lambda: fired.append("x"))
    cancelled.cancel()
    clock.call_at(clock.now() + timedelta(milliseconds=2), lambda: fired.append("at"))
    await clock.sleep(0.005)
    await clock.sleep_until(clock.now() - timedelta(seconds=1))  # past: returns at once
    await clock.sleep_until(clock.now() + timedelta(milliseconds=2))
    assert fired == ["later", "at"]
    assert await clock.to_thread(threading.get_ident) != threading.get_ident()


async def test_a_wall_step_forward_fires_wall_timers_without_waiting(wall: _Wall) -> None:
    clock = SystemClock(jump_check_interval=0.005, jump_tolerance=0.25)
    fired = asyncio.Event()
    clock.call_at(clock.now() + timedelta(hours=1), fired.set)
    await asyncio.sleep(0.01)
    wall.offset = 3600.0  # the wall clock jumps an hour ahead
    await asyncio.wait_for(fired.wait(), timeout=2)


async def test_a_wall_step_back_delays_wall_timers(wall: _Wall) -> None:
    clock = SystemClock(jump_check_interval=0.005, jump_tolerance=0.25)
    fired: list[datetime] = []
    timer = clock.call_at(
        clock.now() + timedelta(milliseconds=20), lambda: fired.append(clock.now())
    )
    wall.offset = -3600.0  # the wall clock goes back an hour before the timer is due
    await asyncio.sleep(0.1)
    assert fired == []  # it waits for the wall clock to reach its instant again
    timer.cancel()
    await asyncio.sleep(0.02)  # the watchdog ends once nothing is pending
