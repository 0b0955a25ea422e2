"""How to test your own jobs: fake time, no waiting. Run it with `pytest examples/test_my_jobs.py`.

cronkit's pytest plugin is registered when cronkit is installed; it gives the fixtures
`cronkit_clock` (a `FakeClock`, started where `@pytest.mark.cronkit_clock(...)` says),
`cronkit_run_app` (runs an App under that clock in an `async with` block) and
`cronkit_simulate` (the same for a synchronous test). Inside the block, fake time moves only
when the test says so, every occurrence on the way runs at its own instant, and
`datetime.now()`, `date.today()` and `time.time()` in the jobs return the fake time.

The async tests carry `@pytest.mark.asyncio`, so that this file runs under pytest-asyncio's
`strict` mode as well as its `auto` mode.

In a real project the App comes from your code (`from myapp.jobs import app`); here it is
defined at the top of the file so that the example is self-contained.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cronkit import (
    App,
    Depends,
    InMemoryStateStore,
    JobState,
    JobTimeWindow,
    RunContext,
    RunStatus,
    SkipReason,
)

# -- the application under test -----------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
app = App(timezone="Europe/Berlin")

backups: list[str] = []  # stands in for a bucket of backup files
office_reports: list[datetime] = []  # ... for the reports sent by mail
rates: dict[str, float] = {}  # ... for a cache of exchange rates
cleanups: list[tuple[datetime, bool]] = []


@app.cron("30 2 * * *", id="nightly-backup")
async def nightly_backup() -> None:
    """Every night at 02:30 Berlin time; the file is named after `datetime.now()`."""
    backups.append(f"backup-{datetime.now(UTC):%Y%m%dT%H%MZ}")


@app.cron("0 * * * *", id="office-report", window=JobTimeWindow("mon-fri", "09:00-17:00"))
def office_report() -> None:
    """Hourly, but only in office hours; a plain function, run in a worker thread."""
    office_reports.append(datetime.now(BERLIN))


def fetch_exchange_rates() -> dict[str, float]:
    """The real dependency calls a remote API: it fails in tests that do not replace it."""
    raise ConnectionError("api.example.com is unreachable")


@app.interval(hours=6, id="refresh-rates")
async def refresh_rates(latest: dict[str, float] = Depends(fetch_exchange_rates)) -> None:
    rates.update(latest)


@app.cron("0 3 * * *", id="cleanup")  # missed="catch_up_once" is the default
async def cleanup(ctx: RunContext) -> None:
    cleanups.append((ctx.scheduled_at, ctx.catch_up))


@pytest.fixture(autouse=True)
def _empty_the_fakes() -> None:
    backups.clear()
    office_reports.clear()
    rates.clear()
    cleanups.clear()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.cronkit_clock("2025-03-29T00:00:00Z")
@pytest.mark.asyncio
async def test_the_nightly_backup_runs_once_a_night_across_the_spring_forward(
    cronkit_run_app,
) -> None:
    # On 2025-03-30 Berlin skips from 02:00 to 03:00: 02:30 does not exist that night, and the
    # backup runs once, at the end of the gap (03:00 local = 01:00Z).
    async with cronkit_run_app(app) as runner:
        await runner.advance_to("2025-03-31T12:00:00Z")

    history = runner.history("nightly-backup")
    assert [run.scheduled_at for run in history] == [
        utc("2025-03-29T01:30"),  # 02:30 CET
        utc("2025-03-30T01:00"),  # 03:00 CEST, the end of the gap
        utc("2025-03-31T00:30"),  # 02:30 CEST
    ]
    assert all(run.status is RunStatus.SUCCESS for run in history)
    # The job's own datetime.now() saw the fake time.
    assert backups == ["backup-20250329T0130Z", "backup-20250330T0100Z", "backup-20250331T0030Z"]


@pytest.mark.cronkit_clock("2025-01-06T00:00:00+01:00")  # Monday, midnight in Berlin
@pytest.mark.asyncio
async def test_the_office_report_runs_only_in_office_hours_over_a_week(cronkit_run_app) -> None:
    async with cronkit_run_app(app) as runner:
        await runner.advance(days=7)
        report = runner.report("office-report")

    # 09:00, 10:00 ... 16:00 on five workdays; the other hours are skipped, not run.
    assert report.runs == 8 * 5
    assert report.skipped == 7 * 24 - 8 * 5
    assert report.last_skip_reason is SkipReason.OUTSIDE_TIME_WINDOW
    assert {moment.hour for moment in office_reports} == set(range(9, 17))
    assert sorted({moment.date() for moment in office_reports}) == [
        date(2025, 1, day) for day in range(6, 11)
    ]


@pytest.mark.asyncio
async def test_a_failing_dependency_is_a_failed_run_not_a_crash(cronkit_run_app) -> None:
    async with cronkit_run_app(app) as runner:
        await runner.advance(hours=12)

    assert [(run.status, run.error) for run in runner.history("refresh-rates")] == [
        (
            RunStatus.FAILED,
            "dependency fetch_exchange_rates failed: "
            "ConnectionError: api.example.com is unreachable",
        ),
    ] * 2
    assert rates == {}


@pytest.mark.asyncio
async def test_a_dependency_replaced_with_dependency_overrides(cronkit_run_app) -> None:
    app.dependency_overrides[fetch_exchange_rates] = lambda: {"EUR/USD": 1.08}
    # run_app puts the overrides back as they were when the block ends.
    async with cronkit_run_app(app) as runner:
        await runner.advance(hours=6)

    assert [run.status for run in runner.history("refresh-rates")] == [RunStatus.SUCCESS]
    assert rates == {"EUR/USD": 1.08}


@pytest.mark.cronkit_clock("2025-01-04T10:00:00Z")
@pytest.mark.asyncio
async def test_a_restart_after_three_days_down_catches_up_once(cronkit_run_app) -> None:
    # The state the App left in its store when it went down on January 1st, before 03:00.
    store = InMemoryStateStore()
    await store.save(
        JobState("cleanup", trigger_count=30, next_run_at=utc("2025-01-01T02:00"))  # 03:00 CET
    )

    async with cronkit_run_app(app, store=store) as runner:
        await runner.advance(days=1)

    # Four nights were missed (January 1st to 4th); catch_up_once runs once, for the newest.
    assert cleanups == [(utc("2025-01-04T02:00"), True), (utc("2025-01-05T02:00"), False)]
    state = await store.load("cleanup")
    assert state is not None
    assert state.trigger_count == 30 + 4 + 1
    assert state.next_run_at == utc("2025-01-06T02:00")


@pytest.mark.cronkit_clock("2025-03-29T00:00:00Z")
def test_the_same_in_a_synchronous_test(cronkit_simulate) -> None:
    histories = cronkit_simulate(app, until=timedelta(days=3))
    assert len(histories["nightly-backup"]) == 3
    assert len(backups) == 3
