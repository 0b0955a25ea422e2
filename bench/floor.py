"""S0, the floor: the workloads with `loop.call_at` + `create_task` and no library.

What any asyncio scheduler must do at least: one timer per job and one task per run. The
floor knows every instant in advance and keeps no state, so it is a lower bound, not a peer.
All instants are in the event loop's clock (`loop.time()`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench._util import CpuWindow, current_rss_kib, lateness_summary, settle_memory
from bench._workload import PERIOD_S, Window, precision_result

__all__ = ["herd", "idle", "precision"]


async def precision(n: int, warmup: float, duration: float, margin: float = 1.0) -> dict[str, Any]:
    """S1: `n` jobs every second, phases spread over the second."""
    loop = asyncio.get_running_loop()
    samples: list[tuple[float, float]] = []
    record = samples.append
    tasks: set[asyncio.Task[None]] = set()

    async def body(scheduled: float) -> None:
        record((loop.time(), scheduled))

    def fire(scheduled: float) -> None:
        task = loop.create_task(body(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        loop.call_at(scheduled + PERIOD_S, fire, scheduled + PERIOD_S)

    base = loop.time() + margin
    for j in range(n):
        loop.call_at(base + j / n, fire, base + j / n)
    window = Window.after(base, warmup, duration)
    await asyncio.sleep(window.start - loop.time())
    cpu = CpuWindow()
    await asyncio.sleep(window.end - loop.time())
    cpu.stop()
    return precision_result(samples, window, cpu, n, duration)


async def idle(n: int, duration: float) -> dict[str, Any]:
    """S2: `n` timers that will not fire during the test; memory and idle CPU."""
    loop = asyncio.get_running_loop()

    def fire(j: int) -> None:  # never called during the test
        raise AssertionError(j)

    settle_memory()
    rss0 = current_rss_kib()
    began = loop.time()
    far = began + 180 * 86400
    handles = [loop.call_at(far + j * 60, fire, j) for j in range(n)]
    registration_s = loop.time() - began
    await asyncio.sleep(0.2)
    settle_memory()
    rss1 = current_rss_kib()
    cpu = CpuWindow()
    await asyncio.sleep(duration)
    cpu.stop()
    for handle in handles:
        handle.cancel()
    return {
        "registration_s": registration_s,
        "start_s": 0.0,
        "kib_per_job": (rss1 - rss0) / n,
        "idle_cpu_s": cpu.cpu_s,
        "idle_wakeups": cpu.wakeups,
        "idle_wall_s": cpu.wall_s,
    }


async def herd(n: int, margin: float = 2.0) -> dict[str, Any]:
    """S3: `n` one-shot jobs due at the same instant."""
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def body() -> None:
        starts.append(loop.time())

    def fire() -> None:
        task = loop.create_task(body())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    instant = loop.time() + margin
    for _ in range(n):
        loop.call_at(instant, fire)
    await asyncio.sleep(instant - loop.time() + 1.0)
    while len(starts) < n and loop.time() < instant + 30:
        await asyncio.sleep(0.1)
    lateness = [start - instant for start in starts]
    return {
        "runs": len(starts),
        "last_start_ms": max(lateness) * 1e3 if lateness else float("nan"),
        **lateness_summary(lateness),
    }
