"""Crash: `kill -9` of the replica that holds a long run's lease, in the middle of the run.

One real run (about 12 s, shared by the tests of this module) of three replicas with the 20
one-second jobs and a job `long` every 3 s whose run takes 2.5 s, under a lease with
`ttl=2s` renewed every 0.5 s. Once every replica is up, the holder of the next `long` run is
killed 0.75 s into it (between two one-second occurrences, so it holds nothing else).

What happens to that occurrence, and what these tests check: the others had consumed it as
`contended` when it came due, so none of them runs it; the killed holder's lease lives until
its ttl runs out (at most `ttl` after the kill, at least `ttl - renew_interval`), then the key
is gone and stays gone: no done marker, and no second run. The schedule goes on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.valkey.replicas import (
    JOBS,
    Replica,
    Replicas,
    Run,
    grid,
    now,
    runs_by_occurrence,
    sleep_until,
    wait_for,
)
from tests.valkey_server import ValkeyServer, unique_prefix

pytestmark = [pytest.mark.valkey, pytest.mark.slow]

TTL = 2.0
RENEW = TTL / 4  # what the replica app derives from REPLICA_TTL
LONG_EVERY = 3.0
LONG_HOLD = 2.5
KILL_INTO_RUN = timedelta(seconds=0.75)
SETTLED = timedelta(seconds=0.5)


@dataclass
class Crash:
    replicas: dict[str, Replica]
    killed: Replica
    occurrence: datetime  # the long run the killed replica held
    lease_key: str
    live_at_kill: dict[str, str]
    pttl_at_kill: int
    killed_at: datetime
    expired_after: float  # seconds from the kill until the lease key was gone
    key_at_end: str | None
    first: dict[str, datetime]
    runs: list[Run]
    stopped_at: datetime
    exit_codes: dict[str, int]

    @property
    def survivors(self) -> list[Replica]:
        return [replica for replica in self.replicas.values() if replica is not self.killed]


@pytest.fixture(scope="module")
def crash(valkey_server: ValkeyServer, tmp_path_factory: pytest.TempPathFactory) -> Crash:
    settings = {
        "REPLICA_TTL": str(TTL),
        "REPLICA_LONG_EVERY": str(LONG_EVERY),
        "REPLICA_LONG_HOLD": str(LONG_HOLD),
    }
    out = tmp_path_factory.mktemp("crash")
    with Replicas(valkey_server.url, unique_prefix(), out, settings) as replicas:
        a = replicas.start("a")
        first = replicas.first_occurrences((*JOBS, "long"))
        b, c = replicas.start("b"), replicas.start("c")
        for replica in (b, c):
            replicas.wait_until_loaded(replica, len(JOBS) + 1)
        everyone = {r.name: r for r in (a, b, c)}
        ready = now()

        def long_run_started() -> Run | None:
            return next((r for r in replicas.runs() if r.job == "long" and r.at > ready), None)

        held = wait_for("a long run once every replica is up", long_run_started, LONG_EVERY + 5)
        killed = next(r for r in everyone.values() if r.pid == held.pid)
        lease_key = replicas.lease_key("long", held.at)
        sleep_until(held.at + KILL_INTO_RUN)
        killed.kill()
        killed_at = now()
        live_at_kill = replicas.live_leases()
        pttl_at_kill = replicas.admin.pttl(lease_key)
        wait_for("the lease to expire", lambda: not replicas.admin.exists(lease_key), TTL + 3)
        expired_after = (now() - killed_at).total_seconds()
        sleep_until(held.at + timedelta(seconds=2 * LONG_EVERY - 0.2))  # the next long ran
        key_at_end = replicas.admin.get(lease_key)
        stopped_at = now()
        exit_codes = {r.name: r.terminate() for r in everyone.values() if r is not killed}
        crash = Crash(
            everyone, killed, held.at, lease_key, live_at_kill, pttl_at_kill, killed_at,
            expired_after, key_at_end, first, replicas.runs(), stopped_at, exit_codes,
        )  # fmt: skip
    counts = Counter(run.pid for run in crash.runs)
    summary = ", ".join(f"{r.name}={counts[r.pid]}" for r in everyone.values())
    print(
        f"\ncrash: killed {killed.name} holding long@{held.at:%H:%M:%S.%f}; lease gone "
        f"{expired_after:.2f}s after the kill; {len(crash.runs)} records ({summary})"
    )
    return crash


def test_the_survivors_exit_0_and_the_killed_replica_died_of_sigkill(crash: Crash) -> None:
    assert crash.killed.process.returncode == -9
    assert crash.exit_codes == {r.name: 0 for r in crash.survivors}


def test_at_the_kill_its_only_live_lease_is_the_long_run(crash: Crash) -> None:
    assert list(crash.live_at_kill) == [crash.lease_key]
    assert 0 < crash.pttl_at_kill <= TTL * 1000


def test_the_killed_holders_lease_expires_after_its_ttl(crash: Crash) -> None:
    # Renewed at most `renew_interval` before the kill, so it lived on for ttl - renew to ttl.
    assert TTL - RENEW - 0.25 <= crash.expired_after <= TTL + 0.25


def test_the_occurrence_is_not_run_again_and_keeps_no_done_marker(crash: Crash) -> None:
    records = [r for r in crash.runs if r.job == "long" and r.at == crash.occurrence]
    assert [(r.pid, r.phase) for r in records] == [(crash.killed.pid, "started")]
    assert crash.key_at_end is None  # expired: no done marker, and nobody took it since
    for survivor in crash.survivors:
        contended = [
            event
            for event in survivor.events("RunSkipped")
            if event["job_id"] == "long"
            and datetime.fromisoformat(event["scheduled_at"]) == crash.occurrence
        ]
        assert [event["reason"] for event in contended] == ["contended"], survivor.name
        started = [
            event
            for event in survivor.events("RunStarted")
            if event["job_id"] == "long"
            and datetime.fromisoformat(event["scheduled_at"]) == crash.occurrence
        ]
        assert started == [], survivor.name


def test_the_next_long_run_goes_to_a_survivor(crash: Crash) -> None:
    following = crash.occurrence + timedelta(seconds=LONG_EVERY)
    records = [r for r in crash.runs if r.job == "long" and r.at == following]
    assert [r.phase for r in records] == ["started", "finished"]
    assert records[0].pid == records[1].pid != crash.killed.pid
    held = next(r for r in crash.runs if r.job == "long" and r.at == crash.occurrence)
    assert records[0].fencing > held.fencing


def test_the_others_keep_their_schedule(crash: Crash) -> None:
    counts = runs_by_occurrence(r for r in crash.runs if r.job != "long")
    assert {occurrence: n for occurrence, n in counts.items() if n > 1} == {}
    survivors = {r.pid for r in crash.survivors}
    for job in JOBS:
        expected = grid(crash.first[job], crash.stopped_at - SETTLED)
        ran = sorted(at for (name, at) in counts if name == job)
        assert ran[: len(expected)] == expected, job
        after_kill = [r for r in crash.runs if r.job == job and r.at > crash.killed_at]
        assert len(after_kill) >= 3, job
        assert {r.pid for r in after_kill} <= survivors, job


def test_fencing_tokens_strictly_increase_per_job(crash: Crash) -> None:
    for job in (*JOBS, "long"):
        runs = sorted((r for r in crash.runs if r.job == job and r.phase != "finished"),
                      key=lambda r: r.at)  # fmt: skip
        tokens = [r.fencing for r in runs]
        assert tokens == sorted(set(tokens)), job
