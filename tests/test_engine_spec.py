"""The engine against SPEC §3, §4 and §8, rule by rule, through the public names."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from cronkit import (
    AtTimes,
    ConfigurationError,
    CronkitError,
    InMemoryExecutionGuard,
    InMemoryStateStore,
    Interval,
    InvalidJobError,
    InvalidPolicyError,
    Job,
    JobState,
    JobTimeWindow,
    MissedRunPolicy,
    OverlapPolicy,
    RunCompleted,
    RunSkipped,
    RunStatus,
    Scheduler,
    SchedulerConfig,
    SchedulerStopped,
    SkipReason,
    StateLoaded,
    StateRepaired,
    Task,
    TerminalStatePolicy,
    TriggerSource,
)
from cronkit._enums import StopReason
from cronkit.testing import FakeClock
from tests.engine_helpers import T0, Calls, Recorder, at, harness, seconds

MINUTE = timedelta(minutes=1)


class RecordingStore:
    """A `StateStore` that records every call; saves can take fake time or fail."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.inner = InMemoryStateStore()
        self.clock = clock
        self.calls: list[str] = []
        self.saves: list[JobState] = []
        self.save_delay: Callable[[JobState], float] = lambda state: 0.0
        self.fail_on_save: int | None = None  # 1-based number of the save that raises

    async def load(self, job_id: str) -> JobState | None:
        self.calls.append("load")
        return await self.inner.load(job_id)

    async def save(self, state: JobState) -> None:
        self.calls.append("save")
        if len(self.saves) + 1 == self.fail_on_save:
            raise OSError("disk gone")
        delay = self.save_delay(state)
        if delay:
            assert self.clock is not None
            await self.clock.sleep(delay)
        self.saves.append(state)
        await self.inner.save(state)

    async def delete(self, job_id: str) -> None:
        self.calls.append("delete")
        await self.inner.delete(job_id)

    async def close(self) -> None:
        self.calls.append("close")


def stored(job: Job[Any], **fields: Any) -> InMemoryStateStore:
    """A store holding state for `job` (with its fingerprint unless `fields` say otherwise)."""
    store = InMemoryStateStore()
    fields.setdefault("schedule_fingerprint", job.schedule.fingerprint(timezone="UTC"))
    store._states[job.id] = JobState(job.id, **fields)
    return store


# -- RunContext (§3) ----------------------------------------------------------------------------


async def test_run_context_carries_every_field(clock: FakeClock) -> None:
    calls = Calls()
    guard = InMemoryExecutionGuard(ttl=seconds(30), renew_interval=seconds(10))
    h = harness(clock, guard=guard)
    await h.start(Job("ctx", Interval(seconds(10)), calls, timezone="Europe/Berlin", max_runs=1))
    await h.advance(10)
    (context,) = [c.run for c in calls.contexts]
    assert context.job_id == "ctx"
    assert context.scheduled_at == T0 + seconds(10)
    assert context.scheduled_at.utcoffset() == timedelta(0)
    assert context.catch_up is False
    assert getattr(context.timezone, "key", None) == "Europe/Berlin"
    assert context.trigger_count == 1
    assert context.source is TriggerSource.SCHEDULE
    assert isinstance(context.fencing_token, int)
    assert context.started_at == T0 + seconds(10)
    await h.stop()


async def test_parallel_replays_each_see_their_own_trigger_count() -> None:
    clock = FakeClock("2025-01-01T00:00:10Z")
    calls = Calls(hold=5, clock=clock)
    h = harness(clock)
    instants = [at(f"2025-01-01T00:00:0{s}Z") for s in range(1, 6)]
    await h.start(
        Job("job", AtTimes(instants), calls, missed="replay_all", overlap="allow_parallel")
    )
    assert [(c.run.scheduled_at, c.run.trigger_count) for c in calls.contexts] == [
        (instant, n) for n, instant in enumerate(instants, start=1)
    ]
    await h.stop()


# -- start-up (§4 steps 1-3) --------------------------------------------------------------------


async def test_an_invalid_job_fails_before_any_store_access_or_event(clock: FakeClock) -> None:
    store, recorder = RecordingStore(), Recorder()
    scheduler = Scheduler(store=store, observer=recorder, clock=clock)
    with pytest.raises(InvalidJobError, match="'not a job'"):
        await scheduler.run("not a job")  # type: ignore[arg-type]
    assert store.calls == []
    assert recorder.events == []


