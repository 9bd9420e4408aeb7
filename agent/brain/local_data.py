"""Sentence data for the local fast path: which intents it handles and how device
kinds map to Home Assistant's domains (the sentences' requirements speak in domains).
Our own phrasings live in `local_sentences`."""

from __future__ import annotations

import re

from agent.devices import Action, Command, Device, Kind

HANDLED = {
    "HassTurnOn",
    "HassTurnOff",
    "HassLightSet",
    "HassClimateSetTemperature",
    "HassClimateGetTemperature",
    "HassGetState",
    "HassSetPosition",
    "HassMediaPause",
    "HassMediaUnpause",
    "HassMediaNext",
    "HassMediaPrevious",
    "HassSetVolume",
    "HassSetVolumeRelative",
    "HassMediaPlayerMute",
    "HassMediaPlayerUnmute",
    "HassMediaSearchAndPlay",
}
DOMAINS: dict[Kind, str] = {
    Kind.LIGHT: "light",
    Kind.SWITCH: "switch",
    Kind.FAN: "fan",
    Kind.SPEAKER: "media_player",
    Kind.CLIMATE: "climate",
    Kind.COVER: "cover",
    Kind.LOCK: "lock",
    Kind.ALARM: "alarm_control_panel",
    Kind.SENSOR: "sensor",
    Kind.CAMERA: "camera",
    Kind.VACUUM: "vacuum",
    Kind.VALVE: "valve",
}
BINARY_CLASSES = {"motion", "occupancy", "door", "window", "opening", "contact", "presence"}
KINDS_OF_DOMAIN: dict[str, set[Kind]] = {
    "light": {Kind.LIGHT},
    "switch": {Kind.SWITCH},
    "fan": {Kind.FAN},
    "media_player": {Kind.SPEAKER},
    "climate": {Kind.CLIMATE},
    "cover": {Kind.COVER},
    "lock": {Kind.LOCK},
    "sensor": {Kind.SENSOR},
    "binary_sensor": {Kind.SENSOR},
    "vacuum": {Kind.VACUUM},
    "valve": {Kind.VALVE},
}


def plain(text: str) -> str:
    """Lower case without punctuation or apostrophes ("Dobby, it's" → "dobby its")."""
    text = text.lower().replace("’", "").replace("'", "")
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text)).strip()


def domain_of(device: Device) -> str:
    if device.kind == Kind.SENSOR and (device.device_class or "") in BINARY_CLASSES:
        return "binary_sensor"
    return DOMAINS.get(device.kind, device.kind.value)


def tool_for(command: Command) -> str:
    """The LLM tool that does the same thing (so `actions` look alike on both paths)."""
    action = command.action
    if action in (Action.TURN_ON, Action.SET_BRIGHTNESS, Action.SET_COLOR, Action.SET_COLOR_TEMP):
        return "turn_on"
    if action == Action.TURN_OFF:
        return "turn_off"
    if action in (Action.SET_TEMPERATURE, Action.SET_HVAC_MODE):
        return "set_climate"
    if action in (Action.OPEN, Action.CLOSE, Action.SET_POSITION, Action.STOP):
        return "set_cover"
    if action == Action.PLAY_MEDIA:
        return "play_music"
    if action in (Action.LOCK, Action.UNLOCK):
        return action.value
    if action in (Action.START, Action.RETURN_TO_BASE):
        return "vacuum"
    return "media_control"
