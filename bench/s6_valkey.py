"""S6, Valkey: round trips per guarded run and the lateness the guard adds.

One job on a short interval through the App, against a real `valkey-server` started for the
run, four ways, each in its own process (and with its own server):

- `unguarded` / `guarded`: state in memory; the guarded one has a `ValkeyExecutionGuard`
  (ttl 30 s, renewal every 10 s). Every Valkey command of the guarded run is the guard's:
  these are the round trips "beyond state saves".
- `unguarded_store` / `guarded_store`: the same with a `ValkeyStateStore`, to show what the
  state saves add.

Commands are read from `INFO commandstats` (reset with `CONFIG RESETSTAT` after a warm-up;
the `info` and `config` commands of the measurement itself are left out). The server counts
the commands a Lua script runs as well as the `EVALSHA` that ran it, so round trips are
counted on the client too: each `send_packed_command` of the valkey client (one per command,
one per pipeline) is one round trip; the client-side count must equal the server's count of
commands sent by clients (`evalsha` plus the store's own `get`/`set`). Lateness is the run's
start minus its scheduled instant; "added by the guard" compares the guarded and unguarded
runs of the same store kind.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from bench._report import Section, Target, fmt, table
from bench._util import lateness_summary, median
from bench._valkey import valkey_server
from cronkit import App, InMemoryStateStore, RunContext

__all__ = ["cases", "report", "run"]

ID = "S6"
TITLE = "S6 — a guarded job on a real Valkey"
VARIANTS = ("unguarded", "guarded", "unguarded_store", "guarded_store")
SCRIPT_COMMANDS = ("evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro", "script")


def _count_round_trips() -> list[int]:
    """Count every request the valkey client sends (one per command or pipeline)."""
    from valkey.asyncio.connection import AbstractConnection

    counter = [0]
    send = AbstractConnection.send_packed_command

    async def counting(self: Any, command: Any, check_health: bool = True) -> None:
        counter[0] += 1
        await send(self, command, check_health)

    AbstractConnection.send_packed_command = counting  # type: ignore[method-assign]
    return counter


async def run(variant: str, period_s: float, warmup: float, duration: float) -> dict[str, Any]:
    """One job every `period_s` through the App, guarded and/or stored on Valkey per `variant`."""
    import valkey.asyncio

    from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig, ValkeyStateStore

    samples: list[tuple[float, datetime]] = []
    sent = _count_round_trips()

    async def job(ctx: RunContext) -> None:
        samples.append((time.time(), ctx.scheduled_at))

    with valkey_server() as url:
        admin = valkey.asyncio.Valkey.from_url(url, decode_responses=True)
        store = ValkeyStateStore(url) if variant.endswith("_store") else InMemoryStateStore()
        guard = None
        if variant.startswith("guarded"):
            config = ValkeyLeaseConfig(
                ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=10)
            )
            guard = ValkeyExecutionGuard(url, config)
        app = App(store=store, guard=guard)
        app.interval(timedelta(seconds=period_s), id="guarded-job")(job)
        serving = asyncio.create_task(app.serve())
        await asyncio.sleep(warmup)
        await admin.config_resetstat()
        start, sent0 = time.time(), sent[0]
        await asyncio.sleep(duration)
        end, round_trips = time.time(), sent[0] - sent0
        stats = await admin.info("commandstats")
        app.shutdown()
        await serving
        for closable in (guard, store):
            if closable is not None:
                await closable.close()
        await admin.aclose()
    lateness = [s - at.timestamp() for s, at in samples if start <= at.timestamp() < end]
    commands = {
        name.removeprefix("cmdstat_"): int(values["calls"])
        for name, values in stats.items()
        if not name.removeprefix("cmdstat_").startswith(("info", "config"))
    }
    runs = len(lateness)
    total = sum(commands.values())
    scripts = sum(calls for name, calls in commands.items() if name.startswith(SCRIPT_COMMANDS))
    return {
        "runs": runs,
        "commands": commands,
        "commands_per_run": total / runs if runs else float("nan"),
        "scripts_per_run": scripts / runs if runs else float("nan"),
        "round_trips_per_run": round_trips / runs if runs else float("nan"),
        "period_s": period_s,
        **lateness_summary(lateness),
    }


def cases(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    kwargs = {"period_s": 0.05, "warmup": 0.5, "duration": 1.5 if quick else 3.0}
    return [(v, "bench.s6_valkey:run", {"variant": v, **kwargs}) for v in VARIANTS]


def report(results: dict[str, list[dict[str, Any]]], quick: bool) -> Section:
    def med(key: str, field: str) -> float | None:
        return median(r[field] for r in results.get(key, []))

    labels = {
        "unguarded": "unguarded, state in memory",
        "guarded": "guarded, state in memory",
        "unguarded_store": "unguarded, state on Valkey",
        "guarded_store": "guarded, state on Valkey",
    }
    rows = []
    for key, label in labels.items():
        reps = results.get(key)
        if not reps:
            continue
        per_command: dict[str, list[float]] = {}
        for r in reps:
            for name, calls in r["commands"].items():
                per_command.setdefault(name, []).append(calls / r["runs"] if r["runs"] else 0)
        detail = ", ".join(f"{name} {fmt(median(v), 2)}" for name, v in sorted(per_command.items()))
        rows.append(
            [
                label,
                fmt(med(key, "runs"), 0),
                fmt(med(key, "round_trips_per_run"), 3),
                fmt(med(key, "commands_per_run"), 3),
                detail or "—",
                fmt(med(key, "p50_ms"), 3),
                fmt(med(key, "p99_ms"), 3),
                fmt(med(key, "max_ms"), 3),
            ]
        )
    header = [
        "system",
        "runs",
        "round trips / run",
        "commands run by the server / run",
        "per command / run (incl. inside scripts)",
        "lateness p50 ms",
        "p99 ms",
        "max ms",
    ]
    lines = [table(header, rows)]
    added_p50 = _diff(med("guarded", "p50_ms"), med("unguarded", "p50_ms"))
    added_p99 = _diff(med("guarded", "p99_ms"), med("unguarded", "p99_ms"))
    beyond = med("guarded", "round_trips_per_run")
    store_beyond = _diff(
        med("guarded_store", "round_trips_per_run"), med("unguarded_store", "round_trips_per_run")
    )
    lines.append(
        f"\nLateness added by the guard (state in memory): p50 {fmt(added_p50, 3)} ms, "
        f"p99 {fmt(added_p99, 3)} ms. With state on Valkey too, the guard adds "
        f"{fmt(store_beyond, 3)} round trips per run to the state saves'. Job every "
        f"{results['guarded'][0].get('period_s', 0.05) if results.get('guarded') else 0.05} s; "
        "a round trip is one request of the valkey client (one `EVALSHA` for each guard "
        "operation); the server also counts the commands its Lua scripts run."
    )
    targets = [
        Target(
            "S6",
            "round trips per guarded run beyond state saves",
            fmt(beyond, 3),
            "≤ 3",
            None if beyond is None else beyond <= 3,
            ""
            if beyond is None
            else f"{3 - beyond:.2g} to spare"
            if beyond <= 3
            else f"{beyond - 3:.2g} over",
            note_key="S6",
        )
    ]
    return Section(ID, TITLE, "\n".join(lines), targets)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b