@pytest.mark.parametrize(
    ("state", "source", "trigger_count", "next_run_at"),
    [
        (None, "new", 0, T0 + seconds(10)),
        ({"trigger_count": 4, "next_run_at": T0 + seconds(3)}, "restored", 4, T0 + seconds(3)),
        ({"trigger_count": 4, "next_run_at": None}, "repaired", 4, T0 + seconds(10)),
    ],
    ids=["new", "restored", "repaired"],
)
async def test_state_loaded_reports_source_count_and_next_run_at(
    clock: FakeClock,
    state: dict[str, Any] | None,
    source: str,
    trigger_count: int,
    next_run_at: datetime,
) -> None:
    job = Job("job", Interval(seconds(10)), Calls())
    h = harness(clock, store=InMemoryStateStore() if state is None else stored(job, **state))
    await h.start(job)
    (loaded,) = h.recorder.of(StateLoaded)
    assert (loaded.source, loaded.trigger_count, loaded.next_run_at) == (
        source,
        trigger_count,
        next_run_at,
    )
    assert loaded.job_id == "job"
    await h.stop()


async def test_a_changed_schedule_keeps_counters_replans_and_saves() -> None:
    clock = FakeClock("2025-01-01T12:00:00Z")
    old = Job("job", Interval(seconds(5)), Calls())
    store = stored(
        old,
        trigger_count=7,
        next_run_at=at("2025-01-01T00:00:00Z"),
        last_run_at=at("2025-01-01T00:00:00Z"),
        last_success_at=at("2025-01-01T00:00:00Z"),
        last_error="ValueError: x",
    )
    h = harness(clock, store=store)
    new = Job("job", Interval(timedelta(hours=1)), Calls())
    await h.start(new)
    saved = await store.load("job")
    assert saved == JobState(
        "job",
        trigger_count=7,
        next_run_at=at("2025-01-01T13:00:00Z"),
        last_run_at=at("2025-01-01T00:00:00Z"),
        last_success_at=at("2025-01-01T00:00:00Z"),
        last_error="ValueError: x",
        schedule_fingerprint=new.schedule.fingerprint(),
    )
    kinds = [type(e) for e in h.recorder.events if isinstance(e, (StateRepaired, StateLoaded))]
    assert kinds == [StateRepaired, StateLoaded]
    assert h.recorder.of(StateLoaded)[0].source == "repaired"
    await h.stop()


async def test_legacy_state_without_a_fingerprint_resumes_from_next_run_at(
    clock: FakeClock,
) -> None:
    calls = Calls()
    job = Job("job", Interval(seconds(10)), calls)
    store = stored(job, trigger_count=3, next_run_at=T0 + seconds(4), schedule_fingerprint=None)
    h = harness(clock, store=store)
    await h.start(job)
    assert h.recorder.of(StateRepaired) == []
    assert h.recorder.of(StateLoaded)[0].source == "restored"
    await h.advance(4)
    assert calls.scheduled == [T0 + seconds(4)]
    saved = await store.load("job")
    assert saved is not None
    assert (saved.trigger_count, saved.schedule_fingerprint) == (4, job.schedule.fingerprint())
    await h.stop()


@pytest.mark.parametrize(
    ("max_runs", "trigger_count"), [(0, 0), (3, 3), (3, 5)], ids=["zero", "reached", "lowered"]
)
async def test_stored_state_at_max_runs_ends_at_once(
    clock: FakeClock, max_runs: int, trigger_count: int
) -> None:
    calls = Calls()
    job = Job("job", Interval(timedelta(hours=1)), calls, max_runs=max_runs)
    store = stored(job, trigger_count=trigger_count, next_run_at=T0 + timedelta(minutes=30))
    h = harness(clock, store=store)
    await h.start(job)
    assert h.task is not None
    assert h.task.done(), "the finished job waited for next_run_at"
    report = h.task.result()
    assert report.stop_reason is StopReason.TERMINAL
    assert calls.contexts == []
    saved = await store.load("job")
    assert saved is not None
    assert (saved.trigger_count, saved.next_run_at) == (trigger_count, None)


# -- missed-run policies, missed_after, catch_up_window (§3, §4) ---------------------------------

LATE = {"on_the_boundary": timedelta(seconds=1), "past_it": timedelta(seconds=1, microseconds=1)}


@pytest.mark.parametrize("lateness", sorted(LATE))
@pytest.mark.parametrize("policy", list(MissedRunPolicy), ids=str)
async def test_missed_after_boundary(policy: MissedRunPolicy, lateness: str) -> None:
    """An occurrence seen exactly `missed_after` late is not missed; a microsecond more is."""
    occurrence = at("2025-01-01T00:00:10Z")
    clock = FakeClock(occurrence + LATE[lateness])
    calls = Calls()
    job = Job("job", Interval(seconds(10)), calls, missed=policy)
    h = harness(clock, store=stored(job, next_run_at=occurrence))
    await h.start(job)
    missed = lateness == "past_it"
    if policy is MissedRunPolicy.SKIP and missed:
        assert calls.contexts == []
        (skip,) = h.recorder.of(RunSkipped)
        assert (skip.reason, skip.count, skip.scheduled_at) == (SkipReason.MISSED, 1, occurrence)
    else:
        assert [(c.run.scheduled_at, c.run.catch_up) for c in calls.contexts] == [
            (occurrence, missed)
        ]
    await h.stop()


