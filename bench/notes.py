"""Analyses of missed targets, shown in `RESULTS.md` next to the profile taken in the same run.

Written from profiles (cProfile, tracemalloc) and from variant runs made while the suite was
built (2026-11-26, same machine). The numbers quoted here are from those runs; the tables and
profiles above them are from the run that wrote `RESULTS.md`. "Measured" means a variant was
run (for example the App with `observers=[]`); "estimated" means read off a profile.
"""

from __future__ import annotations

__all__ = ["NOTES"]

_EVENTS = (
    "**Events nobody logs** (done; the numbers above include it). `App()` installs a "
    "`LogObserver` by default, and the engine used to build every event (`TriggerEmitted`, "
    "`RunStarted`, `RunCompleted`: three frozen dataclasses and three `clock.now()` per run) "
    "only for `isEnabledFor` to drop them at WARNING. Observers now say which event kinds "
    "they want (`LogObserver.wants(kind)` answers from its logger's level), and the engine "
    "builds an event only when some observer wants it. Before the change, the App with "
    "`observers=[]` used about 7% less CPU per run in S1 and 10 µs less per run under "
    "`FakeClock` than with the default observer; that gap is what the change removed."
)
_WAKE = (
    "**One task wake-up too many per run** (estimated from the profiles). A run costs the "
    "floor one timer and one task. cronkit's timer only resolves the job loop's future "
    "(`JobRunner._on_timer` → `poke`); the loop task then wakes (`_loop` → `_consume` → "
    "`_dispatch` → `_start`) and creates the run's task (`execute`). That is one more loop "
    "iteration, one more `call_soon`/task step and one more future per run, and `_wait` "
    "builds a new future each time (`_loop`, `_wait`, `create_task`, `_run_once` and the "
    "`call_soon` machinery are the top entries of the profile). Proposal: consume in the "
    "timer callback: `_on_timer` applies the missed-run and overlap policies synchronously "
    "(they are pure: `_policy` and `_due` already are) and starts the run task directly; the "
    "run task awaits the consume-time `persist()` before calling the job, so 'state saved "
    "before the run starts' still holds. The loop task then only wakes for control calls, "
    "queued triggers and the end. Expected: 15-20% less CPU per run and one loop iteration "
    "less per run (the S3 herd and the S5 year both gain)."
)
_SMALLER = (
    "**Smaller per-run costs** (measured where marked). `persist()` takes an `asyncio.Lock` "
    "twice per run even when no save is in flight; skipping the lock when it is free saved "
    "about 3 µs per run under `FakeClock` (measured, noisy: 37 vs 41 µs median of 4). The "
    "App's `AsyncCall` enters an async context manager (`AppScope.run`) per run even for a "
    "plan with no generator dependency; a synchronous fast path that resolves the keyword "
    "arguments and awaits the function directly would save most of the App-over-engine cost "
    "that is not events (the App without `Depends` but with the `RunContext` cost +16% over "
    "the engine in S1, of which events are about 7 points)."
)

