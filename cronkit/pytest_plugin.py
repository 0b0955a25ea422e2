"""pytest fixtures for testing cronkit jobs, registered through the `pytest11` entry point.

The plugin is loaded by pytest only; `import cronkit` never imports pytest. This module
imports `cronkit.testing` only when a test asks for one of its fixtures, and freezegun is
imported only when `run_app` starts (loading the plugin still imports the `cronkit` package
itself, which holds it).
Every fixture is a plain synchronous one, so they work the same under pytest-asyncio's `auto`
and `strict` modes and in synchronous tests.

- `cronkit_clock`: a `FakeClock` starting at 2025-01-01T00:00:00Z, or at the instant given by
  `@pytest.mark.cronkit_clock("2025-03-29T23:00:00+01:00")` (on the test, its class or its
  module).
- `cronkit_run_app`: `cronkit_run_app(app, **options)` is `run_app(app, cronkit_clock,
  **options)`, the async context manager that runs the App under that clock.
- `cronkit_simulate`: `cronkit_simulate(app, until, **options)` is `simulate(app, until,
  clock=cronkit_clock, **options)`, for synchronous tests.

```python
@pytest.mark.cronkit_clock("2025-03-29T00:00:00Z")
async def test_nightly(cronkit_run_app):
    async with cronkit_run_app(app) as runner:
        await runner.advance(days=2)
    assert len(runner.history("nightly")) == 2
```
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from cronkit import App, RunRecord
    from cronkit.testing import AppRunner, FakeClock

__all__ = ["cronkit_clock", "cronkit_run_app", "cronkit_simulate"]

RunApp = Callable[..., AbstractAsyncContextManager["AppRunner"]]
Simulate = Callable[..., dict[str, list["RunRecord"]]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cronkit_clock(start): the instant the cronkit_clock fixture starts at "
        "(an aware datetime or an ISO 8601 string with offset)",
    )


@pytest.fixture
def cronkit_clock(request: pytest.FixtureRequest) -> FakeClock:
    """A `FakeClock` for the test; set its start with `@pytest.mark.cronkit_clock(...)`."""
    from cronkit.testing import DEFAULT_START, FakeClock

    marker = request.node.get_closest_marker("cronkit_clock")
    if marker is None:
        return FakeClock(DEFAULT_START)
    if len(marker.args) != 1 or marker.kwargs:
        raise pytest.UsageError(
            f"@pytest.mark.cronkit_clock takes one start instant, got args={marker.args!r} "
            f"kwargs={marker.kwargs!r}; write @pytest.mark.cronkit_clock('2025-01-01T00:00:00Z')"
        )
    return FakeClock(marker.args[0])


@pytest.fixture
def cronkit_run_app(cronkit_clock: FakeClock) -> RunApp:
    """`run_app` bound to `cronkit_clock`: `async with cronkit_run_app(app) as runner: ...`.

    Keyword options (`store=`, `overrides=`, `settle_timeout=`, `freeze_time=`) are passed on
    to `cronkit.testing.run_app`.
    """
    from cronkit.testing import run_app

    def bound(app: App, **options: Any) -> AbstractAsyncContextManager[AppRunner]:
        return run_app(app, cronkit_clock, **options)

    return bound


@pytest.fixture
def cronkit_simulate(cronkit_clock: FakeClock) -> Simulate:
    """`simulate` bound to `cronkit_clock`, for synchronous tests.

    `cronkit_simulate(app, until)` runs the App on its own event loop from the clock's
    instant to `until` (an instant, or a `timedelta` from the start) and returns each job's
    history by job id.
    """
    from cronkit.testing import simulate

    def bound(
        app: App, until: datetime | str | timedelta, **options: Any
    ) -> dict[str, list[RunRecord]]:
        return simulate(app, until, clock=cronkit_clock, **options)

    return bound
