"""The Home Assistant bridge against the HA simulator (REST + websocket on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from agent.bus import Bus
from agent.devices import Action, Command, Feature, Kind, Risk
from agent.errors import AuthenticationFailed, ConfirmationRequired
from agent.home import Area, Home
from integrations.homeassistant.adapter import HomeAssistantBridge
from integrations.homeassistant.client import Connection, HomeAssistantError
from integrations.homeassistant.config import HomeAssistantConfig
from integrations.homeassistant.sim_entities import FakeHass
from integrations.homeassistant.simulator import HomeAssistantSimulator
from tests.conftest import RunningDaemon
from tests.util import eventually

pytestmark = pytest.mark.timeout(30)

POOL = "homeassistant:water_heater.pool_heater"


def f_to_c(value: float) -> float:
    """°F → °C."""
    return (value - 32) * 5 / 9


@dataclass
class Bridged:
    """A simulator, the bridge following it, and the Home they fill."""

    sim: HomeAssistantSimulator
    bridge: HomeAssistantBridge
    home: Home
    task: asyncio.Task[None]


async def _start(
    hidden: tuple[str, ...] = (), hass: FakeHass | None = None, **config: Any
) -> Bridged:
    sim = await HomeAssistantSimulator(hass).start()
    for entity_id in hidden:
        sim.hass.entities[entity_id].hidden = True
    home = Home(bus=Bus(), areas={"pool": Area("pool", "Pool", "outside")})
    bridge = HomeAssistantBridge(
        HomeAssistantConfig(url=sim.url, token=sim.token, request_timeout=3, **config)
    )
    home.integrations[bridge.name] = bridge
    task = asyncio.create_task(bridge.run(home))
    return Bridged(sim, bridge, home, task)


async def _stop(b: Bridged) -> None:
    await b.bridge.stop()
    b.task.cancel()
    await asyncio.gather(b.task, return_exceptions=True)
    await b.sim.stop()


@pytest.fixture
async def bridged() -> AsyncIterator[Bridged]:
    """The demo HA with the bridge connected and its entities imported."""
    b = await _start()
    try:
        await eventually(lambda: b.bridge.connects == 1)
        yield b
    finally:
        await _stop(b)


async def test_imports_entities_with_areas_kinds_and_units(bridged: Bridged) -> None:
    """Areas come from the entity or its device; °F from HA's unit system become °C."""
    home = bridged.home
    pool = home.get(POOL)
    assert (pool.name, pool.kind, pool.area) == ("Pool heater", Kind.CLIMATE, "pool")
    assert pool.state.target_temperature_c == pytest.approx(f_to_c(82), abs=0.01)
    assert Feature.TARGET_TEMPERATURE in pool.features
    sensor = home.get("homeassistant:sensor.pool_temperature")
    assert sensor.area == "pool"  # inherited from its device in the device registry
    assert sensor.state.current_temperature_c == pytest.approx(f_to_c(79), abs=0.01)
    spa = home.get("homeassistant:climate.spa")
    assert (spa.kind, spa.area, spa.state.hvac_mode) == (Kind.CLIMATE, "garden", "heat")
    garage = home.get("homeassistant:cover.garage_door")
    assert garage.device_class == "garage" and garage.risk is Risk.HIGH
    assert home.get("homeassistant:cover.bedroom_blinds").state.position == 100
    assert home.get("homeassistant:alarm_control_panel.alarm").kind is Kind.ALARM
    assert home.get("homeassistant:media_player.pool_speaker").state.volume == 30
    resolved = home.resolve("pool", Kind.CLIMATE)
    assert [d.id for d in resolved.devices] == [POOL]


