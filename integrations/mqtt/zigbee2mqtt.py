"""zigbee2mqtt: devices from `bridge/devices` exposes, state payloads, and `/set` payloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from integrations.colour import (
    byte_to_percent,
    kelvin_to_mired,
    mired_to_kelvin,
    percent_to_byte,
    rgb_to_xy,
    xy_to_rgb,
)

SENSOR_PROPERTIES = (
    "temperature",
    "humidity",
    "occupancy",
    "contact",
    "battery",
    "illuminance",
    "illuminance_lux",
    "power",
)


@dataclass
class Z2mDevice:
    """What the adapter keeps about one zigbee2mqtt device."""

    friendly_name: str
    kind: Kind
    features: set[Feature] = field(default_factory=set)
    brightness_max: int = 254
    setpoint_property: str = "occupied_heating_setpoint"
    # With a cooling setpoint too, the two are a heat/cool range (in auto mode).
    cooling_property: str | None = None
    # The setpoint range it accepts, °C (the expose's value_min/value_max).
    setpoint_range: tuple[float, float] | None = None
    hvac_modes: list[str] = field(default_factory=list)
    lock_values: tuple[str, str] = ("LOCK", "UNLOCK")
    device_class: str | None = None
    model: str = ""
    vendor: str = ""


def _flatten(exposes: list[dict[str, Any]]) -> list[tuple[str | None, dict[str, Any]]]:
    """(parent type, feature) pairs for every expose, nested features included."""
    out: list[tuple[str | None, dict[str, Any]]] = []
    for expose in exposes:
        if "features" in expose:
            for feature in expose["features"]:
                out.append((expose.get("type"), feature))
        out.append((None, expose))
    return out


def describe(entry: dict[str, Any]) -> Z2mDevice | None:
    """Classify a `bridge/devices` entry; None for the coordinator and unsupported devices."""
    definition = entry.get("definition") or {}
    if entry.get("type") == "Coordinator" or not definition:
        return None
    exposes = definition.get("exposes") or []
    types = {e.get("type") for e in exposes}
    meta = Z2mDevice(
        friendly_name=entry["friendly_name"],
        kind=Kind.SENSOR,
        model=str(definition.get("model", "")),
        vendor=str(definition.get("vendor", "")),
    )
    flat = _flatten(exposes)
    if "light" in types:
        meta.kind = Kind.LIGHT
        meta.features.add(Feature.ON_OFF)
        for parent, feat in flat:
            if parent != "light":
                continue
            name = feat.get("name")
            if name == "brightness":
                meta.features.add(Feature.BRIGHTNESS)
                meta.brightness_max = int(feat.get("value_max", 254))
            elif name == "color_temp":
                meta.features.add(Feature.COLOR_TEMP)
            elif name in ("color_xy", "color_hs"):
                meta.features.add(Feature.COLOR)
    elif "climate" in types:
        meta.kind = Kind.CLIMATE
        meta.device_class = "thermostat"
        meta.features |= {Feature.TARGET_TEMPERATURE}
        for parent, feat in flat:
            if parent != "climate":
                continue
            name = feat.get("name", "")
            if name.endswith("heating_setpoint") or name == "current_heating_setpoint":
                meta.setpoint_property = feat.get("property", name)
                if "value_min" in feat and "value_max" in feat:
                    meta.setpoint_range = (float(feat["value_min"]), float(feat["value_max"]))
            elif name == "occupied_cooling_setpoint":
                meta.cooling_property = feat.get("property", name)
                meta.features.add(Feature.TARGET_TEMPERATURE_RANGE)
            elif name == "system_mode":
                meta.features.add(Feature.HVAC_MODE)
                meta.hvac_modes = list(feat.get("values", []))
    elif "cover" in types:
        meta.kind = Kind.COVER
        meta.device_class = "shade"
        meta.features |= {Feature.OPEN_CLOSE}
        if any(f.get("name") == "position" for p, f in flat if p == "cover"):
            meta.features.add(Feature.POSITION)
    elif "lock" in types:
        meta.kind = Kind.LOCK
        meta.features.add(Feature.LOCK)
        for parent, feat in flat:
            if parent == "lock" and feat.get("name") == "state":
                meta.lock_values = (feat.get("value_on", "LOCK"), feat.get("value_off", "UNLOCK"))
    elif "switch" in types and "valve" in str(definition.get("description", "")).lower():
        # Water valves (Sonoff SWV, Tuya irrigation valves) expose a plain switch: ON = open.
        meta.kind = Kind.VALVE
        meta.device_class = "water"
        meta.features.add(Feature.OPEN_CLOSE)
    elif "switch" in types:
        meta.kind = Kind.SWITCH
        meta.device_class = "outlet"
        meta.features.add(Feature.ON_OFF)
    elif "fan" in types:
        meta.kind = Kind.FAN
        meta.features.add(Feature.ON_OFF)
    else:
        names = {e.get("name") for e in exposes}
        if not names & set(SENSOR_PROPERTIES):
            return None
        meta.device_class = (
            "motion"
            if "occupancy" in names
            else "door"
            if "contact" in names
            else "temperature"
            if "temperature" in names
            else None
        )
    return meta


def to_device(entry: dict[str, Any], meta: Z2mDevice) -> Device:
    """A Device for a zigbee2mqtt entry (id from the IEEE address, which never changes)."""
    info: dict[str, Any] = {"model": meta.model, "manufacturer": meta.vendor, "via": "zigbee2mqtt"}
    if meta.hvac_modes:
        info["hvac_modes"] = meta.hvac_modes
    if meta.setpoint_range is not None:
        # Read by the local path: a setpoint outside it is asked about, not sent.
        info["min_temp_c"], info["max_temp_c"] = meta.setpoint_range
    return Device(
        id=f"mqtt:{entry['ieee_address']}",
        name=meta.friendly_name.split("/")[-1],
        kind=meta.kind,
        integration="mqtt",
        area=meta.friendly_name.split("/")[0] if "/" in meta.friendly_name else None,
        features=frozenset(meta.features),
        device_class=meta.device_class,
        info=info,
        hvac_modes=tuple(meta.hvac_modes),
    )


def parse_state(meta: Z2mDevice, payload: dict[str, Any], old: DeviceState) -> DeviceState:
    """Merge a zigbee2mqtt state payload into the device's state snapshot."""
    changes: dict[str, Any] = {}
    if meta.kind in (Kind.LIGHT, Kind.SWITCH, Kind.FAN) and "state" in payload:
        changes["on"] = str(payload["state"]).upper() == "ON"
    if meta.kind == Kind.VALVE and "state" in payload:
        changes["position"] = 100 if str(payload["state"]).upper() == "ON" else 0
    if "brightness" in payload and meta.kind == Kind.LIGHT:
        changes["brightness"] = byte_to_percent(float(payload["brightness"]), meta.brightness_max)
    if isinstance(payload.get("color_temp"), int | float):
        changes["color_temp_k"] = mired_to_kelvin(payload["color_temp"])
    colour = payload.get("color")
    if isinstance(colour, dict) and "x" in colour and "y" in colour:
        changes["color"] = xy_to_rgb(float(colour["x"]), float(colour["y"]))
    if meta.kind == Kind.CLIMATE:
        if meta.setpoint_property in payload:
            changes["target_temperature_c"] = float(payload[meta.setpoint_property])
            if meta.cooling_property:
                changes["target_low_c"] = changes["target_temperature_c"]
        if meta.cooling_property and meta.cooling_property in payload:
            changes["target_high_c"] = float(payload[meta.cooling_property])
        if "local_temperature" in payload:
            changes["current_temperature_c"] = float(payload["local_temperature"])
        if "system_mode" in payload:
            changes["hvac_mode"] = str(payload["system_mode"])
        if "running_state" in payload:
            changes["hvac_action"] = str(payload["running_state"])
    if meta.kind == Kind.COVER:
        if "position" in payload:
            changes["position"] = int(payload["position"])
        if "moving" in payload:
            changes["moving"] = str(payload["moving"]).lower()
    if meta.kind == Kind.LOCK:
        if "lock_state" in payload:
            changes["lock_state"] = str(payload["lock_state"])
            changes["locked"] = payload["lock_state"] == "locked"
        elif "state" in payload:
            changes["locked"] = payload["state"] == meta.lock_values[0]
            changes["lock_state"] = "locked" if changes["locked"] else "unlocked"
    if "temperature" in payload and meta.kind != Kind.CLIMATE:
        changes["current_temperature_c"] = float(payload["temperature"])
    if "humidity" in payload:
        changes["humidity"] = float(payload["humidity"])
    if "occupancy" in payload:
        changes["motion"] = bool(payload["occupancy"])
    if "contact" in payload:
        changes["contact_open"] = not bool(payload["contact"])  # z2m: contact true = closed
    if "battery" in payload and payload["battery"] is not None:
        changes["battery"] = int(payload["battery"])
    for key in ("illuminance_lux", "illuminance"):
        if key in payload and payload[key] is not None:
            changes["illuminance"] = float(payload[key])
            break
    if "power" in payload and payload["power"] is not None:
        changes["power_w"] = float(payload["power"])
    return old.merged(**changes) if changes else old


