"""The demo home's devices: discovery time, command round trips, idle daemon cost.

Starts the demo's device simulators (MQTT, Sonos, Hue, Home Assistant, WLED,
Shelly — the ones `homeclaw demo` runs) and their mDNS advertisements, then:

1. discovery: an mDNS browse + SSDP search on 127.0.0.1, timed until every
   simulated device is found;
2. command round trip per integration: `Home.execute` called → the new state
   confirmed in the Home (push or read-back), on an in-process daemon;
3. idle cost: a separate daemon process with the same config, all devices
   connected and nothing happening, for `--idle` seconds (default 60): its
   CPU (% of one core) and RSS.

Run: `python bench/devices.py [--commands 40] [--idle 60] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from ruamel.yaml import YAML

from agent.config import Config, load_config
from agent.daemon import Daemon, build_runtime
from agent.demo import DEMO_CONFIG, DemoBroker, merge, start_parts
from agent.demo.simulation import DemoContext, DemoPart
from agent.devices import Action, Command, Device, Kind, Risk
from agent.paths import HomePaths
from integrations.demo_advertise import advertise, service_infos
from integrations.discovery_scan import SERVICE_KINDS, scan_mdns, scan_ssdp

DEVICE_PARTS = [
    "integrations.mqtt.simulator:demo",
    "integrations.sonos.simulator:demo",
    "integrations.hue.simulator:demo",
    "integrations.homeassistant.simulator:demo",
    "integrations.wled.simulator:demo",
    "integrations.shelly.simulator:demo",
]
INTEGRATIONS = ["mqtt", "sonos", "hue", "homeassistant", "wled", "shelly"]


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- the demo home --------------------------------------------------------------------


def demo_config(parts: list[DemoPart]) -> dict[str, Any]:
    """The demo's config for the device simulators (as `homeclaw demo` writes it)."""
    config = {k: v for k, v in DEMO_CONFIG.items() if k in ("home", "discovery")}
    for part in parts:
        fragment = part.config
        if not set(fragment) <= set(Config.model_fields):
            fragment = {part.name: fragment}
        config = merge(config, fragment)
    return merge(config, {"web": {"host": "127.0.0.1", "port": 0}})


def write_home(config: dict[str, Any]) -> HomePaths:
    """A throwaway home folder holding the config."""
    paths = HomePaths(Path(tempfile.mkdtemp(prefix="homeclaw-bench-")))
    with paths.config.open("w") as fh:
        YAML().dump(config, fh)
    return paths


# -- 1. discovery ---------------------------------------------------------------------


async def bench_discovery(parts: list[DemoPart], seconds: float) -> dict[str, Any]:
    """Time until every advertised simulator is resolved by mDNS; SSDP finds for Sonos."""
    expected = {
        (SERVICE_KINDS[i.type], i.parsed_addresses()[0], i.port)
        for i in service_infos(parts)
        if i.type in SERVICE_KINDS and i.port is not None
    }
    seen: dict[tuple[str, str, int], float] = {}
    started = time.monotonic()

    def found(device: Any) -> None:
        key = (device.kind, device.host, device.port)
        if key in expected and key not in seen:
            seen[key] = time.monotonic() - started

    await scan_mdns(["127.0.0.1"], seconds, on_found=found)
    ssdp_started = time.monotonic()
    ssdp = await scan_ssdp(["127.0.0.1"], 2.0)
    ssdp_sonos = [d for d in ssdp if d.kind == "sonos"]
    return {
        "expected": len(expected),
        "found": len(seen),
        "missing": sorted(f"{k} {h}:{p}" for k, h, p in expected - set(seen)),
        "all_found_s": round(max(seen.values()), 3) if len(seen) == len(expected) else None,
        "ssdp_sonos_found": len(ssdp_sonos),
        "ssdp_window_s": round(time.monotonic() - ssdp_started, 2),
    }


# -- 2. command round trips -----------------------------------------------------------

Probe = tuple[list[Command], Callable[[Device, Command], bool]]


