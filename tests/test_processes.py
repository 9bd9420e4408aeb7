"""Processes and ports, as a newcomer meets them: real `homeclaw` subprocesses.

One demo per home folder; a daemon whose port is taken says who holds it; Ctrl-C
ends a demo cleanly; `doctor` against the demo does not fail on what the demo
does on purpose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.demo.simulation import free_port
from tests.conftest import write_config

pytestmark = pytest.mark.timeout(120)


def homeclaw(home: Path, *args: str) -> list[str]:
    """The command line of the CLI for one home folder."""
    return [sys.executable, "-m", "agent.cli", "--home", str(home), *args]


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": root, "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, int]]:
    """A `homeclaw demo` in its own folder, up (its url file written)."""
    home, port = tmp_path / "demo", free_port()
    process = subprocess.Popen(
        homeclaw(home, "demo", "--port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,  # its own process group, like a job in a terminal
    )
    try:
        deadline = time.monotonic() + 60
        while not (home / "url").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the demo did not start in 60 s"
            time.sleep(0.2)
        yield process, home, port
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_one_demo_per_home_folder_and_a_taken_port_is_explained(
    demo: tuple[subprocess.Popen[str], Path, int], tmp_path: Path
) -> None:
    """A second demo on the folder leaves it alone; `run` on the demo's port says who has it."""
    process, home, port = demo
    url = (home / "url").read_text()
    second = subprocess.run(
        homeclaw(home, "demo"), capture_output=True, text=True, env=_env(), timeout=60
    )
    assert second.returncode == 69, second.stderr
    assert "already runs from" in second.stderr and "Traceback" not in second.stderr
    assert process.poll() is None and (home / "url").read_text() == url  # the first one is fine

    other = tmp_path / "other"
    write_config(other, {"web": {"host": "127.0.0.1", "port": port}})
    run = subprocess.run(
        homeclaw(other, "run"), capture_output=True, text=True, env=_env(), timeout=60
    )
    assert run.returncode == 69, run.stderr
    assert f"127.0.0.1:{port} is already in use by pid {process.pid}" in run.stderr
    assert "Traceback" not in run.stderr

    doctor = subprocess.run(
        homeclaw(home, "doctor"), capture_output=True, text=True, env=_env(), timeout=60
    )
    assert "expected in the demo" in doctor.stdout, doctor.stdout
    assert doctor.returncode == 0, doctor.stdout


def test_ctrl_c_ends_the_demo_cleanly(demo: tuple[subprocess.Popen[str], Path, int]) -> None:
    """SIGINT (what Ctrl-C sends the terminal's process group) → exit 0, no traceback."""
    process, home, _port = demo
    os.killpg(process.pid, signal.SIGINT)  # the whole group, broker included, as a terminal does
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert not (home / "url").exists()
