"""The command line called in-process: the loader's corners, Valkey wiring, argument handling."""

from __future__ import annotations

import importlib
import socket
import sys
from pathlib import Path

import pytest

from cronkit import App, AppLoadError
from cronkit.cli import _with_default_command, jobs_table, load_app, main
from tests.app_fixtures import basic

FIXTURES = "tests.app_fixtures"


def test_the_current_directory_is_put_on_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cronkit_cwd_app.py").write_text("from cronkit import App\napp = App()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "cronkit_cwd_app", raising=False)
    assert isinstance(load_app("cronkit_cwd_app:app"), App)
    assert sys.path[0] == str(tmp_path)


def test_a_factory_and_a_dotted_attribute_are_followed() -> None:
    assert load_app(f"{FIXTURES}.basic:factory") is basic.app
    with pytest.raises(AppLoadError, match=r"'tests.app_fixtures.basic:app.config' is Sched"):
        load_app(f"{FIXTURES}.basic:app.config")


def test_a_failing_factory_prints_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AppLoadError) as caught:
        load_app(f"{FIXTURES}.factory_fails:make_app")
    assert str(caught.value) == (
        f"calling the factory '{FIXTURES}.factory_fails:make_app' failed: LookupError: "
        "no configuration found (traceback above)"
    )
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_an_async_factory_is_not_an_app() -> None:
    with pytest.raises(AppLoadError, match=r"returned coroutine .*not a cronkit App"):
        load_app(f"{FIXTURES}.factory_fails:make_app_async")


def test_a_class_is_not_a_factory() -> None:
    with pytest.raises(AppLoadError, match=r"'cronkit:App' is type <class 'cronkit._app.App'>"):
        load_app("cronkit:App")


def test_a_module_without_any_app_gives_no_hint() -> None:
    with pytest.raises(AppLoadError) as caught:
        load_app(f"{FIXTURES}.factory_fails:app")
    assert "(it has" not in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["myapp:app"], ["run", "myapp:app"]),
        (["--log-level", "debug", "myapp:app"], ["--log-level", "debug", "run", "myapp:app"]),
        (["--log-level=debug", "myapp:app"], ["--log-level=debug", "run", "myapp:app"]),
        (["jobs", "myapp:app"], ["jobs", "myapp:app"]),
        (["-h"], ["-h"]),
        ([], ["run"]),
        (["--log-level", "debug"], ["--log-level", "debug", "run"]),
        (["--log-level", "debug", "--help"], ["--log-level", "debug", "--help"]),
    ],
    ids=[
        "bare",
        "option-with-value",
        "option-equals",
        "command-given",
        "help",
        "nothing",
        "only-options",
        "only-options-and-help",
    ],
)
def test_run_is_inserted_when_no_command_is_given(argv: list[str], expected: list[str]) -> None:
    assert _with_default_command(argv) == expected


def test_options_are_accepted_after_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["cronkit", "check", f"{FIXTURES}.basic:app", "--log-level", "debug"]
    )
    assert main() == 0
    assert capsys.readouterr().out == f"{FIXTURES}.basic:app: 6 job(s) OK\n"


def test_jobs_of_an_empty_app() -> None:
    assert jobs_table(App()) == "no jobs"


def test_a_job_without_future_fire_times_shows_a_dash() -> None:
    app = App()
    app.at("2020-01-01T00:00:00Z", id="past", missed="skip")(basic.tick)
    assert jobs_table(app).splitlines()[1].endswith("-")


def test_a_past_instant_shows_the_catch_up_run_at_start() -> None:
    app = App()
    app.at("2020-01-01T00:00:00Z", id="past")(basic.tick)
    assert jobs_table(app).splitlines()[1].endswith("  now (catch-up of 1)")


def test_valkey_url_without_the_valkey_client_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "cronkit.valkey", None)  # as if not installed
    code = main(["--valkey-url", "valkey://localhost", "check", f"{FIXTURES}.basic:app"])
    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith("cronkit: error: --valkey-url needs the Valkey client")
    assert "pip install 'cronkit[valkey]'" in error


def test_valkey_url_replaces_the_store_and_guard(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cronkit.valkey import ValkeyExecutionGuard

    monkeypatch.setattr(basic.app, "store", basic.app.store)  # restored after the test
    monkeypatch.setattr(basic.app, "guard", basic.app.guard)
    # Nothing listens on port 1: the job's state cannot be read, and a one-off trigger says so
    # at once instead of waiting for the store as a scheduled job would.
    code = main(["--valkey-url", "redis://127.0.0.1:1/0", "trigger", "ok", f"{FIXTURES}.basic:app"])
    assert code == 1
    error = capsys.readouterr().err
    assert "cronkit: error: the stored state of job 'ok' is unknown" in error
    assert isinstance(basic.app.guard, ValkeyExecutionGuard)
    assert "ResilientStateStore" in type(basic.app.store).__name__


@pytest.mark.parametrize("command", ["jobs", "status", "check"])
def test_jobs_status_and_check_use_the_valkey_url(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(basic.app, "store", basic.app.store)  # restored after the test
    monkeypatch.setattr(basic.app, "guard", basic.app.guard)
    assert main(["--valkey-url", "http://not-even-valid", command, f"{FIXTURES}.basic:app"]) == 1
    output = capsys.readouterr()
    assert output.out == ""
    assert output.err.startswith("cronkit: error: Valkey URL 'http://not-even-valid' has the")


def test_importing_the_main_module_does_not_run_the_command_line() -> None:
    module = importlib.import_module("cronkit.__main__")
    assert module.main is main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_run_serves_metrics_while_the_app_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app_fixtures import scrapes_metrics

    port = _free_port()
    monkeypatch.setenv("CRONKIT_TEST_METRICS_PORT", str(port))
    scrapes_metrics.scraped.clear()
    code = main(["run", "--metrics-port", str(port), "tests.app_fixtures.scrapes_metrics:app"])
    assert code == 0
    [text] = scrapes_metrics.scraped
    assert 'cronkit_start_lateness_seconds_count{job="scrape"} 1.0' in text
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass  # the server is closed once run returns


def test_metrics_port_in_use_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["--metrics-port", str(port), "tests.app_fixtures.scrapes_metrics:app"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"cronkit: error: --metrics-port {port}: cannot listen on 127.0.0.1")