async def test_commands_go_through_call_service(bridged: Bridged) -> None:
    """'Set the pool to 84' (°F owner) reaches the heater's setpoint; others likewise."""
    home, hass = bridged.home, bridged.sim.hass
    await home.execute(
        POOL, Command(action=Action.SET_TEMPERATURE, temperature_c=f_to_c(84)), requested_by="t"
    )
    assert hass.states["water_heater.pool_heater"]["attributes"]["temperature"] == 84.0
    assert home.get(POOL).state.target_temperature_c == pytest.approx(f_to_c(84), abs=0.01)

    blinds = "homeassistant:cover.bedroom_blinds"
    await home.execute(blinds, Command(action=Action.SET_POSITION, position=40), requested_by="t")
    assert hass.states["cover.bedroom_blinds"]["attributes"]["current_position"] == 40
    assert home.get(blinds).state.position == 40

    alarm = "homeassistant:alarm_control_panel.alarm"
    await home.execute(alarm, Command(action=Action.ARM, arm_mode="away"), requested_by="t")
    assert hass.states["alarm_control_panel.alarm"]["state"] == "armed_away"
    with pytest.raises(ConfirmationRequired):
        await home.execute(alarm, Command(action=Action.DISARM), requested_by="t")
    await home.execute(alarm, Command(action=Action.DISARM), requested_by="t", confirmed=True)
    assert home.get(alarm).state.alarm_state == "disarmed"

    spa = "homeassistant:climate.spa"
    await home.execute(spa, Command(action=Action.SET_HVAC_MODE, hvac_mode="off"), requested_by="t")
    assert home.get(spa).state.on is False
    speaker = "homeassistant:media_player.pool_speaker"
    await home.execute(speaker, Command(action=Action.SET_VOLUME, volume=55), requested_by="t")
    assert hass.states["media_player.pool_speaker"]["attributes"]["volume_level"] == 0.55


async def test_refused_service_is_a_clear_error(bridged: Bridged) -> None:
    """An out-of-range setpoint comes back as HA's message, and nothing changes."""
    with pytest.raises(HomeAssistantError, match="not valid"):
        await bridged.home.execute(
            POOL, Command(action=Action.SET_TEMPERATURE, temperature_c=60), requested_by="t"
        )
    assert bridged.sim.hass.states["water_heater.pool_heater"]["attributes"]["temperature"] == 82


async def test_simulator_side_changes_reach_home(bridged: Bridged) -> None:
    """state_changed events keep the Home live."""
    bridged.sim.hass.set_state("sensor.pool_temperature", "80.6")
    sensor = "homeassistant:sensor.pool_temperature"
    await eventually(
        lambda: bridged.home.get(sensor).state.current_temperature_c == pytest.approx(27.0)
    )
    bridged.sim.hass.set_state("cover.garage_door", "open")
    await eventually(lambda: bridged.home.get("homeassistant:cover.garage_door").state.position)


async def test_reconnects_and_refetches_changes_made_while_down(bridged: Bridged) -> None:
    """Dropped websocket → unavailable → reconnect, resubscribe, nothing lost."""
    sim, home = bridged.sim, bridged.home
    sim.accepting = False
    await sim.drop_connections()
    await eventually(lambda: not home.get(POOL).available)
    # Changed while the bridge cannot see it: only a re-fetch can bring it in.
    sim.hass.set_state("water_heater.pool_heater", temperature=86.0)
    sim.hass.set_state("cover.bedroom_blinds", "closed", current_position=0)
    sim.accepting = True
    await eventually(lambda: bridged.bridge.connects == 2, timeout=10)
    pool = home.get(POOL)
    assert pool.available
    assert pool.state.target_temperature_c == pytest.approx(f_to_c(86), abs=0.01)
    assert home.get("homeassistant:cover.bedroom_blinds").state.position == 0
    # Resubscribed: live events flow again.
    sim.hass.set_state("alarm_control_panel.alarm", "triggered")
    alarm = "homeassistant:alarm_control_panel.alarm"
    await eventually(lambda: home.get(alarm).state.alarm_state == "triggered")


async def test_bad_token_is_a_clear_auth_error() -> None:
    """REST answers 401 and the websocket auth_invalid: both become AuthenticationFailed."""
    sim = await HomeAssistantSimulator().start()
    try:
        bridge = HomeAssistantBridge(HomeAssistantConfig(url=sim.url, token="wrong"))
        with pytest.raises(AuthenticationFailed, match="refused the access token"):
            await asyncio.wait_for(bridge.run(Home(bus=Bus())), 5)
        async with aiohttp.ClientSession() as session:
            conn = Connection(session, sim.url, "wrong", timeout=3)
            with pytest.raises(AuthenticationFailed, match="Invalid access token"):
                await conn.connect()
            await conn.close()
        assert sim.connections == 0
    finally:
        await sim.stop()


async def test_entity_filters() -> None:
    """include_areas keeps the pool; exclude_entities drops the sensor."""
    b = await _start(include_areas=["Pool"], exclude_entities=["sensor.pool_temperature"])
    try:
        await eventually(lambda: b.bridge.connects == 1)
        ids = {d.id for d in b.home.devices()}
        assert ids == {POOL, "homeassistant:media_player.pool_speaker"}
        b.sim.hass.set_state("sensor.pool_temperature", "90")
        b.sim.hass.set_state("climate.spa", "off")
        b.sim.hass.set_state("water_heater.pool_heater", "off", operation_mode="off")
        await eventually(lambda: b.home.get(POOL).state.on is False)
        assert {d.id for d in b.home.devices()} == ids
    finally:
        await _stop(b)


