"""Hue: aiohue (v1) drives the bridge simulator on loopback; the adapter keeps the Home current."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.bus import Bus, StateChanged
from agent.devices import Action, Command, Feature, Kind
from agent.errors import AuthenticationFailed, DeviceUnavailable, UnsupportedCommand
from agent.home import Home
from integrations.discovery_scan import DiscoveredDevice
from integrations.hue.adapter import HueIntegration, create, pair
from integrations.hue.color import rgb_to_xy
from integrations.hue.config import HueConfig
from integrations.hue.simulator import HueBridgeSimulator, demo_bridge
from tests.util import eventually

pytestmark = pytest.mark.timeout(30)

BRIDGE = "001788fffe4a1b2c"
TABLE = f"hue:{BRIDGE}:00:17:88:01:0a:00:00:01-0b"
DESK = f"hue:{BRIDGE}:00:17:88:01:0a:00:00:03-0b"
DINING = f"hue:{BRIDGE}:group:1"


@pytest.fixture
async def bridge() -> AsyncIterator[HueBridgeSimulator]:
    sim = demo_bridge("127.0.0.1")
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def running(sim: HueBridgeSimulator, **settings: Any) -> tuple[Home, HueIntegration, Any]:
    key = sim.add_user()
    config = HueConfig.model_validate(
        {
            "bridges": [{"host": sim.address, "app_key": key}],
            "poll_interval": 0.1,
            "retry_initial": 0.1,
            "retry_max": 0.3,
            **settings,
        }
    )
    home = Home(bus=Bus())
    hue = create(config)
    home.integrations["hue"] = hue
    task = asyncio.create_task(hue.run(home))
    await eventually(lambda: home.find(DINING) and home.find(DESK), timeout=5)
    return home, hue, task


async def shutdown(hue: HueIntegration, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await hue.stop()


async def test_pairing_waits_for_the_link_button(bridge: HueBridgeSimulator) -> None:
    waits: list[float] = []
    with pytest.raises(AuthenticationFailed):
        await pair(bridge.address, timeout=0.3, interval=0.1, on_waiting=waits.append)
    assert waits, "the caller is told it is waiting for the button"

    async def press_soon() -> None:
        await asyncio.sleep(0.2)
        bridge.press_link_button()

    presser = asyncio.create_task(press_soon())
    key = await pair(bridge.address, timeout=5, interval=0.05)
    await presser
    assert key in bridge.users


async def test_pairing_reports_a_missing_bridge() -> None:
    sim = HueBridgeSimulator("127.0.0.1")
    await sim.start()
    address = sim.address
    await sim.stop()
    with pytest.raises(DeviceUnavailable):
        await pair(address, timeout=1, interval=0.05)


async def test_lights_and_rooms_become_devices(bridge: HueBridgeSimulator) -> None:
    home, hue, task = await running(bridge)
    try:
        table = home.get(TABLE)
        assert (table.name, table.area, table.kind) == ("Dining table", "dining_room", Kind.LIGHT)
        assert {Feature.BRIGHTNESS, Feature.COLOR, Feature.COLOR_TEMP} <= table.features
        desk = home.get(DESK)
        assert desk.area == "study" and Feature.COLOR not in desk.features
        room = home.get(DINING)
        assert room.name == "Dining room" and Feature.PRESET in room.features
        assert room.info["presets"] == ["Bright", "Dinner"]
        assert set(room.info["members"]) == {TABLE, f"hue:{BRIDGE}:00:17:88:01:0a:00:00:02-0b"}
        assert home.resolve("dining table").devices[0].id == TABLE
    finally:
        await shutdown(hue, task)


async def test_commands_change_the_bridge(bridge: HueBridgeSimulator) -> None:
    home, hue, task = await running(bridge)
    try:
        device = await home.execute(
            TABLE, Command(action=Action.SET_BRIGHTNESS, brightness=50), requested_by="test"
        )
        assert bridge.light_state("Dining table")["on"] is True
        assert bridge.light_state("Dining table")["bri"] == 127
        assert device.state.on and device.state.brightness == 50

        device = await home.execute(
            TABLE, Command(action=Action.SET_COLOR, color=(255, 0, 0)), requested_by="test"
        )
        assert bridge.light_state("Dining table")["xy"] == list(rgb_to_xy((255, 0, 0)))
        assert device.state.color == (255, 0, 0)

        device = await home.execute(
            TABLE, Command(action=Action.SET_COLOR_TEMP, color_temp_k=2700), requested_by="test"
        )
        assert bridge.light_state("Dining table")["ct"] == 370
        assert device.state.color_temp_k == 2703 and device.state.color is None

        with pytest.raises(UnsupportedCommand):
            await home.execute(
                DESK, Command(action=Action.SET_COLOR, color=(0, 0, 255)), requested_by="test"
            )

        await home.execute(DINING, Command(action=Action.TURN_OFF), requested_by="test")
        assert not bridge.light_state("Dining lamp")["on"]
        assert not bridge.light_state("Dining table")["on"]
        assert home.get(TABLE).state.on is False  # members are refreshed with the room
    finally:
        await shutdown(hue, task)


async def test_scenes_are_room_presets(bridge: HueBridgeSimulator) -> None:
    home, hue, task = await running(bridge)
    try:
        room = await home.execute(
            DINING, Command(action=Action.ACTIVATE_PRESET, preset="dinner"), requested_by="test"
        )
        assert room.state.preset == "Dinner" and room.state.on
        assert bridge.light_state("Dining lamp")["bri"] == 90
        assert home.get(TABLE).state.brightness == 63
        with pytest.raises(UnsupportedCommand, match="Bright, Dinner"):
            await home.execute(
                DINING, Command(action=Action.ACTIVATE_PRESET, preset="Disco"), requested_by="t"
            )
    finally:
        await shutdown(hue, task)


async def test_changes_on_the_bridge_reach_home(bridge: HueBridgeSimulator) -> None:
    home, hue, task = await running(bridge)
    try:
        bridge.set_light("Desk lamp", on=True, bri=254)
        await eventually(lambda: home.get(DESK).state.on and home.get(DESK).state.brightness == 100)
        bridge.set_light("Dining lamp", on=True, hue=0, sat=254)
        lamp = f"hue:{BRIDGE}:00:17:88:01:0a:00:00:02-0b"
        await eventually(lambda: home.get(lamp).state.color == (255, 0, 0))
        bridge.set_light("Desk lamp", reachable=False)
        await eventually(lambda: not home.get(DESK).available)
        assert home.get(TABLE).available
    finally:
        await shutdown(hue, task)


async def test_killed_bridge_is_unavailable_then_recovers(bridge: HueBridgeSimulator) -> None:
    home, hue, task = await running(bridge)
    try:
        await bridge.stop()
        await eventually(lambda: not home.get(TABLE).available and not home.get(DINING).available)
        with pytest.raises(DeviceUnavailable):
            await home.execute(TABLE, Command(action=Action.TURN_ON), requested_by="test")
        bridge.set_light("Dining table", on=True)  # changed while we could not see it
        await bridge.start()
        await eventually(lambda: home.get(TABLE).available and home.get(TABLE).state.on)
        await home.execute(TABLE, Command(action=Action.TURN_OFF), requested_by="test")
        assert not bridge.light_state("Dining table")["on"]
    finally:
        await shutdown(hue, task)


async def test_wrong_key_and_moved_bridge_are_reported(bridge: HueBridgeSimulator) -> None:
    config = HueConfig.model_validate(
        {"bridges": [{"host": bridge.address, "app_key": "nope"}], "retry_initial": 0.1}
    )
    link = create(config).links[0]
    import aiohttp

    async with aiohttp.ClientSession() as session:
        with pytest.raises(AuthenticationFailed, match="hue-pair"):
            await link.connect(session, Home(bus=Bus()))
        config = HueConfig.model_validate(
            {"bridges": [{"host": bridge.address, "app_key": bridge.add_user(), "bridge_id": "x"}]}
        )
        with pytest.raises(Exception, match="not x"):
            await create(config).links[0].connect(session, Home(bus=Bus()))


async def test_ip_change_keeps_ids_names_and_areas(bridge: HueBridgeSimulator) -> None:
    home, hue, task = await running(bridge)
    moved = demo_bridge("127.0.0.1")  # same bridge id, another port: a new DHCP lease
    moved.users = set(bridge.users)
    try:
        await bridge.stop()
        await moved.start()
        await eventually(lambda: not home.get(TABLE).available)
        found = DiscoveredDevice("hue", "Hue Bridge - 4A1B2C", "127.0.0.1", moved.port, BRIDGE)
        assert await hue.discovered(found, add=False)
        await eventually(lambda: home.get(TABLE).available)
        table = home.get(TABLE)
        assert (table.info["host"], table.name, table.area) == (
            moved.address,
            "Dining table",
            "dining_room",
        )
        assert len(home.devices(integration="hue")) == 5
        other = DiscoveredDevice("hue", "Hue Bridge - 000000", "127.0.0.1", 1, "ffffffffffff")
        assert not await hue.discovered(other, add=True)  # new bridges need pairing first
    finally:
        await shutdown(hue, task)
        await moved.stop()


async def test_a_second_bridge_with_the_same_id_is_not_followed(
    bridge: HueBridgeSimulator,
) -> None:
    """While the bridge answers where it is, a copy announced elsewhere gets nothing."""
    home, hue, task = await running(bridge)
    copy = demo_bridge("127.0.0.1")  # another program's simulator, or an impostor
    try:
        await copy.start()
        await eventually(lambda: home.get(TABLE).available)
        found = DiscoveredDevice("hue", "Hue Bridge - 4A1B2C", "127.0.0.1", copy.port, BRIDGE)
        assert await hue.discovered(found, add=False)  # known bridge: handled, not added
        await asyncio.sleep(0.5)
        assert home.get(TABLE).info["host"] == bridge.address and home.get(TABLE).available
        assert copy.requests == 0, "the copy was asked (with our app key)"
    finally:
        await shutdown(hue, task)
        await copy.stop()


async def test_polling_publishes_only_changes(bridge: HueBridgeSimulator) -> None:
    home, hue, task = await running(bridge)
    changes: list[StateChanged] = []
    home.bus.on(StateChanged, changes.append)
    try:
        polls = bridge.requests
        await eventually(lambda: bridge.requests >= polls + 10)  # five polls of lights + groups
        assert changes == []
        bridge.set_light("Dining lamp", on=True)
        await eventually(lambda: changes)
        await eventually(lambda: bridge.requests >= polls + 20)
        # The lamp and its room changed, once each; nothing else was published.
        assert sorted(c.device_id for c in changes) == sorted([DINING, f"{TABLE[:-5]}02-0b"])
    finally:
        await shutdown(hue, task)