def probe_for(device: Device) -> Probe | None:
    """Two alternating commands for a device and how to see each confirmed."""
    if device.kind in (Kind.LIGHT, Kind.SWITCH):
        cmds = [Command(action=Action.TURN_ON), Command(action=Action.TURN_OFF)]
        return cmds, lambda d, c: d.state.on is (c.action is Action.TURN_ON)
    if device.kind is Kind.COVER and device.risk is Risk.LOW:
        cmds = [Command(action=Action.SET_POSITION, position=p) for p in (30, 70)]
        return cmds, lambda d, c: d.state.position == c.position
    if device.kind is Kind.SPEAKER:
        cmds = [Command(action=Action.SET_VOLUME, volume=v) for v in (20, 30)]
        return cmds, lambda d, c: d.state.volume == c.volume
    if device.kind is Kind.CLIMATE:
        cmds = [Command(action=Action.SET_TEMPERATURE, temperature_c=t) for t in (20.0, 21.0)]
        return cmds, lambda d, c: abs((d.state.target_temperature_c or 0) - c.temperature_c) < 0.1  # type: ignore[operator]
    return None


async def bench_commands(daemon: Daemon, n: int) -> dict[str, Any]:
    """p50/p95/max of command → confirmed state, per integration."""
    home = daemon.rt.home
    results: dict[str, Any] = {}
    order = [Kind.LIGHT, Kind.SWITCH, Kind.COVER, Kind.SPEAKER, Kind.CLIMATE]
    for name in INTEGRATIONS:
        candidates = [d for d in home.devices(integration=name) if d.available]
        candidates.sort(key=lambda d: order.index(d.kind) if d.kind in order else 99)
        pick = next(((d, p) for d in candidates if (p := probe_for(d)) is not None), None)
        if pick is None:
            results[name] = {"error": "no available device to command"}
            continue
        device, (commands, confirmed) = pick
        samples: list[float] = []
        errors = 0
        for i in range(n):
            command = commands[i % 2]
            started = time.perf_counter()
            try:
                await home.execute(device.id, command, requested_by="bench")
                deadline = time.monotonic() + 5
                while not confirmed(home.get(device.id), command):
                    if time.monotonic() > deadline:
                        raise TimeoutError("state not confirmed in 5 s")
                    await asyncio.sleep(0.001)
            except Exception:
                errors += 1
                continue
            samples.append((time.perf_counter() - started) * 1000)
        results[name] = {
            "device": device.name,
            "n": len(samples),
            "errors": errors,
            "p50_ms": round(statistics.median(samples), 1) if samples else None,
            "p95_ms": round(percentile(samples, 0.95), 1) if samples else None,
            "max_ms": round(max(samples), 1) if samples else None,
        }
    return results


async def wait_available(devices: Callable[[], list[dict[str, Any]]], timeout: float) -> int:
    """Wait until every integration has devices and all are available; return the count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = devices()
        ready = {d["integration"] for d in listed if d["available"]}
        if set(INTEGRATIONS) <= ready and all(d["available"] for d in listed):
            return len(listed)
        await asyncio.sleep(0.2)
    return -1


# -- 3. idle daemon ---------------------------------------------------------------------


async def bench_idle(paths: HomePaths, seconds: float) -> dict[str, Any]:
    """A daemon process with every device connected, left alone: CPU % and RSS."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        str(paths.root),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip().rstrip("/")
        headers = {"Authorization": f"Bearer {paths.token()}"}
        latest: list[dict[str, Any]] = []
        async with aiohttp.ClientSession(headers=headers) as http:

            async def poll() -> None:
                while True:
                    async with http.get(f"{url}/api/devices") as resp:
                        latest[:] = (await resp.json())["devices"]
                    await asyncio.sleep(0.2)

            poller = asyncio.create_task(poll())
            count = await wait_available(lambda: latest, 60)
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        await asyncio.sleep(2)  # let connection set-up settle before measuring
        ps = psutil.Process(proc.pid)
        before, wall = ps.cpu_times(), time.monotonic()
        await asyncio.sleep(seconds)
        after, elapsed = ps.cpu_times(), time.monotonic() - wall
        cpu = (after.user + after.system - before.user - before.system) / elapsed * 100
        return {
            "devices": count,
            "idle_s": round(elapsed, 1),
            "cpu_percent_of_one_core": round(cpu, 2),
            "rss_mb": round(ps.memory_info().rss / 2**20, 1),
            "threads": ps.num_threads(),
        }
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 15)