async def test_catch_up_window_keeps_an_occurrence_exactly_at_its_edge() -> None:
    clock = FakeClock("2025-01-01T10:00:00Z")
    calls = Calls()
    job = Job(
        "job", Interval(MINUTE), calls, missed="replay_all", catch_up_window=timedelta(minutes=3)
    )
    h = harness(clock, store=stored(job, next_run_at=at("2025-01-01T00:01:00Z")))
    await h.start(job)
    assert calls.scheduled == [at(f"2025-01-01T{hm}:00Z") for hm in ("09:57", "09:58", "09:59")] + [
        at("2025-01-01T10:00:00Z")
    ]
    (skip,) = h.recorder.of(RunSkipped)
    assert (skip.reason, skip.count, skip.scheduled_at) == (
        SkipReason.MISSED,
        596,
        at("2025-01-01T09:56:00Z"),
    )
    await h.stop()


REPLAY_STARTS = {
    "forbid": [10, 15, 20, 25, 30],
    "queue_one": [10, 15, 20, 25, 30],
    "allow_parallel": [10, 10, 10, 10, 10],
}


@pytest.mark.parametrize("overlap", list(OverlapPolicy), ids=str)
async def test_replay_all_with_each_overlap_policy(overlap: OverlapPolicy) -> None:
    clock = FakeClock("2025-01-01T00:00:10Z")
    calls = Calls(hold=5, clock=clock)
    instants = [at(f"2025-01-01T00:00:0{s}Z") for s in range(1, 6)]
    h = harness(clock)
    await h.start(Job("job", AtTimes(instants), calls, missed="replay_all", overlap=overlap))
    await h.advance(60)
    report = await h.stop()
    assert h.recorder.of(RunSkipped) == []
    assert report.state.trigger_count == 5
    if overlap is OverlapPolicy.REPLACE:
        # Replays do not wait under REPLACE: each one replaces the one before it.
        assert [(r.scheduled_at, r.status) for r in report.history] == [
            (instant, RunStatus.CANCELLED) for instant in instants[:4]
        ] + [(instants[4], RunStatus.SUCCESS)]
    else:
        assert sorted(r.scheduled_at for r in report.history) == instants
        assert [int((r.started_at - T0).total_seconds()) for r in report.history] == (
            REPLAY_STARTS[overlap.value]
        )
        assert all(r.catch_up for r in report.history)


# -- max_runs accounting (§3) -------------------------------------------------------------------


async def test_max_runs_counts_occurrences_dropped_by_overlap(clock: FakeClock) -> None:
    calls = Calls(hold=25, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, max_runs=3))
    await h.advance(60)
    report = await h.stop()
    assert calls.scheduled == [T0 + seconds(10)]
    assert (report.state.trigger_count, report.runs, report.skipped) == (3, 1, 2)
    assert report.stop_reason is StopReason.TERMINAL


async def test_max_runs_counts_occurrences_outside_the_window(clock: FakeClock) -> None:
    calls = Calls()
    never = JobTimeWindow(weekdays="sun")  # 2025-01-01 is a Wednesday
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, window=never, max_runs=2))
    await h.advance(30)
    report = await h.stop()
    assert calls.contexts == []
    assert report.state.trigger_count == 2
    assert report.last_skip_reason is SkipReason.OUTSIDE_TIME_WINDOW
    assert report.stop_reason is StopReason.TERMINAL


async def test_manual_runs_do_not_count_toward_max_runs(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, max_runs=1))
    await h.advance(5)
    h.scheduler.handle().trigger_now()
    await clock.settle()
    assert h.report("job").state.trigger_count == 0
    await h.advance(5)
    report = await h.stop()
    assert [(c.run.source, c.run.scheduled_at) for c in calls.contexts] == [
        (TriggerSource.MANUAL, T0 + seconds(5)),
        (TriggerSource.SCHEDULE, T0 + seconds(10)),
    ]
    assert report.stop_reason is StopReason.TERMINAL


# -- state saved on consume and on completion (§4) ----------------------------------------------


async def test_state_is_saved_on_consume_before_the_run_and_on_completion(
    clock: FakeClock,
) -> None:
    store = RecordingStore()
    seen: list[JobState] = []

    async def task(context: Any) -> None:
        seen.append(store.saves[-1])

    h = harness(clock, store=store)
    await h.start(Job("job", Interval(seconds(10)), task, max_runs=1))
    await h.advance(10)
    (at_start,) = seen
    assert (at_start.trigger_count, at_start.next_run_at) == (1, None)
    assert at_start.last_success_at is None
    assert store.saves[-1].last_success_at == T0 + seconds(10)
    assert store.calls == ["load", "save", "save", "save"]  # new, consumed, completed
    await h.stop()


