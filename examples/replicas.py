"""Replicas: the same App on several machines, each occurrence run by exactly one of them.

Needs a Valkey (or Redis) server and `pip install 'cronkit[valkey]'`. Start three replicas,
in three terminals or on three machines, with the same URL:

    export CRONKIT_VALKEY_URL=redis://localhost:6379/0
    python -m cronkit examples.replicas:app     # in each of the three terminals

or `python examples/replicas.py`, which builds the same store and guard in code. Each
occurrence prints one line, on whichever replica won its lease; the other replicas skip it
(`contended`, or `already_done` when they reach it late). Stop a replica with Ctrl-C: the
others carry on. Kill the one that printed `slow-export ... started` (kill -9) before it
finishes: that occurrence is not run again (its lease expires 30 s later, the ttl, and no
done marker is left); the next occurrence goes to a survivor.

The replicas may start at the same moment: the first to store a job's state wins, and the
others adopt it, so an interval job keeps one series. A replica started later resumes from the
stored state.
"""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import timedelta

from cronkit import App, RunContext

app = App()
WHO = f"{socket.gethostname()}:{os.getpid()}"


@app.interval(seconds=2, id="sync-prices")
async def sync_prices(ctx: RunContext) -> None:
    # Hand the fencing token to whatever you write to: it refuses a token lower than the
    # highest it has seen, so a stale holder (paused past its lease) cannot overwrite.
    print(
        f"{WHO} sync-prices @ {ctx.scheduled_at:%H:%M:%S} fencing_token={ctx.fencing_token}",
        flush=True,
    )


@app.interval(seconds=30, id="slow-export")
async def slow_export(ctx: RunContext) -> None:
    print(f"{WHO} slow-export @ {ctx.scheduled_at:%H:%M:%S} started", flush=True)
    await asyncio.sleep(15)  # longer than renew_interval (10 s): the lease is renewed meanwhile
    print(f"{WHO} slow-export @ {ctx.scheduled_at:%H:%M:%S} finished", flush=True)


@app.cron("* * * * *", id="minutely-report")
async def minutely_report(ctx: RunContext) -> None:
    print(f"{WHO} minutely-report @ {ctx.scheduled_at:%H:%M}", flush=True)


async def main(url: str) -> None:
    """What `--valkey-url` sets up, written out: a resilient store and a guard."""
    from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig, ValkeyStateStore

    store = ValkeyStateStore.resilient(url)
    guard = ValkeyExecutionGuard(
        url,
        ValkeyLeaseConfig(
            ttl=timedelta(seconds=30),
            renew_interval=timedelta(seconds=10),
            done_retention=timedelta(hours=24),
            on_lost="cancel",
        ),
    )
    app.store, app.guard = store, guard
    try:
        await app.serve(install_signal_handlers=True)
    finally:
        await store.close()
        await guard.close()


if __name__ == "__main__":
    asyncio.run(main(os.environ.get("CRONKIT_VALKEY_URL", "redis://localhost:6379/0")))
