"""The command line: `python -m cronkit [options] [run|jobs|status|trigger JOB|check] APP`.

```
cronkit myapp:app                  # run (the default command) until every job is finished
cronkit jobs myapp:app [--json]    # the jobs, their policies, limits and next fire times
cronkit status myapp:app [--json]  # what the store holds for each job: next and last run
cronkit trigger nightly myapp:app  # run one job once now; exit 0 if it succeeded
cronkit check myapp:app            # import and validate; with --valkey-url also connect
```

`myapp:app` names an `App` (or a function without arguments returning one) as uvicorn does:
the module is imported with the current directory on `sys.path`. Exit codes: 0 ok, 1 error,
2 usage. Options: `--log-level` (default `info`) and `--valkey-url` (default: the environment
variable `CRONKIT_VALKEY_URL`), which replaces the App's store and guard with Valkey ones;
`check` then connects and checks the ACL, `jobs` and `status` read the states from Valkey.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn

from cronkit._app import App
from cronkit._cli_load import load_app
from cronkit._cli_views import (
    PlannedRun,
    StoredState,
    format_duration,
    jobs_json,
    jobs_table,
    plan_runs,
    status_json,
    status_table,
)
from cronkit._enums import RunStatus
from cronkit._events import ensure_log_handler
from cronkit._exceptions import (
    AppLoadError,
    CronkitError,
    GuardUnavailableError,
    StateCorruptedError,
    StoreUnavailableError,
)
from cronkit._state import RunRecord
from cronkit._store import ResilientStateStore, StateStore

__all__ = [
    "PlannedRun",
    "format_duration",
    "jobs_json",
    "jobs_table",
    "load_app",
    "main",
    "plan_runs",
    "status_json",
    "status_table",
]

COMMANDS = ("run", "jobs", "status", "trigger", "check")
LEVELS = ("debug", "info", "warning", "error", "critical")
MISSING_APP = "missing APP: give the module:attribute of your App, e.g. myapp:app"
_VALUE_OPTIONS = ("--log-level", "--valkey-url", "--metrics-port")
_HELP = ("-h", "--help")
_log = logging.getLogger("cronkit.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default `sys.argv[1:]`); return the exit code."""
    args = build_parser().parse_args(
        _with_default_command(list(sys.argv[1:] if argv is None else argv))
    )
    ensure_log_handler(args.log_level.upper())
    try:
        app = load_app(args.app)
        if args.command in ("jobs", "status"):
            return _show(app, args.command, args.valkey_url, as_json=args.json)
        if not args.valkey_url:
            owned = _Owned()
        else:  # `check` says what it checked on stdout; the log line would only repeat it
            quiet = args.command == "check"
            owned = _use_valkey(
                app, args.valkey_url, log_level=logging.DEBUG if quiet else logging.INFO
            )
        if args.command == "run":
            return _run(app, owned, args.metrics_port)
        if args.command == "trigger":
            return _trigger(app, args.job, owned)
        return _check(app, args.app, owned)
    except CronkitError as error:
        print(f"cronkit: error: {error}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (the default command `run` is inserted by `main`)."""
    parser = _Parser(
        prog="cronkit",
        description="Run, list, inspect, trigger or check the jobs of a cronkit App.",
        epilog="APP is 'module:attribute', e.g. 'myapp:app'; the command defaults to run.",
    )
    _add_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "run": "run the jobs until all are finished or a signal stops them (default)",
        "jobs": "list the jobs with their schedule, window, policies, limits and next runs",
        "status": "show each job's stored state: next run, last run, last status and error",
        "trigger": "run one job once now and exit with its status",
        "check": "import the App and validate its jobs; with --valkey-url also check Valkey",
    }
    for name in COMMANDS:
        command = commands.add_parser(name, help=helps[name], description=helps[name])
        _add_options(command, defaults=False)
        if name == "trigger":
            command.add_argument("job", metavar="JOB", help="the id of the job to run")
        if name in ("jobs", "status"):
            command.add_argument(
                "--json", action="store_true", help="print a JSON list, one object per job"
            )
        command.add_argument("app", metavar="APP", help="the App, as 'module:attribute'")
    return parser


class _Parser(argparse.ArgumentParser):
    """An argument parser whose error for a missing APP says what to give."""

    def error(self, message: str) -> NoReturn:
        if message == "the following arguments are required: APP":
            message = MISSING_APP
        super().error(message)


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
    parser.add_argument(
        "--metrics-port",
        metavar="PORT",
        type=int,
        default=None if defaults else argparse.SUPPRESS,
        help="with run: serve Prometheus metrics on 127.0.0.1:PORT/metrics "
        "(needs cronkit[prometheus])",
    )


