"""The MQTT integration against a real Mosquitto and the zigbee2mqtt/HA/Tasmota simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.bus import Bus, StateChanged
from agent.devices import Action, Command, Kind
from agent.errors import ConfirmationRequired, DeviceUnavailable
from agent.home import Home
from agent.supervise import cancel_and_wait
from integrations.mqtt.adapter import MqttIntegration
from integrations.mqtt.config import MqttConfig
from integrations.mqtt.simulator import MqttHomeSimulator
from tests.conftest import Broker
from tests.util import eventually


@pytest.fixture
async def mqtt_home(mqtt_broker: Broker) -> AsyncIterator[tuple[Home, MqttHomeSimulator]]:
    """A Home fed by the MQTT integration, with the simulated devices on the broker."""
    base = f"z2m_{id(object())}"  # a topic namespace of its own on the shared broker
    sim = MqttHomeSimulator(mqtt_broker.host, mqtt_broker.port, base=base)
    await sim.start()
    home = Home(bus=Bus())
    integration = MqttIntegration(
        MqttConfig(host=mqtt_broker.host, port=mqtt_broker.port, zigbee2mqtt_topic=base)
    )
    home.integrations["mqtt"] = integration
    task = asyncio.create_task(integration.run(home))
    try:
        await eventually(lambda: home.resolve("Garden fountain").ok and len(home.devices()) >= 18)
        yield home, sim
    finally:
        await cancel_and_wait([task])
        await sim.stop()


def one(home: Home, name: str) -> str:
    """The id of the one device with this name."""
    resolution = home.resolve(name)
    assert resolution.ok and len(resolution.devices) == 1, resolution
    return resolution.devices[0].id


async def test_devices_are_discovered_with_kinds_and_state(
    mqtt_home: tuple[Home, MqttHomeSimulator],
) -> None:
    home, _sim = mqtt_home
    kinds = {d.name: d.kind for d in home.devices()}
    assert kinds["Kitchen ceiling"] is Kind.LIGHT
    assert kinds["Thermostat"] is Kind.CLIMATE
    assert kinds["Living room shade"] is Kind.COVER
    assert kinds["Front door"] is Kind.LOCK
    assert kinds["Hallway motion"] is Kind.SENSOR
    assert kinds["Dehumidifier"] is Kind.SWITCH  # Home Assistant MQTT discovery
    assert kinds["Garden fountain"] is Kind.SWITCH  # Tasmota
    await eventually(lambda: home.get(one(home, "Thermostat")).state.target_temperature_c == 20.5)
    await eventually(lambda: home.get(one(home, "Front door")).state.locked is True)
    await eventually(lambda: home.get(one(home, "Front door contact")).state.contact_open is False)
    await eventually(lambda: home.get(one(home, "Bedroom sensor")).state.humidity == 48)


async def test_commands_reach_the_simulator_and_state_comes_back(
    mqtt_home: tuple[Home, MqttHomeSimulator],
) -> None:
    home, sim = mqtt_home
    lamp = one(home, "Bedroom lamp")
    device = await home.execute(
        lamp, Command(action=Action.SET_BRIGHTNESS, brightness=40), requested_by="test"
    )
    assert sim.device("Bedroom lamp").state["state"] == "ON"
    assert sim.device("Bedroom lamp").state["brightness"] == round(40 * 254 / 100)
    assert device.state.on is True and device.state.brightness == 40

    pendant = one(home, "Kitchen pendant")
    device = await home.execute(
        pendant, Command(action=Action.SET_COLOR, color=(255, 0, 0)), requested_by="test"
    )
    assert device.state.color == (255, 0, 0)

    thermostat = one(home, "Thermostat")
    device = await home.execute(
        thermostat, Command(action=Action.SET_TEMPERATURE, temperature_c=18.5), requested_by="test"
    )
    assert sim.device("Thermostat").state["occupied_heating_setpoint"] == 18.5
    assert device.state.target_temperature_c == 18.5
    # The setpoint range zigbee2mqtt exposes (5-30 °C) is kept for the local path's check.
    assert (device.info["min_temp_c"], device.info["max_temp_c"]) == (5.0, 30.0)

    shade = one(home, "Living room shade")
    device = await home.execute(
        shade, Command(action=Action.SET_POSITION, position=30), requested_by="test"
    )
    assert device.state.position == 30

    door = one(home, "Front door")
    with pytest.raises(ConfirmationRequired):
        await home.execute(door, Command(action=Action.UNLOCK), requested_by="test")
    assert sim.device("Front door").state["lock_state"] == "locked"
    await home.execute(door, Command(action=Action.UNLOCK), requested_by="owner", confirmed=True)
    assert home.get(door).state.locked is False

    fountain = one(home, "Garden fountain")
    await home.execute(fountain, Command(action=Action.TURN_ON), requested_by="test")
    assert sim.fountain_on and home.get(fountain).state.on is True
    dehumidifier = one(home, "Dehumidifier")
    await home.execute(dehumidifier, Command(action=Action.TURN_ON), requested_by="test")
    assert sim.dehumidifier_on and home.get(dehumidifier).state.on is True


async def test_device_side_changes_arrive_as_events(
    mqtt_home: tuple[Home, MqttHomeSimulator],
) -> None:
    home, sim = mqtt_home
    study = one(home, "Study lamp")
    sub = home.bus.subscribe(StateChanged)
    await sim.press("Study lamp", state="ON", brightness=254)
    event = await asyncio.wait_for(_next_for(sub, study, on=True), 5)
    assert event.new["brightness"] == 100
    await sim.set_online("Study lamp", False)
    await eventually(lambda: not home.get(study).available)
    await sim.set_online("Study lamp", True)
    await eventually(lambda: home.get(study).available)


async def _next_for(sub: object, device_id: str, **expected: object) -> StateChanged:
    """The next change of a device whose new state has the expected values."""
    while True:
        event = await sub.get()  # type: ignore[attr-defined]
        if (
            isinstance(event, StateChanged)
            and event.device_id == device_id
            and all(event.new.get(k) == v for k, v in expected.items())
        ):
            return event


async def test_broker_restart_marks_unavailable_then_recovers(
    mqtt_home: tuple[Home, MqttHomeSimulator], mqtt_broker: Broker
) -> None:
    home, _sim = mqtt_home
    lamp = one(home, "Kitchen ceiling")
    mqtt_broker.stop()
    try:
        await eventually(lambda: not home.get(lamp).available, timeout=10)
        with pytest.raises(DeviceUnavailable):
            await home.execute(lamp, Command(action=Action.TURN_OFF), requested_by="test")
    finally:
        mqtt_broker.start()
    await eventually(lambda: home.get(lamp).available, timeout=5)
    await home.execute(lamp, Command(action=Action.TURN_OFF), requested_by="test")
    assert home.get(lamp).state.on is False
