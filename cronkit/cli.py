"""The command line: `python -m cronkit [options] [run|jobs|trigger JOB|check] module:attr`.

```
cronkit myapp:app                  # run (the default command) until every job is finished
cronkit jobs myapp:app             # table of the jobs and their next fire times
cronkit trigger nightly myapp:app  # run one job once now; exit 0 if it succeeded
cronkit check myapp:app            # import and validate only
```

`myapp:app` names an `App` (or a function without arguments returning one) as uvicorn does:
the module is imported with the current directory on `sys.path`. Exit codes: 0 ok, 1 error,
2 usage. Options: `--log-level` (default `info`) and `--valkey-url` (default: the environment
variable `CRONKIT_VALKEY_URL`), which replaces the App's store and guard with Valkey ones.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cronkit._app import App
from cronkit._cron import zone_name
from cronkit._enums import RunStatus
from cronkit._exceptions import (
    AppLoadError,
    CronkitError,
    GuardUnavailableError,
    StoreUnavailableError,
)
from cronkit._job import Job
from cronkit._state import RunRecord
from cronkit._store import ResilientStateStore

__all__ = ["load_app", "main"]

COMMANDS = ("run", "jobs", "trigger", "check")
LEVELS = ("debug", "info", "warning", "error", "critical")
NEXT_RUNS = 3
_VALUE_OPTIONS = ("--log-level", "--valkey-url")
_log = logging.getLogger("cronkit.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default `sys.argv[1:]`); return the exit code."""
    args = build_parser().parse_args(
        _with_default_command(list(sys.argv[1:] if argv is None else argv))
    )
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        app = load_app(args.app)
        owned = (
            _use_valkey(app, args.valkey_url)
            if args.valkey_url and args.command != "jobs"
            else _Owned()
        )
        if args.command == "run":
            return _run(app, owned)
        if args.command == "jobs":
            print(jobs_table(app))
            return 0
        if args.command == "trigger":
            return _trigger(app, args.job, owned)
        print(f"{args.app}: {len(app.jobs)} job(s) OK")
        return 0
    except CronkitError as error:
        print(f"cronkit: error: {error}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (the default command `run` is inserted by `main`)."""
    parser = argparse.ArgumentParser(
        prog="cronkit",
        description="Run, list, trigger or check the jobs of a cronkit App.",
        epilog="APP is 'module:attribute', e.g. 'myapp:app'; the command defaults to run.",
    )
    _add_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "run": "run the jobs until all are finished or a signal stops them (default)",
        "jobs": "list the jobs with their schedule, zone, policies and next fire times",
        "trigger": "run one job once now and exit with its status",
        "check": "import the App and validate its jobs, nothing else",
    }
    for name in COMMANDS:
        command = commands.add_parser(name, help=helps[name], description=helps[name])
        _add_options(command, defaults=False)
        if name == "trigger":
            command.add_argument("job", metavar="JOB", help="the id of the job to run")
        command.add_argument("app", metavar="APP", help="the App, as 'module:attribute'")
    return parser


def _add_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # Accepted before and after the command; only the top-level parser sets the defaults.
    parser.add_argument(
        "--log-level",
        type=str.lower,
        choices=LEVELS,
        default="info" if defaults else argparse.SUPPRESS,
        help="logging level (default: info)",
    )
    parser.add_argument(
        "--valkey-url",
        metavar="URL",
        default=os.environ.get("CRONKIT_VALKEY_URL") if defaults else argparse.SUPPRESS,
        help="keep state and leases in Valkey at URL (env CRONKIT_VALKEY_URL)",
    )


