"""Measuring helpers shared by the systems and scenarios: statistics, CPU, memory, the machine.

Everything here runs inside one child process (one system, one repetition) except `machine()`
and the statistics, which the parent also uses.
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import time
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "WINDOW_PROFILER",
    "clear_cron_parse_cache",
    "CpuWindow",
    "current_rss_kib",
    "lateness_summary",
    "machine",
    "median",
    "peak_rss_kib",
    "percentile",
    "settle_memory",
]

_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") / 1024


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile of `values` (nearest rank on the sorted values); NaN if empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[rank]


def median(values: Iterable[float | None]) -> float | None:
    """The median of the numbers among `values`, or None when there is none."""
    numbers = [v for v in values if v is not None and v == v]  # drop None and NaN
    return statistics.median(numbers) if numbers else None


def lateness_summary(lateness_s: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of lateness samples given in seconds, as milliseconds."""
    return {
        "p50_ms": percentile(lateness_s, 0.50) * 1e3,
        "p99_ms": percentile(lateness_s, 0.99) * 1e3,
        "max_ms": (max(lateness_s) if lateness_s else float("nan")) * 1e3,
    }


def current_rss_kib() -> float:
    """The resident set size of this process now, in KiB (from /proc/self/statm)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_KIB


def peak_rss_kib() -> float:
    """The peak resident set size of this process image, in KiB (VmHWM).

    Not `getrusage().ru_maxrss`: Linux carries that over `exec` from the forked parent, so a
    child started by a 30 MiB parent would report at least 30 MiB.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def settle_memory() -> None:
    """Collect garbage so that RSS readings before and after compare live objects."""
    gc.collect()
    gc.collect()


WINDOW_PROFILER: list[Any] = []
"""A `cProfile.Profile` put here by `bench._profile` to profile measurement windows only."""


def window_begin() -> None:
    """A measurement window starts: profile from here if a profile is being taken."""
    for profiler in WINDOW_PROFILER:
        profiler.enable()


def window_end() -> None:
    """The measurement window ends."""
    for profiler in WINDOW_PROFILER:
        profiler.disable()


class CpuWindow:
    """Process CPU time, wall time and voluntary context switches (wake-ups) over a window."""

    def __init__(self) -> None:
        window_begin()
        self.cpu0 = time.process_time()
        self.wall0 = time.perf_counter()
        self.switches0 = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
        self.cpu_s = self.wall_s = 0.0
        self.wakeups = 0

    def stop(self) -> CpuWindow:
        self.cpu_s = time.process_time() - self.cpu0
        self.wall_s = time.perf_counter() - self.wall0
        self.wakeups = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - self.switches0
        window_end()
        return self


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "load": load,
    }


def clear_cron_parse_cache() -> None:
    """Forget cronkit's parsed expressions, so that the next `Cron(...)` parses afresh.

    cronkit shares one parsed expression (with its per-zone caches) between equal texts; a
    cold measurement must not reuse one. Private API: a no-op if the cache is gone.
    """
    try:
        from cronkit._cron import _parse_cached
    except ImportError:  # pragma: no cover - depends on cronkit's internals
        return
    _parse_cached.cache_clear()
