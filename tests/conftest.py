"""Shared fixtures: a real Mosquitto broker per session, and a real daemon per test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from ruamel.yaml import YAML

from agent.config import load_config
from agent.daemon import Daemon, build_runtime
from agent.demo.simulation import free_port
from agent.paths import HomePaths
from agent.runtime import Runtime


@dataclass
class Broker:
    """A Mosquitto broker on loopback that tests may stop and start again."""

    host: str
    port: int
    conf: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) the broker and wait until it accepts connections."""
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        """Kill the broker."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[Broker]:
    """A real Mosquitto on 127.0.0.1 for the whole session (skips if not installed)."""
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    tmp = Path(tempfile.mkdtemp(prefix="hc-mosq-"))
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
        "set_tcp_nodelay true\n"
    )
    broker = Broker("127.0.0.1", port, conf)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class RunningDaemon:
    """A daemon started by a test, with an authenticated HTTP session."""

    rt: Runtime
    daemon: Daemon
    url: str
    http: aiohttp.ClientSession

    def login_url(self) -> str:
        """A one-time link that logs a browser in (what the start-up banner prints)."""
        from agent.web.app import login_link

        return login_link(self.rt)

    async def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the API; returns (status, JSON)."""
        async with self.http.request(method, self.url.rstrip("/") + path, json=body) as resp:
            return resp.status, await resp.json(content_type=None)


def write_config(root: Path, config: dict[str, Any]) -> Path:
    """Write a config.yaml into a home folder."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yaml"
    with path.open("w") as fh:
        YAML().dump(config, fh)
    return path


@pytest.fixture
async def start_daemon(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[RunningDaemon]]]:
    """Start a real daemon (web on a free port) from a config dict; stopped after the test."""
    started: list[RunningDaemon] = []

    async def start(config: dict[str, Any], *, home: Path | None = None) -> RunningDaemon:
        root = home or tmp_path / "home"
        config = {
            "discovery": {"interfaces": ["127.0.0.1"]},  # tests never touch the LAN
            **config,
            "web": {"host": "127.0.0.1", "port": 0, **config.get("web", {})},
        }
        path = write_config(root, config)
        paths = HomePaths(root)
        rt = build_runtime(load_config(path), paths)
        daemon = Daemon(rt)
        url = await daemon.start()
        http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {rt.token}"})
        running = RunningDaemon(rt, daemon, url, http)
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in reversed(started):
            await running.http.close()
            await running.daemon.stop()


@dataclass
class SimulatedHome:
    """A running daemon fed by the MQTT simulator over a real broker."""

    daemon: RunningDaemon
    sim: Any

    def device_id(self, name: str) -> str:
        """The id of the one device with this name."""
        resolution = self.daemon.rt.home.resolve(name)
        assert resolution.ok and len(resolution.devices) == 1, resolution.message
        return resolution.devices[0].id


@pytest.fixture
async def simulated_home(
    mqtt_broker: Broker, start_daemon: Callable[..., Awaitable[RunningDaemon]]
) -> AsyncIterator[SimulatedHome]:
    """The daemon plus the demo's MQTT devices (own topic namespace on the shared broker)."""
    from integrations.mqtt.simulator import DEMO_AREAS, MqttHomeSimulator
    from tests.util import eventually

    base = f"z2m_{time.monotonic_ns()}"
    sim = MqttHomeSimulator(mqtt_broker.host, mqtt_broker.port, base=base)
    await sim.start()
    try:
        overrides = {f"mqtt:{d.ieee}": {"area": DEMO_AREAS[d.friendly_name]} for d in sim.devices}
        running = await start_daemon(
            {
                "home": {
                    "name": "Test house",
                    "areas": {
                        "kitchen": {"name": "Kitchen", "floor": "downstairs"},
                        "living_room": {"name": "Living room", "floor": "downstairs"},
                        "bedroom": {"name": "Bedroom", "floor": "upstairs"},
                    },
                },
                "mqtt": {
                    "host": mqtt_broker.host,
                    "port": mqtt_broker.port,
                    "zigbee2mqtt_topic": base,
                },
                "devices": overrides,
            }
        )
        home = running.rt.home
        await eventually(
            lambda: len(home.devices()) >= 16 and all(d.available for d in home.devices())
        )
        yield SimulatedHome(running, sim)
    finally:
        await sim.stop()


CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Without these chromium tries to reach the internet at start.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's chromium driven by playwright (skips, saying why, when it is missing)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
