"""cronkit's benchmark suite (benchmarks, not tests): `make bench`, i.e. `python -m bench`.

Each measurement runs in its own Python process (`bench._child`), one system and one
repetition at a time; the parent (`bench.__main__`) interleaves the systems, repeats,
takes medians and writes `bench/RESULTS.md`.

Systems (the same workloads, `bench._workload`):
    floor          S0: `loop.call_at` + `create_task`, no library
    apscheduler3   APScheduler 3.11 `AsyncIOScheduler`
    cronkit_system cronkit through the App (and the bare engine for issue 3)

Scenarios (each builds its cases and its table):
    s0_floor       S0: the floor's numbers gathered from S1-S3
    s1_precision   S1: precision and CPU per run; issue 3's App + Depends overhead
    s2_idle        S2: idle cost of 10,000 cron jobs
    s3_herd        S3: 2,000 one-shot jobs due at once
    s4_cron        S4: cron arithmetic vs croniter, SPEC §2.1 DST vectors
    s5_year        S5: a virtual year under FakeClock (issue 2 and issue 5)
    s6_valkey      S6: a guarded job on a real Valkey
    catchup        issue 2: catching up after a year of downtime

Helpers: `_util` (statistics, CPU, RSS), `_report` (tables, targets), `_profile` (profiles
of missed targets), `_valkey` (a throw-away valkey-server), `notes` (analyses of misses).
"""
