"""Runs replicas of `tests/valkey/replica_app.py` as real processes, and reads what they did.

Each replica is `python -m cronkit run tests.valkey.replica_app:app` (the real command line)
in its own process, stopped with SIGTERM like a deployment would, or killed. `Replicas` kills
whatever still runs when its block ends, and Linux kills the replicas if pytest itself dies.
Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import valkey

from cronkit._state import JobState, decode_state
from tests.valkey_server import die_with_parent

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.valkey.replica_app:app"
JOBS = tuple(f"job-{number:02d}" for number in range(20))
STOP_TIMEOUT = 15.0
SECOND = timedelta(seconds=1)


def now() -> datetime:
    return datetime.now(UTC)


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """`python -m cronkit *args` from the repository root, to its end (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "cronkit", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll `check` every 20 ms until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def sleep_until(instant: datetime) -> None:
    time.sleep(max(0.0, (instant - now()).total_seconds()))


@dataclass(frozen=True)
class Run:
    """One record a task appended: `job` ran the occurrence `at`, in process `pid`."""

    job: str
    at: datetime
    pid: int
    fencing: int
    phase: str | None = None


@dataclass
class Replica:
    """One replica process and the files it writes."""

    name: str
    process: subprocess.Popen[bytes]
    started_at: datetime
    out: Path
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def events(self, *kinds: str) -> list[dict[str, Any]]:
        """The events it recorded so far, in order; only of `kinds` if given."""
        path = self.out / f"{self.pid}.events.jsonl"
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        events = [json.loads(line) for line in lines if line.endswith("}")]
        return [event for event in events if not kinds or event["event"] in kinds]

    def skips(self) -> Counter[str]:
        """How many occurrences it skipped, by reason."""
        counts: Counter[str] = Counter()
        for event in self.events("RunSkipped"):
            counts[event["reason"]] += event["count"]
        return counts

    def final_states(self) -> dict[str, JobState]:
        """The state its engine held for each job when the App stopped."""
        raw = json.loads((self.out / f"{self.pid}.states.json").read_text(encoding="utf-8"))
        return {job: decode_state(json.dumps(doc), key=job) for job, doc in raw.items()}

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> int:
        """SIGTERM, as a deployment stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
            raise AssertionError(f"replica {self.name} ignored SIGTERM:\n{self.stderr()}") from None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, holding whatever it held."""
        self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT)


@dataclass
class Replicas:
    """Starts replicas against one server and key prefix; kills the leftovers at the end."""

    url: str
    prefix: str
    out: Path
    settings: dict[str, str] = field(default_factory=dict)
    started: list[Replica] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.admin = valkey.Valkey.from_url(self.url, decode_responses=True)

    def __enter__(self) -> Replicas:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for replica in self.started:
            if replica.process.poll() is None:
                replica.kill()
        self.admin.close()

    def start(self, name: str, **settings: str) -> Replica:
        log = self.out / f"{name}.stderr"
        env = {
            **{name: value for name, value in os.environ.items() if name != "CRONKIT_VALKEY_URL"},
            "REPLICA_VALKEY_URL": self.url,
            "REPLICA_PREFIX": self.prefix,
            "REPLICA_OUT": str(self.out),
            **self.settings,
            **settings,
        }
        started_at = now()
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "cronkit", "--log-level", "warning", "run", APP],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                preexec_fn=die_with_parent,
            )
        replica = Replica(name, process, started_at, self.out, log)
        self.started.append(replica)
        return replica

    def wait_until_loaded(self, replica: Replica, jobs: int = len(JOBS)) -> None:
        """Until `replica` has loaded the state of its `jobs` jobs."""
        wait_for(
            f"replica {replica.name} to load {jobs} states",
            lambda: len(replica.events("StateLoaded")) >= jobs or self._died(replica),
        )
        assert replica.process.poll() is None, replica.stderr()

    def _died(self, replica: Replica) -> bool:
        return replica.process.poll() is not None

    # -- what is in Valkey ----------------------------------------------------------------------

    def state_key(self, job: str) -> str:
        return f"{self.prefix}job-state:{job}"

    def lease_key(self, job: str, at: datetime) -> str:
        instant = at.astimezone(UTC)
        text = f"{instant:%Y-%m-%dT%H:%M:%S}.{instant.microsecond * 1000:09d}Z"
        return f"{self.prefix}lease:{{{job}}}:occurrence:{text}"

    def stored_states(self, jobs: Iterable[str] = JOBS) -> dict[str, JobState]:
        """The states in Valkey, of the jobs that have one."""
        states = {}
        for job in jobs:
            raw = self.admin.get(self.state_key(job))
            if raw is not None:
                states[job] = decode_state(raw, key=self.state_key(job))
        return states

    def first_occurrences(self, jobs: Iterable[str] = JOBS) -> dict[str, datetime]:
        """Each job's first occurrence, from the states the first replica created."""
        jobs = tuple(jobs)

        def all_stored() -> dict[str, JobState] | None:
            states = self.stored_states(jobs)
            return states if len(states) == len(jobs) else None

        states = wait_for(f"{len(jobs)} states in Valkey", all_stored)
        first = {}
        for job, state in states.items():
            assert state.trigger_count == 0, state
            assert state.next_run_at is not None
            first[job] = state.next_run_at
        return first

    def runs(self) -> list[Run]:
        """Every record the tasks appended, in append order."""
        runs = []
        for raw in self.admin.lrange(f"{self.prefix}runs", 0, -1):
            doc = json.loads(raw)
            at = datetime.fromisoformat(doc["at"]).astimezone(UTC)
            runs.append(Run(doc["job"], at, doc["pid"], doc["fencing"], doc.get("phase")))
        return runs

    def live_leases(self) -> dict[str, str]:
        """Lease keys that hold a holder's token (not a done marker), with the token."""
        live = {}
        for key in self.admin.scan_iter(match=f"{self.prefix}lease:*:occurrence:*", count=1000):
            value = self.admin.get(key)
            if value is not None and not value.startswith("done:"):
                live[key] = value
        return live


def grid(first: datetime, until: datetime, every: timedelta = SECOND) -> list[datetime]:
    """The occurrences `first`, `first + every`, ... up to `until`."""
    instants = []
    instant = first
    while instant <= until:
        instants.append(instant)
        instant += every
    return instants


def on_grid(first: datetime, at: datetime, every: timedelta = SECOND) -> bool:
    return at >= first and (at - first) % every == timedelta(0)


def runs_by_occurrence(runs: Iterable[Run]) -> Counter[tuple[str, datetime]]:
    return Counter((run.job, run.at) for run in runs)


def started(events: Iterable[dict[str, Any]]) -> Counter[tuple[str, datetime]]:
    """How many times each (job, occurrence) started, over `events` of several replicas."""
    return Counter(
        (event["job_id"], datetime.fromisoformat(event["scheduled_at"]))
        for event in events
        if event["event"] == "RunStarted"
    )
