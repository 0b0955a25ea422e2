"""`mypy --strict` on a typical user module: decorators keep each function's signature.

The inputs are in `tests/typing/`: `user_module.py` must type-check cleanly and reveal the
original signatures; `bad_options.py` holds mistakes the decorators' typing must catch.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "tests" / "typing"


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """mypy's output lines for each input file, from one run over both."""
    cache = tmp_path_factory.mktemp("mypy-cache")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(cache),
            str(INPUTS / "user_module.py"),
            str(INPUTS / "bad_options.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stderr == ""
    lines: dict[str, list[str]] = {"user_module.py": [], "bad_options.py": []}
    for line in result.stdout.splitlines():
        name = Path(line.split(":", 1)[0]).name
        lines[name].append(line)
    return lines


def test_a_typical_user_module_type_checks_under_strict(
    mypy_output: dict[str, list[str]],
) -> None:
    errors = [line for line in mypy_output["user_module.py"] if ": error:" in line]
    assert errors == []


def test_decorated_functions_keep_their_signatures(mypy_output: dict[str, list[str]]) -> None:
    revealed = [
        re.sub(r"^.*Revealed type is ", "", line)
        for line in mypy_output["user_module.py"]
        if "Revealed type is" in line
    ]
    module = "tests.typing.user_module"
    assert revealed == [
        f'"def (ctx: cronkit._job.RunContext, db: {module}.Db) -> '
        'typing.Coroutine[Any, Any, None]"',
        f'"def (cache: {module}.Cache =, retries: int =) -> str | None"',
        '"def (me: cronkit._app.App) -> typing.Coroutine[Any, Any, int]"',
    ]


def test_wrong_job_options_are_type_errors(mypy_output: dict[str, list[str]]) -> None:
    errors = [line for line in mypy_output["bad_options.py"] if ": error:" in line]
    assert len(errors) == 2
    assert 'Argument "max_runs" to "interval" of "App" has incompatible type "str"' in errors[0]
    assert 'Unexpected keyword argument "retries" for "interval" of "App"' in errors[1]
