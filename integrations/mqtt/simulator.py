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

from agent.simulation import DemoContext, DemoPart
from agent.supervise import cancel_and_wait

log = logging.getLogger(__name__)


def _binary(name: str, on: str = "ON", off: str = "OFF") -> dict[str, Any]:
    return {
        "type": "binary",
        "name": name,
        "property": name,
        "value_on": on,
        "value_off": off,
        "access": 7,
    }


def _numeric(name: str, lo: float, hi: float, unit: str = "", access: int = 7) -> dict[str, Any]:
    return {
        "type": "numeric",
        "name": name,
        "property": name,
        "value_min": lo,
        "value_max": hi,
        "unit": unit,
        "access": access,
    }


def light_exposes(colour: bool = False, colour_temp: bool = False) -> list[dict[str, Any]]:
    """zigbee2mqtt exposes of a dimmable light (optionally colour / colour temperature)."""
    features = [_binary("state"), _numeric("brightness", 0, 254)]
    if colour_temp:
        features.append(_numeric("color_temp", 153, 500, "mired"))
    if colour:
        features.append(
            {
                "type": "composite",
                "name": "color_xy",
                "property": "color",
                "features": [_numeric("x", 0, 1), _numeric("y", 0, 1)],
            }
        )
    return [{"type": "light", "features": features}, _numeric("linkquality", 0, 255, "lqi", 1)]


EXPOSES: dict[str, list[dict[str, Any]]] = {
    "switch": [
        {"type": "switch", "features": [_binary("state")]},
        _numeric("power", 0, 3000, "W", 1),
    ],
    "climate": [
        {
            "type": "climate",
            "features": [
                _numeric("occupied_heating_setpoint", 5, 30, "°C"),
                _numeric("local_temperature", -10, 50, "°C", 1),
                {
                    "type": "enum",
                    "name": "system_mode",
                    "property": "system_mode",
                    "values": ["off", "heat", "auto"],
                    "access": 7,
                },
                {
                    "type": "enum",
                    "name": "running_state",
                    "property": "running_state",
                    "values": ["idle", "heat"],
                    "access": 1,
                },
            ],
        }
    ],
    "cover": [
        {
            "type": "cover",
            "features": [
                {
                    "type": "enum",
                    "name": "state",
                    "property": "state",
                    "values": ["OPEN", "CLOSE", "STOP"],
                    "access": 7,
                },
                _numeric("position", 0, 100, "%"),
            ],
        }
    ],
    "lock": [
        {
            "type": "lock",
            "features": [
                _binary("state", "LOCK", "UNLOCK"),
                {
                    "type": "enum",
                    "name": "lock_state",
                    "property": "lock_state",
                    "values": ["locked", "unlocked", "not_fully_locked"],
                    "access": 1,
                },
            ],
        },
        _numeric("battery", 0, 100, "%", 1),
    ],
    "motion": [
        {
            "type": "binary",
            "name": "occupancy",
            "property": "occupancy",
            "value_on": True,
            "value_off": False,
            "access": 1,
        },
        _numeric("battery", 0, 100, "%", 1),
        _numeric("illuminance_lux", 0, 10000, "lx", 1),
    ],
    "contact": [
        {
            "type": "binary",
            "name": "contact",
            "property": "contact",
            "value_on": True,
            "value_off": False,
            "access": 1,
        },
        _numeric("battery", 0, 100, "%", 1),
    ],
    "climate_sensor": [
        _numeric("temperature", -40, 80, "°C", 1),
        _numeric("humidity", 0, 100, "%", 1),
        _numeric("battery", 0, 100, "%", 1),
    ],
}


@dataclass
class SimDevice:
    """One simulated zigbee device: its identity, exposes and current state."""

    ieee: str
    friendly_name: str
    kind: str
    exposes: list[dict[str, Any]]
    state: dict[str, Any]
    online: bool = True

    def bridge_entry(self) -> dict[str, Any]:
        """This device as zigbee2mqtt lists it in `bridge/devices`."""
        return {
            "ieee_address": self.ieee,
            "friendly_name": self.friendly_name,
            "type": "EndDevice"
            if self.kind in ("motion", "contact", "climate_sensor")
            else "Router",
            "supported": True,
            "interview_completed": True,
            "definition": {
                "model": f"SIM-{self.kind}",
                "vendor": "homeclaw",
                "description": f"Simulated {self.kind}",
                "exposes": self.exposes,
            },
        }


