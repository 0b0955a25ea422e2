"""Fake time for tests: drive schedules through days or years without waiting.

An App under test (`run_app`, or `simulate` for a synchronous test):

```python
async with run_app(app, FakeClock("2025-03-29T00:00:00Z")) as runner:
    await runner.advance(days=2)        # every occurrence on the way runs, in order
assert len(runner.history("nightly")) == 2
```

The engine alone:

```python
clock = FakeClock("2025-01-01T00:00:00Z")
scheduler = Scheduler(clock=clock)
task = asyncio.create_task(scheduler.run(job))
await clock.advance(timedelta(days=1))
```

- `FakeClock`: a `Clock` whose time moves only when told (`advance`, `advance_to`,
  `step_wall`), firing timers in deadline order and letting the loop settle in between.
- `run_app(app, clock)`: runs an App under the clock for an `async with` block, with
  `datetime.now()`, `date.today()` and `time.time()` of user code following it (`FrozenTime`,
  freezegun imported only then); fails with `AppStillRunningError` instead of hanging when
  the App cannot stop at the end. `AppRunner` reads each job's history, report and handle.
- `simulate(app, until)`: the same on a new event loop, for synchronous tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cronkit._exceptions import ConfigurationError
from cronkit._fake_clock import DEFAULT_START, FakeClock, FrozenTime
from cronkit._testing_app import (
    DEFAULT_SETTLE_TIMEOUT,
    AppRunner,
    AppStillRunningError,
    run_app,
)

if TYPE_CHECKING:
    from cronkit._app import App
    from cronkit._state import RunRecord
    from cronkit._store import StateStore

__all__ = [
    "DEFAULT_SETTLE_TIMEOUT",
    "DEFAULT_START",
    "AppRunner",
    "AppStillRunningError",
    "FakeClock",
    "FrozenTime",
    "run_app",
    "simulate",
]


def simulate(
    app: App,
    until: datetime | str | timedelta,
    *,
    start: datetime | str | None = None,
    clock: FakeClock | None = None,
    store: StateStore | None = None,
    overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
    settle_timeout: timedelta | float = DEFAULT_SETTLE_TIMEOUT,
    freeze_time: bool = True,
) -> dict[str, list[RunRecord]]:
    """Run `app` under fake time from `start` to `until` on a new event loop (sync tests).

    ```python
    histories = simulate(app, until=timedelta(days=7), start="2025-01-06T00:00:00Z")
    assert len(histories["weekly-report"]) == 1
    ```

    It is `run_app` + `advance_to(until)`, then the App is shut down; the final reports stay
    readable through `app.report(job_id)`.

    Args:
        app: the App; it must not be running.
        until: the instant to stop at, or how long to run from the start.
        start: where fake time starts (default `DEFAULT_START`); not together with `clock`.
        clock: a `FakeClock` to run on instead (e.g. the `cronkit_clock` fixture).
        store, overrides, settle_timeout, freeze_time: as for `run_app`.

    Returns:
        Each job's history (executed runs, the newest `history_limit` of them) by job id.

    Raises:
        RuntimeError: called inside a running event loop (use `run_app` there).
        AppStillRunningError: as for `run_app`.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "simulate() runs its own event loop and cannot run inside one; in an async test "
            "write `async with run_app(app, clock) as runner: await runner.advance_to(...)`"
        )
    if clock is not None and start is not None:
        raise ConfigurationError("simulate() takes start= or clock=, not both")
    if clock is None:
        clock = FakeClock(DEFAULT_START if start is None else start)

    async def main() -> None:
        async with run_app(
            app,
            clock,
            store=store,
            overrides=overrides,
            settle_timeout=settle_timeout,
            freeze_time=freeze_time,
        ) as runner:
            if isinstance(until, timedelta):
                await runner.advance(until)
            else:
                await runner.advance_to(until)

    asyncio.run(main())
    histories: dict[str, list[RunRecord]] = {}
    for job_id in app.jobs:
        report = app.report(job_id)
        histories[job_id] = [] if report is None else list(report.history)
    return histories
