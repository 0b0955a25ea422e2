"""The App each replica runs: `python -m cronkit run tests.valkey.replica_app:app`.

Twenty jobs (`job-00` ... `job-19`) on a 1-second interval; each run appends
`{"job", "at", "pid", "fencing"}` to the Valkey list `<prefix>runs`. Optionally a job `long`
that holds its lease for a while, appending a `started` record before and a `finished` one
after. State and leases live in Valkey (a resilient store and a guard with a short ttl).

Each replica writes, in `REPLICA_OUT`:
- `<pid>.events.jsonl`: every scheduler event, one JSON object a line (flushed per line, so a
  killed replica's events up to its death are there);
- `<pid>.states.json`: the state its engine holds for each job when the App has stopped.

Environment (read at import):
    REPLICA_VALKEY_URL  the server (required)
    REPLICA_PREFIX      key prefix of everything (default `scheduler:replicas:`)
    REPLICA_OUT         directory for the files above (required)
    REPLICA_JOBS        number of 1-second jobs (default 20)
    REPLICA_TTL         lease ttl in seconds (default 2); renewal every quarter of it
    REPLICA_PROBE       the resilient store's probe interval in seconds (default 1)
    REPLICA_LONG_EVERY  interval of the job `long` in seconds; 0 (default) leaves it out
    REPLICA_LONG_HOLD   how long a run of `long` takes, in seconds (default 3)
    REPLICA_CLOCK_BEHIND  seconds this replica's wall clock lags behind (default 0)
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from valkey.asyncio import Valkey

from cronkit import App, Depends, LogObserver, RunContext, SchedulerEvent, SystemClock
from cronkit._clock import TimerHandle
from cronkit._state import encode_state
from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig, ValkeyStateStore

T = TypeVar("T")

URL = os.environ["REPLICA_VALKEY_URL"]
PREFIX = os.environ.get("REPLICA_PREFIX", "scheduler:replicas:")
OUT = Path(os.environ["REPLICA_OUT"])
JOBS = int(os.environ.get("REPLICA_JOBS", "20"))
TTL = float(os.environ.get("REPLICA_TTL", "2"))
PROBE = float(os.environ.get("REPLICA_PROBE", "1"))
LONG_EVERY = float(os.environ.get("REPLICA_LONG_EVERY", "0"))
LONG_HOLD = float(os.environ.get("REPLICA_LONG_HOLD", "3"))
CLOCK_BEHIND = float(os.environ.get("REPLICA_CLOCK_BEHIND", "0"))

STATE_PREFIX = f"{PREFIX}job-state:"
LEASE_PREFIX = f"{PREFIX}lease:"
RUNS_KEY = f"{PREFIX}runs"
PID = os.getpid()


class LaggingClock:
    """The system clock, `behind` seconds late: a replica whose wall clock lags (skew)."""

    def __init__(self, behind: float) -> None:
        self._system = SystemClock()
        self._behind = timedelta(seconds=behind)

    def now(self) -> datetime:
        return self._system.now() - self._behind

    def monotonic(self) -> float:
        return self._system.monotonic()

    def call_at(self, instant: datetime, callback: Callable[[], object]) -> TimerHandle:
        return self._system.call_at(instant + self._behind, callback)

    def call_later(self, seconds: float, callback: Callable[[], object]) -> TimerHandle:
        return self._system.call_later(seconds, callback)

    async def sleep(self, seconds: float) -> None:
        await self._system.sleep(seconds)

    async def sleep_until(self, instant: datetime) -> None:
        await self._system.sleep_until(instant + self._behind)

    async def to_thread(self, func: Callable[[], T]) -> T:
        return await self._system.to_thread(func)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class EventFile:
    """Writes each event as one JSON line, flushed at once."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("a", buffering=1, encoding="utf-8")

    def on_event(self, event: SchedulerEvent) -> None:
        record = {"event": type(event).__name__, "pid": PID}
        for field in dataclasses.fields(event):
            record[field.name] = _plain(getattr(event, field.name))
        self.file.write(json.dumps(record) + "\n")


events = EventFile(OUT / f"{PID}.events.jsonl")
app = App(
    store=ValkeyStateStore.resilient(
        URL, prefix=STATE_PREFIX, probe_interval=timedelta(seconds=PROBE)
    ),
    guard=ValkeyExecutionGuard(
        URL,
        ValkeyLeaseConfig(
            ttl=timedelta(seconds=TTL),
            renew_interval=timedelta(seconds=TTL / 4),
            done_retention=timedelta(minutes=5),
        ),
        prefix=LEASE_PREFIX,
    ),
    observers=[LogObserver(), events],
    clock=LaggingClock(CLOCK_BEHIND) if CLOCK_BEHIND else None,
)


async def runs_list() -> AsyncIterator[Valkey]:
    """The client the tasks append their records with (app-scoped: one per replica)."""
    client = Valkey.from_url(URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        yield client
    finally:
        await client.aclose()


async def final_states(app: App) -> AsyncIterator[None]:
    """Dumps the state each engine holds once every job has stopped (app-scoped teardown)."""
    yield None
    states = {}
    for job_id in app.jobs:
        report = app.report(job_id)
        if report is not None:
            states[job_id] = json.loads(encode_state(report.state))
    (OUT / f"{PID}.states.json").write_text(json.dumps(states), encoding="utf-8")
    events.file.close()


RunsList = Annotated[Valkey, Depends(runs_list, scope="app")]
FinalStates = Annotated[None, Depends(final_states, scope="app")]


async def append(runs: Valkey, ctx: RunContext, **extra: str) -> None:
    record = {
        "job": ctx.job_id,
        "at": ctx.scheduled_at.isoformat(),
        "pid": PID,
        "fencing": ctx.fencing_token,
        **extra,
    }
    await runs.rpush(RUNS_KEY, json.dumps(record))


async def record_run(ctx: RunContext, runs: RunsList, _: FinalStates) -> None:
    await append(runs, ctx)


async def hold_lease(ctx: RunContext, runs: RunsList, _: FinalStates) -> None:
    await append(runs, ctx, phase="started")
    await asyncio.sleep(LONG_HOLD)
    await append(runs, ctx, phase="finished")


for number in range(JOBS):
    app.interval(seconds=1, id=f"job-{number:02d}")(record_run)
if LONG_EVERY:
    app.interval(seconds=LONG_EVERY, id="long")(hold_lease)
