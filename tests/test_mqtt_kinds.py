"""A robot vacuum and a water valve announced through Home Assistant MQTT discovery
(Valetudo- and ESPHome-style), on a real Mosquitto with the MQTT simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.bus import Bus
from agent.devices import Action, Command, Feature, Kind
from agent.home import Home
from agent.supervise import cancel_and_wait
from integrations.mqtt.adapter import MqttIntegration
from integrations.mqtt.config import MqttConfig
from integrations.mqtt.simulator import MqttHomeSimulator
from tests.conftest import Broker
from tests.util import eventually

pytestmark = pytest.mark.timeout(30)
ROBOT = "mqtt:valetudo_upstairs_robot"
TAP = "mqtt:esphome_garden_tap"


@pytest.fixture
async def mqtt_home(mqtt_broker: Broker) -> AsyncIterator[tuple[Home, MqttHomeSimulator]]:
    """A Home fed by the MQTT integration, with the simulated devices on the broker."""
    base = f"z2m_{id(object())}"
    sim = MqttHomeSimulator(mqtt_broker.host, mqtt_broker.port, base=base)
    await sim.start()
    home = Home(bus=Bus())
    integration = MqttIntegration(
        MqttConfig(host=mqtt_broker.host, port=mqtt_broker.port, zigbee2mqtt_topic=base)
    )
    home.integrations["mqtt"] = integration
    task = asyncio.create_task(integration.run(home))
    try:
        await eventually(
            lambda: home.find(ROBOT) is not None and home.find(TAP) is not None
            and home.get(TAP).state.position is not None
        )  # fmt: skip
        yield home, sim
    finally:
        await cancel_and_wait([task])
        await sim.stop()


async def test_discovered_vacuum_starts_pauses_and_docks(
    mqtt_home: tuple[Home, MqttHomeSimulator],
) -> None:
    """Features from `supported_features`; commands are the configured payloads; the
    JSON state topic brings activity and battery back."""
    home, sim = mqtt_home
    robot = home.get(ROBOT)
    assert robot.kind is Kind.VACUUM and robot.area == "bedroom"
    assert {Feature.CLEAN, Feature.PAUSE, Feature.RETURN_HOME} <= robot.features
    await eventually(lambda: home.get(ROBOT).state.activity == "docked")
    assert home.get(ROBOT).state.battery == 88
    await home.execute(ROBOT, Command(action=Action.START), requested_by="t")
    await eventually(lambda: home.get(ROBOT).state.activity == "cleaning")
    assert ("valetudo/upstairs_robot/command", "start") in sim.received
    await home.execute(ROBOT, Command(action=Action.PAUSE), requested_by="t")
    await eventually(lambda: home.get(ROBOT).state.activity == "paused")
    await home.execute(ROBOT, Command(action=Action.RETURN_TO_BASE), requested_by="t")
    await eventually(lambda: home.get(ROBOT).state.activity == "returning")
    await sim.dock_robot(battery=64)
    await eventually(lambda: home.get(ROBOT).state.battery == 64)
    assert home.get(ROBOT).state.activity == "docked"


async def test_discovered_valve_reports_its_position(
    mqtt_home: tuple[Home, MqttHomeSimulator],
) -> None:
    """A valve with `reports_position` gets the wanted position as its command."""
    home, sim = mqtt_home
    tap = home.get(TAP)
    assert (tap.kind, tap.device_class) == (Kind.VALVE, "water")
    assert {Feature.OPEN_CLOSE, Feature.POSITION} <= tap.features
    await home.execute(TAP, Command(action=Action.SET_POSITION, position=40), requested_by="t")
    await eventually(lambda: home.get(TAP).state.position == 40)
    assert ("esphome/garden_tap/set", "40") in sim.received
    await home.execute(TAP, Command(action=Action.CLOSE), requested_by="t")
    await eventually(lambda: home.get(TAP).state.position == 0)
    assert home.get(TAP).state.moving == "stopped"


async def test_zigbee_water_valve_opens_and_closes(
    mqtt_home: tuple[Home, MqttHomeSimulator],
) -> None:
    """zigbee2mqtt lists a water valve as a switch: homeclaw makes it a valve (ON = open)."""
    home, sim = mqtt_home
    main = home.get("mqtt:0x00124b0000000108")
    assert (main.kind, main.features) == (Kind.VALVE, frozenset({Feature.OPEN_CLOSE}))
    await eventually(lambda: home.get(main.id).state.position == 100)
    await home.execute(main.id, Command(action=Action.CLOSE), requested_by="t")
    await eventually(lambda: sim.device("Water main").state["state"] == "OFF")
    await eventually(lambda: home.get(main.id).state.position == 0)
