"""Sonos command round-trip latency against the simulated household (real SoCo).

Round trip = `Home.execute` called → the speaker's state read back from it and
in the Home (the adapter confirms every command by reading the speaker). Also
times how long a change made on the speaker takes to reach the Home through a
GENA event. Run: `python bench/sonos.py [-n 200]`; `bench/devices.py` can call
`command_round_trips()` directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable
from typing import Any

from agent.bus import Bus
from agent.demo.simulation import LoopbackAddresses, free_port
from agent.devices import Action, Command
from agent.home import Home
from integrations.sonos.adapter import SonosIntegration
from integrations.sonos.config import SonosConfig
from integrations.sonos.simulator import start_household


def summary(samples: list[float]) -> dict[str, float]:
    """n, p50, p95 and max of samples in milliseconds."""
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
    n: int = 100, *, address_prefix: str = "127.0.26"
) -> dict[str, dict[str, float]]:
    """Start the household and the adapter, send `n` commands of each kind, and time them."""
    addresses = LoopbackAddresses(prefix=address_prefix, next_host=2)
    household = await start_household([addresses.allocate() for _ in range(3)])
    home = Home(bus=Bus())
    sonos = SonosIntegration(
        SonosConfig(
            hosts=[s.ip for s in household.speakers.values()],
            interface_addr="127.0.0.1",
            household_id=household.household_id,
            event_listener_port=free_port(),
        )
    )
    home.integrations[sonos.name] = sonos
    task = asyncio.create_task(sonos.run(home))
    results: dict[str, list[float]] = {
        "set_volume": [],
        "pause/play": [],
        "play_media": [],
        "speaker→home": [],
    }
    try:
        await _wait_for(lambda: len([d for d in home.devices() if d.available]) == 3)
        study = household.speaker("Study")
        device_id = f"sonos:{study.uid}"

        async def timed(bucket: str, **command: Any) -> None:
            start = time.perf_counter()
            await home.execute(device_id, Command(**command), requested_by="bench")
            results[bucket].append(time.perf_counter() - start)

        await home.execute(
            device_id, Command(action=Action.PLAY_MEDIA, media="radio"), requested_by="bench"
        )
        for i in range(n):
            await timed("set_volume", action=Action.SET_VOLUME, volume=10 + i % 50)
            action = Action.PAUSE if i % 2 == 0 else Action.PLAY
            await timed("pause/play", action=action)
            media = "Radio Paradise" if i % 2 else "Sunday Morning"
            await timed("play_media", action=Action.PLAY_MEDIA, media=media)
            target = 60 + i % 30

            def arrived(volume: int = target) -> bool:
                return home.get(device_id).state.volume == volume

            start = time.perf_counter()
            study.set_volume(target)
            await _wait_for(arrived)
            results["speaker→home"].append(time.perf_counter() - start)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await sonos.stop()
        await household.close()
    return {name: summary(samples) for name, samples in results.items()}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="commands of each kind")
    args = parser.parse_args()
    figures = asyncio.run(command_round_trips(args.n))
    print(f"sonos command round trip (n={args.n} each; target p95 < 300 ms)")
    for name, s in figures.items():
        print(
            f"  {name:<14} p50 {s['p50']:6.1f} ms   p95 {s['p95']:6.1f} ms   max {s['max']:6.1f} ms"
        )


if __name__ == "__main__":
    main()