async def test_last_run_at_is_the_start_and_last_success_at_the_finish_of_a_run() -> None:
    """As in the crate (§6); the scheduled instants are in the history."""
    clock = FakeClock("2025-01-01T12:00:30Z")
    outcomes: list[Exception | None] = [None, ValueError("x")]

    async def task(context: Any) -> None:
        await clock.sleep(2)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    job = Job("job", Interval(MINUTE), task, max_runs=2)
    store = stored(job, next_run_at=at("2025-01-01T12:00:00Z"))  # due 30 s ago: a catch-up
    h = harness(clock, store=store)
    await h.start(job)
    await h.advance(1)
    saved = await store.load("job")
    assert saved is not None
    assert saved.last_run_at is None  # the run has started but not completed
    await h.advance(1)
    saved = await store.load("job")
    assert saved is not None
    assert saved.last_run_at == at("2025-01-01T12:00:30Z")
    assert saved.last_success_at == at("2025-01-01T12:00:32Z")
    await h.advance(30)  # the run of 12:01:00 fails at 12:01:02
    report = await h.stop()
    assert report.state.last_run_at == at("2025-01-01T12:01:00Z")
    assert report.state.last_success_at == at("2025-01-01T12:00:32Z")
    assert report.state.last_error == "ValueError: x"
    assert [r.scheduled_at for r in report.history] == [
        at("2025-01-01T12:00:00Z"),
        at("2025-01-01T12:01:00Z"),
    ]


# -- overlap and window (§4) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overlap", "runs", "skips"),
    [
        # 21:10 runs until 21:35; 21:20 is outside and does not take the queue; 21:30 waits
        # and starts at 21:35 (inside); 21:40 waits and is checked again at 22:00 (outside).
        ("queue_one", ["21:10", "21:30"], [("outside", "21:20"), ("outside", "21:40")]),
        # 21:20 is outside: it must not cancel 21:10; 21:30 replaces it.
        ("replace", ["21:10", "21:30", "21:40"], [("outside", "21:20")]),
        # Outside is outside, active run or not; 21:40 finds 21:10 ended (21:35).
        ("forbid", ["21:10", "21:40"], [("outside", "21:20"), ("overlap", "21:30")]),
    ],
    ids=["queue_one", "replace", "forbid"],
)
async def test_the_window_is_checked_before_the_overlap_policy(
    overlap: str, runs: list[str], skips: list[tuple[str, str]]
) -> None:
    clock = FakeClock("2025-01-03T21:00:00Z")
    calls = Calls(hold=25 * 60, clock=clock)
    window = JobTimeWindow(segments=["21:00-21:15", "21:30-22:00"])
    job = Job("job", Interval(timedelta(minutes=10)), calls, overlap=overlap, window=window)
    h = harness(clock)
    await h.start(job)
    await h.advance(timedelta(minutes=45))
    h.scheduler.handle().pause()
    await h.advance(timedelta(minutes=45))
    report = await h.stop()

    def hm(instant: datetime) -> str:
        return instant.strftime("%H:%M")

    reasons = {SkipReason.OUTSIDE_TIME_WINDOW: "outside", SkipReason.OVERLAP: "overlap"}
    assert [hm(c.run.scheduled_at) for c in calls.contexts] == runs
    assert [(reasons[s.reason], hm(s.scheduled_at)) for s in h.recorder.of(RunSkipped)] == skips
    if overlap == "replace":  # 21:10 was replaced by 21:30, not by 21:20
        first = report.history[0]
        assert (hm(first.scheduled_at), first.status, hm(first.finished_at)) == (
            "21:10",
            RunStatus.CANCELLED,
            "21:30",
        )


async def test_trigger_now_outside_the_window_is_skipped(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    never = JobTimeWindow(weekdays="sun")
    await h.start(Job("job", Interval(timedelta(hours=1)), calls, window=never))
    h.scheduler.handle().trigger_now()
    await clock.settle()
    assert calls.contexts == []
    (skip,) = h.recorder.of(RunSkipped)
    assert (skip.reason, skip.scheduled_at) == (SkipReason.OUTSIDE_TIME_WINDOW, T0)
    await h.stop()


async def test_last_skip_reason_follows_the_latest_skip_of_any_kind(clock: FakeClock) -> None:
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), Calls(hold=15, clock=clock), missed="skip"))
    await h.advance(20)
    assert h.report("job").last_skip_reason is SkipReason.OVERLAP
    h.scheduler.handle().pause()
    await h.advance(30)
    h.scheduler.handle().resume()
    await clock.settle()
    assert h.report("job").last_skip_reason is SkipReason.MISSED
    await h.stop()


# -- history, records, outcomes (§3, §4) --------------------------------------------------------


