"""A module that fails while being imported."""

from __future__ import annotations

from cronkit._app import App

app = App()
raise RuntimeError("this module is broken on purpose")
