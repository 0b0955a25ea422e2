"""A virtual year: 365 days of a per-minute cron job through an App, under `run_app`.

525,600 runs through the real engine, the App's dependency injection (one cached dependency
asked for twice per run) and freezegun moving with the fake clock. The report's history is
bounded by `history_limit`, so the job counts its runs and checks each instant itself.
The wall time this takes is measured by the benchmarks (`bench/s5_year.py`), not here.

Under `coverage run` (as `make test` runs the suite) the simulated year is not traced:
tracing makes it about three times slower (some 90 s instead of 30 s), and every line it runs
is covered by the engine and App tests anyway. The set-up and the checks are traced.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from cronkit import App, Depends, RunContext, RunStatus, StopReason
from cronkit.testing import FakeClock, run_app

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
RUNS_IN_A_YEAR = 365 * 24 * 60
SAMPLE_EVERY = 9_973  # a prime: the sampled runs fall on every hour and weekday over the year


class Settings:
    """The dependency's value."""


@dataclass
class Tally:
    """What the job saw: counts, the first wrong instant, and a sample of `datetime.now()`."""

    runs: int = 0
    settings_made: int = 0
    expected: datetime = START + MINUTE
    wrong: list[tuple[int, datetime]] = field(default_factory=list)
    not_cached: int = 0
    now_sample: dict[datetime, datetime] = field(default_factory=dict)
    last: datetime | None = None


def year_app(tally: Tally) -> App:
    app = App(observers=[], history_limit=16)

    # Local functions: `= Depends(...)` (an `Annotated` form would name a local, which
    # cannot be resolved from the module).

    def get_settings() -> Settings:
        tally.settings_made += 1
        return Settings()

    @app.cron("* * * * *", id="per-minute")
    async def per_minute(
        ctx: RunContext,
        settings: Settings = Depends(get_settings),
        same_settings: Settings = Depends(get_settings),
    ) -> None:
        tally.runs += 1
        scheduled_at = ctx.scheduled_at
        if scheduled_at != tally.expected and len(tally.wrong) < 5:
            tally.wrong.append((tally.runs, scheduled_at))
        tally.expected = scheduled_at + MINUTE
        if settings is not same_settings:
            tally.not_cached += 1
        if tally.runs % SAMPLE_EVERY == 1:
            tally.now_sample[scheduled_at] = datetime.now(UTC)
        tally.last = scheduled_at

    return app


@contextmanager
def coverage_paused() -> Iterator[None]:
    """Stop coverage measurement for the block, if a `coverage run` measures this process."""
    try:
        import coverage
        from coverage.exceptions import CoverageWarning
    except ImportError:  # pragma: no cover - coverage is a dev dependency
        yield
        return
    current = coverage.Coverage.current()
    if current is None:
        yield
        return
    current.stop()
    try:
        yield
    finally:
        with warnings.catch_warnings():
            # Starting again, coverage warns that the measured modules are imported already.
            warnings.simplefilter("ignore", CoverageWarning)
            current.start()


@pytest.mark.slow
async def test_a_year_of_a_per_minute_cron_job_through_an_app() -> None:
    tally = Tally()
    app = year_app(tally)
    async with run_app(app, FakeClock(START)) as runner:
        with coverage_paused():
            await runner.advance_to(END)
        report = runner.report("per-minute")
        assert report.runs == RUNS_IN_A_YEAR
        assert report.state.trigger_count == RUNS_IN_A_YEAR
        assert report.state.next_run_at == END + MINUTE
    assert tally.runs == RUNS_IN_A_YEAR
    assert tally.wrong == []
    assert tally.last == END  # the first run is 00:01 on January 1st, the last midnight after
    assert tally.settings_made == RUNS_IN_A_YEAR  # once per run, though asked for twice
    assert tally.not_cached == 0
    assert len(tally.now_sample) == RUNS_IN_A_YEAR // SAMPLE_EVERY + 1
    assert all(now == scheduled_at for scheduled_at, now in tally.now_sample.items())
    history = runner.history("per-minute")
    assert len(history) == 16  # history_limit: the newest runs only
    assert [run.scheduled_at for run in history] == [END - MINUTE * n for n in range(15, -1, -1)]
    assert {run.status for run in history} == {RunStatus.SUCCESS}
    assert runner.report("per-minute").stop_reason is StopReason.SHUTDOWN