def serve(home: str) -> None:
    """Run a daemon from a home folder; print its URL when ready (the idle phase's child)."""
    from agent.daemon import serve as serve_daemon

    paths = HomePaths(Path(home))
    rt = build_runtime(load_config(paths.config), paths)
    asyncio.run(serve_daemon(rt, lambda url: print(url, flush=True)))


# -- main -------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Run the three phases and return the figures."""
    broker = await DemoBroker().start()
    ctx = DemoContext(home=Path(tempfile.mkdtemp(prefix="homeclaw-bench-sims-")))
    ctx.mqtt = (broker.host, broker.port)
    parts: list[DemoPart] = []
    advertiser = None
    report: dict[str, Any] = {}
    try:
        parts = await start_parts(ctx, DEVICE_PARTS)
        report["simulators"] = [p.name for p in parts]
        advertiser = await advertise(parts, ["127.0.0.1"])
        paths = write_home(demo_config(parts))
        daemon = Daemon(build_runtime(load_config(paths.config), paths))
        await daemon.start()
        try:
            home = daemon.rt.home
            count = await wait_available(lambda: [d.to_json() for d in home.devices()], 60)
            report["devices"] = count
            report["discovery"] = await bench_discovery(parts, args.discovery_seconds)
            report["commands"] = await bench_commands(daemon, args.commands)
        finally:
            await daemon.stop()
        if args.idle > 0:
            report["idle"] = await bench_idle(paths, args.idle)
    finally:
        if advertiser is not None:
            await advertiser.close()
        for part in reversed(parts):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(part.stop(), 5)
        await broker.stop()
    return report


def print_report(report: dict[str, Any]) -> None:
    """Human-readable figures."""
    print(
        f"simulators: {', '.join(report.get('simulators', []))}; devices: {report.get('devices')}"
    )
    d = report.get("discovery", {})
    print(
        f"discovery: {d.get('found')}/{d.get('expected')} advertised devices found by mDNS, "
        f"all within {d.get('all_found_s')} s; SSDP found {d.get('ssdp_sonos_found')} Sonos "
        f"players in a {d.get('ssdp_window_s')} s window"
    )
    if d.get("missing"):
        print(f"  missing: {', '.join(d['missing'])}")
    print("command round trip (Home.execute → state confirmed):")
    for name, r in report.get("commands", {}).items():
        if "error" in r:
            print(f"  {name:<14} {r['error']}")
        else:
            print(
                f"  {name:<14} {r['device']:<20} n={r['n']:<4} p50 {r['p50_ms']} ms  "
                f"p95 {r['p95_ms']} ms  max {r['max_ms']} ms  errors {r['errors']}"
            )
    idle = report.get("idle")
    if idle:
        print(
            f"idle daemon ({idle['devices']} devices, {idle['idle_s']} s): "
            f"CPU {idle['cpu_percent_of_one_core']} % of one core, RSS {idle['rss_mb']} MB, "
            f"{idle['threads']} threads"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=40, help="commands per integration")
    parser.add_argument("--idle", type=float, default=60.0, help="idle seconds (0 skips)")
    parser.add_argument("--discovery-seconds", type=float, default=4.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", metavar="HOME", help=argparse.SUPPRESS)
    cli = parser.parse_args()
    if cli.serve:
        serve(cli.serve)
        sys.exit(0)
    os.environ.setdefault("HOMECLAW_LOG", "warning")
    figures = asyncio.run(main(cli))
    print(json.dumps(figures, indent=2)) if cli.json else print_report(figures)