def demo_devices() -> list[SimDevice]:
    """The demo home's zigbee devices (names match the demo config's areas)."""
    lights: list[tuple[str, dict[str, bool], dict[str, Any]]] = [
        ("Kitchen ceiling", dict(colour_temp=True), {"color_temp": 370}),
        ("Kitchen pendant", dict(colour=True), {"color": {"x": 0.4578, "y": 0.41}}),
        ("Living room lamp", dict(colour=True), {"color": {"x": 0.5, "y": 0.4}}),
        ("Bedroom lamp", {}, {}),
        ("Bedroom ceiling", {}, {}),
        ("Study lamp", {}, {}),
        ("Hallway light", {}, {}),
        ("Bathroom light", {}, {}),
        ("Porch light", {}, {}),
    ]
    devices = []
    for i, (name, opts, extra) in enumerate(lights):
        on = name in ("Living room lamp", "Kitchen ceiling", "Porch light")
        devices.append(
            SimDevice(
                f"0x00124b00000000{i:02x}",
                name,
                "light",
                light_exposes(**opts),
                {
                    "state": "ON" if on else "OFF",
                    "brightness": 200 if on else 120,
                    "linkquality": 120,
                    **extra,
                },
            )
        )
    devices += [
        SimDevice(
            "0x00124b0000000101",
            "Thermostat",
            "climate",
            EXPOSES["climate"],
            {
                "occupied_heating_setpoint": 20.5,
                "local_temperature": 19.8,
                "system_mode": "heat",
                "running_state": "heat",
            },
        ),
        SimDevice(
            "0x00124b0000000102",
            "Living room shade",
            "cover",
            EXPOSES["cover"],
            {"position": 100, "state": "OPEN"},
        ),
        SimDevice(
            "0x00124b0000000103",
            "Front door",
            "lock",
            EXPOSES["lock"],
            {"state": "LOCK", "lock_state": "locked", "battery": 87},
        ),
        SimDevice(
            "0x00124b0000000104",
            "Hallway motion",
            "motion",
            EXPOSES["motion"],
            {"occupancy": False, "battery": 93, "illuminance_lux": 40},
        ),
        SimDevice(
            "0x00124b0000000105",
            "Front door contact",
            "contact",
            EXPOSES["contact"],
            {"contact": True, "battery": 78},
        ),
        SimDevice(
            "0x00124b0000000106",
            "Bedroom sensor",
            "climate_sensor",
            EXPOSES["climate_sensor"],
            {"temperature": 19.4, "humidity": 48, "battery": 90},
        ),
        SimDevice(
            "0x00124b0000000107",
            "TV plug",
            "switch",
            EXPOSES["switch"],
            {"state": "ON", "power": 85.0},
        ),
    ]
    return devices


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
                    self.host, self.port, will=will, keepalive=10, timeout=2
                ) as client:
                    self._client = client
                    await client.subscribe(f"{self.base}/+/set", qos=1)
                    await client.subscribe(f"{self.base}/+/get", qos=1)
                    await client.subscribe("sim/dehumidifier/set", qos=1)
                    await client.subscribe("cmnd/fountain/+", qos=1)
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


def apply_set(device: SimDevice, changes: dict[str, Any]) -> None:
    """Apply a `/set` payload the way zigbee2mqtt devices do."""
    state = device.state
    for key, value in changes.items():
        if key == "state" and device.kind == "lock":
            locked = value == "LOCK"
            state["state"] = "LOCK" if locked else "UNLOCK"
            state["lock_state"] = "locked" if locked else "unlocked"
        elif key == "state" and device.kind == "cover":
            if value in ("OPEN", "CLOSE"):
                state["position"] = 100 if value == "OPEN" else 0
                state["state"] = value
        elif key == "state":
            current = state.get("state", "OFF")
            state["state"] = ("OFF" if current == "ON" else "ON") if value == "TOGGLE" else value
        elif key == "brightness":
            state["brightness"] = max(0, min(254, int(value)))
            state["state"] = "ON" if value else "OFF"
        elif key == "color" and isinstance(value, dict):
            state["color"] = {"x": value.get("x", 0.3), "y": value.get("y", 0.3)}
        elif key == "position":
            state["position"] = max(0, min(100, int(value)))
            state["state"] = "OPEN" if state["position"] > 0 else "CLOSE"
        elif key in ("color_temp", "occupied_heating_setpoint", "system_mode"):
            state[key] = value
            if key == "system_mode":
                state["running_state"] = "idle" if value == "off" else state.get("running_state")


DEMO_AREAS = {
    "Kitchen ceiling": "kitchen",
    "Kitchen pendant": "kitchen",
    "Living room lamp": "living_room",
    "Bedroom lamp": "bedroom",
    "Bedroom ceiling": "bedroom",
    "Study lamp": "study",
    "Hallway light": "hallway",
    "Bathroom light": "bathroom",
    "Porch light": "porch",
    "Thermostat": "living_room",
    "Living room shade": "living_room",
    "Front door": "hallway",
    "Hallway motion": "hallway",
    "Front door contact": "hallway",
    "Bedroom sensor": "bedroom",
    "TV plug": "living_room",
}


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