def set_payload(meta: Z2mDevice, command: Command) -> dict[str, Any]:
    """The JSON published to `<base>/<friendly_name>/set` for a command."""
    action = command.action
    if meta.kind == Kind.VALVE and action in (Action.OPEN, Action.CLOSE):
        return {"state": "ON" if action == Action.OPEN else "OFF"}
    if action == Action.TURN_ON:
        return {"state": "ON"}
    if action == Action.TURN_OFF:
        return {"state": "OFF"}
    if action == Action.TOGGLE:
        return {"state": "TOGGLE"}
    if action == Action.SET_BRIGHTNESS:
        assert command.brightness is not None
        if command.brightness == 0:
            return {"state": "OFF"}
        return {
            "state": "ON",
            "brightness": percent_to_byte(command.brightness, meta.brightness_max),
        }
    if action == Action.SET_COLOR:
        assert command.color is not None
        x, y = rgb_to_xy(*command.color)
        return {"state": "ON", "color": {"x": x, "y": y}}
    if action == Action.SET_COLOR_TEMP:
        assert command.color_temp_k is not None
        return {"state": "ON", "color_temp": kelvin_to_mired(command.color_temp_k)}
    if action == Action.SET_TEMPERATURE and command.temperature_c is not None:
        return {meta.setpoint_property: command.temperature_c}
    if action == Action.SET_TEMPERATURE:  # heating and/or cooling end of the range
        ends = {meta.setpoint_property: command.target_low_c}
        if meta.cooling_property:
            ends[meta.cooling_property] = command.target_high_c
        return {k: v for k, v in ends.items() if v is not None}
    if action == Action.SET_HVAC_MODE:
        return {"system_mode": command.hvac_mode}
    if action == Action.SET_POSITION:
        return {"position": command.position}
    if action in (Action.OPEN, Action.CLOSE, Action.STOP):
        return {"state": {"open": "OPEN", "close": "CLOSE", "stop": "STOP"}[action.value]}
    if action == Action.LOCK:
        return {"state": meta.lock_values[0]}
    if action == Action.UNLOCK:
        return {"state": meta.lock_values[1]}
    raise ValueError(f"zigbee2mqtt cannot {action.value}")
