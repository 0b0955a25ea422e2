"""The `ExecutionGuard` contract, run against every adapter in `contracts.GUARD_ADAPTERS`,
then what is particular to `InMemoryExecutionGuard`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cronkit._enums import SkipReason
from cronkit._exceptions import ConfigurationError, InvalidLeaseConfigError
from cronkit._guard import (
    BindableGuard,
    ExecutionGuard,
    ExecutionLease,
    ExecutionSlot,
    InMemoryExecutionGuard,
    validate_lease_config,
)
from cronkit.testing import FakeClock
from tests.contracts import GUARD_ADAPTERS, START, GuardHarness, params, slot


@pytest.fixture(params=params(GUARD_ADAPTERS))
async def execution_guard(request: pytest.FixtureRequest) -> AsyncIterator[GuardHarness]:
    async with GUARD_ADAPTERS[request.param].factory(request) as harness:
        yield harness


async def acquired(harness: GuardHarness, minute: int = 0, **kwargs: Any) -> ExecutionLease:
    lease = await harness.guard.acquire(slot(minute, **kwargs))
    assert lease is not None
    return lease


# -- the contract -----------------------------------------------------------------------------


def test_every_adapter_satisfies_the_protocol(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    assert isinstance(guard, ExecutionGuard)
    assert guard.renew_interval < execution_guard.ttl
    assert guard.on_lost in ("cancel", "continue", "shutdown")


async def test_acquire_a_free_slot(execution_guard: GuardHarness) -> None:
    lease = await acquired(execution_guard)

    assert lease.slot == slot()
    assert lease.token
    assert lease.ttl == execution_guard.ttl
    assert lease.fencing_token >= 1


async def test_a_held_slot_is_contended(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    await acquired(execution_guard)

    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.CONTENDED


async def test_the_same_instant_in_another_zone_is_the_same_slot(
    execution_guard: GuardHarness,
) -> None:
    guard = execution_guard.guard
    await acquired(execution_guard)
    elsewhere = slot().scheduled_at.astimezone(timezone(timedelta(hours=5, minutes=30)))

    assert await guard.acquire(ExecutionSlot("job", "resource", elsewhere)) is None


async def test_another_job_on_the_same_resource_and_instant_is_contended(
    execution_guard: GuardHarness,
) -> None:
    await acquired(execution_guard, job_id="a")

    assert await execution_guard.guard.acquire(slot(job_id="b")) is None


async def test_tokens_are_unique(execution_guard: GuardHarness) -> None:
    leases = [await acquired(execution_guard, minute) for minute in range(5)]

    assert len({lease.token for lease in leases}) == 5


async def test_fencing_token_increases_by_one_per_acquire_on_a_resource(
    execution_guard: GuardHarness,
) -> None:
    first = await acquired(execution_guard, 0)
    await acquired(execution_guard, 0, resource_id="other")
    assert await execution_guard.guard.acquire(slot(0)) is None  # a refusal takes no token
    second = await acquired(execution_guard, 1)
    third = await acquired(execution_guard, 2)

    assert [second.fencing_token, third.fencing_token] == [
        first.fencing_token + 1,
        first.fencing_token + 2,
    ]


async def test_fencing_continues_after_a_slot_is_acquired_again(
    execution_guard: GuardHarness,
) -> None:
    first = await acquired(execution_guard)
    await execution_guard.guard.release(first, completed=False)

    again = await acquired(execution_guard)

    assert again.fencing_token == first.fencing_token + 1
    assert again.token != first.token


async def test_renew_a_held_lease(execution_guard: GuardHarness) -> None:
    lease = await acquired(execution_guard)

    assert await execution_guard.guard.renew(lease) is True


async def test_renewing_keeps_the_lease_past_its_first_ttl(execution_guard: GuardHarness) -> None:
    guard, step = execution_guard.guard, execution_guard.ttl * 0.6
    lease = await acquired(execution_guard)
    await execution_guard.advance(step)
    assert await guard.renew(lease) is True
    await execution_guard.advance(step)

    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.CONTENDED
    assert await guard.renew(lease) is True


async def test_renew_after_expiry_fails_and_the_slot_is_free(
    execution_guard: GuardHarness,
) -> None:
    guard = execution_guard.guard
    lease = await acquired(execution_guard)
    await execution_guard.pass_ttl()

    assert await guard.renew(lease) is False
    assert await guard.acquire(slot()) is not None


async def test_renew_of_a_lease_taken_over_fails(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    stale = await acquired(execution_guard)
    await execution_guard.pass_ttl()
    current = await acquired(execution_guard)

    assert await guard.renew(stale) is False
    assert await guard.renew(current) is True


async def test_release_completed_leaves_a_done_marker(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    lease = await acquired(execution_guard)
    await guard.release(lease, completed=True)

    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.ALREADY_DONE
    assert await guard.renew(lease) is False


async def test_done_marker_outlives_the_ttl_and_expires_after_done_retention(
    execution_guard: GuardHarness,
) -> None:
    guard = execution_guard.guard
    await guard.release(await acquired(execution_guard), completed=True)
    await execution_guard.pass_ttl()
    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.ALREADY_DONE

    await execution_guard.pass_done_retention()

    assert await guard.acquire(slot()) is not None


async def test_release_not_completed_frees_the_slot(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    lease = await acquired(execution_guard)
    await guard.release(lease, completed=False)

    assert await guard.renew(lease) is False
    assert await guard.acquire(slot()) is not None


@pytest.mark.parametrize("completed", [True, False])
async def test_release_with_a_stale_token_does_nothing(
    execution_guard: GuardHarness, completed: bool
) -> None:
    guard = execution_guard.guard
    stale = await acquired(execution_guard)
    await execution_guard.pass_ttl()
    current = await acquired(execution_guard)

    await guard.release(stale, completed=completed)

    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.CONTENDED
    assert await guard.renew(current) is True


async def test_completed_release_after_expiry_marks_the_untaken_occurrence_done(
    execution_guard: GuardHarness,
) -> None:
    # The run outlived its lease, nobody took the occurrence meanwhile: a replica that
    # reaches it late must not run it a second time.
    guard = execution_guard.guard
    lease = await acquired(execution_guard)
    await execution_guard.pass_ttl()

    await guard.release(lease, completed=True)

    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.ALREADY_DONE
    await execution_guard.pass_done_retention()
    assert await guard.acquire(slot()) is not None


async def test_incomplete_release_after_expiry_leaves_the_slot_free(
    execution_guard: GuardHarness,
) -> None:
    guard = execution_guard.guard
    lease = await acquired(execution_guard)
    await execution_guard.pass_ttl()

    await guard.release(lease, completed=False)

    assert await guard.acquire(slot()) is not None


async def test_completed_release_after_expiry_does_not_clobber_a_new_holder(
    execution_guard: GuardHarness,
) -> None:
    guard = execution_guard.guard
    stale = await acquired(execution_guard)
    await execution_guard.pass_ttl()
    current = await acquired(execution_guard)

    await guard.release(stale, completed=True)

    assert await guard.renew(current) is True
    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.CONTENDED
    await guard.release(current, completed=False)  # the slot is the new holder's to free
    again = await acquired(execution_guard)
    assert again.fencing_token == current.fencing_token + 1


async def test_completed_release_after_expiry_keeps_the_new_holders_done_marker(
    execution_guard: GuardHarness,
) -> None:
    guard = execution_guard.guard
    stale = await acquired(execution_guard)
    await execution_guard.pass_ttl()
    current = await acquired(execution_guard)
    await guard.release(current, completed=True)

    await guard.release(stale, completed=False)
    await guard.release(stale, completed=True)

    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.ALREADY_DONE


async def test_releasing_twice_is_harmless(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    lease = await acquired(execution_guard)
    await guard.release(lease, completed=True)
    await guard.release(lease, completed=False)

    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.ALREADY_DONE


async def test_resources_and_occurrences_are_independent(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    held = await acquired(execution_guard, 0)
    done = await acquired(execution_guard, 1)
    await guard.release(done, completed=True)

    assert await guard.acquire(slot(2)) is not None
    assert await guard.acquire(slot(0, resource_id="other")) is not None
    assert await guard.acquire(slot(1, resource_id="other")) is not None
    assert await guard.renew(held) is True


async def test_refusal_reason_follows_the_latest_refusal(execution_guard: GuardHarness) -> None:
    guard = execution_guard.guard
    lease = await acquired(execution_guard)
    assert await guard.acquire(slot()) is None
    assert guard.refusal_reason(slot()) is SkipReason.CONTENDED

    await guard.release(lease, completed=True)
    assert await guard.acquire(slot()) is None

    assert guard.refusal_reason(slot()) is SkipReason.ALREADY_DONE


# -- InMemoryExecutionGuard -------------------------------------------------------------------


def memory_guard(clock: FakeClock | None = None, **kwargs: Any) -> InMemoryExecutionGuard:
    return InMemoryExecutionGuard(clock=clock if clock is not None else FakeClock(), **kwargs)


def test_defaults_and_properties() -> None:
    guard = InMemoryExecutionGuard()

    assert guard.ttl == timedelta(seconds=30)
    assert guard.renew_interval == timedelta(seconds=10)
    assert guard.done_retention == timedelta(hours=24)
    assert guard.on_lost == "cancel"
    assert isinstance(guard, BindableGuard)
    assert repr(guard) == (
        "InMemoryExecutionGuard(ttl=datetime.timedelta(seconds=30), "
        "renew_interval=datetime.timedelta(seconds=10), entries=0)"
    )


@pytest.mark.parametrize("on_lost", ["cancel", "continue", "shutdown"])
def test_every_on_lost_action_is_accepted(on_lost: Any) -> None:
    assert InMemoryExecutionGuard(on_lost=on_lost).on_lost == on_lost


@pytest.mark.parametrize(
    ("kwargs", "quoted"),
    [
        ({"ttl": timedelta(0)}, "ttl=datetime.timedelta(0)"),
        ({"ttl": timedelta(seconds=-1)}, "ttl=datetime.timedelta(days=-1, seconds=86399)"),
        ({"renew_interval": timedelta(0)}, "renew_interval=datetime.timedelta(0)"),
        ({"renew_interval": timedelta(seconds=-5)}, "renew_interval="),
        ({"renew_interval": timedelta(seconds=30)}, "shorter than ttl="),
        (
            {"renew_interval": timedelta(seconds=31)},
            "seconds=31) must be shorter",
        ),
        ({"done_retention": timedelta(seconds=-1)}, "done_retention="),
        ({"on_lost": "ignore"}, "on_lost='ignore' is not a lease-lost action; use one of 'cancel'"),
        ({"on_lost": None}, "on_lost=None"),
        ({"ttl": 30}, "ttl=30 is not a duration"),
        ({"done_retention": None}, "done_retention=None is not a duration"),
    ],
    ids=[
        "ttl-zero",
        "ttl-negative",
        "renew-zero",
        "renew-negative",
        "renew-equals-ttl",
        "renew-beyond-ttl",
        "retention-negative",
        "on-lost-unknown",
        "on-lost-none",
        "ttl-not-timedelta",
        "retention-not-timedelta",
    ],
)
def test_bad_config_is_refused_at_construction(kwargs: dict[str, Any], quoted: str) -> None:
    with pytest.raises(InvalidLeaseConfigError) as caught:
        InMemoryExecutionGuard(**kwargs)

    assert quoted in str(caught.value)
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, ValueError)


def test_validate_lease_config_returns_the_action() -> None:
    action = validate_lease_config(
        ttl=timedelta(seconds=3),
        renew_interval=timedelta(seconds=1),
        done_retention=timedelta(0),
        on_lost="shutdown",
    )

    assert action == "shutdown"
    assert InMemoryExecutionGuard(on_lost=" Continue ").on_lost == "continue"  # type: ignore[arg-type]


async def test_first_fencing_token_is_one_per_resource() -> None:
    guard = memory_guard()

    a = await guard.acquire(slot(resource_id="a"))
    b = await guard.acquire(slot(resource_id="b"))

    assert a is not None
    assert b is not None
    assert (a.fencing_token, b.fencing_token) == (1, 1)


async def test_a_lease_expires_exactly_at_its_ttl() -> None:
    clock = FakeClock(START)
    guard = memory_guard(clock, ttl=timedelta(seconds=30))
    lease = await guard.acquire(slot())
    assert lease is not None

    await clock.advance(timedelta(seconds=29.999))
    assert await guard.acquire(slot()) is None
    await clock.advance(timedelta(milliseconds=1))

    assert await guard.acquire(slot()) is not None
    assert await guard.renew(lease) is False


async def test_a_renewed_lease_expires_ttl_after_the_renewal() -> None:
    clock = FakeClock(START)
    guard = memory_guard(clock, ttl=timedelta(seconds=30))
    lease = await guard.acquire(slot())
    assert lease is not None
    await clock.advance(timedelta(seconds=20))
    assert await guard.renew(lease) is True

    await clock.advance(timedelta(seconds=29.999))
    assert await guard.acquire(slot()) is None
    await clock.advance(timedelta(milliseconds=1))

    assert await guard.acquire(slot()) is not None


async def test_zero_done_retention_keeps_no_marker() -> None:
    guard = memory_guard(done_retention=timedelta(0))
    lease = await guard.acquire(slot())
    assert lease is not None

    await guard.release(lease, completed=True)

    assert await guard.acquire(slot()) is not None


async def test_zero_done_retention_keeps_no_marker_after_expiry_either() -> None:
    clock = FakeClock(START)
    guard = memory_guard(clock, done_retention=timedelta(0))
    lease = await guard.acquire(slot())
    assert lease is not None
    await clock.advance(timedelta(seconds=31))

    await guard.release(lease, completed=True)

    assert await guard.acquire(slot()) is not None


async def test_bind_adopts_the_schedulers_clock() -> None:
    clock = FakeClock(START)
    guard = InMemoryExecutionGuard()
    guard.bind(clock=clock)
    guard.bind(clock=FakeClock(START))  # the first clock wins
    lease = await guard.acquire(slot())
    assert lease is not None

    await clock.advance(timedelta(seconds=31))

    assert await guard.renew(lease) is False


async def test_an_explicit_clock_is_not_replaced_by_bind() -> None:
    clock = FakeClock(START)
    guard = InMemoryExecutionGuard(clock=clock)
    other = FakeClock(START)
    guard.bind(clock=other)
    lease = await guard.acquire(slot())
    assert lease is not None

    await other.advance(timedelta(hours=1))

    assert await guard.renew(lease) is True


async def test_without_any_clock_the_system_clock_is_used() -> None:
    guard = InMemoryExecutionGuard()

    lease = await guard.acquire(slot())

    assert lease is not None
    assert await guard.renew(lease) is True
    guard.bind(clock=FakeClock(START))  # too late: time already runs on the system clock
    assert await guard.renew(lease) is True


def test_refusal_reason_of_a_slot_never_refused_is_contended() -> None:
    assert memory_guard().refusal_reason(slot()) is SkipReason.CONTENDED


async def test_expired_entries_are_purged() -> None:
    clock = FakeClock(START)
    guard = memory_guard(clock, done_retention=timedelta(minutes=1))
    renewed = await guard.acquire(slot(0))
    assert renewed is not None
    done = await guard.acquire(slot(1))
    assert done is not None
    await guard.release(done, completed=True)
    assert await guard.acquire(slot(1)) is None
    for _ in range(5):
        await clock.advance(timedelta(seconds=10))
        assert await guard.renew(renewed)
    await guard.release(renewed, completed=False)

    await clock.advance(timedelta(minutes=2))
    await guard.acquire(slot(2, resource_id="elsewhere"))

    assert "entries=1" in repr(guard)
    assert guard.refusal_reason(slot(1)) is SkipReason.CONTENDED  # the record went too


async def test_schedulers_sharing_one_guard_run_an_occurrence_once() -> None:
    guard = memory_guard()
    occurrence = datetime(2025, 1, 1, 12, tzinfo=UTC)
    outcomes: list[bool] = []
    for replica in range(3):
        lease = await guard.acquire(ExecutionSlot(f"job-{replica}", "shared", occurrence))
        if lease is not None:
            await guard.release(lease, completed=True)
        outcomes.append(lease is not None)

    assert outcomes == [True, False, False]
