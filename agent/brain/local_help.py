"""“Help” / “what can you do?”, answered from what this home actually has."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from agent.brain.vocab import degrees
from agent.devices import Device, Kind

if TYPE_CHECKING:
    from agent.home import Home

HELP = re.compile(
    r"^(help|help me|what can (you|i) (do|say|ask)( here)?|what do you (do|understand)|"
    r"how do(es)? (this|it) work|what are you able to do|commands)$"
)


def is_help(said: str) -> bool:
    """Whether a (plain, lower-case) message asks what the house can do."""
    return bool(HELP.match(said.strip()))


def _first(devices: list[Device], kind: Kind) -> Device | None:
    return next((d for d in devices if d.kind == kind and d.device_class != "group"), None)


def help_text(home: Home, units: str) -> str:
    """Examples that work in this home, one per kind of device it has."""
    devices = home.devices()
    examples: list[str] = []
    light = _first(devices, Kind.LIGHT)
    if light is not None:
        room = home.area_name(light.area).lower() if light.area else None
        examples.append(
            f"“turn off the {room} lights”" if room else f"“turn on {light.name.lower()}”"
        )
        examples.append(f"“dim {light.name.lower()} to 30%”")
    climate = _first(devices, Kind.CLIMATE)
    if climate is not None:
        target = degrees(20.0, units).rstrip("°CF").rstrip("°")
        examples.append(f"“set {climate.name.lower()} to {target}” or “turn up the heat”")
    cover = _first(devices, Kind.COVER)
    if cover is not None:
        examples.append(f"“close {cover.name.lower()}” or “open {cover.name.lower()} halfway”")
    speaker = _first(devices, Kind.SPEAKER)
    if speaker is not None:
        where = _room(home, speaker)
        examples.append(f"“pause the music” or “volume 30 in the {where}”")
    lock = _first(devices, Kind.LOCK)
    if lock is not None:
        examples.append(f"“is {lock.name.lower()} locked?”")
    if _first(devices, Kind.ALARM) is not None:
        examples.append("“arm the alarm”")
    sensor = _first(devices, Kind.SENSOR)
    if sensor is not None or climate is not None:
        examples.append("“what's the temperature in the " + _room(home, sensor or climate) + "?”")
    examples.append("“which lights are on?”")
    kinds = sorted({d.kind.value for d in devices if d.kind != Kind.CAMERA})
    have = ", ".join(kinds) if kinds else "no devices yet"
    return (
        f"I look after {len(devices)} devices here ({have}). Try "
        + ", ".join(examples)
        + ". Two at once works too: “turn on the porch light and lock the front door”."
    )


def _room(home: Home, device: Device | None) -> str:
    if device is None or device.area is None:
        return "house"
    return home.area_name(device.area).lower()
