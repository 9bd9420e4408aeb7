"""A simulated home on an MQTT broker: a zigbee2mqtt bridge with its devices, a Home
Assistant MQTT-discovery device and a Tasmota relay — answering `/set` like the real thing.

Used by `homeclaw demo` and by the tests; it reconnects (and republishes its
retained topics) when the broker restarts, as zigbee2mqtt does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from agent.demo.simulation import DemoContext, DemoPart
from agent.supervise import cancel_and_wait
from integrations.mqtt.adapter import NODELAY
from integrations.mqtt.sim_devices import DEMO_AREAS, SimDevice, apply_set, demo_devices
from integrations.mqtt.sim_kinds import KindsOnMqtt

log = logging.getLogger(__name__)


@dataclass
class MqttHomeSimulator:
    """zigbee2mqtt + HA-discovery + Tasmota devices on a broker, reacting like the real ones."""

    host: str
    port: int
    base: str = "zigbee2mqtt"
    devices: list[SimDevice] = field(default_factory=demo_devices)
    lively: bool = False
    dehumidifier_on: bool = False
    fountain_on: bool = False
    received: list[tuple[str, str]] = field(default_factory=list)
    # A robot vacuum and a water valve announced through HA MQTT discovery.
    kinds: KindsOnMqtt = field(default_factory=KindsOnMqtt)
    _client: aiomqtt.Client | None = None
    _task: asyncio.Task[None] | None = None
    _connected: asyncio.Event = field(default_factory=asyncio.Event)

    def device(self, friendly_name: str) -> SimDevice:
        """A simulated device by name."""
        return next(d for d in self.devices if d.friendly_name == friendly_name)

    async def start(self) -> None:
        """Connect (and keep reconnecting) in the background; wait for the first connection."""
        self._task = asyncio.create_task(self._run(), name="mqtt-simulator")
        async with asyncio.timeout(10):
            await self._connected.wait()

    async def stop(self) -> None:
        """Disconnect and stop."""
        if self._task is not None:
            await cancel_and_wait([self._task])

    async def _run(self) -> None:
        lively: asyncio.Task[None] | None = None
        while True:
            try:
                will = aiomqtt.Will(
                    f"{self.base}/bridge/state",
                    json.dumps({"state": "offline"}),
                    qos=1,
                    retain=True,
                )
                async with aiomqtt.Client(
                    self.host, self.port, will=will, keepalive=10, timeout=2, socket_options=NODELAY
                ) as client:
                    self._client = client
                    await client.subscribe(f"{self.base}/+/set", qos=1)
                    await client.subscribe(f"{self.base}/+/get", qos=1)
                    await client.subscribe("sim/dehumidifier/set", qos=1)
                    await client.subscribe("cmnd/fountain/+", qos=1)
                    for topic in self.kinds.topics():
                        await client.subscribe(topic, qos=1)
                    await self._announce(client)
                    self._connected.set()
                    if self.lively and lively is None:
                        lively = asyncio.create_task(self._live())
                    async for message in client.messages:
                        await self._handle(client, str(message.topic), bytes(message.payload))  # type: ignore[arg-type]
            except aiomqtt.MqttError as err:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from err
                log.info("simulator lost the broker: %s", err)
                self._client = None
                self._connected.clear()
                await asyncio.sleep(0.3)
            except asyncio.CancelledError:
                if lively is not None:
                    lively.cancel()
                raise

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Publish what zigbee2mqtt, HA-discovery devices and Tasmota retain on connect."""
        await client.publish(
            f"{self.base}/bridge/state", json.dumps({"state": "online"}), qos=1, retain=True
        )
        coordinator = {
            "ieee_address": "0x00124b0000000000",
            "friendly_name": "Coordinator",
            "type": "Coordinator",
            "definition": None,
        }
        entries = [coordinator] + [d.bridge_entry() for d in self.devices]
        await client.publish(f"{self.base}/bridge/devices", json.dumps(entries), qos=1, retain=True)
        for device in self.devices:
            await client.publish(
                f"{self.base}/{device.friendly_name}/availability",
                json.dumps({"state": "online" if device.online else "offline"}),
                qos=1,
                retain=True,
            )
            await self._publish_state(client, device)
        await client.publish(
            "homeassistant/switch/sim_dehumidifier/config",
            json.dumps(
                {
                    "name": "Dehumidifier",
                    "uniq_id": "sim_dehumidifier",
                    "~": "sim/dehumidifier",
                    "cmd_t": "~/set",
                    "stat_t": "~/state",
                    "avty_t": "~/availability",
                    "dev": {
                        "ids": ["sim_dehumidifier"],
                        "name": "Dehumidifier",
                        "mf": "homeclaw",
                        "sa": "Basement",
                    },
                }
            ),
            qos=1,
            retain=True,
        )
        await client.publish("sim/dehumidifier/availability", "online", qos=1, retain=True)
        await client.publish(
            "sim/dehumidifier/state", "ON" if self.dehumidifier_on else "OFF", qos=1, retain=True
        )
        await client.publish(
            "tasmota/discovery/A0B1C2D3E4F5/config",
            json.dumps(
                {
                    "ip": "127.0.0.1",
                    "dn": "Garden fountain",
                    "fn": ["Garden fountain"],
                    "mac": "A0B1C2D3E4F5",
                    "md": "Sonoff Basic",
                    "t": "fountain",
                    "rl": [1, 0, 0],
                }
            ),
            qos=1,
            retain=True,
        )
        await client.publish("tele/fountain/LWT", "Online", qos=1, retain=True)
        await self.kinds.announce(client)
        await client.publish("stat/fountain/POWER", "ON" if self.fountain_on else "OFF", qos=1)

    async def _publish_state(self, client: aiomqtt.Client, device: SimDevice) -> None:
        await client.publish(f"{self.base}/{device.friendly_name}", json.dumps(device.state), qos=1)

    async def _handle(self, client: aiomqtt.Client, topic: str, payload: bytes) -> None:
        text = payload.decode(errors="replace")
        self.received.append((topic, text))
        if topic == "sim/dehumidifier/set":
            self.dehumidifier_on = text == "ON"
            await client.publish("sim/dehumidifier/state", text, qos=1, retain=True)
            return
        if await self.kinds.handle(client, topic, text):
            return
        if topic.startswith("cmnd/fountain/"):
            if text:  # an empty command is a status query
                self.fountain_on = {"ON": True, "OFF": False}.get(text, not self.fountain_on)
            await client.publish("stat/fountain/POWER", "ON" if self.fountain_on else "OFF", qos=1)
            return
        name, _, verb = topic[len(self.base) + 1 :].rpartition("/")
        device = next((d for d in self.devices if d.friendly_name == name), None)
        if device is None or not device.online:
            return
        if verb == "set":
            try:
                changes = json.loads(text)
            except ValueError:
                return
            if isinstance(changes, dict):
                apply_set(device, changes)
        await self._publish_state(client, device)

    async def press(self, friendly_name: str, **changes: Any) -> None:
        """Someone used the device itself (a wall switch, a hand on the thermostat)."""
        device = self.device(friendly_name)
        device.state.update(changes)
        if self._client is not None:
            await self._publish_state(self._client, device)

    async def dock_robot(self, battery: int) -> None:
        """The robot vacuum reaches its dock by itself (a change made outside homeclaw)."""
        await self.kinds.robot_docks(self._client, battery)

    async def set_online(self, friendly_name: str, online: bool) -> None:
        """Make a device drop off (or rejoin) the zigbee network."""
        device = self.device(friendly_name)
        device.online = online
        if self._client is not None:
            await self._client.publish(
                f"{self.base}/{friendly_name}/availability",
                json.dumps({"state": "online" if online else "offline"}),
                qos=1,
                retain=True,
            )

    async def _live(self) -> None:
        """Small signs of life for the demo: a thermostat drifting, someone walking past."""
        while True:
            await asyncio.sleep(random.uniform(8, 15))
            client = self._client
            if client is None:
                continue
            thermostat = self.device("Thermostat")
            target = float(thermostat.state["occupied_heating_setpoint"])
            current = float(thermostat.state["local_temperature"])
            heating = thermostat.state["system_mode"] != "off" and current < target
            step = 0.1 if heating else -0.1
            thermostat.state["local_temperature"] = round(current + step, 1)
            thermostat.state["running_state"] = "heat" if heating else "idle"
            await self._publish_state(client, thermostat)
            motion = self.device("Hallway motion")
            motion.state["occupancy"] = random.random() < 0.3
            await self._publish_state(client, motion)


async def demo(ctx: DemoContext) -> DemoPart:
    """Start the simulated MQTT home on the demo's broker."""
    assert ctx.mqtt is not None, "the demo starts a broker before the MQTT simulator"
    host, port = ctx.mqtt
    sim = MqttHomeSimulator(host, port, lively=True)
    await sim.start()
    overrides: dict[str, Any] = {
        f"mqtt:{d.ieee}": {"area": DEMO_AREAS[d.friendly_name]}
        for d in sim.devices
        if d.friendly_name in DEMO_AREAS
    }
    overrides["mqtt:tasmota_A0B1C2D3E4F5"] = {"area": "garden", "aliases": ["fountain"]}
    overrides["mqtt:sim_dehumidifier"] = {"area": "basement"}
    overrides["mqtt:0x00124b0000000101"] = {"area": "living_room", "aliases": ["heating"]}
    return DemoPart(
        name="mqtt",
        config={"mqtt": {"host": host, "port": port}, "devices": overrides},
        stop=sim.stop,
        handle=sim,
    )