NOTES: dict[str, str] = {
    "S1-cpu": (
        "Where the time goes: in the profile below, the event loop itself (`_run_once`, "
        "`call_soon`, handles, the selector) takes about a third; the rest is spread over the "
        "engine's per-run path (`_runner.py`: `_loop`, `_consume`, `_dispatch`, `_start`, "
        "`persist`; `_execution.py`: `_run`, `_complete`), the App's per-run dependency "
        "resolution (`_app_tasks.AsyncCall`, `_depends_solve`) and the events. No single "
        "function dominates: the gap to the floor is the number of steps per run. The bare "
        "engine alone is at about 1.9-2.4x the floor, so the App cannot reach 2x by trimming "
        "the App layer only.\n\nWhat would close it, in order of effect:\n\n"
        f"1. {_WAKE}\n2. {_EVENTS}\n3. {_SMALLER}\n\n"
        "1 and 2 together should bring the App to about 1.6-1.8x the floor at 1,000 jobs "
        "(estimate); 2 alone is cheap and safe."
    ),
    "S1-p99": (
        "The p99 is decided by pauses, not by the mean cost: the job bodies run 1 ms apart at "
        "1,000 jobs, so any pause of a few ms makes a handful of runs late. The largest are "
        "cyclic garbage collections of the older generations, which walk every live object "
        "(cronkit keeps several objects per job, see S2), and other processes on this 2-core "
        "machine. Lower per-run allocation (fewer events and futures: see the S1 CPU note) "
        "reduces how often they happen; a user can also call `gc.freeze()` after start-up so "
        "that long-lived job objects are not scanned again."
    ),
    "ISSUE3": (
        "The App + Depends layer costs, per run: building the events for the default "
        "`LogObserver` (about 7% of the App's CPU per run, measured with `observers=[]`), and "
        "`AsyncCall`: an async context manager (`AppScope.run`) around each call, then the plan "
        "walk that resolves `RunContext` and the dependency.\n\n"
        f"What would close it: {_EVENTS}\n\n{_SMALLER}"
    ),
    "S2-memory": (
        "Where the memory goes (tracemalloc below, per job): declaring costs about 2.9 KB, "
        "starting about 6.7 KB more.\n\n"
        "- *Declared*: the expanded cron fields are new `frozenset`s per expression (about "
        "1.3 KB: `_cron.py` `_read_field`/`_read_item`), the `Dependant` and its injectables "
        "dict (0.3 KB), then `Job`, `Cron`, `CronExpression`, `CronPattern`, `Task`, "
        "`AsyncCall` and the id strings.\n"
        "- *Started*: `JobRunner` allocates two `deque`s at once (`history` and `_manual`, "
        "760 B each: CPython gives every deque a 64-slot block); each job has its own "
        "`asyncio.Task` and a chain of five suspended coroutine frames (App `_drive` → "
        "`Scheduler.run` → `JobRunner.run` → `_loop` → `_wait`, about 1.2 KB with the Task, "
        "the `TaskGroup` callback and its weak reference); `Scheduler`, `SchedulerHandle`, "
        "`JobRunner`, `asyncio.Lock`, the waiting future, the wall timer and the loop's "
        "`TimerHandle` (about 0.8 KB); the expression's `ZonePlan` with its day caches "
        "(0.56 KB, shared between equal expressions).\n\n"
        "What would close it:\n\n"
        "1. Create `history` on the first recorded run and `_manual` on the first "
        "`trigger_now()` (or use a list): about -1.5 KB per job.\n"
        "2. Intern the expanded field sets (one `frozenset` per distinct value set, e.g. a dict "
        "in `_cron.py`): about -1.2 KB.\n"
        "3. Flatten the coroutine chain of an idle job: `_wait` inline in `_loop`, "
        "`Scheduler.run` returning the runner's coroutine, the App recording reports from a "
        "done-callback instead of `_drive`: about -0.7 KB.\n"
        "4. Dormant jobs: a job with nothing active or queued whose next occurrence is more "
        "than a minute away need not keep a task: park it as (state, one timer) in an "
        "App-wide heap and give it a task when it comes due or gets a control call: about "
        "-2.5 KB more.\n\n"
        "1-3 bring a job to about 6 KB, 4 to about 3-3.5 KB, where APScheduler 3 is. 2 KB per "
        "running job would need a table of jobs rather than objects per job; the target "
        "should be revisited against that cost."
    ),
    "S2-idle": (
        "The idle process wakes about once a second: `SystemClock`'s wall-clock watchdog "
        "(`_clock.py`, `SystemClock._watch`), which runs while wall timers are pending so that "
        "a wall-clock step (NTP, suspend) re-arms them (SPEC §4). It is one task per event "
        "loop, independent of the number of jobs. To remove it, arm the loop timers with a "
        "bounded delay (for example at most 60 s) and re-check the wall clock when one fires, "
        "so that only jobs due soon hold a timer and the watchdog can stop when none is."
    ),
    "S3": (
        "Where the time goes (profile below, the herd only): each job is a separate job loop. "
        "At the instant the loop runs 2,000 timer callbacks that resolve 2,000 futures; in the "
        "next iteration 2,000 job loops wake and consume (`_consume`, `persist`, "
        "`_dispatch`, `TriggerEmitted`, `_start`, `create_task`); in the next the 2,000 run "
        "tasks start, and each runs its whole bookkeeping (`RunStarted`, dependency "
        "resolution, the body, `_complete`, `RunCompleted`, `persist`, `finished`) before the "
        "next one starts. The last start therefore waits for about 50 µs of work per job; the "
        "floor does about 10 µs per job (one callback, one task step).\n\n"
        "What would help: the timer-driven consume of the S1 note (one loop pass less per "
        "job), not building events nobody logs (about 7%), and coalescing the wall timers "
        "that share an instant into one loop timer in `SystemClock`. Together they should "
        "bring the last start to about 3-3.5x the floor (estimate). 2x would need the start "
        "path of a job to cost about 20 µs including its state save, which a per-job engine "
        "with a save before each run does not reach in CPython; APScheduler 3, with one "
        "scheduler loop for all jobs, is at about 3x. The target should be revisited."
    ),
    "S5": (
        "Where the time goes (profile below): a simulated run costs 55-65 µs through the App "
        "and 40-45 µs through the bare engine, so a year of 525,600 runs takes about 30 s and "
        "22 s. There is no waiting: it is all CPU, about 160 Python function calls per run "
        "for the engine, about a third of them in asyncio (two loop iterations per run, "
        "`call_soon`, handles, `sleep(0)` in `FakeClock.settle`) and the rest in the engine's "
        "per-run path and, for the App, in events and dependency resolution.\n\n"
        "What would close it (each saving is per run):\n\n"
        f"1. {_EVENTS}\n2. {_WAKE}\n3. {_SMALLER}\n\n"
        "Together about -25 µs per App run (estimate: 10 measured, the rest from the "
        "profile), i.e. about 35 µs per run and 18 s for the year through the App, and about "
        "16 s through the bare engine."
    ),
    "S6": (
        "Each guard operation is one `EVALSHA` (acquire, release, one per renewal). If this "
        "is over, look at the per-command counts of the table: a command issued outside the "
        "scripts (a `GET` before acquiring, a `SCRIPT LOAD` per run after `NOSCRIPT`) is the "
        "usual cause."
    ),
    "CATCHUP": (
        "Catching up counts whole local days at once (`ZonePlan.count`); if this is slow, the "
        "per-day cache of the zone plan is being rebuilt, or the engine steps occurrence by "
        "occurrence (`_runner._due`)."
    ),
}
