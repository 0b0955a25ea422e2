"""Fixtures of the Valkey tests: real servers from `tests/valkey_server.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # the top-level tests/conftest.py puts it there too
    sys.path.insert(0, _ROOT)

from tests.valkey_server import (  # noqa: E402
    make_valkey_server,
    restartable_valkey,
    valkey_admin,
    valkey_server,
    valkey_url,
)

__all__ = [
    "make_valkey_server",
    "restartable_valkey",
    "valkey_admin",
    "valkey_server",
    "valkey_url",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder `valkey`."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.valkey)
