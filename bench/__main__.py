"""`python -m bench`: run the benchmark suite and write `bench/RESULTS.md`.

```
python -m bench                 # everything, 2 repetitions, writes bench/RESULTS.md
python -m bench --quick         # shorter windows, 1 repetition (for development)
python -m bench S1 S4           # a subset (S0 S1 S2 S3 S4 S5 S6 CATCHUP)
python -m bench --reps 3 --output /tmp/results.md
```

Only a full run (every scenario, not `--quick`) writes `bench/RESULTS.md` unless `--output`
says otherwise, so a quick or partial run never replaces the published results.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import notes, s0_floor
from bench._child import MARKER
from bench._profile import render
from bench._report import Profile, Section, Target, table
from bench._util import machine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SCENARIOS = {
    "S1": "bench.s1_precision",
    "S2": "bench.s2_idle",
    "S3": "bench.s3_herd",
    "S4": "bench.s4_cron",
    "S5": "bench.s5_year",
    "S6": "bench.s6_valkey",
    "CATCHUP": "bench.catchup",
}
ALIASES = {"ISSUE2": "CATCHUP", "C": "CATCHUP", "ISSUE3": "S1"}
TIMEOUT_S = 240


def run_child(target: str, kwargs: dict[str, Any], timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """Run `target(**kwargs)` in a fresh Python process; its result, or `{"error": ...}`."""
    spec = json.dumps({"target": target, "kwargs": kwargs})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench._child", spec],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line.removeprefix(MARKER))
            return result
    tail = "\n".join(done.stderr.strip().splitlines()[-6:])
    return {"error": f"exit {done.returncode}: {tail}"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="S0 S1 S2 S3 S4 S5 S6 CATCHUP (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="short windows, one repetition")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 2, quick 1)")
    parser.add_argument("--output", type=Path, default=None, help="where to write the results")
    parser.add_argument("--no-profile", action="store_true", help="no profiles of missed targets")
    args = parser.parse_args(argv)
    chosen = []
    for name in args.scenarios or ["S0", *SCENARIOS]:
        key = ALIASES.get(name.upper(), name.upper())
        if key != "S0" and key not in SCENARIOS:
            parser.error(f"unknown scenario {name!r}; choose among S0 {' '.join(SCENARIOS)}")
        if key not in chosen:
            chosen.append(key)
    args.chosen = chosen
    args.full = not args.scenarios or set(chosen) >= {"S0", *SCENARIOS}
    args.reps = args.reps or (1 if args.quick else 2)
    if args.output is None and args.full and not args.quick:
        args.output = RESULTS
    return args


def plan(
    args: argparse.Namespace,
) -> list[tuple[str, ModuleType, list[tuple[str, str, dict[str, Any]]]]]:
    """Which cases of which scenario to run; S0 alone runs the floor's cases of S1-S3."""
    out = []
    for key, module_name in SCENARIOS.items():
        floor_only = key in ("S1", "S2", "S3") and key not in args.chosen and "S0" in args.chosen
        if key not in args.chosen and not floor_only:
            continue
        module = importlib.import_module(module_name)
        cases = module.cases(args.quick)
        if floor_only:
            cases = [case for case in cases if case[0].endswith("floor")]
        out.append((key, module, cases))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    began, started_at = time.perf_counter(), datetime.now(UTC)
    where = machine()
    print(
        f"cronkit benchmarks: {' '.join(args.chosen)}; {args.reps} repetition(s)"
        f"{', quick' if args.quick else ''}",
        file=sys.stderr,
    )
    print(
        f"machine: {where['cpu']}, {where['cores']} cores, Python {where['python']}",
        file=sys.stderr,
    )
    everything: dict[str, dict[str, list[dict[str, Any]]]] = {}
    errors: list[str] = []
    sections: list[Section] = []
    for key, module, cases in plan(args):
        results: dict[str, list[dict[str, Any]]] = {}
        for rep in range(args.reps):
            for case_key, target, kwargs in cases:
                t0 = time.perf_counter()
                result = run_child(target, kwargs)
                seconds = time.perf_counter() - t0
                status = "error" if "error" in result else "ok"
                print(
                    f"  {key} {case_key} rep {rep + 1}: {status} ({seconds:.1f} s)", file=sys.stderr
                )
                if "error" in result:
                    errors.append(f"{key} {case_key} rep {rep + 1}: {result['error']}")
                    print(f"    {result['error']}", file=sys.stderr)
                    continue
                results.setdefault(case_key, []).append(result)
        everything[key] = results
        if key in args.chosen:
            section = module.report(results, args.quick)
            sections.append(section)
            print(f"\n## {section.title}\n\n{section.body}\n", flush=True)
    floor = s0_floor.report(everything)
    if floor is not None:
        sections.insert(0, floor)
        print(f"\n## {floor.title}\n\n{floor.body}\n", flush=True)
    profiles = [] if args.no_profile else take_profiles(sections)
    runtime_s = time.perf_counter() - began
    text = render_results(args, where, started_at, runtime_s, sections, profiles, errors)
    all_targets = [t for s in sections for t in s.targets]
    if all_targets:
        print(targets_table(all_targets))
    print(f"\nbench run took {runtime_s:.0f} s", file=sys.stderr)
    if args.output is not None:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 1 if errors else 0


