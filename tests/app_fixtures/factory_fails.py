"""A factory that raises, and one that is async (not supported)."""

from __future__ import annotations

from cronkit import App


def make_app() -> App:
    raise LookupError("no configuration found")


async def make_app_async() -> App:
    return App()
