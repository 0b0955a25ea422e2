"""The `StateStore` contract, run against every adapter in `contracts.STORE_ADAPTERS`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cronkit._exceptions import StoreUnavailableError
from cronkit._state import JobState
from cronkit._store import CreatingStore, StateStore
from tests.contracts import STORE_ADAPTERS, params


@pytest.fixture(params=params(STORE_ADAPTERS))
async def state_store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    async with STORE_ADAPTERS[request.param].factory(request) as store:
        yield store


FULL = JobState(
    job_id="nightly",
    trigger_count=42,
    next_run_at=datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
    last_run_at=datetime(2025, 3, 29, 1, 30, 0, 123456, tzinfo=UTC),
    last_success_at=datetime(2025, 3, 29, 1, 30, 0, 1, tzinfo=UTC),
    last_error="RuntimeError: disk full",
    schedule_fingerprint="cron:30 2 * * *@Europe/Berlin",
)

START_OF_OTHER = datetime(2025, 3, 30, 1, 0, 0, 3000, tzinfo=UTC)  # 3 ms later: another replica


def test_every_adapter_satisfies_the_protocol(state_store: StateStore) -> None:
    assert isinstance(state_store, StateStore)


async def test_load_of_a_job_never_saved_is_none(
    state_store: StateStore, request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.params["state_store"] == "resilient-degraded":
        # With its primary unreachable, the store cannot know what is stored for a job it has
        # never seen, and says so rather than answer "nothing" (test_resilient_store.py).
        with pytest.raises(StoreUnavailableError, match="'never-saved' is unknown"):
            await state_store.load("never-saved")
        return
    assert await state_store.load("never-saved") is None


async def test_save_then_load_round_trips_every_field(state_store: StateStore) -> None:
    await state_store.save(FULL)

    loaded = await state_store.load("nightly")

    assert loaded == FULL
    assert loaded is not None
    assert loaded.last_run_at is not None
    assert loaded.last_run_at.microsecond == 123456
    assert loaded.last_run_at.utcoffset() == timedelta(0)


async def test_none_fields_and_defaults_round_trip(state_store: StateStore) -> None:
    bare = JobState(job_id="bare")
    await state_store.save(bare)

    assert await state_store.load("bare") == bare


async def test_an_instant_in_another_zone_loads_as_the_same_instant(
    state_store: StateStore,
) -> None:
    berlin_summer = timezone(timedelta(hours=2))
    state = JobState(job_id="zoned", next_run_at=datetime(2025, 6, 1, 3, 0, tzinfo=berlin_summer))
    await state_store.save(state)

    loaded = await state_store.load("zoned")

    assert loaded is not None
    assert loaded.next_run_at == datetime(2025, 6, 1, 1, 0, tzinfo=UTC)


async def test_save_overwrites_the_previous_state(state_store: StateStore) -> None:
    await state_store.save(FULL)
    newer = JobState(job_id="nightly", trigger_count=43, next_run_at=None, last_error=None)
    await state_store.save(newer)

    assert await state_store.load("nightly") == newer


async def test_delete_removes_the_state(state_store: StateStore) -> None:
    await state_store.save(FULL)
    await state_store.delete("nightly")

    assert await state_store.load("nightly") is None


async def test_delete_of_a_missing_job_does_nothing(state_store: StateStore) -> None:
    await state_store.delete("never-saved")

    assert await state_store.load("never-saved") is None


async def test_saved_again_after_delete(state_store: StateStore) -> None:
    await state_store.save(FULL)
    await state_store.delete("nightly")
    await state_store.save(FULL)

    assert await state_store.load("nightly") == FULL


async def test_jobs_are_kept_apart(state_store: StateStore) -> None:
    states = [JobState(job_id=f"job-{n}", trigger_count=n) for n in range(5)]
    for state in states:
        await state_store.save(state)
    await state_store.delete("job-2")

    loaded = [await state_store.load(state.job_id) for state in states]

    assert loaded == [states[0], states[1], None, states[3], states[4]]


async def test_job_ids_with_separators_and_unicode(state_store: StateStore) -> None:
    ids = ["app.jobs:nightly", "a/b", "with space", "zürich-🕑", "{braces}"]
    for n, job_id in enumerate(ids):
        await state_store.save(JobState(job_id=job_id, trigger_count=n))

    assert [await state_store.load(job_id) for job_id in ids] == [
        JobState(job_id=job_id, trigger_count=n) for n, job_id in enumerate(ids)
    ]


async def test_every_adapter_can_create(state_store: StateStore) -> None:
    assert isinstance(state_store, CreatingStore)


async def test_create_stores_the_state_when_nothing_is_stored(state_store: StateStore) -> None:
    assert isinstance(state_store, CreatingStore)

    created = await state_store.create(FULL)

    assert created == FULL
    assert await state_store.load("nightly") == FULL


async def test_create_returns_the_stored_state_and_leaves_it(state_store: StateStore) -> None:
    assert isinstance(state_store, CreatingStore)
    await state_store.save(FULL)
    other = JobState(job_id="nightly", trigger_count=0, next_run_at=START_OF_OTHER)

    created = await state_store.create(other)

    assert created == FULL
    assert await state_store.load("nightly") == FULL


async def test_the_first_create_wins(state_store: StateStore) -> None:
    assert isinstance(state_store, CreatingStore)
    other = JobState(job_id="nightly", next_run_at=START_OF_OTHER)

    first = await state_store.create(FULL)
    second = await state_store.create(other)

    assert first == second == FULL
    assert await state_store.load("nightly") == FULL


async def test_create_after_delete_stores_again(state_store: StateStore) -> None:
    assert isinstance(state_store, CreatingStore)
    await state_store.save(FULL)
    await state_store.delete("nightly")
    other = JobState(job_id="nightly", next_run_at=START_OF_OTHER)

    assert await state_store.create(other) == other
    assert await state_store.load("nightly") == other


async def test_close_can_be_called_twice(state_store: StateStore) -> None:
    await state_store.save(FULL)

    await state_store.close()
    await state_store.close()
