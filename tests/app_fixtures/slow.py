"""One job that starts at once (its instant is past) and takes a while: for signal tests."""

from __future__ import annotations

import asyncio
import os

from cronkit._app import App

HOLD_SECONDS = float(os.environ.get("HOLD_SECONDS", "1.0"))
"""How long the job works. Real time: the command line is tested in a real subprocess."""

app = App()


@app.at("2000-01-01T00:00:00Z", id="slow")
async def slow() -> None:
    print("started", flush=True)
    await asyncio.sleep(HOLD_SECONDS)
    print("finished", flush=True)


def long_app() -> App:
    """The same job held for 30 seconds: only a cancel ends it early."""
    global HOLD_SECONDS
    HOLD_SECONDS = 30.0
    return app
