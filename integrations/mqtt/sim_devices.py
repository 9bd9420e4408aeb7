"""The simulated zigbee devices: what zigbee2mqtt says they expose, their state, and
how they react to `/set` (used by the MQTT simulator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        # A zigbee water valve (leak protection on the main): a switch whose ON is open.
        SimDevice(
            "0x00124b0000000108",
            "Water main",
            "water_valve",
            [
                {"type": "switch", "features": [_binary("state")]},
                _numeric("battery", 0, 100, "%", 1),
            ],
            {"state": "ON", "battery": 71},
        ),
    ]
    return devices


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
    "Water main": "basement",
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
