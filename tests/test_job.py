"""`Job` and `Task`: construction, coercion and the errors of bad input."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronkit import CronkitError, Interval, InvalidJobError, Job, RunContext, Task, TaskContext
from cronkit._enums import TriggerSource
from cronkit._job import is_async_callable
from cronkit.testing import FakeClock


async def work(context: TaskContext[Any], extra: int = 0) -> None:
    context.deps.append(extra)


class AsyncCallable:
    async def __call__(self, context: TaskContext[Any]) -> None:
        pass


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (work, True),
        (functools.partial(functools.partial(work, extra=1)), True),
        (AsyncCallable(), True),
        (print, False),
        (lambda context: None, False),
    ],
    ids=["coroutine-function", "nested-partial", "async-call", "builtin", "lambda"],
)
def test_is_async_callable(obj: object, expected: bool) -> None:
    assert is_async_callable(obj) is expected


async def test_a_task_invokes_its_function_by_kind() -> None:
    calls: list[int] = []
    context = TaskContext(
        RunContext(
            "job",
            datetime(2025, 1, 1, tzinfo=UTC),
            False,
            UTC,
            1,
            TriggerSource.SCHEDULE,
            None,
            datetime(2025, 1, 1, tzinfo=UTC),
        ),
        calls,
    )
    clock = FakeClock()
    await Task.from_async(functools.partial(work, extra=1)).invoke(context, clock)
    await Task.from_sync(lambda ctx: ctx.deps.append(2)).invoke(context, clock)
    await Task.from_blocking(lambda ctx: ctx.deps.append(3)).invoke(context, clock)
    assert calls == [1, 2, 3]
    assert Task.coerce(work).kind == "async"
    assert Task.coerce(lambda ctx: None).kind == "blocking"


EVERY = Interval(timedelta(seconds=1))


@pytest.mark.parametrize(
    ("kwargs", "quoted"),
    [
        ({"schedule": "*/5 * * * *"}, "'*/5 * * * *'"),
        ({"task": 42}, "42"),
        ({"timeout": 5}, "timeout=5"),
        ({"window": "mon-fri"}, "'mon-fri'"),
        ({"catch_up_window": timedelta(0)}, "catch_up_window=datetime.timedelta(0)"),
        ({"max_runs": -1}, "max_runs=-1 must be a whole number >= 0"),
        ({"max_runs": True}, "max_runs=True must be a whole number >= 0"),
        ({"max_runs": 2.0}, "max_runs=2.0 must be a whole number >= 0"),
        ({"max_parallel": 0}, "max_parallel=0 must be a whole number >= 1"),
        ({"max_parallel": True}, "max_parallel=True must be a whole number >= 1"),
    ],
    ids=[
        "schedule-not-a-schedule",
        "task-not-callable",
        "timeout-not-a-timedelta",
        "window-not-a-window",
        "catch-up-window-zero",
        "max-runs-negative",
        "max-runs-bool",
        "max-runs-float",
        "max-parallel-zero",
        "max-parallel-bool",
    ],
)
def test_bad_job_arguments_are_refused_naming_the_value(
    kwargs: dict[str, Any], quoted: str
) -> None:
    arguments: dict[str, Any] = {"schedule": EVERY, "task": work, **kwargs}
    schedule, task = arguments.pop("schedule"), arguments.pop("task")
    with pytest.raises(InvalidJobError) as caught:
        Job("job", schedule, task, **arguments)
    assert isinstance(caught.value, CronkitError)
    assert isinstance(caught.value, ValueError)
    assert quoted in str(caught.value)


def test_repr_names_the_job_and_its_schedule() -> None:
    assert repr(Job("nightly", EVERY, work)) == f"Job(id='nightly', schedule={EVERY!r})"