def take_profiles(sections: list[Section]) -> list[tuple[Profile, dict[str, Any]]]:
    """Profile the workloads of the missed targets (each in its own process)."""
    taken = []
    for section in sections:
        for profile in section.profiles:
            print(f"  profiling: {profile.title}", file=sys.stderr)
            if profile.kind == "cpu":
                kwargs = {
                    "target": profile.target,
                    "kwargs": profile.kwargs,
                    "whole": profile.whole,
                }
                result = run_child("bench._profile:cpu", kwargs)
            else:
                result = run_child(profile.target, profile.kwargs)
            taken.append((profile, result))
    return taken


def verdict(target: Target) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[target.met]


def targets_table(targets: list[Target]) -> str:
    rows = [[t.scenario, t.what, t.value, t.goal, verdict(t), t.margin] for t in targets]
    return table(["scenario", "target", "value", "goal", "result", "margin"], rows)


def render_memory(title: str, result: dict[str, Any]) -> str:
    lines = [f"**Profile: {title}** (tracemalloc, {result['n']:,} jobs, bytes per job)\n"]
    for step, data in result["steps"].items():
        lines.append(f"\n*{step}*: {data['bytes_per_job']:,.0f} bytes per job; largest sites:\n")
        lines.append("| site | code | bytes / job | objects / job |\n|---|---|---:|---:|")
        lines.extend(
            f"| `{row['site']}` | `{row['code'].replace('|', '/')}` | {row['bytes_per_job']:,.0f} "
            f"| {row['objects_per_job']:.2f} |"
            for row in data["top"]
        )
    return "\n".join(lines)


def render_results(
    args: argparse.Namespace,
    where: dict[str, Any],
    started_at: datetime,
    runtime_s: float,
    sections: list[Section],
    profiles: list[tuple[Profile, dict[str, Any]]],
    errors: list[str],
) -> str:
    targets = [t for s in sections for t in s.targets]
    load_end = machine()["load"]
    out = [
        "# cronkit benchmarks",
        "",
        f"Written by `make bench` (`python -m bench{' --quick' if args.quick else ''}`) on "
        f"{started_at:%Y-%m-%d %H:%M} UTC; the run took {runtime_s / 60:.1f} minutes.",
        "",
        f"- **Machine**: {where['cpu']}, {where['cores']} cores; {where['implementation']} "
        f"{where['python']}; {where['os']}.",
        f"- **Load**: 1-minute load average {where['load'][0]:.2f} at the start and "
        f"{load_end[0]:.2f} at the end. Other engineers' test suites share this 2-core machine, "
        "so absolute numbers are noisy; compare systems within a table.",
        f"- **Method**: each system runs in its own process; {args.reps} repetition(s), the "
        "systems of a scenario interleaved within each repetition; every number is the median "
        "over the repetitions, and every ratio is the median of the per-repetition ratios "
        "(systems that ran back to back). CPU is process CPU time "
        "(`time.process_time`) over the measurement window only.",
        "- **Systems**: the floor (`bench/floor.py`: `loop.call_at` + `create_task`, no "
        "library), APScheduler 3.11 (`AsyncIOScheduler`, `bench/apscheduler3.py`) and cronkit "
        "through the App as a user writes it (`bench/cronkit_system.py`: `App()` defaults, "
        "logging left at WARNING).",
        "",
        "## Targets",
        "",
        targets_table(targets),
    ]
    if errors:
        out += ["", "**Errors** (these measurements are missing):", ""]
        out += [f"- {error}" for error in errors]
    for section in sections:
        out += ["", f"## {section.title}", "", section.body]
    missed = [t for t in targets if t.met is False]
    if missed:
        out += ["", "## Missed targets: where the time goes and what would close it"]
        by_note: dict[str, list[Target]] = {}
        for target in missed:
            by_note.setdefault(target.note_key, []).append(target)
        for key, group in by_note.items():
            out += [
                "",
                f"### {group[0].scenario}: "
                + "; ".join(f"{t.what} — {t.value} (goal {t.goal})" for t in group),
            ]
            out += ["", notes.NOTES.get(key, "(no analysis written for this target yet)")]
        for profile, result in profiles:
            out += ["", f"### Profile — {profile.title}", ""]
            if "error" in result:
                out.append(f"(profile failed: {result['error']})")
            elif profile.kind == "memory":
                out.append(render_memory(profile.title, result))
            else:
                out.append(render(profile.title, result))
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
