"""Mistakes mypy must catch in a user module (see `tests/test_typing.py`)."""

from __future__ import annotations

from cronkit import App

app = App()


@app.interval(seconds=5, max_runs="three")
async def wrong_type() -> None: ...


@app.interval(seconds=5, retries=3)
async def unknown_option() -> None: ...