def _with_default_command(argv: list[str]) -> list[str]:
    """`argv` with `run` inserted before the first positional argument if it is no command.

    Without any positional argument (and no `--help`) `run` is appended, so that the error
    names the missing APP rather than a missing command.
    """
    index = 0
    while index < len(argv):
        arg = argv[index]
        if not arg.startswith("-"):
            return argv if arg in COMMANDS else [*argv[:index], "run", *argv[index:]]
        index += 2 if arg in _VALUE_OPTIONS else 1
    return argv if any(arg in _HELP for arg in argv) else [*argv, "run"]


@dataclass
class _Owned:
    """What the command line created for the App: checked before start, closed at the end."""

    closables: list[Any] = field(default_factory=list)
    checks: list[Any] = field(default_factory=list)
    store: StateStore | None = None
    """The Valkey store itself (not the resilient wrapper): what `jobs` and `status` read."""

    async def check(self, *, strict: bool = False) -> None:
        """Refuse wrong credentials or ACL; an outage only warns (jobs wait) unless `strict`."""
        for adapter in self.checks:
            try:
                await adapter.check()
            except (StoreUnavailableError, GuardUnavailableError) as error:
                if strict:
                    raise
                _log.warning("%s; starting anyway, the jobs wait for it", error)

    async def close(self) -> None:
        for resource in self.closables:
            await resource.close()


def _use_valkey(app: App, url: str, *, log_level: int = logging.INFO) -> _Owned:
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
    _log.log(log_level, "state and leases in Valkey (%r replaces the App's store and guard)", store)
    return _Owned(closables=[store, guard], checks=[primary, guard], store=primary)


def _check(app: App, spec: str, owned: _Owned) -> int:
    """Validated already by loading; with Valkey, connect and try every command it needs."""
    if owned.store is None:
        print(f"{spec}: {len(app.jobs)} job(s) OK")
        return 0

    async def check() -> None:
        try:
            await owned.check(strict=True)
        finally:
            await owned.close()

    asyncio.run(check())
    print(f"{spec}: {len(app.jobs)} job(s) OK; {owned.store!r} and its guard answer, ACL OK")
    return 0


def _show(app: App, command: str, url: str | None, *, as_json: bool) -> int:
    """`jobs` or `status`: read each job's stored state, print the table or JSON."""
    owned = _use_valkey(app, url, log_level=logging.DEBUG) if url else _Owned()
    store = app.store if owned.store is None else owned.store

    async def load() -> dict[str, StoredState]:
        states: dict[str, StoredState] = {}
        try:
            for job_id in app.jobs:
                try:
                    states[job_id] = await store.load(job_id)
                except StateCorruptedError as error:  # shown in its row; the others go on
                    states[job_id] = error
        finally:
            await owned.close()
        return states

    states = asyncio.run(load())
    if command == "jobs":
        print(jobs_json(app, states) if as_json else jobs_table(app, states))
    else:
        print(status_json(app, states) if as_json else status_table(app, states))
    return 1 if any(isinstance(state, Exception) for state in states.values()) else 0


def _run(app: App, owned: _Owned, metrics_port: int | None) -> int:
    stop_metrics = _serve_metrics(app, metrics_port) if metrics_port is not None else None

    async def serve() -> None:
        try:
            await owned.check()
            await app.serve(install_signal_handlers=True)
        finally:
            await owned.close()

    try:
        asyncio.run(serve())
    finally:
        if stop_metrics is not None:
            stop_metrics()
    if app.errors:
        failed = ", ".join(map(repr, app.errors))
        print(f"cronkit: error: job(s) stopped on a fatal error: {failed}", file=sys.stderr)
        return 1
    return 0


def _serve_metrics(app: App, port: int) -> Callable[[], None]:
    """Observe `app` with a `PrometheusObserver` served on 127.0.0.1:`port`; return the stop."""
    try:
        from prometheus_client import CollectorRegistry

        from cronkit.metrics import PrometheusObserver, start_metrics_server
    except ImportError as error:
        raise AppLoadError(f"--metrics-port {port}: {error}") from None
    registry = CollectorRegistry()
    app.add_observer(PrometheusObserver(registry))
    try:
        server, _thread = start_metrics_server(port, registry=registry)
    except OSError as error:
        raise AppLoadError(f"--metrics-port {port}: cannot listen on 127.0.0.1: {error}") from None
    _log.info("metrics on http://127.0.0.1:%d/metrics", server.server_port)

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop


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
