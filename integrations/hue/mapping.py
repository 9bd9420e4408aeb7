"""Hue v1 lights and rooms as homeclaw devices, and commands as Hue state changes."""

from __future__ import annotations

from typing import Any

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import UnsupportedCommand
from integrations.hue.color import (
    bri_to_percent,
    hs_to_rgb,
    kelvin_to_mired,
    mired_to_kelvin,
    percent_to_bri,
    rgb_to_xy,
    xy_to_rgb,
)

ROOM_TYPES = frozenset({"Room", "Zone"})


def light_id(bridge_id: str, uniqueid: str) -> str:
    """The stable device id of a light (its Zigbee unique id survives re-pairing)."""
    return f"hue:{bridge_id}:{uniqueid}"


def room_id(bridge_id: str, group_id: str) -> str:
    """The stable device id of a room or zone on one bridge."""
    return f"hue:{bridge_id}:group:{group_id}"


def light_features(raw: dict[str, Any]) -> frozenset[Feature]:
    """What a light can do, read from the state keys the bridge reports for it."""
    state = raw.get("state", {})
    features = {Feature.ON_OFF}
    if "bri" in state:
        features.add(Feature.BRIGHTNESS)
    if "xy" in state or "hue" in state:
        features.add(Feature.COLOR)
    if "ct" in state:
        features.add(Feature.COLOR_TEMP)
    return frozenset(features)


def light_state(state: dict[str, Any]) -> DeviceState:
    """A Hue light (or group action) state in normalised units."""
    on = bool(state.get("on", False))
    fields: dict[str, Any] = {"on": on}
    if isinstance(state.get("bri"), int):
        fields["brightness"] = bri_to_percent(state["bri"])
    mode = state.get("colormode")
    if mode == "xy" and isinstance(state.get("xy"), list) and len(state["xy"]) == 2:
        fields["color"] = xy_to_rgb(*state["xy"])
    elif mode == "hs" and isinstance(state.get("hue"), int) and isinstance(state.get("sat"), int):
        fields["color"] = hs_to_rgb(state["hue"], state["sat"])
    elif mode == "ct" and isinstance(state.get("ct"), int):
        fields["color_temp_k"] = mired_to_kelvin(state["ct"])
    return DeviceState(**fields)


def light_device(
    bridge_id: str, raw: dict[str, Any], area: str | None, host: str, bridge_up: bool
) -> Device:
    """A Hue light as a Device; unreachable bulbs (power cut at the wall) are unavailable."""
    kind = Kind.SWITCH if "plug" in str(raw.get("type", "")).lower() else Kind.LIGHT
    return Device(
        id=light_id(bridge_id, raw["uniqueid"]),
        name=raw["name"],
        kind=kind,
        integration="hue",
        area=area,
        features=light_features(raw),
        state=light_state(raw.get("state", {})),
        available=bridge_up and bool(raw.get("state", {}).get("reachable", True)),
        info={
            "host": host,
            "bridge_id": bridge_id,
            "model": raw.get("modelid"),
            "product": raw.get("productname"),
        },
    )


def room_device(
    bridge_id: str,
    group_id: str,
    raw: dict[str, Any],
    lights: dict[str, dict[str, Any]],
    scenes: list[str],
    host: str,
    preset: str | None,
    bridge_up: bool,
) -> Device:
    """A Hue room as one light device (all its bulbs at once), with its scenes as presets."""
    members = [lights[i] for i in raw.get("lights", []) if i in lights]
    features: set[Feature] = {Feature.ON_OFF}
    for member in members:
        features |= light_features(member)
    if scenes:
        features.add(Feature.PRESET)
    state = light_state(raw.get("action", {}))
    any_on = bool(raw.get("state", {}).get("any_on", state.on))
    state = state.merged(on=any_on, preset=preset if any_on else None)
    return Device(
        id=room_id(bridge_id, group_id),
        name=raw["name"],
        kind=Kind.LIGHT,
        integration="hue",
        area=raw["name"] if raw.get("type") == "Room" else None,
        device_class="group",
        features=frozenset(features),
        state=state,
        available=bridge_up,
        info={
            "host": host,
            "bridge_id": bridge_id,
            "group": raw.get("type"),
            "members": [light_id(bridge_id, m["uniqueid"]) for m in members],
            "presets": scenes,
        },
    )


def command_to_hue(device: Device, command: Command) -> dict[str, Any]:
    """The Hue state change (light state / group action) that carries out a command."""
    action = command.action
    if action is Action.TURN_ON:
        return {"on": True}
    if action is Action.TURN_OFF:
        return {"on": False}
    if action is Action.TOGGLE:
        return {"on": not device.state.on}
    if action is Action.SET_BRIGHTNESS and command.brightness is not None:
        if command.brightness == 0:
            return {"on": False}
        return {"on": True, "bri": percent_to_bri(command.brightness)}
    if action is Action.SET_COLOR and command.color is not None:
        return {"on": True, "xy": list(rgb_to_xy(command.color))}
    if action is Action.SET_COLOR_TEMP and command.color_temp_k is not None:
        return {"on": True, "ct": kelvin_to_mired(command.color_temp_k)}
    raise UnsupportedCommand(f"{device.name} can't {action.value.replace('_', ' ')}.")
