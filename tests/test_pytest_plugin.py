"""The pytest plugin: fixtures, the marker, and the example a user would copy, run by pytest."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cronkit import App, RunContext
from cronkit.testing import DEFAULT_START, AppRunner, FakeClock

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "test_my_jobs.py"


def tiny_app() -> App:
    app = App(observers=[])

    @app.interval(hours=1, id="hourly")
    async def hourly(ctx: RunContext) -> None:
        assert datetime.now(UTC) == ctx.scheduled_at

    return app


# -- the fixtures, in this suite ---------------------------------------------------------------


def test_the_clock_starts_at_the_default_instant(cronkit_clock: FakeClock) -> None:
    assert isinstance(cronkit_clock, FakeClock)
    assert cronkit_clock.now() == DEFAULT_START == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.cronkit_clock("2025-03-29T23:00:00+01:00")
def test_the_marker_sets_the_start(cronkit_clock: FakeClock) -> None:
    assert cronkit_clock.now() == datetime(2025, 3, 29, 22, tzinfo=UTC)


@pytest.mark.cronkit_clock(datetime(2030, 6, 1, 12, tzinfo=UTC))
class TestAMarkedClass:
    def test_the_class_marker_applies(self, cronkit_clock: FakeClock) -> None:
        assert cronkit_clock.now() == datetime(2030, 6, 1, 12, tzinfo=UTC)

    @pytest.mark.cronkit_clock("2031-01-01T00:00:00Z")
    def test_the_closest_marker_wins(self, cronkit_clock: FakeClock) -> None:
        assert cronkit_clock.now() == datetime(2031, 1, 1, tzinfo=UTC)


@pytest.mark.cronkit_clock("2025-05-01T00:00:00Z")
async def test_run_app_fixture_runs_an_app_under_the_clock(
    cronkit_run_app: object, cronkit_clock: FakeClock
) -> None:
    assert callable(cronkit_run_app)
    async with cronkit_run_app(tiny_app()) as runner:
        assert isinstance(runner, AppRunner)
        assert runner.clock is cronkit_clock
        await runner.advance(hours=3)
    assert [run.scheduled_at.hour for run in runner.history("hourly")] == [1, 2, 3]
    assert {run.scheduled_at.date() for run in runner.history("hourly")} == {
        datetime(2025, 5, 1).date()
    }


async def test_run_app_fixture_passes_options_on(cronkit_run_app: object) -> None:
    assert callable(cronkit_run_app)
    async with cronkit_run_app(tiny_app(), freeze_time=False) as runner:
        assert datetime.now(UTC).year > 2025
        await runner.advance(hours=1)  # the job asserts fake time: its run fails
    (run,) = runner.history("hourly")
    assert run.error is not None
    assert run.error.startswith("AssertionError")


@pytest.mark.cronkit_clock("2025-05-01T00:00:00Z")
def test_simulate_fixture_in_a_synchronous_test(
    cronkit_simulate: object, cronkit_clock: FakeClock
) -> None:
    assert callable(cronkit_simulate)
    histories = cronkit_simulate(tiny_app(), timedelta(hours=5))
    assert len(histories["hourly"]) == 5
    assert cronkit_clock.now() == datetime(2025, 5, 1, 5, tzinfo=UTC)


# -- a separate pytest session, as a user's suite ------------------------------------------------


INI = """
[pytest]
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_example_passes_in_a_users_suite(pytester: pytest.Pytester, mode: str) -> None:
    shutil.copy(EXAMPLE, pytester.path / "test_my_jobs.py")
    pytester.makeini(INI.format(mode=mode))
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=6)


def test_the_plugin_is_found_through_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.format(mode="strict"))
    pytester.makepyfile(
        """
        import sys

        def test_registered(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("cronkit")
            # Loaded lazily: nothing but the package until a test asks for a fixture.
            assert "cronkit.testing" not in sys.modules
            assert "freezegun" not in sys.modules
            markers = pytestconfig.getini("markers")
            assert any(marker.startswith("cronkit_clock(start):") for marker in markers)

        def test_fixtures(cronkit_clock, cronkit_run_app, cronkit_simulate):
            assert str(cronkit_clock.now()) == "2025-01-01 00:00:00+00:00"
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)


def test_a_marker_with_bad_arguments_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.format(mode="strict"))
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cronkit_clock("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
        def test_two_starts(cronkit_clock):
            pass

        @pytest.mark.cronkit_clock("2025-01-01T00:00:00")
        def test_naive_start(cronkit_clock):
            pass
        """
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.cronkit_clock takes one start instant*",
            "*is a naive datetime; give it a timezone*",
        ]
    )
