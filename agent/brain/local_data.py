"""Sentence data for the local fast path: which intents it handles, the extra
phrasings it adds to the community sentences, and how device kinds map to
Home Assistant's domains (the sentences' requirements speak in domains)."""

from __future__ import annotations

import re
from typing import Any

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
# Phrasings people use that the community sentences lack (English only).
EXTRA_SENTENCES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "en": {
        # "set the pool to 84": an area standing for its one heater or thermostat.
        "HassClimateSetTemperature": [
            {
                "sentences": [
                    "<set> [<the>] {area} [temperature] to {temperature} [degrees]",
                    "(heat|warm) [up] [<the>] {area} to {temperature} [degrees]",
                ],
                "slots": {"domain": "climate"},
            },
        ],
        "HassLightSet": [
            {
                "sentences": [
                    "(dim|brighten|lower|raise) [(<all>|<the>)] {area} <light> to "
                    "{brightness}[([ ]%)| percent]",
                    "(dim|brighten|lower|raise) [(<all>|<the>)] <light> <in> [<the>] {area} to "
                    "{brightness}[([ ]%)| percent]",
                ],
                "slots": {"domain": "light"},
            },
            {
                "sentences": [
                    "(dim|brighten) [<the>] {name} [<light>] to {brightness}[([ ]%)| percent]",
                    "<turn> [<the>] {name} [<light>] (up|down) to {brightness}[([ ]%)| percent]",
                ],
                "requires_context": {"domain": ["light"]},
            },
            {
                "sentences": [
                    "(dim|brighten) [(<all>|<the>)] {floor} [floor] <light> to "
                    "{brightness}[([ ]%)| percent]",
                ],
                "slots": {"domain": "light"},
            },
            {
                "sentences": ["[<set>] [(<all>|<the>)] {area} <light> [to] {color}"],
                "slots": {"domain": "light"},
            },
            {
                "sentences": [
                    "[<set>] [<the>] {name} [<light>] to {color_temperature_names:temperature}",
                    "make [<the>] {name} [<light>] {color_temperature_names:temperature}",
                ],
                "requires_context": {"domain": ["light"]},
            },
            {
                "sentences": [
                    "[<set>] [(<all>|<the>)] {area} <light> to "
                    "{color_temperature_names:temperature}",
                    "make [(<all>|<the>)] {area} <light> {color_temperature_names:temperature}",
                ],
                "slots": {"domain": "light"},
            },
        ],
    }
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
