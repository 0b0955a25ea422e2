"""A small App for the command-line tests: `cronkit --valkey-url URL run` runs it.

One job with the crate README's id, `refresh-a-shares`, every 0.2 s and three runs in all
(`max_runs` counts the runs a restored state already has), so that the command ends by
itself. Each run prints its trigger count, fencing token and whether it caught up. The store
and the guard come from the command line (`--valkey-url` or `CRONKIT_VALKEY_URL`).
"""

from __future__ import annotations

from cronkit import App, RunContext

app = App()


@app.interval(seconds=0.2, max_runs=3, id="refresh-a-shares")
async def refresh(ctx: RunContext) -> None:
    print(
        f"run {ctx.trigger_count} fencing={ctx.fencing_token} catch_up={ctx.catch_up}", flush=True
    )
