"""Bench: "sleepy time" in the demo home, from the phrase to every device state confirmed.

Starts the demo's simulators (MQTT broker + zigbee2mqtt/HA-discovery/Tasmota,
Sonos, Hue, Home Assistant, WLED, Shelly) and a real daemon in-process, in a
throwaway home folder, then 20 times: put the house back in an "evening" state,
POST "sleepy time" to /api/chat (what `homeclaw ask` does) and wait until every
device the routine targets reports its target state in the Home. Prints the
reply latency and the confirmed latency (p50, p95, max). Target: p95 < 1 s.

    python bench/routines.py [--runs 20] [--phrase "Dobby, it's sleepy time"]

Simulators that cannot start (say, a demo is already running on their fixed
loopback addresses) are left out and reported; the routine reports their
devices as missing, which is part of what it must handle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from ruamel.yaml import YAML

from agent.config import Config, load_config
from agent.daemon import Daemon, build_runtime
from agent.demo import DEMO_CONFIG, DEMO_PARTS, DemoBroker, merge, start_parts
from agent.demo.simulation import DemoContext, DemoPart, free_port
from agent.devices import Action, Command, Device, Kind
from agent.errors import HomeError
from agent.home import Home
from agent.paths import HomePaths
from agent.routines import EXAMPLE_ROUTINES

SLEEPY_C = (66 - 32) * 5 / 9

Check = Callable[[Device], bool]


def expectations(home: Home) -> dict[str, Check]:
    """What sleepy time must leave each reachable device in (by device id)."""
    checks: dict[str, Check] = {}
    for device in home.devices():
        if not device.available:
            continue
        if device.kind == Kind.LIGHT:
            if device.name == "Bedroom lamp":
                checks[device.id] = lambda d: (
                    bool(d.state.on) and abs((d.state.brightness or 0) - 10) <= 1
                )
            else:
                checks[device.id] = lambda d: d.state.on is False
        elif device.kind == Kind.SPEAKER:
            checks[device.id] = lambda d: d.state.playback != "playing"
        elif device.name == "Thermostat":
            checks[device.id] = lambda d: abs((d.state.target_temperature_c or 0) - SLEEPY_C) < 0.6
        elif device.name == "Front door":
            checks[device.id] = lambda d: d.state.locked is True
    return checks


async def evening(home: Home) -> None:
    """Lights on, music playing, heat up, door unlocked: the state before bed."""
    jobs = []
    for device in home.devices():
        if not device.available:
            continue
        command: Command | None = None
        if device.kind == Kind.LIGHT:
            command = Command(action=Action.SET_BRIGHTNESS, brightness=60)
        elif device.kind == Kind.SPEAKER:
            command = Command(action=Action.PLAY_MEDIA, media="Radio Paradise")
        elif device.name == "Thermostat":
            command = Command(action=Action.SET_TEMPERATURE, temperature_c=21.0)
        elif device.name == "Front door":
            command = Command(action=Action.UNLOCK)
        if command is not None and device.supports(command):
            jobs.append(
                home.execute(device.id, command, requested_by="bench:reset", confirmed=True)
            )
    results = await asyncio.gather(*jobs, return_exceptions=True)
    for result in results:
        if isinstance(result, HomeError):
            logging.getLogger("bench").debug("reset: %s", result)
    await asyncio.sleep(0.5)  # let pushed state settle before the clock starts


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


async def bench(runs: int, phrase: str) -> int:
    """Run the bench; returns the exit status."""
    root = Path(tempfile.mkdtemp(prefix="homeclaw-bench-"))
    paths = HomePaths(root)
    broker = await DemoBroker().start()
    ctx = DemoContext(home=root, mqtt=(broker.host, broker.port))
    parts: list[DemoPart] = []
    daemon: Daemon | None = None
    try:
        parts_refs = [p for p in DEMO_PARTS if "twilio" not in p and "vision" not in p]
        parts = await start_parts(ctx, parts_refs)
        config: dict[str, Any] = dict(DEMO_CONFIG)
        for part in parts:
            fragment = part.config
            if not set(fragment) <= set(Config.model_fields):
                fragment = {part.name: fragment}
            config = merge(config, fragment)
        config = merge(config, {"web": {"host": "127.0.0.1", "port": free_port()}})
        with paths.config.open("w") as fh:
            YAML().dump(config, fh)
        (root / "routines.yaml").write_text(EXAMPLE_ROUTINES.read_text())
        rt = build_runtime(load_config(paths.config), paths, demo=True)
        daemon = Daemon(rt)
        url = await daemon.start()
        await asyncio.sleep(3)  # integrations connect and register their devices
        started = {p.name for p in parts}
        print(f"simulators: {', '.join(sorted(started))}")
        devices = rt.home.devices()
        down = sum(not d.available for d in devices)
        print(f"devices: {len(devices)} ({down} unavailable)")
        checks = expectations(rt.home)
        replies: list[float] = []
        confirmed: list[float] = []
        headers = {"Authorization": f"Bearer {rt.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            for i in range(runs + 1):  # the first run warms up (sentence compilation, pools)
                await evening(rt.home)
                t0 = time.perf_counter()
                async with http.post(
                    url + "api/chat", json={"text": phrase}, timeout=aiohttp.ClientTimeout(10)
                ) as resp:
                    reply = await resp.json()
                t_reply = time.perf_counter() - t0
                deadline = t0 + 10
                pending = dict(checks)
                while pending and time.perf_counter() < deadline:
                    pending = {k: c for k, c in pending.items() if not c(rt.home.get(k))}
                    if pending:
                        await asyncio.sleep(0.002)
                t_done = time.perf_counter() - t0
                if pending:
                    names = ", ".join(rt.home.get(k).name for k in pending)
                    print(f"run {i}: not confirmed within 10 s: {names}")
                if i == 0:
                    print(f"reply ({reply.get('path')}): {reply.get('reply')}")
                    continue
                replies.append(t_reply)
                confirmed.append(t_done)
        print(f"runs: {len(confirmed)}, devices checked per run: {len(checks)}")
        for label, values in (("reply", replies), ("all states confirmed", confirmed)):
            print(
                f"{label:>22}: p50 {statistics.median(values) * 1000:6.0f} ms   "
                f"p95 {percentile(values, 95) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms"
            )
        p95 = percentile(confirmed, 95)
        print(f"target p95 < 1000 ms: {'met' if p95 < 1 else 'NOT met'}")
        return 0
    finally:
        if daemon is not None:
            await daemon.stop()
        for part in reversed(parts):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(part.stop(), 5)
        await broker.stop()


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--phrase", default="sleepy time")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(bench(args.runs, args.phrase))


if __name__ == "__main__":
    sys.exit(main())
