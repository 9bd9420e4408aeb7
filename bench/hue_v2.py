"""Hue: how fast a change made on the bridge reaches homeclaw, CLIP v2 (event stream)
against v1 (polling), on the simulator (synthetic: loopback, one process).

The simulated bridge serves v1 on port 80 and v2 (HTTPS + SSE) on 443 of its own
loopback address, like a real bridge. For each API the Hue integration follows
it into a Home; then, `-n` times, a light is switched "in the Hue app"
(`set_light`, straight into the bridge's datastore) and the time until the Home
holds the new state is taken. Commands (`Home.execute` until the confirmed state)
are timed too. Run: `python bench/hue_v2.py [-n 100] [--poll 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from agent.bus import Bus
from agent.demo.simulation import LoopbackAddresses
from agent.devices import Action, Command
from agent.home import Home
from integrations.hue.adapter import create
from integrations.hue.config import HueConfig
from integrations.hue.simulator import demo_bridge

LIGHT = "hue:001788fffe4a1b2c:00:17:88:01:0a:00:00:01-0b"


def summary(samples: list[float]) -> dict[str, float]:
    """n, p50, p95 and max in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"n": len(ms), "p50": statistics.median(ms), "p95": p95, "max": ms[-1]}


async def _wait_for(check: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.0005)


async def measure(api: str, n: int, poll: float) -> dict[str, dict[str, float]]:
    """Follow a simulated bridge over `api` and time bridge → Home and commands."""
    address = LoopbackAddresses(prefix="127.0.33", next_host=2).allocate((80, 443))
    bridge = demo_bridge(address, port=80, v2_port=443)
    key = bridge.add_user()
    await bridge.start()
    config = HueConfig.model_validate(
        {"bridges": [{"host": address, "app_key": key, "api": api}], "poll_interval": poll}
    )
    home = Home(bus=Bus())
    hue = create(config)
    home.integrations["hue"] = hue
    task = asyncio.create_task(hue.run(home))
    try:
        await _wait_for(lambda: home.find(LIGHT))
        if api == "v2":
            assert bridge.v2 is not None
            await _wait_for(lambda: bridge.v2 and bridge.v2.streams)
        pushes: list[float] = []
        rounds = n if api == "v2" else max(3, n // 20)  # polling is slow: fewer rounds
        for _ in range(rounds):
            want = not home.get(LIGHT).state.on
            started = time.perf_counter()
            bridge.set_light("Dining table", on=want)
            await _wait_for(lambda w=want: home.get(LIGHT).state.on is w)  # type: ignore[misc]
            pushes.append(time.perf_counter() - started)
        commands: list[float] = []
        for i in range(n):
            level = 20 + (i % 60)
            started = time.perf_counter()
            await home.execute(
                LIGHT, Command(action=Action.SET_BRIGHTNESS, brightness=level), requested_by="b"
            )
            await _wait_for(lambda v=level: home.get(LIGHT).state.brightness == v)  # type: ignore[misc]
            commands.append(time.perf_counter() - started)
        return {"bridge_to_home": summary(pushes), "command": summary(commands)}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await hue.stop()
        await bridge.stop()


async def run(n: int, poll: float) -> dict[str, dict[str, dict[str, float]]]:
    """Both APIs, one after the other."""
    return {"v2": await measure("v2", n, poll), "v1": await measure("v1", n, poll)}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="changes and commands per API")
    parser.add_argument("--poll", type=float, default=2.0, help="v1 poll interval, seconds")
    args = parser.parse_args()
    results = asyncio.run(run(args.n, args.poll))
    print("synthetic: simulator on loopback, one process")
    print(f"{'api':<5}{'measure':<16}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for api, measures in results.items():
        for name, s in measures.items():
            print(
                f"{api:<5}{name:<16}{s['n']:>5.0f}{s['p50']:>10.1f}{s['p95']:>10.1f}"
                f"{s['max']:>10.1f}"
            )
    worst = results["v2"]["bridge_to_home"]["max"]
    print(f"v2 bridge → homeclaw target < 1000 ms: {'met' if worst < 1000 else 'MISSED'} (max)")


if __name__ == "__main__":
    main()
