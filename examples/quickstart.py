"""Quickstart: the three schedules, a job in a worker thread, a manual trigger, a summary.

Run it with any of:

    make demo
    python -m cronkit examples.quickstart:app
    python examples/quickstart.py

It ends by itself after about 9 seconds: `heartbeat` and `report` stop after their last
occurrence (`max_runs`, a list of instants); the cron job `minutely` would run forever, so
`kick` runs it once by hand (`app.handle(...).trigger_now()`) and `wrap-up` shuts the App down.
State lives in memory (the default `InMemoryStateStore`), so every start is a fresh one.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

from cronkit import (
    App,
    Cron,
    RunCompleted,
    RunContext,
    SchedulerEvent,
    SchedulerStopped,
)


def stamp(instant: datetime) -> str:
    return f"[{instant:%H:%M:%S}]"


class Summary:
    """An observer: counts the outcome of each job's runs and prints a table at the end."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Counter[str]] = {}
        self.stopped: dict[str, str] = {}

    def on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, RunCompleted):
            self.outcomes.setdefault(event.job_id, Counter())[event.status] += 1
        elif isinstance(event, SchedulerStopped):
            self.stopped[event.job_id] = event.reason
            if len(self.stopped) == len(app.jobs):
                self.print()

    def print(self) -> None:
        print("\nsummary")
        print(f"  {'job':<10} {'runs':>4}  {'outcomes':<24} stopped")
        for job_id in app.jobs:
            outcomes = self.outcomes.get(job_id, Counter())
            shown = ", ".join(f"{status}={n}" for status, n in sorted(outcomes.items())) or "-"
            runs = sum(outcomes.values())
            print(f"  {job_id:<10} {runs:>4}  {shown:<24} {self.stopped[job_id]}")


app = App(observers=[Summary()])  # add cronkit.LogObserver() to log every event as well
START = app.clock.now()  # the `at` instants below are relative to the start of the demo


@app.interval(seconds=2, max_runs=4, id="heartbeat")
async def heartbeat(ctx: RunContext) -> None:
    """An async job every 2 seconds, 4 times."""
    print(f"{stamp(ctx.started_at)} heartbeat #{ctx.trigger_count}")


@app.at(START + timedelta(seconds=3), START + timedelta(seconds=6), id="report")
def report(ctx: RunContext) -> None:
    """A plain function: it runs in a worker thread, so it may block."""
    name = threading.current_thread().name
    print(f"{stamp(ctx.started_at)} report for {stamp(ctx.scheduled_at)} in thread {name!r}")


MINUTELY = "* * * * *"


@app.cron(MINUTELY, id="minutely")
async def minutely(ctx: RunContext) -> None:
    """A cron job, every minute on the minute."""
    print(f"{stamp(ctx.started_at)} minutely ({ctx.source} run)")


@app.at(START + timedelta(seconds=4), id="kick")
async def kick(ctx: RunContext, current: App) -> None:
    """The App itself is injected by annotation; its handles control the other jobs."""
    following = Cron(MINUTELY).next_after(ctx.started_at)
    assert following is not None
    print(f"{stamp(ctx.started_at)} minutely fires next at {stamp(following)}; run it now")
    current.handle("minutely").trigger_now()


@app.at(START + timedelta(seconds=9), id="wrap-up")
async def wrap_up(ctx: RunContext, current: App) -> None:
    """The cron job never ends by itself: shut the App down (active runs would finish)."""
    print(f"{stamp(ctx.started_at)} wrap-up: shutting down")
    current.shutdown()


if __name__ == "__main__":
    app.run()
