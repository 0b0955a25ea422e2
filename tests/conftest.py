from __future__ import annotations

import pytest

from cronkit.testing import FakeClock
from tests.engine_helpers import T0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)
