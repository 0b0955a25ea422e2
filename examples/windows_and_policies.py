"""Time windows, missed-run and overlap policies, and a timeout.

Run it with `python -m cronkit examples.windows_and_policies:app` or
`python examples/windows_and_policies.py`; it ends by itself after about 5 seconds.

- Windows: `office-hours` may start only Monday to Friday, 09:00-17:00 in the App's zone;
  `night-shift` only 22:00-06:00. Whichever window "now" is outside of, that job's
  occurrences are consumed and skipped with reason `outside_time_window`.
- Missed runs: three instants from the past are due at once when the App starts, as after an
  outage. `missed="skip"` drops them all, `"catch_up_once"` (the default) runs once for all,
  `"replay_all"` runs each of them in order.
- Overlap: a job due every second whose run takes 1.5 seconds. `overlap="forbid"` (the
  default) drops the occurrences that come while it runs; `"queue_one"` keeps one to run next.
- Timeout: an async run cancelled after 0.5 seconds and recorded `timed_out`.

The jobs sleep through `app.clock`, not `asyncio.sleep`, so that a test can run this file under
a `FakeClock` without waiting.
"""

from __future__ import annotations

from datetime import timedelta

from cronkit import (
    App,
    JobTimeWindow,
    RunCompleted,
    RunContext,
    RunSkipped,
    SchedulerEvent,
)


class Narrator:
    """An observer printing the decisions this example is about."""

    def on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, RunSkipped):
            count = f" x{event.count}" if event.count > 1 else ""
            print(f"  {event.job_id}: skipped{count} ({event.reason})")
        elif isinstance(event, RunCompleted) and event.error is not None:
            print(f"  {event.job_id}: {event.status} ({event.error})")


app = App(timezone="Europe/Berlin", observers=[Narrator()])

# -- windows ----------------------------------------------------------------------------------


@app.interval(
    seconds=1, max_runs=2, window=JobTimeWindow("mon-fri", "09:00-17:00"), id="office-hours"
)
async def office_hours(ctx: RunContext) -> None:
    print(f"office-hours ran at {ctx.started_at.astimezone(ctx.timezone):%a %H:%M} local time")


@app.interval(seconds=1, max_runs=2, window=JobTimeWindow(segments="22:00-06:00"), id="night-shift")
async def night_shift(ctx: RunContext) -> None:
    print(f"night-shift ran at {ctx.started_at.astimezone(ctx.timezone):%a %H:%M} local time")


# -- missed-run policies ----------------------------------------------------------------------

DOWNTIME = ["2025-01-01T09:00:00Z", "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z"]


@app.at(DOWNTIME, missed="skip", id="missed-skip")
async def missed_skip(ctx: RunContext) -> None:
    print("missed-skip ran (it should not)")


@app.at(DOWNTIME, missed="catch_up_once", id="missed-catch-up-once")
async def missed_catch_up_once(ctx: RunContext) -> None:
    print(f"missed-catch-up-once ran once for {ctx.scheduled_at:%H:%M}Z (catch_up={ctx.catch_up})")


@app.at(DOWNTIME, missed="replay_all", id="missed-replay-all")
async def missed_replay_all(ctx: RunContext) -> None:
    print(f"missed-replay-all ran for {ctx.scheduled_at:%H:%M}Z")


# -- overlap policies -------------------------------------------------------------------------


@app.interval(seconds=1, max_runs=3, overlap="forbid", id="overlap-forbid")
async def overlap_forbid(ctx: RunContext, current: App) -> None:
    print(f"overlap-forbid run #{ctx.trigger_count} started")
    await current.clock.sleep(1.5)


@app.interval(seconds=1, max_runs=3, overlap="queue_one", id="overlap-queue-one")
async def overlap_queue_one(ctx: RunContext, current: App) -> None:
    print(f"overlap-queue-one run for occurrence #{ctx.trigger_count} started")
    await current.clock.sleep(1.5)


# -- timeout ----------------------------------------------------------------------------------


@app.interval(seconds=1, max_runs=1, timeout=timedelta(seconds=0.5), id="too-slow")
async def too_slow(current: App) -> None:
    print("too-slow started; it needs 2 seconds but may take 0.5")
    await current.clock.sleep(2)
    print("too-slow finished (it should not)")


if __name__ == "__main__":
    app.run()
