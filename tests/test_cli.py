"""The command line against a real daemon: init, devices --json, doctor."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agent.config import load_config
from agent.demo.simulation import free_port
from tests.conftest import RunningDaemon, SimulatedHome


async def homeclaw(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess (off the event loop, which serves the daemon)."""
    env = {**os.environ, "HOMECLAW_HOME": str(home)}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "agent.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_init_creates_a_working_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = await homeclaw("init", home=home)
    assert result.returncode == 0, result.stderr
    for name in ("config.yaml", "soul.md", "HEARTBEAT.md", "token"):
        assert (home / name).exists(), name
    assert (home / "token").stat().st_mode & 0o777 == 0o600
    load_config(home / "config.yaml", env={})  # the annotated config is valid as written
    again = await homeclaw("init", home=home)
    assert "already there" in again.stdout


async def test_devices_json_and_table(simulated_home: SimulatedHome) -> None:
    home = simulated_home.daemon.rt.paths.root
    (home / "url").write_text(simulated_home.daemon.url)  # as `homeclaw run` does
    result = await homeclaw("devices", "--json", home=home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["devices"]) >= 16
    assert len({d["area"] for d in data["devices"]}) >= 4
    for device in data["devices"]:
        assert {"id", "name", "area", "kind", "available", "state"} <= set(device)
    table = await homeclaw("devices", home=home)
    assert "Kitchen ceiling" in table.stdout and "Living room" in table.stdout


async def test_cli_says_when_the_daemon_is_not_running(tmp_path: Path) -> None:
    await homeclaw("init", home=tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(config.read_text().replace("port: 8321", f"port: {free_port()}"))
    result = await homeclaw("devices", home=tmp_path)
    assert result.returncode == 1
    assert "not running at http://127.0.0.1:" in result.stderr
    assert "(connection refused)" in result.stderr and "urlopen" not in result.stderr


async def test_cli_says_the_daemon_is_starting_while_it_holds_the_home(tmp_path: Path) -> None:
    from agent.process import HomeLock

    await homeclaw("init", home=tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(config.read_text().replace("port: 8321", f"port: {free_port()}"))
    with HomeLock(tmp_path, "demo"):  # what a demo holds from its first second, before serving
        result = await homeclaw("devices", home=tmp_path)
    assert result.returncode == 1
    assert f"homeclaw is starting: homeclaw demo (pid {os.getpid()}) holds" in result.stderr
    after = await homeclaw("devices", home=tmp_path)
    assert "not running" in after.stderr

    # The README's way: a plain `homeclaw devices` while `homeclaw demo` starts in its own folder.
    demo = tmp_path / ".homeclaw-demo"
    demo.mkdir()
    (demo / "token").write_text("t")
    env = {k: v for k, v in os.environ.items() if k != "HOMECLAW_HOME"} | {"HOME": str(tmp_path)}
    with HomeLock(demo, "demo"):
        plain = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "agent.cli", "devices"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert f"holds {demo} but does not answer" in plain.stderr, plain.stderr


async def test_doctor_reports_each_connection(simulated_home: SimulatedHome) -> None:
    home = simulated_home.daemon.rt.paths.root
    result = await homeclaw("doctor", home=home)
    assert "config" in result.stdout and "is valid" in result.stdout
    assert "✓ mqtt: connected to" in result.stdout, result.stdout


def test_devices_table_says_a_cover_is_open_once() -> None:
    from agent.cli.core import _format_state

    blinds = {"kind": "cover", "state": {"position": 100, "contact_open": True}}
    garage = {"kind": "cover", "state": {"position": 0, "contact_open": False}}
    door = {"kind": "sensor", "state": {"contact_open": True, "battery": 80}}
    assert _format_state(blinds, "metric") == "open"  # was "open, open"
    assert _format_state(garage, "metric") == "closed"
    assert _format_state(door, "metric") == "open"


def test_the_banner_names_the_home_when_a_plain_homeclaw_would_miss_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli.core import _banner

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("HOMECLAW_HOME", raising=False)
    demo = tmp_path / ".homeclaw-demo"
    demo.mkdir()
    (demo / "url").write_text("http://127.0.0.1:8321")  # written before the banner
    _banner("http://x/login", demo=True, root=demo)
    assert "    homeclaw devices" in capsys.readouterr().out
    other = tmp_path / "my demo"
    _banner("http://x/login", demo=True, root=other)
    out = capsys.readouterr().out
    assert f"    homeclaw --home '{other}' devices" in out
    assert f"`homeclaw --home '{other}' dashboard`" in out


def test_demo_llm_on_ollama_uses_its_own_api(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.cli.core import demo_brain

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert demo_brain(None, None) is None
    # The README's command: Ollama's /v1 would cut long prompts at its default context.
    ollama = demo_brain("http://127.0.0.1:11434/v1", "qwen2.5:7b-instruct")
    assert ollama == {
        "provider": "ollama",
        "base_url": "http://127.0.0.1:11434",
        "model": "qwen2.5:7b-instruct",
    }
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    other = demo_brain("http://127.0.0.1:8080/v1", "m")
    assert other == {
        "provider": "openai",
        "base_url": "http://127.0.0.1:8080/v1",
        "model": "m",
        "api_key": "${OPENAI_API_KEY}",
    }


async def test_doctor_says_plainly_what_does_not_answer(tmp_path: Path) -> None:
    await homeclaw("init", home=tmp_path)
    config = tmp_path / "config.yaml"
    port = free_port()  # nothing listens there
    text = config.read_text().replace(
        "  provider: none ",
        f"  provider: ollama\n  base_url: http://127.0.0.1:{port}\n  model: qwen3:4b\n  #",
    )
    config.write_text(text.replace("port: 1883", f"port: {free_port()}"))  # no broker there
    result = await homeclaw("doctor", home=tmp_path)
    mqtt = next(x for x in result.stdout.splitlines() if "mqtt:" in x)
    assert "nothing answers at 127.0.0.1:" in mqtt and "remove the `mqtt:` section" in mqtt, mqtt
    line = next(x for x in result.stdout.splitlines() if "brain:" in x)
    assert line.strip().startswith(f"✗ brain: nothing answers at 127.0.0.1:{port}"), line
    assert "ollama serve" in line and "ClientConnectorError" not in line


def test_building_the_cli_loads_nothing_heavy() -> None:
    """`ask` and `devices` start quickly: no command module may import pydantic or asyncio
    at the top (the parser is built from every module; issue 13: p95 < 150 ms)."""
    probe = (
        "import sys, agent.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('pydantic', 'agent.config', 'aiohttp', 'asyncio') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout


async def test_messages_says_there_are_no_strangers(
    start_daemon: Callable[..., Awaitable[RunningDaemon]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.messaging_helpers import COMPONENTS, people

    monkeypatch.setattr("agent.daemon.COMPONENTS", COMPONENTS)
    daemon = await start_daemon({"people": people(), "brain": {"provider": "none"}})
    home = daemon.rt.paths.root
    (home / "url").write_text(daemon.url)  # as `homeclaw run` does
    result = await homeclaw("messages", home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith(
        "Strangers: none (a message from an unknown sender is listed here, unanswered)."
    ), result.stdout
