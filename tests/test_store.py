"""`InMemoryStateStore` beyond the contract, and the connection-error predicate."""

from __future__ import annotations

import asyncio

import pytest

from cronkit._exceptions import (
    GuardUnavailableError,
    InvalidStoreURLError,
    StateCorruptedError,
    StoreError,
    StoreUnavailableError,
)
from cronkit._state import JobState
from cronkit._store import BindableStore, InMemoryStateStore, StateStore, is_connection_error


async def test_one_instance_shared_between_schedulers_resumes_their_state() -> None:
    shared = InMemoryStateStore()
    await shared.save(JobState(job_id="nightly", trigger_count=3))

    assert await shared.load("nightly") == JobState(job_id="nightly", trigger_count=3)


async def test_snapshot_is_a_copy() -> None:
    store = InMemoryStateStore()
    await store.save(JobState(job_id="a"))

    snapshot = store.snapshot()
    snapshot.clear()

    assert store.snapshot() == {"a": JobState(job_id="a")}


async def test_states_stay_readable_after_close() -> None:
    store = InMemoryStateStore()
    await store.save(JobState(job_id="a"))
    await store.close()

    assert await store.load("a") == JobState(job_id="a")


async def test_repr_lists_the_jobs() -> None:
    store = InMemoryStateStore()
    await store.save(JobState(job_id="b"))
    await store.save(JobState(job_id="a"))

    assert repr(store) == "InMemoryStateStore(jobs=['a', 'b'])"


def test_is_a_state_store_that_needs_no_binding() -> None:
    store = InMemoryStateStore()

    assert isinstance(store, StateStore)
    assert not isinstance(store, BindableStore)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (StoreUnavailableError("refused"), True),
        (GuardUnavailableError("refused"), True),
        (ConnectionRefusedError(111, "refused"), True),
        (ConnectionResetError("reset"), True),
        (ConnectionAbortedError("aborted"), True),
        (BrokenPipeError("pipe"), True),
        (TimeoutError("timeout"), True),
        (TimeoutError(), True),
        (OSError(5, "I/O error"), True),
        (PermissionError("denied"), True),
        (StateCorruptedError("key", "not JSON"), False),
        (StoreError("other store failure"), False),
        (InvalidStoreURLError("bad url"), False),
        (ValueError("bad"), False),
        (KeyError("k"), False),
        (RuntimeError("bug"), False),
        (asyncio.CancelledError(), False),
        (KeyboardInterrupt(), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_is_connection_error(error: BaseException, expected: bool) -> None:
    assert is_connection_error(error) is expected


def test_a_corrupted_error_that_is_also_an_oserror_is_still_a_data_error() -> None:
    class Odd(StateCorruptedError, OSError):
        pass

    assert is_connection_error(Odd("key", "odd")) is False
