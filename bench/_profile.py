"""Profiles taken when a target is missed, summarised for `RESULTS.md`.

`cpu(target, kwargs)` runs a workload function under `cProfile` (in its own process, like
every measurement) and returns where the CPU time goes: the share of each area (each cronkit
module, asyncio's event loop, the rest) and the functions with the most own time. The time
spent waiting in `epoll` is idle time and left out. cProfile slows Python code down, roughly
evenly, so the shares matter, not the absolute numbers.

`memory(target, kwargs)` does the same for memory with `tracemalloc`: the function returns
the snapshots' comparison itself (see `cronkit_system.memory_profile`).
"""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import inspect
import pstats
from typing import Any

from bench._util import WINDOW_PROFILER

__all__ = ["cpu"]


def _area(filename: str) -> str:
    if "/cronkit/" in filename:
        return "cronkit/" + filename.rsplit("/cronkit/", 1)[1]
    if "/asyncio/" in filename or filename.endswith("selectors.py"):
        return "asyncio (event loop)"
    if "/bench/" in filename:
        return "the benchmark (job bodies, driver)"
    if "site-packages" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename == "~":
        return "builtins (C)"
    return "stdlib (other)"


def _short(filename: str, line: int, name: str) -> str:
    for marker in ("/cronkit/", "/asyncio/", "/bench/", "site-packages/"):
        if marker in filename:
            filename = marker.strip("/") + "/" + filename.rsplit(marker, 1)[1]
            break
    else:
        filename = filename.rsplit("/", 1)[-1]
    return f"{filename}:{line}({name})" if filename != "~" else name


def cpu(target: str, kwargs: dict[str, Any], whole: bool = False, top: int = 14) -> dict[str, Any]:
    """Run `target(**kwargs)` under cProfile; areas and top functions by own time.

    Only the workload's measurement window is profiled (see `bench._util.window_begin`),
    or the whole call when `whole` is true.
    """
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    profiler = cProfile.Profile()
    if not whole:
        WINDOW_PROFILER.append(profiler)
        result = _call(function, kwargs)
    elif inspect.iscoroutinefunction(function):

        async def profiled() -> Any:
            profiler.enable()
            try:
                return await function(**kwargs)
            finally:
                profiler.disable()

        result = asyncio.run(profiled())
    else:
        profiler.enable()
        try:
            result = function(**kwargs)
        finally:
            profiler.disable()
    return _summary(profiler, result, top)


def _call(function: Any, kwargs: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(function):
        return asyncio.run(function(**kwargs))
    return function(**kwargs)


def _summary(profiler: cProfile.Profile, result: Any, top: int) -> dict[str, Any]:
    try:
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    except TypeError:  # the workload has no measurement window: nothing was profiled
        return {"result": result, "total_s": 0.0, "areas": [], "top": []}
    areas: dict[str, float] = {}
    rows = []
    total = 0.0
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.items():
        if filename == "~" and "epoll" in name:
            continue  # waiting for the next timer: idle, not work
        total += tottime
        area = _area(filename)
        areas[area] = areas.get(area, 0.0) + tottime
        rows.append((tottime, cumtime, calls, _short(filename, line, name)))
    rows.sort(reverse=True)
    return {
        "result": result,
        "total_s": total,
        "areas": sorted(((a, t / total) for a, t in areas.items()), key=lambda x: -x[1])[:12],
        "top": [
            {"function": f, "calls": c, "own_s": t, "cum_s": cum, "own_share": t / total}
            for t, cum, c, f in rows[:top]
        ],
    }


def render(title: str, profile: dict[str, Any]) -> str:
    """Markdown for one CPU profile."""
    lines = [
        f"**Profile: {title}** (cProfile, {profile['total_s']:.2f} s of profiled CPU, "
        "idle waiting excluded)\n"
    ]
    lines.append("| area | share of CPU |\n|---|---:|")
    lines.extend(f"| {area} | {share * 100:.1f}% |" for area, share in profile["areas"])
    lines.append(
        "\n| function | calls | own s | cumulative s | own share |\n|---|---:|---:|---:|---:|"
    )
    lines.extend(
        f"| `{row['function']}` | {row['calls']:,} | {row['own_s']:.3f} | {row['cum_s']:.3f} "
        f"| {row['own_share'] * 100:.1f}% |"
        for row in profile["top"]
    )
    return "\n".join(lines)
