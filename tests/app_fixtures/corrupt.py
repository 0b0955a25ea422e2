"""An App whose stored state of one job is corrupt: that job stops, the other one runs."""

from __future__ import annotations

from cronkit import App
from tests.app_fixtures.harness import CorruptFor

app = App(store=CorruptFor("broken"))


@app.at("2000-01-01T00:00:00Z", id="healthy")
async def healthy() -> None:
    print("healthy ran", flush=True)


@app.at("2000-01-01T00:00:00Z", id="broken")
async def broken() -> None:
    print("broken ran", flush=True)
