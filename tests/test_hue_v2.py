"""Hue over CLIP v2: aiohue's v2 client against the simulator's HTTPS API and event
stream (self-signed certificate made at start), v1 as the fallback, and what the
house says when a bridge answers with an HTTP error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from agent.bus import Bus
from agent.demo.simulation import LoopbackAddresses
from agent.devices import Action, Command, Feature
from agent.errors import IntegrationError
from agent.home import Home
from integrations.hue.adapter import HueIntegration, create
from integrations.hue.config import HueConfig
from integrations.hue.simulator import HueBridgeSimulator, demo_bridge
from integrations.hue.v2 import has_v2
from tests.util import eventually

pytestmark = pytest.mark.timeout(40)

BRIDGE = "001788fffe4a1b2c"
TABLE = f"hue:{BRIDGE}:00:17:88:01:0a:00:00:01-0b"
DESK = f"hue:{BRIDGE}:00:17:88:01:0a:00:00:03-0b"
DINING = f"hue:{BRIDGE}:group:1"
# A real bridge: v1 on port 80 and v2 on 443 of one address.
ADDRESSES = LoopbackAddresses(next_host=150)


@pytest.fixture
async def bridge() -> AsyncIterator[HueBridgeSimulator]:
    """The demo bridge speaking v1 and v2 on its own loopback address."""
    sim = demo_bridge(ADDRESSES.allocate((80, 443)), port=80, v2_port=443)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def running(sim: HueBridgeSimulator, host: str, **bridge: Any) -> tuple[Home, Any, Any]:
    """The Hue integration following one bridge, once its devices are in the Home."""
    key = sim.add_user()
    config = HueConfig.model_validate(
        {
            "bridges": [{"host": host, "app_key": key, **bridge}],
            "poll_interval": 60,  # a v2 bridge is never polled; v1 here would be too slow
            "retry_initial": 0.1,
            "retry_max": 0.3,
        }
    )
    home = Home(bus=Bus())
    hue = create(config)
    home.integrations["hue"] = hue
    task = asyncio.create_task(hue.run(home))
    await eventually(lambda: home.find(DINING) and home.find(DESK), timeout=10)
    return home, hue, task


async def shutdown(hue: HueIntegration, task: asyncio.Task[None]) -> None:
    """Stop the integration."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await hue.stop()


async def test_v2_bridge_is_followed_by_push(bridge: HueBridgeSimulator) -> None:
    """Same ids, names and rooms as v1; a change in the Hue app arrives by the event
    stream (no polling: the poll interval is a minute); commands go over v2."""
    home, hue, task = await running(bridge, bridge.host)
    try:
        table = home.get(TABLE)
        assert table.info["api"] == "v2" and table.area == "dining_room"
        assert {Feature.BRIGHTNESS, Feature.COLOR, Feature.COLOR_TEMP} <= table.features
        assert Feature.COLOR not in home.get(DESK).features
        assert home.get(DINING).info["presets"] == ["Bright", "Dinner"]
        v2 = bridge.v2
        assert v2 is not None
        await eventually(lambda: v2.streams, timeout=5)  # the event stream is open

        bridge.set_light("Dining table", on=True, bri=127)  # the Hue app
        await eventually(lambda: home.get(TABLE).state.on is True, timeout=2)
        assert home.get(TABLE).state.brightness == 50
        assert home.get(DINING).state.on is True

        before = bridge.requests  # v1 requests: none from here on
        await home.execute(
            DESK, Command(action=Action.SET_BRIGHTNESS, brightness=30), requested_by="t"
        )
        assert bridge.light_state("Desk lamp")["on"] is True
        assert home.get(DESK).state.brightness == 30
        await home.execute(
            TABLE, Command(action=Action.SET_COLOR, color=(255, 0, 0)), requested_by="t"
        )
        assert bridge.light_state("Dining table")["colormode"] == "xy"
        red = home.get(TABLE).state.color
        assert red is not None and red[0] > 200 and red[1] < 80
        await home.execute(
            DINING, Command(action=Action.ACTIVATE_PRESET, preset="dinner"), requested_by="t"
        )
        assert bridge.light_state("Dining lamp")["bri"] == 90
        assert home.get(DINING).state.preset == "Dinner"
        await home.execute(DINING, Command(action=Action.TURN_OFF), requested_by="t")
        assert not bridge.light_state("Dining table")["on"]
        assert home.get(DINING).state.on is False
        assert bridge.requests == before
    finally:
        await shutdown(hue, task)


async def test_v2_bridge_restart_marks_unavailable_then_recovers(
    bridge: HueBridgeSimulator,
) -> None:
    """The event stream closes with the bridge: devices unavailable; back with it, with
    what changed meanwhile."""
    home, hue, task = await running(bridge, bridge.host)
    try:
        await bridge.stop()
        await eventually(lambda: home.get(TABLE).available is False, timeout=5)
        bridge.set_light("Dining table", on=True)  # changed while we were away
        await bridge.start()
        await eventually(lambda: home.get(TABLE).available is True, timeout=10)
        assert home.get(TABLE).state.on is True
    finally:
        await shutdown(hue, task)


async def test_a_v1_only_bridge_falls_back_to_polling() -> None:
    """A bridge without HTTPS (old firmware, an emulator) is spoken to over v1."""
    sim = demo_bridge("127.0.0.1")
    await sim.start()
    try:
        home, hue, task = await running(sim, sim.address)
        try:
            assert "api" not in home.get(TABLE).info
            async with aiohttp.ClientSession() as session:
                assert not await has_v2(session, sim.address, "x", 2)
        finally:
            await shutdown(hue, task)
    finally:
        await sim.stop()


async def test_an_emulated_bridge_is_read_resource_by_resource() -> None:
    """Like emulated_hue: no `/api/<key>/` (404) and no groups. Lights still come in."""
    sim = demo_bridge("127.0.0.1", strict_slash=True, missing={"groups", "scenes"})
    await sim.start()
    try:
        key = sim.add_user()
        hue = create(HueConfig.model_validate({"bridges": [{"host": sim.address, "app_key": key}],
                                               "poll_interval": 0.1}))  # fmt: skip
        home = Home(bus=Bus())
        home.integrations["hue"] = hue
        task = asyncio.create_task(hue.run(home))
        try:
            await eventually(lambda: home.find(TABLE) and home.find(DESK), timeout=10)
            assert home.find(DINING) is None  # no groups on this bridge
            sim.set_light("Desk lamp", on=True)
            await eventually(lambda: home.get(DESK).state.on is True, timeout=5)
        finally:
            await shutdown(hue, task)
    finally:
        await sim.stop()


async def test_an_http_error_is_not_unreachability() -> None:
    """A bridge answering 404 where lights should be: the house says so, key hidden."""
    sim = demo_bridge("127.0.0.1", strict_slash=True, missing={"lights"})
    key = sim.add_user()
    await sim.start()
    try:
        hue = create(HueConfig.model_validate({"bridges": [{"host": sim.address, "app_key": key}]}))
        link = hue.links[0]
        async with aiohttp.ClientSession() as session:
            with pytest.raises(IntegrationError) as caught:
                await link.connect(session, Home(bus=Bus()))
        message = str(caught.value)
        assert "answered HTTP 404" in message and "not reachable" not in message
        assert key not in message and "/api/<app key>/lights" in message
    finally:
        await sim.stop()
