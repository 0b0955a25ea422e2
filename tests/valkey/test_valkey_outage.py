"""Outage: the Valkey server stops for 5 s under three running replicas, then comes back.

One real run (about 17 s, shared by the tests of this module) on a server of its own with
AOF persistence (`appendfsync always`), as a production server should have: without it a
restart empties the fencing counters and fencing tokens start again at 1.

While the server is down every replica keeps scheduling: its resilient store degrades to
its in-process mirror (`StoreDegraded`), its guard fails closed (`guard_unavailable`). Once
the server is back each store writes its mirror back (`StoreRecovered`, probing every 1 s
here) and runs resume. At the end the replicas are stopped one after the other and `c` runs
alone for 2 s, so that it is the last writer of every job's state: Valkey must then hold
exactly the states `c`'s engines hold.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from cronkit._state import JobState
from tests.valkey.replicas import (
    JOBS,
    Replica,
    Replicas,
    Run,
    grid,
    now,
    runs_by_occurrence,
    started,
    wait_for,
)
from tests.valkey_server import ValkeyServer, unique_prefix

pytestmark = [pytest.mark.valkey, pytest.mark.slow]

OUTAGE = 5.0
MARGIN = timedelta(seconds=1)
SETTLED = timedelta(seconds=0.5)


@dataclass
class Outage:
    replicas: dict[str, Replica]
    first: dict[str, datetime]
    stopping_at: datetime  # SIGTERM sent to the server
    down_at: datetime  # the server has exited
    up_at: datetime  # the server is started again
    runs: list[Run]
    stopped_at: datetime
    exit_codes: dict[str, int]
    stored: dict[str, JobState]

    def during(self, at: datetime) -> bool:
        """Whether `at` lies in the outage, widened by a margin on both sides."""
        return self.stopping_at - MARGIN <= at <= self.up_at + MARGIN


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Outage:
    server = ValkeyServer(
        tmp_path_factory.mktemp("outage-server"),
        extra_args=("--appendonly", "yes", "--appendfsync", "always"),
    )
    server.start()
    out = tmp_path_factory.mktemp("outage")
    try:
        with Replicas(server.url, unique_prefix(), out, {"REPLICA_PROBE": "1"}) as replicas:
            a = replicas.start("a")
            first = replicas.first_occurrences()
            b, c = replicas.start("b"), replicas.start("c")
            for replica in (b, c):
                replicas.wait_until_loaded(replica)
            everyone = {r.name: r for r in (a, b, c)}
            time.sleep(2)
            stopping_at = now()
            server.stop()
            down_at = now()
            time.sleep(OUTAGE - (down_at - stopping_at).total_seconds())
            up_at = now()
            server.start()
            for replica in everyone.values():
                wait_for(
                    f"{replica.name} to recover",
                    lambda replica=replica: replica.events("StoreRecovered"),  # type: ignore[misc]
                )
            time.sleep(3)
            exit_codes = {"a": a.terminate(), "b": b.terminate()}
            time.sleep(2)  # c alone: it writes every job's state last
            stopped_at = now()
            exit_codes["c"] = c.terminate()
            result = Outage(
                everyone, first, stopping_at, down_at, up_at, replicas.runs(), stopped_at,
                exit_codes, replicas.stored_states(),
            )  # fmt: skip
    finally:
        server.kill()
    counts = Counter(run.pid for run in result.runs)
    skips = sum(r.skips()["guard_unavailable"] for r in everyone.values())
    summary = ", ".join(f"{r.name}={counts[r.pid]}" for r in everyone.values())
    print(
        f"\noutage: {len(result.runs)} runs ({summary}); {skips} occurrence skips as "
        "guard_unavailable over the replicas"
    )
    return result


def test_no_replica_crashes(outage: Outage) -> None:
    assert outage.exit_codes == {"a": 0, "b": 0, "c": 0}, {
        name: replica.stderr()[-2000:] for name, replica in outage.replicas.items()
    }


def test_each_store_degrades_then_recovers_and_writes_its_mirror_back(outage: Outage) -> None:
    for name, replica in outage.replicas.items():
        events = replica.events("StoreDegraded", "StoreRecovered")
        assert [event["event"] for event in events] == ["StoreDegraded", "StoreRecovered"], name
        degraded, recovered = (datetime.fromisoformat(event["at"]) for event in events)
        assert outage.stopping_at <= degraded <= outage.up_at, name
        assert recovered >= outage.up_at, name
        assert events[1]["written_back"] == len(JOBS), name  # every job moved on meanwhile
        assert "StoreDegraded" in replica.stderr(), name  # logged as a warning


def test_guards_skip_as_guard_unavailable_only_while_the_server_is_down(outage: Outage) -> None:
    for name, replica in outage.replicas.items():
        skipped = [
            datetime.fromisoformat(event["scheduled_at"])
            for event in replica.events("RunSkipped")
            if event["reason"] == "guard_unavailable"
        ]
        assert len(skipped) >= len(JOBS) * (OUTAGE - 1), name
        assert all(outage.during(at) for at in skipped), name
        assert len(replica.events("ExecutionGuardUnavailable")) == len(skipped), name


def test_nothing_runs_while_the_server_is_down(outage: Outage) -> None:
    everything = [e for r in outage.replicas.values() for e in r.events("RunStarted")]
    for _job, at in started(everything):
        assert not outage.down_at < at < outage.up_at


def test_no_occurrence_runs_twice_and_every_one_outside_the_outage_runs_once(
    outage: Outage,
) -> None:
    everything = [e for r in outage.replicas.values() for e in r.events("RunStarted")]
    starts = started(everything)
    assert {occurrence: n for occurrence, n in starts.items() if n > 1} == {}
    recorded = runs_by_occurrence(outage.runs)
    assert {occurrence: n for occurrence, n in recorded.items() if n > 1} == {}
    for job in JOBS:
        expected = [
            at
            for at in grid(outage.first[job], outage.stopped_at - SETTLED)
            if not outage.during(at)
        ]
        assert sum(at > outage.up_at for at in expected) >= 4, job
        assert all(recorded[job, at] == 1 for at in expected), job
        assert all(starts[job, at] == 1 for at in expected), job


def test_fencing_tokens_keep_increasing_across_the_restart(outage: Outage) -> None:
    for job in JOBS:
        runs = sorted((r for r in outage.runs if r.job == job), key=lambda r: r.at)
        tokens = [r.fencing for r in runs]
        assert all(earlier < later for earlier, later in itertools.pairwise(tokens)), job
        before = [r.fencing for r in runs if r.at < outage.stopping_at]
        after = [r.fencing for r in runs if r.at > outage.up_at]
        assert before
        assert after
        assert min(after) > max(before), job


def test_valkey_holds_the_states_of_the_last_writer(outage: Outage) -> None:
    last = outage.replicas["c"].final_states()
    assert outage.stored == last
    for name in ("a", "b"):  # stopped earlier: their engines' states are older
        for job, state in outage.replicas[name].final_states().items():
            assert state.next_run_at is not None
            assert last[job].next_run_at is not None
            assert state.next_run_at < last[job].next_run_at, (name, job)