async def test_entities_hidden_in_home_assistant_stay_out() -> None:
    """An entity the owner hid in HA is not imported unless include_entities names it."""
    b = await _start(
        hidden=("climate.spa", "cover.garage_door"),
        include_entities=["climate.spa"],
        include_domains=["climate", "cover"],
    )
    try:
        await eventually(lambda: b.bridge.connects == 1)
        ids = {d.id for d in b.home.devices()}
        assert "homeassistant:climate.spa" in ids  # named explicitly
        assert "homeassistant:cover.bedroom_blinds" in ids  # by domain
        assert "homeassistant:cover.garage_door" not in ids  # by domain, but hidden
    finally:
        await _stop(b)


async def test_daemon_imports_and_commands_through_the_api(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """In a real daemon the HA devices show on /api/devices and take commands."""
    sim = await HomeAssistantSimulator().start()
    try:
        daemon = await start_daemon(
            {
                "home": {"units": "imperial", "areas": {"pool": {"floor": "outside"}}},
                "homeassistant": {"url": sim.url, "token": sim.token},
                "discovery": {"enabled": False},
            }
        )

        async def pool_listed() -> bool:
            status, body = await daemon.api("GET", "/api/devices")
            return status == 200 and any(d["id"] == POOL for d in body["devices"])

        await eventually(pool_listed)
        status, body = await daemon.api(
            "POST",
            f"/api/devices/{POOL}/commands",
            {"action": "set_temperature", "temperature_c": f_to_c(84)},
        )
        assert status == 200, body
        assert sim.hass.states["water_heater.pool_heater"]["attributes"]["temperature"] == 84.0
        assert body["state"]["target_temperature_c"] == pytest.approx(f_to_c(84), abs=0.01)
    finally:
        await sim.stop()


async def test_follows_home_assistant_to_a_new_address(bridged: Bridged) -> None:
    """Discovery at our address teaches the uuid; the same uuid elsewhere moves the bridge."""
    from integrations.discovery_scan import DiscoveredDevice

    here = DiscoveredDevice("homeassistant", "Demo Home", "127.0.0.1", bridged.sim.port, "uuid-1")
    assert await bridged.bridge.discovered(here, add=False)
    moved_sim = await HomeAssistantSimulator(token=bridged.sim.token).start()
    try:
        moved_sim.hass.set_state("climate.spa", "off")
        stranger = DiscoveredDevice("homeassistant", "Other", "127.0.0.1", moved_sim.port, "uuid-2")
        assert not await bridged.bridge.discovered(stranger, add=True)
        there = DiscoveredDevice(
            "homeassistant", "Demo Home", "127.0.0.1", moved_sim.port, "uuid-1"
        )
        assert await bridged.bridge.discovered(there, add=False)
        await eventually(lambda: bridged.bridge.connects == 2, timeout=10)
        assert moved_sim.connections == 1 and bridged.bridge.url == moved_sim.url
        assert bridged.home.get("homeassistant:climate.spa").state.hvac_mode == "off"
    finally:
        await moved_sim.stop()


async def test_garage_door_moves_through_opening() -> None:
    """Opening the garage needs confirmation, then reports opening → open as it travels."""
    from integrations.homeassistant.sim_entities import FakeHass

    sim = await HomeAssistantSimulator(FakeHass.demo(garage_travel=0.3)).start()
    home = Home(bus=Bus())
    bridge = HomeAssistantBridge(HomeAssistantConfig(url=sim.url, token=sim.token))
    home.integrations[bridge.name] = bridge
    task = asyncio.create_task(bridge.run(home))
    garage = "homeassistant:cover.garage_door"
    try:
        await eventually(lambda: bridge.connects == 1)
        with pytest.raises(ConfirmationRequired):
            await home.execute(garage, Command(action=Action.OPEN), requested_by="t")
        device = await home.execute(
            garage, Command(action=Action.OPEN), requested_by="t", confirmed=True
        )
        assert device.state.moving == "opening"
        await eventually(lambda: home.get(garage).state.position == 100)
        assert home.get(garage).state.moving is None
    finally:
        await bridge.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sim.stop()
