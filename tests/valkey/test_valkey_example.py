"""`examples/replicas.py` runs: two replicas, one per start-up path, share its occurrences."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.valkey.replicas import ROOT, wait_for
from tests.valkey_server import die_with_parent

pytestmark = [pytest.mark.valkey, pytest.mark.slow]

LINE = re.compile(r"^\S+:(\d+) sync-prices @ (\S+) fencing_token=(\d+)$")
Start = Callable[..., tuple[subprocess.Popen[bytes], Path]]


@pytest.fixture
def start(valkey_url: str, tmp_path: Path) -> Iterator[Start]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *command: str) -> tuple[subprocess.Popen[bytes], Path]:
        out = tmp_path / f"{name}.out"
        with out.open("wb") as stdout, (tmp_path / f"{name}.err").open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, *command],
                cwd=ROOT,
                env={**os.environ, "CRONKIT_VALKEY_URL": valkey_url},
                stdout=stdout,
                stderr=stderr,
                preexec_fn=die_with_parent,
            )
        processes.append(process)
        return process, out

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def lines(out: Path) -> list[tuple[int, str, int]]:
    found = []
    for line in out.read_text().splitlines():
        match = LINE.match(line)
        if match:
            found.append((int(match[1]), match[2], int(match[3])))
    return found


def test_two_replicas_share_the_occurrences(start: Start) -> None:
    first, first_out = start("first", "examples/replicas.py")
    wait_for("the first sync-prices run", lambda: lines(first_out), timeout=15)
    second, second_out = start("second", "-m", "cronkit", "examples.replicas:app")
    wait_for(
        "another sync-prices run",
        lambda: len(lines(first_out) + lines(second_out)) >= 2,
        timeout=15,
    )
    for process in (first, second):
        process.send_signal(signal.SIGTERM)
    assert [process.wait(timeout=15) for process in (first, second)] == [0, 0]

    runs = sorted(lines(first_out) + lines(second_out), key=lambda run: run[2])
    occurrences = [at for _pid, at, _token in runs]
    assert len(occurrences) == len(set(occurrences))  # each occurrence printed once
    assert [token for _pid, _at, token in runs] == list(range(1, len(runs) + 1))
