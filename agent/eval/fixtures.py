"""Home Assistant fixture homes (`_fixtures.yaml`) as homes of homeclaw `virtual` devices.

Both public suites describe their homes the Home Assistant way: areas with
floors, entities (`light.kitchen`) with a state string and attributes. This
module turns such a home into homeclaw configuration (areas, and one virtual
device per entity homeclaw can represent, in its initial state) and HA states
into homeclaw state fields, so suites can be judged by device state.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.brain.vocab import to_celsius
from agent.devices import DeviceState, Kind

# HA domain → homeclaw kind. A domain whose kind this build lacks is not representable.
KIND_OF_DOMAIN: dict[str, str] = {
    "light": "light",
    "switch": "switch",
    "fan": "fan",
    "cover": "cover",
    "lock": "lock",
    "climate": "climate",
    "media_player": "speaker",
    "sensor": "sensor",
    "binary_sensor": "sensor",
    "alarm_control_panel": "alarm",
    "camera": "camera",
    "vacuum": "vacuum",
    "valve": "valve",
}
# Binary sensor classes held in a dedicated state field; the rest keep "on"/"off" as value.
MOTION_CLASSES = {"motion", "occupancy", "presence", "moving"}
CONTACT_CLASSES = {"door", "window", "opening", "garage_door"}


def has_lists() -> bool:
    """Whether this build keeps the owner's lists (HA's `todo` entities become lists)."""
    return importlib.util.find_spec("agent.lists") is not None


def list_name(name: str) -> str:
    """A fixture's list name without HA's template syntax ("Trader Joe[']s" → "Trader Joe's")."""
    return re.sub(r"\[([^\]]*)\]", r"\1", name)


def slug(text: str) -> str:
    """A stable id for a name ("Living Room" → "living_room")."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def device_class_of(attributes: dict[str, Any]) -> str | None:
    """The HA device class, also from its Python spelling ("cover.CoverDeviceClass.GARAGE")."""
    raw = attributes.get("device_class")
    if raw is None:
        return None
    return str(raw).rsplit(".", 1)[-1].lower()


def kind_of(domain: str) -> Kind | None:
    """The homeclaw kind for an HA domain, when this build has it."""
    name = KIND_OF_DOMAIN.get(domain)
    return Kind(name) if name is not None and name in Kind._value2member_map_ else None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _temperature_c(value: Any, unit: str | None, units: str) -> float | None:
    number = _number(value)
    if number is None:
        return None
    if unit is None:
        return to_celsius(number, units)
    return to_celsius(number, "imperial") if "F" in unit else number


def state_fields(domain: str, state: Any, attributes: dict[str, Any], units: str) -> dict[str, Any]:
    """HA state and attributes of one entity as homeclaw `DeviceState` fields."""
    if isinstance(state, dict):  # intent-suite binary sensors: {"in": spoken, "out": HA}
        state = state.get("out")
    text = None if state is None else str(state).lower()
    a = attributes
    out: dict[str, Any] = {}
    if domain in ("light", "switch", "fan"):
        out["on"] = text == "on"
        if domain == "light" and _number(a.get("brightness")) is not None:
            out["brightness"] = round(float(a["brightness"]) * 100 / 255)
    elif domain in ("cover", "valve"):
        position = _number(a.get("current_position", a.get("position")))
        if position is None and text in ("open", "closed", "opening", "closing"):
            position = 0 if text == "closed" else 100
        if position is not None:
            out["position"] = int(position)
        if text in ("opening", "closing"):
            out["moving"] = text
    elif domain == "lock":
        if text:
            out["lock_state"] = text
            if text in ("locked", "unlocked"):
                out["locked"] = text == "locked"
    elif domain == "climate":
        if text:
            out["hvac_mode"] = text
        current = _temperature_c(a.get("current_temperature"), None, units)
        if current is not None:
            out["current_temperature_c"] = current
        target = _temperature_c(a.get("temperature"), None, units)
        if target is not None:
            out["target_temperature_c"] = target
    elif domain == "media_player":
        playback = {"playing": "playing", "paused": "paused", "on": "stopped"}
        out["playback"] = playback.get(text or "", "stopped")
        volume = _number(a.get("volume_level"))
        if volume is not None:
            out["volume"] = round(volume * 100) if volume <= 1 else round(volume)
    elif domain == "sensor":
        out.update(_sensor(text, device_class_of(a), a.get("unit_of_measurement"), units))
    elif domain == "binary_sensor":
        cls = device_class_of(a)
        on = text == "on" or text == "true"
        if cls in MOTION_CLASSES:
            out["motion"] = on
        elif cls in CONTACT_CLASSES:
            out["contact_open"] = on
        else:
            out["value"] = "on" if on else "off"
    elif domain == "alarm_control_panel" and text:
        out["alarm_state"] = text
    elif domain == "vacuum" and text:
        activities = {"off": "idle", "on": "cleaning", "unavailable": "error"}
        activity = activities.get(text, text)
        if activity in ("cleaning", "docked", "returning", "paused", "idle", "error"):
            out["activity"] = activity
    return out


