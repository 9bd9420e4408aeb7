"""Command round-trip latency for Hue, WLED and Shelly against their simulators.

Round trip = `Home.execute` called → the device's confirmed state is in the
Home (each adapter reads the device back before returning). Also measures how
long a change made at the device takes to reach the Home (push for WLED and
Shelly, polling for Hue). Run: `python bench/hue_wled_shelly.py [-n 200]`.
`bench/devices.py` can call `command_round_trips()` directly.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agent.bus import Bus
from agent.demo.simulation import LoopbackAddresses
from agent.devices import Action, Command
from agent.home import Home
from integrations.base import Integration
from integrations.hue.adapter import create as create_hue
from integrations.hue.config import HueConfig
from integrations.hue.simulator import demo_bridge
from integrations.shelly.adapter import create as create_shelly
from integrations.shelly.config import ShellyConfig
from integrations.shelly.simulator import demo_plug
from integrations.wled.adapter import create as create_wled
from integrations.wled.config import WledConfig
from integrations.wled.simulator import demo_strip

TARGETS = {
    "hue": "hue:001788fffe4a1b2c:00:17:88:01:0a:00:00:01-0b",
    "wled": "wled:a8032a1b2c3d",
    "shelly": "shelly:a0b1c2d3e4f5:switch:0",
}


def summary(samples: list[float]) -> dict[str, float]:
    """p50, p95 and max of samples in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"n": len(ms), "p50": statistics.median(ms), "p95": p95, "max": ms[-1]}


async def _wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.001)


async def command_round_trips(
    n: int = 100, *, address_prefix: str = "127.0.24", hue_poll: float = 2.0
) -> dict[str, dict[str, dict[str, float]]]:
    """Start the three simulators and adapters, send `n` commands to each, and time them."""
    addresses = LoopbackAddresses(prefix=address_prefix, next_host=2)
    bridge = demo_bridge(addresses.allocate())
    key = bridge.add_user()
    strip = demo_strip(addresses.allocate())
    plug = demo_plug(addresses.allocate())
    for sim in (bridge, strip, plug):
        await sim.start()
    home = Home(bus=Bus())
    integrations: list[Integration] = [
        create_hue(
            HueConfig.model_validate(
                {"bridges": [{"host": bridge.address, "app_key": key}], "poll_interval": hue_poll}
            )
        ),
        create_wled(WledConfig.model_validate({"hosts": [strip.host]})),
        create_shelly(ShellyConfig.model_validate({"hosts": [plug.address]})),
    ]
    tasks = []
    for integration in integrations:
        home.integrations[integration.name] = integration
        tasks.append(asyncio.create_task(integration.run(home)))
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        await _wait_for(lambda: all(home.find(i) for i in TARGETS.values()))
        for name, device_id in TARGETS.items():
            samples: list[float] = []
            for i in range(n):
                want = i % 2 == 0
                command = Command(action=Action.TURN_ON if want else Action.TURN_OFF)
                started = time.perf_counter()
                await home.execute(device_id, command, requested_by="bench")
                await _wait_for(lambda d=device_id, w=want: home.get(d).state.on is w)  # type: ignore[misc]
                samples.append(time.perf_counter() - started)
            results[name] = {"command": summary(samples)}

        changes: dict[str, Callable[[bool], Awaitable[Any]]] = {
            "hue": lambda on: _async(bridge.set_light, "Dining table", on=on),
            "wled": lambda on: strip.apply({"on": on}),
            "shelly": lambda on: plug.press_button(),
        }
        for name, device_id in TARGETS.items():
            samples = []
            rounds = 10 if name == "hue" else n
            for _ in range(rounds):
                want = not home.get(device_id).state.on
                started = time.perf_counter()
                await changes[name](want)
                await _wait_for(lambda d=device_id, w=want: home.get(d).state.on is w)  # type: ignore[misc]
                samples.append(time.perf_counter() - started)
            results[name]["device_to_home"] = summary(samples)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for integration in integrations:
            await integration.stop()
        for sim in (bridge, strip, plug):
            await sim.stop()
    return results


async def _async(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    fn(*args, **kwargs)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="commands per integration")
    args = parser.parse_args()
    results = asyncio.run(command_round_trips(args.n))
    print(f"{'integration':<12}{'measure':<16}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, measures in results.items():
        for measure, s in measures.items():
            print(
                f"{name:<12}{measure:<16}{s['n']:>5.0f}{s['p50']:>10.1f}{s['p95']:>10.1f}"
                f"{s['max']:>10.1f}"
            )
    worst = max(r["command"]["p95"] for r in results.values())
    print(f"command round-trip p95 target < 300 ms: {'met' if worst < 300 else 'MISSED'}")


if __name__ == "__main__":
    main()
