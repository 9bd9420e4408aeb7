"""Plain sentences for the local fast path: what was done, and answers from live state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.brain.climate import describe_setpoints
from agent.brain.vocab import WHITES, color_name, degrees, state_phrase
from agent.devices import Action, Command, Device, Kind

if TYPE_CHECKING:
    from agent.home import Home


# A question about which devices names them all, up to this many ("which lights are on?").
LISTED = 12


def names(items: list[str], noun: str = "devices", most: int = 4) -> str:
    """ "A", "A and B", "A, B and C", or "5 devices" for lists longer than `most`."""
    if len(items) > most:
        return f"{len(items)} {noun}"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe_action(done: list[str], command: Command, units: str) -> str:
    """ "Kitchen ceiling and Kitchen pendant off", "Thermostat set to 68°F"..."""
    who = names(done)
    action = command.action
    if action == Action.TURN_ON:
        return f"{who} on"
    if action == Action.TURN_OFF:
        return f"{who} off"
    if action == Action.SET_BRIGHTNESS:
        return f"{who} at {command.brightness}%"
    if action == Action.SET_COLOR and command.color is not None:
        return f"{who} now {color_name(command.color)}"
    if action == Action.SET_COLOR_TEMP and command.color_temp_k is not None:
        white = next((n for n, k in WHITES.items() if k == command.color_temp_k), None)
        return f"{who} at {white or f'{command.color_temp_k}K'}"
    if action == Action.SET_TEMPERATURE:
        return f"{who} {describe_setpoints(command, units)}"
    if action == Action.SET_POSITION:
        position = command.position or 0
        where = "closed" if position == 0 else "open" if position == 100 else f"at {position}%"
        return f"{who} {where}"
    past = {
        Action.OPEN: "opened",
        Action.CLOSE: "closed",
        Action.STOP: "stopped",
        Action.LOCK: "locked",
        Action.PAUSE: "paused",
        Action.PLAY: "playing again",
        Action.NEXT: "on to the next track",
        Action.PREVIOUS: "back a track",
        Action.START: "cleaning",
        Action.RETURN_TO_BASE: "on its way back to base",
    }
    if action == Action.PLAY_MEDIA:
        return f"{who} playing {command.media}"
    if action == Action.SET_VOLUME:
        return f"{who} at volume {command.volume}%"
    if action == Action.MUTE:
        return f"{who} {'muted' if command.muted else 'unmuted'}"
    return f"{who} {past.get(action, action.value.replace('_', ' '))}"


def _matches(device: Device, state: Any) -> bool | None:
    """Whether a device is in the asked state ("on", "locked", "open"...); None if unknown."""
    s = device.state
    if state in ("on", "off"):
        return None if s.on is None else s.on == (state == "on")
    if state in ("locked", "unlocked"):
        locked = (
            s.locked
            if s.locked is not None
            else (s.lock_state == "locked" if s.lock_state else None)
        )
        return None if locked is None else locked == (state == "locked")
    if state in ("open", "closed"):
        if s.position is not None:
            is_open = s.position > 0
        elif s.contact_open is not None:
            is_open = s.contact_open
        else:
            return None
        return is_open == (state == "open")
    if state in ("opening", "closing"):
        return s.moving == state
    if state in ("playing", "paused"):
        return None if s.playback is None else s.playback == state
    if state in ("detected", "occupied", "motion"):
        return s.motion
    return None


def answer_state(devices: list[Device], query: str, state: Any, units: str) -> str | None:
    """An answer to a state question, or None when the local path can't say."""
    if query == "one" or state is None:
        if len(devices) == 1:
            return f"{devices[0].name} is {state_phrase(devices[0], units)}."
        return "; ".join(f"{d.name}: {state_phrase(d, units)}" for d in devices) + "."
    known = [(d, _matches(d, state)) for d in devices if d.available]
    if not known or any(v is None for _, v in known):
        return None
    yes = [d.name for d, v in known if v]
    no = [d for d, v in known if not v]
    if query == "one_yesno":
        device = devices[0]
        phrase = state_phrase(device, units)
        return f"Yes, {device.name} is {state}." if yes else f"No, {device.name} is {phrase}."
    if query == "any":
        return f"Yes: {names(yes, most=LISTED)}." if yes else f"No, none are {state}."
    if query == "all":
        if not no:
            return f"Yes, all {len(yes)} are {state}."
        verb = "is" if len(no) == 1 else "are"
        return f"No: {names([d.name for d in no], most=LISTED)} {verb} not {state}."
    if query == "which":
        listed = names(yes, most=LISTED)
        return f"{state.capitalize()}: {listed}." if yes else f"None are {state}."
    if query == "how_many":
        return f"{len(yes)}: {names(yes, most=LISTED)}." if yes else f"0 are {state}."
    return None


def answer_temperature(
    devices: list[Device], units: str, home: Home, area: str | None = None
) -> str | None:
    """The current temperature where asked (thermostats and sensors); for a room with
    no thermometer, says so and gives the house's thermostats instead."""
    readings = [
        (d, d.state.current_temperature_c)
        for d in devices
        if d.state.current_temperature_c is not None and d.available
    ]
    if not readings and area is not None:
        elsewhere = [
            f"{d.name} ({home.area_name(d.area)}) reads {degrees(t, units)}"
            for d in home.devices(kind=Kind.CLIMATE)
            if (t := d.state.current_temperature_c) is not None and d.available
        ]
        nothing = f"Nothing in the {home.area_name(area)} measures the temperature"
        return f"{nothing}; {'; '.join(elsewhere[:3])}." if elsewhere else f"{nothing}."
    if not readings:
        return None
    if len(readings) == 1:
        device, value = readings[0]
        return f"It's {degrees(value, units)} in the {home.area_name(device.area)} ({device.name})."
    return (
        "; ".join(
            f"{d.name}: {degrees(v, units)}"
            for d, v in readings
            if d.kind in (Kind.CLIMATE, Kind.SENSOR)
        )
        + "."
    )