async def test_history_is_in_completion_order(clock: FakeClock) -> None:
    async def task(context: Any) -> None:
        await clock.sleep(30 if context.run.scheduled_at == T0 + seconds(10) else 5)

    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), task, overlap="allow_parallel", max_runs=2))
    await h.advance(60)
    report = await h.stop()
    assert [(r.scheduled_at, r.finished_at) for r in report.history] == [
        (T0 + seconds(20), T0 + seconds(25)),
        (T0 + seconds(10), T0 + seconds(40)),
    ]


async def test_history_limit_zero_keeps_no_history(clock: FakeClock) -> None:
    h = harness(clock, config=SchedulerConfig(history_limit=0))
    await h.start(Job("job", Interval(seconds(1)), Calls(), max_runs=3))
    await h.advance(5)
    report = await h.stop()
    assert (report.history, report.runs) == ((), 3)


class DiskFull(Exception):
    pass


async def test_run_record_and_run_completed_of_a_failed_run(clock: FakeClock) -> None:
    async def task(context: Any) -> None:
        await clock.sleep(2)
        raise DiskFull("no space left on /var")

    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), task, max_runs=1))
    await h.advance(20)
    report = await h.stop()
    (record,) = report.history
    assert (
        record.scheduled_at,
        record.started_at,
        record.finished_at,
        record.catch_up,
        record.status,
        record.error,
        record.source,
    ) == (
        T0 + seconds(10),
        T0 + seconds(10),
        T0 + seconds(12),
        False,
        RunStatus.FAILED,
        "DiskFull: no space left on /var",
        TriggerSource.SCHEDULE,
    )
    (completed,) = h.recorder.of(RunCompleted)
    assert (completed.status, completed.error, completed.duration) == (
        RunStatus.FAILED,
        "DiskFull: no space left on /var",
        seconds(2),
    )
    assert report.state.last_error == "DiskFull: no space left on /var"


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (RunStatus.SUCCESS, "success"),
        (RunStatus.FAILED, "failed"),
        (RunStatus.TIMED_OUT, "timed_out"),
        (RunStatus.CANCELLED, "cancelled"),
        (SkipReason.OUTSIDE_TIME_WINDOW, "outside_time_window"),
        (TriggerSource.MANUAL, "manual"),
    ],
    ids=str,
)
def test_enum_values(member: Any, value: str) -> None:
    assert member == value
    assert type(member)(value) is member


@pytest.mark.parametrize(
    ("kwargs", "attribute", "expected"),
    [
        ({"missed": "replay_all"}, "missed", MissedRunPolicy.REPLAY_ALL),
        ({"missed": "skip"}, "missed", MissedRunPolicy.SKIP),
        ({"overlap": "queue_one"}, "overlap", OverlapPolicy.QUEUE_ONE),
        ({"overlap": "allow_parallel"}, "overlap", OverlapPolicy.ALLOW_PARALLEL),
    ],
    ids=["replay_all", "skip", "queue_one", "allow_parallel"],
)
def test_job_policies_accept_their_string_values(
    kwargs: dict[str, str], attribute: str, expected: object
) -> None:
    assert getattr(Job("job", Interval(seconds(1)), Calls(), **kwargs), attribute) is expected


def test_config_policy_accepts_its_string_value() -> None:
    policy = SchedulerConfig(terminal_state_policy="delete").terminal_state_policy
    assert policy is TerminalStatePolicy.DELETE


# -- fatal errors: store, BaseException (§3, §4) ------------------------------------------------


async def test_a_store_failing_on_the_completion_save_stops_the_job(clock: FakeClock) -> None:
    store = RecordingStore()
    store.fail_on_save = 3  # new state, consumed, completed <- this one
    scheduler = Scheduler(store=store, clock=clock)
    run = asyncio.create_task(scheduler.run(Job("job", Interval(timedelta(hours=1)), Calls())))
    await clock.advance(timedelta(hours=1))
    assert run.done()
    with pytest.raises(OSError, match="disk gone"):
        await run


class Abort(BaseException):
    pass


def _raise_system_exit(context: Any) -> None:
    raise SystemExit(3)


async def _raise_abort(context: Any) -> None:
    raise Abort("stop everything")


async def _raise_cancelled(context: Any) -> None:
    raise asyncio.CancelledError()


@pytest.mark.parametrize(
    ("task", "error"),
    [
        (Task.from_async(_raise_abort), Abort),
        (Task.from_sync(_raise_system_exit), SystemExit),
        (Task.from_async(_raise_cancelled), asyncio.CancelledError),
        (Task.from_blocking(_raise_system_exit), SystemExit),
    ],
    ids=["async-custom", "sync-system-exit", "async-cancelled", "blocking-system-exit"],
)
async def test_base_exceptions_of_a_task_end_run_with_them(
    clock: FakeClock, task: Task[Any], error: type[BaseException]
) -> None:
    # Awaited here, not in a task of its own: asyncio re-raises a task's SystemExit out of
    # the event loop, past any `pytest.raises`.
    scheduler = Scheduler(clock=clock)

    async def drive() -> None:
        await clock.advance(10)
        scheduler.handle().cancel()  # ends run() if the error was swallowed

    driver = asyncio.create_task(drive())
    with pytest.raises(error):
        await scheduler.run(Job("job", Interval(seconds(10)), task))
    await driver


