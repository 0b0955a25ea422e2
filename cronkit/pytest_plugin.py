"""pytest fixtures for testing cronkit jobs, registered through the `pytest11` entry point.

The plugin is loaded by pytest only; `import cronkit` never imports pytest. Fixtures:

- `cronkit_clock`: a `FakeClock` starting at 2025-01-01T00:00:00Z, or at the instant given by
  `@pytest.mark.cronkit_clock("2025-03-29T23:00:00+01:00")`.
"""

from __future__ import annotations

import pytest

from cronkit.testing import DEFAULT_START, FakeClock

__all__ = ["cronkit_clock"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cronkit_clock(start): the instant the cronkit_clock fixture starts at "
        "(an aware datetime or an ISO 8601 string with offset)",
    )


@pytest.fixture
def cronkit_clock(request: pytest.FixtureRequest) -> FakeClock:
    """A `FakeClock` for the test; set its start with `@pytest.mark.cronkit_clock(...)`."""
    marker = request.node.get_closest_marker("cronkit_clock")
    if marker is None:
        return FakeClock(DEFAULT_START)
    if len(marker.args) != 1 or marker.kwargs:
        raise pytest.UsageError(
            f"@pytest.mark.cronkit_clock takes one start instant, got args={marker.args!r} "
            f"kwargs={marker.kwargs!r}; write @pytest.mark.cronkit_clock('2025-01-01T00:00:00Z')"
        )
    return FakeClock(marker.args[0])
