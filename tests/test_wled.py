"""WLED: the `wled` client drives the strip fake on 127.0.22.x:80; its websocket keeps Home live."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.bus import Bus
from agent.demo.simulation import LoopbackAddresses
from agent.devices import Action, Command, Feature, Kind
from agent.errors import DeviceUnavailable, UnsupportedCommand
from agent.home import Home
from integrations.discovery_scan import DiscoveredDevice
from integrations.wled.adapter import WledIntegration, create
from integrations.wled.config import WledConfig
from integrations.wled.simulator import WledSimulator, demo_strip
from tests.util import eventually

pytestmark = pytest.mark.timeout(30)

# A prefix of our own and a random start: the fake binds port 80, so it must not collide
# with other suites (or another run of this one) on the same machine.
ADDRESSES = LoopbackAddresses(prefix="127.0.22", next_host=random.randrange(2, 230))
STRIP = "wled:a8032a1b2c3d"


@pytest.fixture
async def strip() -> AsyncIterator[WledSimulator]:
    sim = demo_strip(ADDRESSES.allocate())
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def running(sim: WledSimulator, **settings: Any) -> tuple[Home, WledIntegration, Any]:
    config = WledConfig.model_validate(
        {
            "hosts": [{"host": sim.host, "area": "Living room"}],
            "retry_initial": 0.1,
            "retry_max": 0.3,
            **settings,
        }
    )
    home = Home(bus=Bus())
    wled = create(config)
    home.integrations["wled"] = wled
    task = asyncio.create_task(wled.run(home))
    await eventually(lambda: home.find(STRIP) and wled.links[0].connected, timeout=10)
    return home, wled, task


async def shutdown(wled: WledIntegration, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await wled.stop()


async def test_strip_becomes_a_light(strip: WledSimulator) -> None:
    home, wled, task = await running(strip)
    try:
        device = home.get(STRIP)
        assert (device.name, device.area, device.kind) == (
            "TV backlight",
            "living_room",
            Kind.LIGHT,
        )
        assert {
            Feature.ON_OFF,
            Feature.BRIGHTNESS,
            Feature.COLOR,
            Feature.PRESET,
        } <= device.features
        assert device.info["presets"] == ["Bright white", "Movie night"]
        assert device.state.on is False and device.state.color == (255, 160, 0)
        assert home.resolve("tv backlight").devices[0].id == STRIP
    finally:
        await shutdown(wled, task)


async def test_commands_change_the_strip(strip: WledSimulator) -> None:
    home, wled, task = await running(strip)
    try:
        device = await home.execute(
            STRIP, Command(action=Action.SET_BRIGHTNESS, brightness=40), requested_by="test"
        )
        assert strip.state["on"] is True and strip.state["bri"] == 102
        assert device.state.on and device.state.brightness == 40

        device = await home.execute(
            STRIP, Command(action=Action.SET_COLOR, color=(10, 200, 30)), requested_by="test"
        )
        assert strip.color == (10, 200, 30) and device.state.color == (10, 200, 30)

        device = await home.execute(
            STRIP, Command(action=Action.ACTIVATE_PRESET, preset="movie night"), requested_by="t"
        )
        assert strip.state["ps"] == 1 and strip.color == (80, 40, 200)
        assert device.state.preset == "Movie night" and device.state.brightness == 24
        with pytest.raises(UnsupportedCommand, match="Bright white, Movie night"):
            await home.execute(
                STRIP, Command(action=Action.ACTIVATE_PRESET, preset="Disco"), requested_by="t"
            )

        device = await home.execute(STRIP, Command(action=Action.TURN_OFF), requested_by="test")
        assert strip.state["on"] is False and device.state.on is False
        assert device.state.preset is None  # a manual change leaves the preset
    finally:
        await shutdown(wled, task)


async def test_changes_at_the_strip_are_pushed(strip: WledSimulator) -> None:
    home, wled, task = await running(strip)
    try:
        await strip.press_button()
        await eventually(lambda: home.get(STRIP).state.on is True)
        await strip.apply({"seg": [{"id": 0, "col": [[0, 0, 255]]}], "bri": 255})
        await eventually(lambda: home.get(STRIP).state.color == (0, 0, 255))
        assert home.get(STRIP).state.brightness == 100
    finally:
        await shutdown(wled, task)


async def test_killed_strip_is_unavailable_then_recovers(strip: WledSimulator) -> None:
    home, wled, task = await running(strip)
    try:
        await strip.stop()
        await eventually(lambda: not home.get(STRIP).available)
        with pytest.raises(DeviceUnavailable):
            await home.execute(STRIP, Command(action=Action.TURN_ON), requested_by="test")
        await strip.apply({"on": True})  # changed while we could not see it
        await strip.start()
        await eventually(lambda: home.get(STRIP).available and home.get(STRIP).state.on, timeout=10)
        await home.execute(STRIP, Command(action=Action.TURN_OFF), requested_by="test")
        assert strip.state["on"] is False
    finally:
        await shutdown(wled, task)


async def test_ip_change_keeps_the_device(strip: WledSimulator) -> None:
    home, wled, task = await running(strip)
    moved = demo_strip(ADDRESSES.allocate())  # same MAC, new address
    try:
        await strip.stop()
        await moved.start()
        await eventually(lambda: not home.get(STRIP).available)
        found = DiscoveredDevice("wled", "tv-backlight", moved.host, 80, "a8032a1b2c3d")
        assert await wled.discovered(found, add=False)
        await eventually(lambda: home.get(STRIP).available, timeout=10)
        device = home.get(STRIP)
        assert (device.info["host"], device.name, device.area) == (
            moved.host,
            "TV backlight",
            "living_room",
        )
        assert len(home.devices(integration="wled")) == 1
    finally:
        await shutdown(wled, task)
        await moved.stop()


async def test_discovered_strip_is_added_when_asked(strip: WledSimulator) -> None:
    home, wled, task = await running(strip)
    other = WledSimulator(host=ADDRESSES.allocate(), name="Desk strip", mac="a8032a000001")
    await other.start()
    try:
        found = DiscoveredDevice("wled", "desk-strip", other.host, 80, "a8032a000001")
        assert not await wled.discovered(found, add=False)
        assert await wled.discovered(found, add=True)
        await eventually(lambda: home.find("wled:a8032a000001"), timeout=10)
        assert home.get("wled:a8032a000001").name == "Desk strip"
    finally:
        await shutdown(wled, task)
        await other.stop()