# -- control (§4) -------------------------------------------------------------------------------


async def test_shutdown_drops_the_queued_trigger_and_waits(clock: FakeClock) -> None:
    calls = Calls(hold=30, clock=clock)
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls, overlap="queue_one"))
    await h.advance(25)  # 10 runs, 20 waits in the queue
    h.scheduler.handle().shutdown()
    await clock.settle()
    (skip,) = h.recorder.of(RunSkipped)
    assert (skip.reason, skip.scheduled_at) == (SkipReason.OVERLAP, T0 + seconds(20))
    report = await h.stop()
    assert [(r.scheduled_at, r.status, r.finished_at) for r in report.history] == [
        (T0 + seconds(10), RunStatus.SUCCESS, T0 + seconds(40))
    ]
    assert report.stop_reason is StopReason.SHUTDOWN


async def test_a_later_shutdown_with_a_timeout_bounds_the_wait(clock: FakeClock) -> None:
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), Calls(hold=300, clock=clock)))
    await h.advance(15)
    h.scheduler.handle().shutdown()
    await h.advance(5)
    h.scheduler.handle().shutdown(timedelta(seconds=10))
    await h.advance(10)
    assert h.task is not None
    assert h.task.done()
    report = h.task.result()
    assert [(r.status, r.finished_at) for r in report.history] == [
        (RunStatus.CANCELLED, T0 + seconds(30))
    ]


async def test_cancel_while_a_shutdown_waits_ends_as_cancelled(clock: FakeClock) -> None:
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), Calls(hold=300, clock=clock)))
    await h.advance(15)
    h.scheduler.handle().shutdown()
    await h.advance(5)
    h.scheduler.handle().cancel()
    await clock.settle()
    assert h.task is not None
    assert h.task.done()
    report = h.task.result()
    assert [(r.status, r.finished_at) for r in report.history] == [
        (RunStatus.CANCELLED, T0 + seconds(20))
    ]
    assert report.stop_reason is StopReason.CANCELLED
    assert h.recorder.of(SchedulerStopped)[-1].reason is StopReason.CANCELLED


async def test_cancelling_run_propagates_and_cancels_the_active_run(clock: FakeClock) -> None:
    calls = Calls(hold=30, clock=clock)
    scheduler = Scheduler(clock=clock)
    run = asyncio.create_task(scheduler.run(Job("job", Interval(seconds(10)), calls)))
    await clock.advance(15)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await clock.advance(60)
    assert (len(calls.contexts), calls.finished) == (1, 0)
    assert scheduler.running == ()


@pytest.mark.parametrize("timeout", [5, timedelta(seconds=-1)], ids=["number", "negative"])
def test_shutdown_timeout_must_be_a_timedelta(timeout: Any) -> None:
    handle = Scheduler(clock=FakeClock()).handle()
    with pytest.raises(ConfigurationError, match=re.escape(f"timeout={timeout!r}")):
        handle.shutdown(timeout)


async def test_cancel_during_the_consume_save_starts_nothing(clock: FakeClock) -> None:
    store = RecordingStore(clock)
    store.save_delay = lambda state: 5.0 if state.trigger_count else 0.0
    calls = Calls(hold=30, clock=clock)
    h = harness(clock, store=store)
    await h.start(Job("job", Interval(seconds(10)), calls))
    await h.advance(12)  # the consume save of 00:10 lasts until 00:15
    h.scheduler.handle().cancel()
    report = await h.stop()
    assert calls.contexts == []
    assert report.stop_reason is StopReason.CANCELLED
    assert [r.status for r in report.history] == [RunStatus.CANCELLED]


async def test_cancel_during_the_completion_save_keeps_the_outcome(clock: FakeClock) -> None:
    store = RecordingStore(clock)
    store.save_delay = lambda state: 5.0 if state.last_run_at is not None else 0.0
    h = harness(clock, store=store)
    await h.start(Job("job", Interval(seconds(10)), Calls(hold=2, clock=clock)))
    await h.advance(14)  # the run ended at 00:12; its save lasts until 00:17
    h.scheduler.handle().cancel()
    report = await h.stop()
    assert [r.status for r in report.history] == [RunStatus.SUCCESS]
    saved = await store.load("job")
    assert saved is not None
    assert (saved.last_run_at, saved.last_success_at) == (T0 + seconds(10), T0 + seconds(12))


