"""Replicas: three processes run the same App on one Valkey, and two more join late.

One real run (about 19 s of wall time, shared by the tests of this module): replica `a`
starts and creates the jobs' states; `b` and `c` start once they exist (an interval job is
anchored where its state is created, see `docs/replicas.md`). Five seconds later `late`
joins with a correct clock and `lagging` with a wall clock 1.5 s behind, so that it reaches
every occurrence after the others have run it. Then every replica gets SIGTERM.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.valkey.replicas import (
    JOBS,
    Replica,
    Replicas,
    Run,
    grid,
    now,
    on_grid,
    runs_by_occurrence,
)
from tests.valkey_server import ValkeyServer, unique_prefix

pytestmark = [pytest.mark.valkey, pytest.mark.slow]

LATE_AFTER = 5.0  # seconds after b and c started
RUN_AFTER_LATE = 12.0
LAGGING_BY = 1.5
SETTLED = timedelta(seconds=0.5)  # an occurrence this old has surely run


@dataclass
class Outcome:
    replicas: dict[str, Replica]
    first: dict[str, datetime]
    runs: list[Run]
    stopped_at: datetime
    exit_codes: dict[str, int]

    def expected(self, job: str) -> list[datetime]:
        return grid(self.first[job], self.stopped_at - SETTLED)

    def runs_of(self, name: str) -> list[Run]:
        pid = self.replicas[name].pid
        return [run for run in self.runs if run.pid == pid]


@pytest.fixture(scope="module")
def outcome(valkey_server: ValkeyServer, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    out: Path = tmp_path_factory.mktemp("replicas")
    with Replicas(valkey_server.url, unique_prefix(), out) as replicas:
        a = replicas.start("a")
        first = replicas.first_occurrences()
        b, c = replicas.start("b"), replicas.start("c")
        time.sleep(LATE_AFTER)
        late = replicas.start("late")
        lagging = replicas.start("lagging", REPLICA_CLOCK_BEHIND=str(LAGGING_BY))
        time.sleep(RUN_AFTER_LATE)
        stopped_at = now()
        everyone = {r.name: r for r in (a, b, c, late, lagging)}
        exit_codes = {name: replica.terminate() for name, replica in everyone.items()}
        outcome = Outcome(everyone, first, replicas.runs(), stopped_at, exit_codes)
    counts = Counter(run.pid for run in outcome.runs)
    summary = ", ".join(f"{name}={counts[r.pid]}" for name, r in everyone.items())
    print(f"\nreplicas: {len(outcome.runs)} runs ({summary})")
    return outcome


def test_every_replica_exits_0_on_sigterm(outcome: Outcome) -> None:
    assert outcome.exit_codes == dict.fromkeys(outcome.replicas, 0), {
        name: replica.stderr()[-2000:] for name, replica in outcome.replicas.items()
    }


def test_every_occurrence_in_the_window_ran_exactly_once(outcome: Outcome) -> None:
    counts = runs_by_occurrence(outcome.runs)
    duplicates = {occurrence: n for occurrence, n in counts.items() if n > 1}
    assert duplicates == {}
    for job in JOBS:
        expected = outcome.expected(job)
        assert len(expected) >= 15, job
        ran = sorted(at for (name, at) in counts if name == job)
        assert ran[: len(expected)] == expected, job  # none missing, in order
        assert all(on_grid(outcome.first[job], at) for at in ran), job
        assert len(ran) - len(expected) <= 1, job  # at most the one due at the stop


def test_every_replica_on_time_wins_some_occurrences(outcome: Outcome) -> None:
    for name in ("a", "b", "c", "late"):
        assert outcome.runs_of(name), name


def test_fencing_tokens_strictly_increase_per_job(outcome: Outcome) -> None:
    for job in JOBS:
        tokens = [run.fencing for run in sorted(outcome.runs, key=lambda run: run.at)
                  if run.job == job]  # fmt: skip
        assert all(earlier < later for earlier, later in itertools.pairwise(tokens)), job
        # Every acquire led to exactly one run: no token was taken and then lost.
        assert tokens == list(range(1, len(tokens) + 1)), job


def test_the_late_replica_resumes_the_shared_states(outcome: Outcome) -> None:
    late = outcome.replicas["late"]
    loaded = late.events("StateLoaded")
    assert sorted(event["job_id"] for event in loaded) == list(JOBS)
    assert {event["source"] for event in loaded} == {"restored"}
    for event in loaded:
        assert datetime.fromisoformat(event["next_run_at"]) > late.started_at


def test_the_late_replica_runs_no_occurrence_done_before_it_started(outcome: Outcome) -> None:
    late = outcome.replicas["late"]
    runs = outcome.runs_of("late")
    assert runs, "the late replica ran nothing"
    assert min(run.at for run in runs) > late.started_at
    # ... and the ones it ran are new: nobody else ran them.
    counts = runs_by_occurrence(outcome.runs)
    assert all(counts[run.job, run.at] == 1 for run in runs)


def test_a_replica_whose_clock_lags_runs_nothing_and_sees_every_occurrence_done(
    outcome: Outcome,
) -> None:
    # It reaches each occurrence 1.5 s after the others ran it: the done markers stop it.
    lagging = outcome.replicas["lagging"]
    assert outcome.runs_of("lagging") == []
    skips = lagging.skips()
    assert set(skips) == {"already_done"}, skips
    assert skips["already_done"] >= len(JOBS) * (RUN_AFTER_LATE - LAGGING_BY - 4)
    assert lagging.events("ExecutionGuardAcquired") == []
