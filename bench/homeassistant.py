"""Home Assistant bridge figures: recovery after an HA outage, and registry edits.

recovery: HA goes away for N seconds (its port closed, as during a restart) and
comes back; prints how long after HA answers HTTP again every device the bridge
had is available again. rename: renames an entity (and moves it to another area)
in HA and prints how long until the Home shows it.

Against the simulator (default, synthetic) or a real Home Assistant with
`--real` (needs HOMECLAW_HA_HASS: `bash .ci/realha` builds that venv).
`--no-probe` measures the old behaviour (backoff only, no cheap probe).

Run: `python bench/homeassistant.py recovery --outages 20 120 [--real]`,
     `python bench/homeassistant.py rename -n 20 [--real]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from agent.bus import Bus
from agent.home import Home
from integrations.homeassistant.adapter import HomeAssistantBridge
from integrations.homeassistant.config import HomeAssistantConfig
from integrations.homeassistant.simulator import HomeAssistantSimulator


class Target:
    """The HA under test: the simulator or a real one, stoppable and startable."""

    def __init__(self, real: bool) -> None:
        self.real = real
        self.sim: HomeAssistantSimulator | None = None
        self.ha: Any = None

    async def start(self) -> None:
        """Start (or restart) HA on its port; returns when it is fully up."""
        if self.real:
            from tests.real_ha import RealHomeAssistant, hass_executable

            if self.ha is None:
                hass = hass_executable()
                if hass is None:
                    raise SystemExit("--real needs HOMECLAW_HA_HASS (bash .ci/realha builds it)")
                self.ha = RealHomeAssistant(hass)
            await asyncio.to_thread(self.ha.start)
        else:
            if self.sim is None:
                self.sim = HomeAssistantSimulator()
            await self.sim.start()

    async def stop(self) -> None:
        """Stop HA (its port closes)."""
        if self.real:
            await asyncio.to_thread(self.ha.stop)
        elif self.sim is not None:
            await self.sim.stop()

    @property
    def url(self) -> str:
        """HA's base URL."""
        return str(self.ha.url if self.real else self.sim.url)  # type: ignore[union-attr]

    @property
    def token(self) -> str:
        """An access token HA accepts."""
        return str(self.ha.token if self.real else self.sim.token)  # type: ignore[union-attr]

    async def cleanup(self) -> None:
        """Stop HA and remove what it left."""
        await self.stop()
        if self.real and self.ha is not None:
            self.ha.cleanup()


async def _until(check: Callable[[], bool], timeout: float, step: float = 0.01) -> float:
    """Wait until `check()`; the monotonic time it first held."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
    return time.monotonic()


async def _first_answer(url: str, timeout: float) -> float:
    """The monotonic time HA first answers GET /api/ (any status below 500)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                async with session.get(url + "/api/", timeout=aiohttp.ClientTimeout(1)) as resp:
                    if resp.status < 500:
                        return time.monotonic()
            await asyncio.sleep(0.05)
    raise TimeoutError("HA never answered")


async def _bridge(
    target: Target, probe: bool
) -> tuple[Home, HomeAssistantBridge, asyncio.Task[None]]:
    home = Home(bus=Bus())
    bridge = HomeAssistantBridge(
        HomeAssistantConfig(
            url=target.url,
            token=target.token,
            probe_interval=1.0 if probe else 60.0,
            reconnect_max_seconds=60.0,
        )
    )
    home.integrations[bridge.name] = bridge
    task = asyncio.create_task(bridge.run(home))
    await _until(lambda: bridge.connects >= 1, 60)
    return home, bridge, task


async def recovery(outages: list[float], real: bool, probe: bool) -> list[dict[str, float]]:
    """One outage of each length: seconds from HA answering to every device available."""
    target = Target(real)
    await target.start()
    home, bridge, task = await _bridge(target, probe)
    results = []
    try:
        for outage in outages:
            wanted = [d.id for d in home.devices() if d.available]
            await target.stop()
            await _until(lambda ids=wanted: not any(home.get(i).available for i in ids), 30)
            await asyncio.sleep(outage)
            restarted = time.monotonic()
            answer = asyncio.create_task(_first_answer(target.url, 300))
            await target.start()
            answered = await answer

            def all_back(ids: list[str] = wanted) -> bool:
                return all((d := home.find(i)) is not None and d.available for i in ids)

            back = await _until(all_back, 300)
            results.append(
                {
                    "outage_s": outage,
                    "ha_start_s": answered - restarted,
                    "back_after_answer_s": back - answered,
                    "devices": len(wanted),
                }
            )
            print(
                f"outage {outage:.0f}s: HA answered {answered - restarted:.1f}s after its restart "
                f"began; all {len(wanted)} devices back {back - answered:.2f}s after HA answered",
                flush=True,
            )
    finally:
        await bridge.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await target.cleanup()
    return results


async def renames(n: int, real: bool) -> dict[str, float]:
    """Rename (and move) an entity n times in HA; ms until the Home shows each edit."""
    target = Target(real)
    await target.start()
    home, bridge, task = await _bridge(target, True)
    device_id = "homeassistant:climate.ecobee"
    samples: list[float] = []
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(target.url + "/api/websocket") as ws,
        ):
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": target.token})
            await ws.receive_json()
            areas = ["hallway", "bedroom"]
            if real:
                for msg_id, name in ((1, "Bench A"), (2, "Bench B")):
                    await ws.send_json(
                        {"id": msg_id, "type": "config/area_registry/create", "name": name}
                    )
                    reply = await ws.receive_json()
                    areas[msg_id - 1] = reply["result"]["area_id"]
            for i in range(n):
                name = f"Ecobee {i}"
                area = areas[i % 2]
                began = time.monotonic()
                if real:
                    await ws.send_json(
                        {
                            "id": 10 + i,
                            "type": "config/entity_registry/update",
                            "entity_id": "climate.ecobee",
                            "name": name,
                            "area_id": area,
                        }
                    )
                else:
                    assert target.sim is not None
                    target.sim.hass.registry.rename_entity("climate.ecobee", name)
                    target.sim.hass.registry.move_entity("climate.ecobee", area)

                def shown(name: str = name, area: str = area) -> bool:
                    d = home.find(device_id)
                    return d is not None and d.name == name and d.area == area

                seen = await _until(shown, 10, step=0.001)
                samples.append(seen - began)
    finally:
        await bridge.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await target.cleanup()
    ms = sorted(s * 1000 for s in samples)
    result = {"n": len(ms), "p50_ms": statistics.median(ms), "max_ms": ms[-1]}
    print(f"rename + area move → shown in homeclaw: {result}")
    return result


def main() -> None:
    """Parse arguments and run one measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["recovery", "rename"])
    parser.add_argument("--outages", type=float, nargs="+", default=[20.0, 120.0])
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--real", action="store_true", help="a real Home Assistant")
    parser.add_argument("--no-probe", action="store_true", help="the old backoff-only reconnect")
    args = parser.parse_args()
    print(f"Home Assistant: {'real (HOMECLAW_HA_HASS)' if args.real else 'simulator (synthetic)'}")
    if args.what == "recovery":
        asyncio.run(recovery(args.outages, args.real, not args.no_probe))
    else:
        asyncio.run(renames(args.n, args.real))


if __name__ == "__main__":
    main()