def _with_default_command(argv: list[str]) -> list[str]:
    """`argv` with `run` inserted before the first positional argument if it is no command."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if not arg.startswith("-"):
            return argv if arg in COMMANDS else [*argv[:index], "run", *argv[index:]]
        index += 2 if arg in _VALUE_OPTIONS else 1
    return argv


def load_app(spec: str) -> App:
    """Import the `App` that `spec` (`"module:attribute"`) names.

    The attribute may be dotted, and may be a function without arguments returning the App.
    The current directory is put on `sys.path` first.

    Raises:
        AppLoadError: with a one-line message, distinct for each case (bad spec, module not
            found, error while importing, missing attribute, not an App). For an error raised
            inside the module or the factory its traceback is printed first.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise AppLoadError(
            f"{spec!r} is not 'module:attribute'; write e.g. 'myapp:app' for the variable app "
            "in myapp.py"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and f"{module_name}.".startswith(f"{error.name}."):
            raise AppLoadError(
                f"module {module_name!r} not found; run cronkit from the directory that holds "
                f"it (now {cwd!r}) or check the name"
            ) from None
        raise _failed(f"importing module {module_name!r} failed", error) from None
    except Exception as error:
        raise _failed(f"importing module {module_name!r} failed", error) from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            apps = [name for name, value in vars(module).items() if isinstance(value, App)]
            hint = f" (it has the App {', '.join(map(repr, apps))})" if apps else ""
            raise AppLoadError(
                f"module {module_name!r} has no attribute {attribute!r}{hint}; "
                "write 'module:attribute' with the name of your App"
            ) from None
    if isinstance(target, App):
        return target
    if callable(target) and not isinstance(target, type):
        try:
            target = target()
        except Exception as error:
            raise _failed(f"calling the factory {spec!r} failed", error) from None
        if isinstance(target, App):
            return target
        if inspect.iscoroutine(target):
            target.close()
        what = f"the factory {spec!r} returned"
    else:
        what = f"{spec!r} is"
    raise AppLoadError(
        f"{what} {type(target).__name__} {_short(target)}, not a cronkit App; point at an App "
        "(app = App()) or at a plain function without arguments that returns one"
    )


def _failed(what: str, error: BaseException) -> AppLoadError:
    traceback.print_exception(error)
    first_line = (str(error).splitlines() or [""])[0]
    return AppLoadError(f"{what}: {type(error).__name__}: {first_line} (traceback above)")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class _Owned:
    """What the command line created for the App: checked before start, closed at the end."""

    closables: list[Any] = field(default_factory=list)
    checks: list[Any] = field(default_factory=list)

    async def check(self) -> None:
        """Refuse to start on wrong credentials or ACL; an outage only warns (jobs wait)."""
        for adapter in self.checks:
            try:
                await adapter.check()
            except (StoreUnavailableError, GuardUnavailableError) as error:
                _log.warning("%s; starting anyway, the jobs wait for it", error)

    async def close(self) -> None:
        for resource in self.closables:
            await resource.close()


def _use_valkey(app: App, url: str) -> _Owned:
    """Give `app` a Valkey state store and guard at `url`; returns them, to check and close."""
    try:
        from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig, ValkeyStateStore
    except ImportError as error:
        raise CronkitError(
            f"--valkey-url needs the Valkey client, which is not installed ({error}); "
            "install it with: pip install 'cronkit[valkey]'"
        ) from None
    primary = ValkeyStateStore(url)
    store = ResilientStateStore(primary)
    lease = ValkeyLeaseConfig(ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=10))
    guard = ValkeyExecutionGuard(url, lease)
    app.store, app.guard = store, guard
    _log.info("state and leases in Valkey (%r replaces the App's store and guard)", store)
    return _Owned(closables=[store, guard], checks=[primary, guard])


def _run(app: App, owned: _Owned) -> int:
    async def serve() -> None:
        try:
            await owned.check()
            await app.serve(install_signal_handlers=True)
        finally:
            await owned.close()

    asyncio.run(serve())
    if app.errors:
        failed = ", ".join(map(repr, app.errors))
        print(f"cronkit: error: job(s) stopped on a fatal error: {failed}", file=sys.stderr)
        return 1
    return 0


def _trigger(app: App, job_id: str, owned: _Owned) -> int:
    if job_id not in app.jobs:
        known = ", ".join(map(repr, app.jobs)) or "none"
        raise AppLoadError(f"the App has no job {job_id!r}; its jobs are: {known}")

    async def trigger() -> RunRecord | None:
        try:
            await owned.check()
            return await app.trigger(job_id, install_signal_handlers=True)
        finally:
            await owned.close()

    record = asyncio.run(trigger())
    if record is None:
        report = app.report(job_id)
        reason = None if report is None else report.last_skip_reason
        print(f"job {job_id!r} was skipped ({reason})")
        return 1
    seconds = (record.finished_at - record.started_at).total_seconds()
    error = f": {record.error}" if record.error else ""
    print(f"job {job_id!r}: {record.status} in {seconds:.3f}s{error}")
    return 0 if record.status is RunStatus.SUCCESS else 1


def jobs_table(app: App) -> str:
    """A text table of `app`'s jobs: id, schedule, zone, policies and next fire times."""
    if not app.jobs:
        return "no jobs"
    now = app.clock.now()
    rows: list[tuple[str, ...]] = [("ID", "SCHEDULE", "ZONE", "MISSED", "OVERLAP", "NEXT RUNS")]
    rows += [_row(job, app, now) for job in app.jobs.values()]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    widths[-1] = 0  # the last column is not padded
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _row(job: Job[Any], app: App, now: datetime) -> tuple[str, ...]:
    zone = job.timezone if job.timezone is not None else app.config.timezone
    count = NEXT_RUNS if job.max_runs is None else min(NEXT_RUNS, job.max_runs)
    runs: list[str] = []
    instant: datetime | None = now
    while instant is not None and len(runs) < count:
        instant = job.schedule.next_after(instant, timezone=zone)
        if instant is not None:
            runs.append(instant.astimezone(zone).isoformat(sep=" ", timespec="seconds"))
    return (
        job.id,
        str(job.schedule),
        zone_name(zone),
        str(job.missed),
        str(job.overlap),
        ", ".join(runs) or "-",
    )
