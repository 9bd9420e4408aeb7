"""Sleepy time end to end: a real daemon (brain + routines), the MQTT integration on a real
Mosquitto, and the zigbee2mqtt simulator — the phrase arrives as chat and runs locally."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import agent.daemon
from agent.routines import EXAMPLE_ROUTINES
from integrations.mqtt.simulator import MqttHomeSimulator
from tests.conftest import Broker, RunningDaemon
from tests.util import eventually

COMPONENTS = ["agent.brain.component:create", "agent.routines.component:create"]


@pytest.fixture
async def sim(mqtt_broker: Broker) -> AsyncIterator[MqttHomeSimulator]:
    """The demo's zigbee devices on their own topic namespace of the shared broker."""
    simulator = MqttHomeSimulator(mqtt_broker.host, mqtt_broker.port, base=f"z2m_{id(object())}")
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


async def test_sleepy_time_by_chat_over_mqtt_with_a_device_down(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    sim: MqttHomeSimulator,
    mqtt_broker: Broker,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agent.daemon, "COMPONENTS", COMPONENTS)
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    shutil.copyfile(EXAMPLE_ROUTINES, home_dir / "routines.yaml")
    daemon = await start_daemon(
        {
            "home": {"units": "imperial"},
            "mqtt": {
                "host": mqtt_broker.host,
                "port": mqtt_broker.port,
                "zigbee2mqtt_topic": sim.base,
                "discovery_prefix": None,
                "tasmota": False,
            },
        },
        home=home_dir,
    )
    home = daemon.rt.home
    await eventually(lambda: home.resolve("Study lamp").ok and home.resolve("Front door").ok)
    await eventually(lambda: len(home.devices()) >= 16)

    status, reply = await daemon.api("POST", "/api/chat", {"text": "Dobby, it's sleepy time"})
    assert status == 200 and reply["path"] == "local", reply
    assert reply["reply"].startswith("Sleepy time:") and "66°F" in reply["reply"], reply
    assert sim.device("Bedroom lamp").state["state"] == "ON"
    assert sim.device("Kitchen ceiling").state["state"] == "OFF"
    assert sim.device("Front door").state["state"] == "LOCK"
    assert abs(float(sim.device("Thermostat").state["occupied_heating_setpoint"]) - 18.9) < 0.6
    lamp = home.resolve("Bedroom lamp").devices[0]
    assert lamp.state.on and lamp.state.brightness == 10

    # One device drops off the network: the rest still happens, the reply says which.
    await sim.press("Kitchen ceiling", state="ON")
    await sim.set_online("Study lamp", False)
    await eventually(lambda: not home.resolve("Study lamp").devices[0].available)
    status, reply = await daemon.api("POST", "/api/chat", {"text": "good night"})
    assert status == 200 and reply["path"] == "local"
    assert "but Study lamp didn't answer" in reply["reply"], reply
    await eventually(lambda: home.resolve("Kitchen ceiling").devices[0].state.on is False)
    assert sim.device("Kitchen ceiling").state["state"] == "OFF"
