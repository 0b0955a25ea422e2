"""`App` declaration: decorators build jobs at once; every mistake raises at the decorated line.

Running the App is tested in `test_app_run.py`, dependency injection through it in
`test_app_depends.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pytest

from cronkit import (
    App,
    AtTimes,
    ConfigurationError,
    Cron,
    DependencyCycleError,
    DependencyError,
    Depends,
    DuplicateJobError,
    InMemoryStateStore,
    Interval,
    InvalidCronExpression,
    InvalidJobError,
    InvalidPolicyError,
    InvalidScheduleError,
    Job,
    JobTimeWindow,
    LogObserver,
    MissedRunPolicy,
    OverlapPolicy,
    RunContext,
    Task,
    TaskContext,
)
from cronkit.testing import FakeClock, run_app

NAME = "tests.test_app"


async def noop() -> None:
    pass


# -- decorators build the job at decoration -----------------------------------------------------


def test_decorators_return_the_function_and_register_a_job() -> None:
    app = App()

    async def tick(ctx: RunContext) -> None: ...

    def report() -> None: ...

    async def nightly() -> None: ...

    assert app.interval(seconds=5)(tick) is tick
    assert app.at("2026-12-24T18:00:00+01:00", id="xmas")(report) is report
    assert app.cron("30 2 * * *", timezone="Europe/Berlin")(nightly) is nightly
    tick_id = f"{NAME}.test_decorators_return_the_function_and_register_a_job.<locals>.tick"
    assert list(app.jobs) == [tick_id, "xmas", tick_id.replace("tick", "nightly")]
    job = app.jobs[tick_id]
    assert job.schedule == Interval(timedelta(seconds=5))
    assert job.task.kind == "async"
    assert repr(job.task.func) == f"AsyncCall({tick_id.removeprefix(NAME + '.')})"
    assert app.jobs["xmas"].schedule == AtTimes([datetime(2026, 12, 24, 17, tzinfo=UTC)])
    assert app.jobs["xmas"].task.kind == "blocking"  # a plain function runs in a thread
    assert repr(app.jobs["xmas"].task.func).startswith("BlockingCall(test_decorators_")
    cron = app.jobs[tick_id.replace("tick", "nightly")]
    assert cron.schedule == Cron("30 2 * * *")
    assert cron.timezone == ZoneInfo("Europe/Berlin")
    assert repr(app) == f"App(jobs={list(app.jobs)!r})"


def test_every_job_option_is_a_decorator_keyword_with_enums_or_strings() -> None:
    app = App()
    window = JobTimeWindow("mon-fri", "09:00-17:00")
    app.interval(
        timedelta(minutes=1),
        id="all",
        max_runs=3,
        missed="REPLAY_ALL",
        overlap=OverlapPolicy.ALLOW_PARALLEL,
        window=window,
        timeout=timedelta(seconds=30),
        max_parallel=2,
        catch_up_window=timedelta(hours=1),
        timezone="Europe/Berlin",
        execution_resource_id="shared-resource",
    )(noop)
    job = app.jobs["all"]
    assert (job.max_runs, job.missed, job.overlap) == (
        3,
        MissedRunPolicy.REPLAY_ALL,
        OverlapPolicy.ALLOW_PARALLEL,
    )
    assert (job.window, job.timeout, job.max_parallel) == (window, timedelta(seconds=30), 2)
    assert job.catch_up_window == timedelta(hours=1)
    assert job.execution_resource_id == "shared-resource"


@pytest.mark.parametrize(
    ("kwargs", "every"),
    [
        ({"every": timedelta(seconds=90)}, timedelta(seconds=90)),
        ({"every": 90}, timedelta(seconds=90)),
        ({"minutes": 1, "seconds": 30}, timedelta(seconds=90)),
        ({"days": 1, "hours": 2}, timedelta(hours=26)),
    ],
    ids=["timedelta", "number", "units", "days-hours"],
)
def test_interval_takes_every_or_units(kwargs: dict[str, Any], every: timedelta) -> None:
    app = App()
    app.interval(**kwargs, id="job")(noop)
    assert app.jobs["job"].schedule == Interval(every)


def test_at_takes_instants_strings_or_one_list() -> None:
    app = App()
    first, second = datetime(2026, 1, 1, tzinfo=UTC), "2026-01-02T00:00:00Z"
    app.at(first, second, id="args")(noop)
    app.at([first, second], id="list")(noop)
    app.at(id="none")(noop)  # no instant: a valid schedule that never fires
    assert app.jobs["args"].schedule == app.jobs["list"].schedule == AtTimes([first, second])
    assert app.jobs["none"].schedule == AtTimes([])


def test_add_job_is_the_explicit_path() -> None:
    app = App()

    async def task(context: TaskContext[Any]) -> None: ...

    job = Job("explicit", Interval(60), Task.from_async(task))
    assert app.add_job(job) is job
    assert app.jobs == {"explicit": job}
    with pytest.raises(DuplicateJobError, match=r"'explicit' is already taken by app.add_job"):
        app.add_job(Job("explicit", Interval(60), task))
    with pytest.raises(InvalidJobError, match="add_job\\(\\) takes a Job, got 'explicit'"):
        app.add_job("explicit")  # type: ignore[arg-type]


def test_jobs_is_read_only() -> None:
    app = App()
    with pytest.raises(TypeError):
        app.jobs["x"] = None  # type: ignore[index]


# -- every decoration-time error names the decorated function ----------------------------------


def test_duplicate_id_names_both_functions() -> None:
    app = App()

    @app.interval(seconds=5, id="sync")
    async def first() -> None: ...

    async def second() -> None: ...

    with pytest.raises(DuplicateJobError) as caught:
        app.interval(seconds=5, id="sync")(second)
    message = str(caught.value)
    assert "second" in message
    assert "already taken by" in message
    assert "first" in message
    assert "id='sync-2'" in message  # says how to fix it
    assert list(app.jobs) == ["sync"]


def test_default_ids_of_two_functions_with_one_name_collide() -> None:
    app = App()
    app.interval(seconds=5)(noop)
    with pytest.raises(DuplicateJobError, match=f"on {NAME}.noop: job id '{NAME}.noop'"):
        app.interval(seconds=9)(noop)


def test_bad_cron_expression_names_the_function() -> None:
    app = App()

    async def nightly() -> None: ...

    with pytest.raises(InvalidCronExpression) as caught:
        app.cron("61 * * * *")(nightly)
    assert f"@app.cron(...) on {NAME}." in str(caught.value)
    assert "nightly" in str(caught.value)
    assert "'61 * * * *'" in str(caught.value)
    assert not app.jobs


@pytest.mark.parametrize(
    ("decorate", "written"),
    [
        (lambda app: app.interval(0), "0 seconds"),
        (lambda app: app.interval(-2.5), "-2.5 seconds"),
        (lambda app: app.interval(seconds=0), "seconds=0"),
        (lambda app: app.interval(seconds=-5), "seconds=-5"),
        (lambda app: app.interval(seconds=30, minutes=-1), "seconds=30, minutes=-1"),
        (lambda app: app.interval(hours=-1, days=0), "hours=-1, days=0"),
        (lambda app: app.interval(timedelta(seconds=-5)), "timedelta(seconds=-5)"),
        (lambda app: app.interval(every=timedelta(0)), "timedelta(0)"),
    ],
    ids=[
        "zero",
        "negative",
        "zero-seconds",
        "negative-seconds",
        "units-summing-negative",
        "negative-hours",
        "negative-timedelta",
        "zero-timedelta",
    ],
)
def test_a_period_that_is_not_positive_is_quoted_as_written(decorate: Any, written: str) -> None:
    with pytest.raises(InvalidScheduleError) as caught:
        decorate(App())(noop)
    assert str(caught.value).endswith(
        f": interval of {written} is not positive; give a positive period such as seconds=30"
    )


@pytest.mark.parametrize(
    ("decorate", "error", "text"),
    [
        (lambda app: app.interval(seconds=-5), InvalidScheduleError, "of seconds=-5 is not"),
        (lambda app: app.interval(), InvalidScheduleError, "no period given"),
        (lambda app: app.interval(60, seconds=5), InvalidScheduleError, "both given"),
        (lambda app: app.interval(seconds="5"), InvalidScheduleError, "give numbers"),
        (lambda app: app.at(datetime(2026, 1, 1)), InvalidScheduleError, "naive"),
        (lambda app: app.at("tomorrow"), InvalidScheduleError, "'tomorrow'"),
        (lambda app: app.interval(seconds=5, missed="sometimes"), InvalidPolicyError, "sometimes"),
        (lambda app: app.interval(seconds=5, overlap="queue"), InvalidPolicyError, "'queue'"),
        (lambda app: app.interval(seconds=5, max_runs=-1), InvalidJobError, "max_runs=-1"),
        (lambda app: app.interval(seconds=5, id="has space"), InvalidJobError, "'has space'"),
        (lambda app: app.interval(seconds=5, timezone="Mars/Base"), ConfigurationError, "Mars"),
        (lambda app: app.interval(seconds=5, retries=3), InvalidJobError, "unknown option"),
    ],
    ids=[
        "negative-interval",
        "no-period",
        "every-and-units",
        "unit-not-a-number",
        "naive-instant",
        "unparsable-instant",
        "unknown-missed-policy",
        "unknown-overlap-policy",
        "negative-max-runs",
        "bad-id",
        "unknown-zone",
        "unknown-option",
    ],
)
def test_bad_input_raises_at_decoration_naming_the_function(
    decorate: Any, error: type[Exception], text: str
) -> None:
    app = App()

    async def refresh_cache() -> None: ...

    with pytest.raises(error) as caught:
        decorate(app)(refresh_cache)
    assert "refresh_cache" in str(caught.value)
    assert text in str(caught.value)
    assert not app.jobs


def test_unknown_policy_string_lists_the_choices() -> None:
    app = App()

    async def sync_orders() -> None: ...

    with pytest.raises(InvalidPolicyError) as caught:
        app.interval(seconds=5, missed="catchup")(sync_orders)
    message = str(caught.value)
    assert "sync_orders" in message
    assert "'catchup'" in message
    assert "'catch_up_once'" in message


def test_unresolvable_parameter_names_the_function_and_parameter() -> None:
    app = App()

    async def send_report(recipient: str) -> None: ...

    with pytest.raises(DependencyError) as caught:
        app.interval(seconds=5)(send_report)
    message = str(caught.value)
    assert "send_report" in message
    assert "'recipient'" in message
    assert "Depends" in message


def first_dependency(value: Annotated[int, Depends(lambda: 1)]) -> int:
    return value


def cycle_a(b: Annotated[int, Depends(lambda: 0)]) -> int:  # rebound below to close the cycle
    return b


def cycle_b(a: int = Depends(cycle_a)) -> int:
    return a


cycle_a.__annotations__["b"] = Annotated[int, Depends(cycle_b)]


def test_dependency_cycle_below_the_function_still_names_it() -> None:
    app = App()

    async def uses_cycle(value: int = Depends(cycle_a)) -> None: ...

    with pytest.raises(DependencyCycleError) as caught:
        app.interval(seconds=5)(uses_cycle)
    message = str(caught.value)
    assert "uses_cycle" in message
    assert "cycle_a -> cycle_b -> cycle_a" in message


def test_app_scoped_dependency_needing_the_run_context_names_the_function() -> None:
    app = App()

    def per_run(ctx: RunContext) -> int:
        return ctx.trigger_count

    async def uses_it(value: int = Depends(per_run, scope="app")) -> None: ...

    with pytest.raises(DependencyError, match=r"uses_it.*app-scoped dependency"):
        app.interval(seconds=5)(uses_it)


@pytest.mark.parametrize(
    "options",
    [{"timeout": timedelta(seconds=5)}, {"overlap": "replace"}],
    ids=["timeout", "replace"],
)
def test_timeout_or_replace_on_a_thread_job_names_the_function(options: dict[str, Any]) -> None:
    app = App()

    def blocking_export() -> None: ...

    with pytest.raises(InvalidJobError) as caught:
        app.interval(seconds=5, **options)(blocking_export)
    message = str(caught.value)
    assert "blocking_export" in message
    assert "thread cannot be cancelled" in message
    assert "make the task async" in message


def test_timeout_and_replace_are_fine_on_an_async_job() -> None:
    app = App()
    app.interval(seconds=5, timeout=timedelta(seconds=1), overlap="replace")(noop)
    assert app.jobs[f"{NAME}.noop"].task.cancellable


@pytest.mark.parametrize(
    ("decorator", "example"),
    [
        (lambda app, f: app.interval(f), "@app.interval(minutes=5)"),
        (lambda app, f: app.cron(f), "@app.cron("),
        (lambda app, f: app.at(f), "@app.at("),
    ],
    ids=["interval", "cron", "at"],
)
def test_a_decorator_without_arguments_says_how_to_write_it(decorator: Any, example: str) -> None:
    app = App()
    with pytest.raises(TypeError, match="needs its arguments") as caught:
        decorator(app, noop)
    assert example in str(caught.value)
    assert "noop" in str(caught.value)


def test_decorating_something_not_callable_is_an_error() -> None:
    with pytest.raises(InvalidJobError, match=r"decorates a function.*not 42"):
        App().interval(seconds=5)(42)  # type: ignore[type-var]


# -- the App's own settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"timezone": "Nowhere/City"}, "'Nowhere/City'"),
        ({"history_limit": -1}, "history_limit=-1"),
        ({"terminal_state_policy": "forget"}, "'forget'"),
        ({"store": {}}, "store={} is not a StateStore"),
        ({"guard": "valkey"}, "guard='valkey' is not a ExecutionGuard"),
        ({"clock": 5}, "clock=5 is not a Clock"),
        ({"observers": [print]}, "is not a SchedulerObserver"),
    ],
    ids=["zone", "history", "terminal-policy", "store", "guard", "clock", "observer"],
)
def test_bad_app_settings_raise_at_construction(kwargs: dict[str, Any], text: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as caught:
        App(**kwargs)
    assert text in str(caught.value)


def test_defaults_log_events_and_keep_state_in_memory() -> None:
    app = App()
    assert isinstance(app.store, InMemoryStateStore)
    assert [type(observer) for observer in app.observers] == [LogObserver]
    assert App(observers=[]).observers == ()
    assert str(app.config.timezone) == "UTC"


def test_unknown_job_ids_are_a_clear_key_error() -> None:
    app = App()
    app.interval(seconds=5, id="known")(noop)
    with pytest.raises(KeyError, match="no job with id 'unknown'; the jobs are: 'known'"):
        app.report("unknown")
    with pytest.raises(KeyError, match="the jobs are: none"):
        App().handle("unknown")
    with pytest.raises(RuntimeError, match="the App is not running"):
        app.handle("known")
    assert app.report("known") is None


async def test_add_observer_sees_the_events_from_then_on(clock: FakeClock) -> None:
    app = App(clock=clock, observers=[])
    seen: list[str] = []

    class Names:
        def on_event(self, event: object) -> None:
            seen.append(type(event).__name__)

    @app.interval(seconds=10, max_runs=1, id="job")
    async def job() -> None:
        pass

    app.add_observer(Names())
    async with run_app(app, clock) as runner:
        await runner.advance(seconds=10)
    assert "RunCompleted" in seen
    assert len(app.observers) == 1
    with pytest.raises(ConfigurationError, match="is not a SchedulerObserver"):
        app.add_observer(object())  # type: ignore[arg-type]