async def test_resume_sends_what_came_due_through_catch_up_once(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls))
    h.scheduler.handle().pause()
    await h.advance(45)
    assert calls.contexts == []
    h.scheduler.handle().resume()
    await clock.settle()
    assert [(c.run.scheduled_at, c.run.catch_up) for c in calls.contexts] == [
        (T0 + seconds(40), True)
    ]
    assert h.report("job").state.trigger_count == 4
    await h.stop()


async def test_trigger_now_runs_while_paused(clock: FakeClock) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), calls))
    h.scheduler.handle().pause()
    await h.advance(5)
    h.scheduler.handle().trigger_now()
    await clock.settle()
    assert [c.run.source for c in calls.contexts] == [TriggerSource.MANUAL]
    await h.stop()


@pytest.mark.parametrize("reason", list(StopReason), ids=str)
async def test_run_ends_with_scheduler_stopped(clock: FakeClock, reason: StopReason) -> None:
    h = harness(clock)
    await h.start(Job("job", Interval(seconds(10)), Calls(), max_runs=1))
    if reason is StopReason.TERMINAL:
        await h.advance(10)
    elif reason is StopReason.CANCELLED:
        h.scheduler.handle().cancel()
    elif reason is StopReason.SHUTDOWN:
        h.scheduler.handle().shutdown()
    report = await h.stop()
    assert report.stop_reason is reason
    (stopped,) = h.recorder.of(SchedulerStopped)
    assert (stopped.job_id, stopped.reason) == ("job", reason)
    assert h.recorder.events[-1] is stopped


# -- wall-clock steps (§4, §12) -----------------------------------------------------------------


@pytest.mark.parametrize("step", [timedelta(hours=1), timedelta(hours=-1)], ids=["+1h", "-1h"])
async def test_wall_clock_step_with_an_interval(clock: FakeClock, step: timedelta) -> None:
    calls = Calls()
    h = harness(clock)
    await h.start(Job("job", Interval(timedelta(minutes=10)), calls))
    await h.advance(timedelta(minutes=5))
    clock.step_wall(step)
    await clock.settle()
    if step > timedelta(0):
        # 00:10 .. 01:00 came due with the step: CATCH_UP_ONCE runs once, at once, for 01:00.
        assert [(c.run.scheduled_at, c.run.catch_up) for c in calls.contexts] == [
            (at("2025-01-01T01:00:00Z"), True)
        ]
        await h.advance(timedelta(minutes=5))
        assert calls.scheduled[-1] == at("2025-01-01T01:10:00Z")
        assert h.history("job")[-1].started_at == at("2025-01-01T01:10:00Z")
    else:
        await h.advance(timedelta(minutes=65))
        assert calls.scheduled == [at("2025-01-01T00:10:00Z")]
        assert not calls.contexts[0].run.catch_up
    assert len(calls.scheduled) == len(set(calls.scheduled))
    await h.stop()


# -- bad input at construction (§11) ------------------------------------------------------------


def _job(**kwargs: Any) -> Callable[[], object]:
    args = {"id": "job", "schedule": Interval(seconds(1)), "task": Calls(), **kwargs}
    return lambda: Job(**args)


def _blocking(context: Any) -> None:
    pass


LONG_ID = "x" * 201

BAD_INPUT: list[tuple[str, Callable[[], object], type[CronkitError], str]] = [
    ("empty-id", _job(id=""), InvalidJobError, "''"),
    ("id-with-space", _job(id="nightly report"), InvalidJobError, "'nightly report'"),
    ("id-with-tab", _job(id="a\tb"), InvalidJobError, repr("a\tb")),
    ("id-too-long", _job(id=LONG_ID), InvalidJobError, repr(LONG_ID)),
    ("id-not-text", _job(id=42), InvalidJobError, "42"),
    ("unknown-missed", _job(missed="sometimes"), InvalidPolicyError, "'sometimes'"),
    ("unknown-overlap", _job(overlap="queue"), InvalidPolicyError, "'queue'"),
    (
        "timeout-on-blocking",
        _job(task=_blocking, timeout=seconds(5)),
        InvalidJobError,
        "timeout=datetime.timedelta(seconds=5)",
    ),
    (
        "timeout-on-sync",
        _job(task=Task.from_sync(_blocking), timeout=seconds(5)),
        InvalidJobError,
        "timeout=datetime.timedelta(seconds=5)",
    ),
    ("replace-on-blocking", _job(task=_blocking, overlap="replace"), InvalidJobError, "replace"),
    (
        "replace-on-sync",
        _job(task=Task.from_sync(_blocking), overlap=OverlapPolicy.REPLACE),
        InvalidJobError,
        "replace",
    ),
    ("negative-max-runs", _job(max_runs=-1), InvalidJobError, "max_runs=-1"),
    ("zero-max-parallel", _job(max_parallel=0), InvalidJobError, "max_parallel=0"),
    ("zero-timeout", _job(timeout=timedelta(0)), InvalidJobError, "timeout="),
    (
        "negative-catch-up-window",
        _job(catch_up_window=-MINUTE),
        InvalidJobError,
        "catch_up_window=",
    ),
    ("unknown-zone", _job(timezone="Mars/Olympus"), ConfigurationError, "'Mars/Olympus'"),
    (
        "negative-history",
        lambda: SchedulerConfig(history_limit=-1),
        ConfigurationError,
        "history_limit=-1",
    ),
    (
        "negative-missed-after",
        lambda: SchedulerConfig(missed_after=-MINUTE),
        ConfigurationError,
        "missed_after=",
    ),
    (
        "number-missed-after",
        lambda: SchedulerConfig(missed_after=5),
        ConfigurationError,
        "missed_after=5",
    ),
    (
        "unknown-terminal-policy",
        lambda: SchedulerConfig(terminal_state_policy="forever"),
        InvalidPolicyError,
        "'forever'",
    ),
    (
        "unknown-config-zone",
        lambda: SchedulerConfig(timezone="Mars/Olympus"),
        ConfigurationError,
        "'Mars/Olympus'",
    ),
]