def _sensor(text: str | None, cls: str | None, unit: Any, units: str) -> dict[str, Any]:
    unit = None if unit is None else str(unit)
    number = _number(text)
    if cls == "temperature" and number is not None:
        return {"current_temperature_c": _temperature_c(number, unit or "°C", units)}
    if cls == "humidity" and number is not None:
        return {"humidity": number}
    if cls == "battery" and number is not None:
        return {"battery": int(number)}
    if cls == "illuminance" and number is not None:
        return {"illuminance": number}
    if cls == "power" and number is not None and unit in (None, "W"):
        return {"power_w": number}
    if text is None or text == "":
        return {}
    value: float | str = number if number is not None else text
    return {"value": value, "unit": unit} if unit else {"value": value}


@dataclass
class Entity:
    """One fixture entity: its HA identity and, when representable, its virtual device."""

    entity_id: str
    name: str
    area: str | None
    attributes: dict[str, Any]
    spoken_state: str | None  # what the intent suite says it is called ("clear", "hot")
    kind: Kind | None
    initial: dict[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        """The HA domain ("light")."""
        return self.entity_id.split(".", 1)[0]

    @property
    def device_id(self) -> str:
        """The homeclaw id of its virtual device."""
        return f"virtual:{self.entity_id}"

    @property
    def device_class(self) -> str | None:
        """The HA device class, if any."""
        return device_class_of(self.attributes)


@dataclass
class FixtureHome:
    """A suite's home: areas (with floors) and entities, as homeclaw config."""

    units: str
    areas: dict[str, dict[str, Any]]  # homeclaw area id → {"name", "floor"}
    floors: dict[str, str]  # floor name (lower) → homeclaw floor id
    entities: list[Entity]
    favourites: list[str] = field(default_factory=list)
    # The lists the home has (its `todo` entities, plus a shopping list where HA has one).
    lists: list[str] = field(default_factory=list)

    def area_id(self, name: str) -> str | None:
        """The homeclaw area id for an area name."""
        key = name.lower()
        return next((i for i, a in self.areas.items() if a["name"].lower() == key), None)

    def representable(self) -> list[Entity]:
        """Entities that become virtual devices (or lists)."""
        return [
            e
            for e in self.entities
            if (e.kind is not None and "[" not in e.name) or (e.domain == "todo" and has_lists())
        ]

    def devices(self) -> list[Entity]:
        """Entities that become virtual devices."""
        return [e for e in self.representable() if e.kind is not None]

    def config(self) -> dict[str, Any]:
        """The homeclaw config sections (home areas, virtual devices) for this home."""
        devices = []
        for e in self.devices():
            device: dict[str, Any] = {
                "id": e.entity_id,
                "name": e.name,
                "kind": e.kind.value if e.kind else "switch",
                "state": e.initial,
            }
            if e.area:
                device["area"] = e.area
            if e.device_class:
                device["device_class"] = e.device_class
            if e.domain == "light" and "supported_color_modes" in e.attributes:
                modes = set(e.attributes["supported_color_modes"] or [])
                features = ["on_off", "brightness"]
                if modes & {"hs", "rgb", "xy", "rgbw", "rgbww"}:
                    features.append("color")
                if "color_temp" in modes:
                    features.append("color_temp")
                device["features"] = features if modes != {"onoff"} else ["on_off"]
            if e.kind == Kind.SPEAKER and self.favourites:
                device["favorites"] = self.favourites
            for key, field_name in (("min_temp", "min_temp_c"), ("max_temp", "max_temp_c")):
                value = _temperature_c(e.attributes.get(key), None, self.units)
                if value is not None:
                    device[field_name] = value
            devices.append(device)
        config: dict[str, Any] = {
            "home": {"units": self.units, "areas": self.areas},
            "virtual": {"devices": devices},
        }
        if has_lists():
            config["lists"] = {"defaults": self.lists}
        return config


def load_home(path: Path, units: str) -> FixtureHome:
    """Read a `_fixtures.yaml` into a FixtureHome."""
    data = yaml.safe_load(path.read_text()) or {}
    floors = {str(f["id"]): slug(str(f["name"])) for f in data.get("floors") or []}
    area_ids: dict[str, str] = {}
    areas: dict[str, dict[str, Any]] = {}
    for a in data.get("areas") or []:
        area_id = slug(str(a["name"]))
        area_ids[str(a.get("id", area_id))] = area_id
        entry: dict[str, Any] = {"name": str(a["name"])}
        if a.get("floor") in floors:
            entry["floor"] = floors[a["floor"]]
        areas[area_id] = entry
    entities = []
    for raw in data.get("entities") or []:
        entity_id = str(raw["id"])
        domain = entity_id.split(".", 1)[0]
        attributes = dict(raw.get("attributes") or {})
        state = raw.get("state")
        spoken = str(state["in"]) if isinstance(state, dict) else None
        area = raw.get("area")
        entities.append(
            Entity(
                entity_id=entity_id,
                name=str(raw.get("name") or entity_id),
                area=area_ids.get(str(area), slug(str(area))) if area else None,
                attributes=attributes,
                spoken_state=spoken,
                kind=kind_of(domain),
                initial=state_fields(domain, state, attributes, units),
            )
        )
    favourites = [str(m["title"]) for m in data.get("media") or [] if m.get("title")]
    lists = [list_name(e.name) for e in entities if e.domain == "todo"]
    floor_names = {str(f["name"]).lower(): slug(str(f["name"])) for f in data.get("floors") or []}
    for e in entities:
        DeviceState.model_validate(e.initial)  # a converter bug shows here, not mid-run
    return FixtureHome(units, areas, floor_names, entities, favourites, lists)
