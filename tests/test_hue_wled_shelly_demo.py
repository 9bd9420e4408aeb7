"""The Hue, WLED and Shelly demo parts: a real daemon built from their config, and mDNS adverts."""

from __future__ import annotations

import contextlib
import random
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.config import Config
from agent.demo.simulation import DemoContext, DemoPart, LoopbackAddresses, free_port
from integrations.hue import simulator as hue_sim
from integrations.shelly import simulator as shelly_sim
from integrations.wled import simulator as wled_sim
from tests.conftest import RunningDaemon
from tests.util import eventually

pytestmark = pytest.mark.timeout(40)

TABLE = "hue:001788fffe4a1b2c:00:17:88:01:0a:00:00:01-0b"
DINING = "hue:001788fffe4a1b2c:group:1"
STRIP = "wled:a8032a1b2c3d"
PLUG = "shelly:a0b1c2d3e4f5:switch:0"


async def test_demo_parts_drive_a_real_daemon(
    tmp_path: Path, start_daemon: Callable[..., Awaitable[RunningDaemon]]
) -> None:
    ctx = DemoContext(
        home=tmp_path,
        addresses=LoopbackAddresses(prefix="127.0.23", next_host=random.randrange(2, 230)),
    )
    parts: list[DemoPart] = []
    try:
        for module in (hue_sim, wled_sim, shelly_sim):
            parts.append(await module.demo(ctx))
        config: dict[str, Any] = {}
        for part in parts:
            config |= part.config
        config["hue"]["poll_interval"] = 0.2
        Config.model_validate(config)  # the fragments are valid config as they stand

        daemon = await start_daemon(config)
        await eventually(
            lambda: all(daemon.rt.home.find(i) for i in (TABLE, DINING, STRIP, PLUG)), timeout=15
        )
        status, body = await daemon.api("GET", "/api/devices")
        assert status == 200
        by_id = {d["id"]: d for d in body["devices"]}
        assert (by_id[TABLE]["name"], by_id[TABLE]["area"]) == ("Dining table", "dining_room")
        assert by_id[TABLE]["info"]["api"] == "v2"  # the demo bridge speaks v2, like a real one
        assert (by_id[STRIP]["name"], by_id[STRIP]["area"]) == ("TV backlight", "living_room")
        assert (by_id[PLUG]["name"], by_id[PLUG]["area"]) == ("Coffee machine", "kitchen")

        commands = [
            (DINING, {"action": "activate_preset", "preset": "Dinner"}),
            (STRIP, {"action": "set_color", "color": [255, 0, 0]}),
            (PLUG, {"action": "turn_on"}),
        ]
        for device_id, command in commands:
            status, body = await daemon.api("POST", f"/api/devices/{device_id}/commands", command)
            assert status == 200, body
        bridge, strip, plug = (part.handle for part in parts)
        assert bridge.light_state("Dining table")["bri"] == 160
        assert strip.color == (255, 0, 0) and strip.state["on"]
        assert plug.status["switch:0"]["output"] is True
        assert daemon.rt.home.get(PLUG).state.power_w == 1200.0

        await plug.stop()
        await eventually(lambda: not daemon.rt.home.get(PLUG).available)
        status, body = await daemon.api("POST", f"/api/devices/{PLUG}/commands", commands[2][1])
        assert status != 200 and body["error"] == "unavailable"
        health = daemon.rt.supervisor.health["integration:shelly"]
        assert health.status == "degraded" and plug.address in health.detail
        await plug.start()
        await eventually(lambda: daemon.rt.home.get(PLUG).available, timeout=10)
        assert health.status == "running"
    finally:
        for part in parts:
            await part.stop()


async def test_pairing_in_the_demo_presses_the_button_itself(tmp_path: Path) -> None:
    from integrations.hue.adapter import pair

    ctx = DemoContext(
        home=tmp_path,
        addresses=LoopbackAddresses(prefix="127.0.23", next_host=random.randrange(2, 230)),
    )
    part = await hue_sim.demo(ctx)
    try:
        part.handle.auto_press_after = 0.2
        key = await pair(part.handle.address, timeout=5, interval=0.1)
        assert key in part.handle.users
    finally:
        await part.stop()


async def test_simulators_advertise_over_mdns_on_loopback() -> None:
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

    # Ids of our own: other suites on this machine may advertise the demo devices meanwhile.
    tag = secrets.token_hex(3).upper()
    bridge = hue_sim.HueBridgeSimulator("127.0.0.1", free_port(), bridge_id=f"001788FFFE{tag}")
    strip = wled_sim.WledSimulator("127.0.0.1", name=f"Strip {tag}", mac=f"a8032a{tag.lower()}")
    plug = shelly_sim.ShellySimulator("127.0.0.1", free_port(), mac=f"A0B1C2{tag}")
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    registered = []
    try:
        for sim in (bridge, strip, plug):
            registered.append(await sim.advertise(zc))
        for info in registered:
            found = AsyncServiceInfo(info.type, info.name)
            assert await found.async_request(zc.zeroconf, 3000)
            assert found.port == info.port and found.parsed_addresses() == ["127.0.0.1"]
        assert registered[0].properties[b"bridgeid"] == f"001788fffe{tag.lower()}".encode()
        assert registered[1].properties[b"mac"] == f"a8032a{tag.lower()}".encode()
        assert registered[2].name.startswith(f"shellyplugus-a0b1c2{tag.lower()}")
    finally:
        for info in registered:
            with contextlib.suppress(Exception):
                await zc.async_unregister_service(info)
        await zc.async_close()