@pytest.mark.parametrize(
    ("build", "error", "fragment"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_raises_at_construction_naming_the_value(
    build: Callable[[], object], error: type[CronkitError], fragment: str
) -> None:
    with pytest.raises(error) as raised:
        build()
    assert isinstance(raised.value, CronkitError)
    assert isinstance(raised.value, ValueError)
    assert fragment in str(raised.value)


@pytest.mark.parametrize(
    ("next_run_at", "expected"),
    [
        # 2025-12-24 was next; 2025-06-01 was added before it and has not come yet.
        ("2025-12-24T18:00:00Z", "2025-06-01T00:00:00Z"),
        # 2025-02-01 came due while the job was down: it is still owed.
        ("2025-02-01T00:00:00Z", "2025-02-01T00:00:00Z"),
    ],
    ids=["future-next", "past-next"],
)
async def test_an_edited_at_times_list_is_replanned_from_now(
    next_run_at: str, expected: str
) -> None:
    clock = FakeClock("2025-03-01T00:00:00Z")
    old = AtTimes(["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", "2025-12-24T18:00:00Z"])
    store = InMemoryStateStore()
    store._states["job"] = JobState(
        "job",
        trigger_count=1,
        next_run_at=at(next_run_at),
        last_run_at=at("2025-01-01T00:00:00Z"),
        schedule_fingerprint=old.fingerprint(),
    )
    new = AtTimes([*old.instants, at("2025-06-01T00:00:00Z")])
    h = harness(clock, store=store)
    await h.start(Job("job", new, Calls(), missed="skip"))
    (repaired,) = h.recorder.of(StateRepaired)
    assert repaired.repaired_next_run_at == at(expected)
    await h.stop()


@pytest.mark.parametrize(
    ("policy", "runs", "skipped"),
    [
        ("skip", [], 3),
        ("catch_up_once", [("00:03", True)], 0),
        ("replay_all", [("00:01", True), ("00:02", True), ("00:03", True)], 0),
    ],
    ids=["skip", "catch_up_once", "replay_all"],
)
async def test_past_instants_of_a_new_job_are_due_at_start(
    policy: str, runs: list[tuple[str, bool]], skipped: int
) -> None:
    clock = FakeClock("2025-01-01T00:05:00Z")
    calls = Calls()
    h = harness(clock)
    instants = [f"2025-01-01T00:0{m}:00Z" for m in (1, 2, 3)] + ["2025-01-01T00:09:00Z"]
    await h.start(Job("job", AtTimes(instants), calls, missed=policy))
    assert [(c.run.scheduled_at.strftime("%H:%M"), c.run.catch_up) for c in calls.contexts] == runs
    report = h.report("job")
    assert (report.state.trigger_count, report.skipped) == (3, skipped)
    assert report.state.next_run_at == at("2025-01-01T00:09:00Z")
    await h.stop()


async def test_trigger_now_goes_through_the_guard(clock: FakeClock) -> None:
    calls = Calls()
    guard = InMemoryExecutionGuard(ttl=seconds(30), renew_interval=seconds(10))
    h = harness(clock, guard=guard)
    await h.start(Job("job", Interval(timedelta(hours=1)), calls))
    await h.advance(5)
    h.scheduler.handle().trigger_now()
    await clock.settle()
    (context,) = [c.run for c in calls.contexts]
    assert (context.source, context.scheduled_at) == (TriggerSource.MANUAL, T0 + seconds(5))
    assert context.fencing_token is not None
    assert h.report("job").state.next_run_at == T0 + timedelta(hours=1)
    await h.stop()
