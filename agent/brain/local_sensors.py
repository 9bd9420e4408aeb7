"""Questions about sensors, answered from their live readings.

Binary sensors speak their class's words ("is the phone charging?", "are any
water sensors wet?", "which devices are connected?"), and any device's reading
can be asked by its name ("what is the car mileage?", "how much battery does my
phone have left?"). Tried after the sentence matcher, for questions only: the
worst a miss can do is hand over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.brain.local_answers import names
from agent.brain.vocab import state_phrase
from agent.devices import Device, Kind
from agent.naming import normalise

if TYPE_CHECKING:
    from agent.home import Home


@dataclass(frozen=True)
class Words:
    """How people speak of one binary sensor class: words for on, for off, and its plural."""

    on: tuple[str, ...]
    off: tuple[str, ...]
    nouns: tuple[str, ...]


DETECTOR = ("detected", "triggered", "on")
CLEAR = ("clear", "off", "not detected")
CLASSES: dict[str, Words] = {
    "battery": Words(("low",), ("normal", "charged", "ok"), ("batteries",)),
    "battery_charging": Words(("charging",), ("not charging",), ("batteries",)),
    "carbon_monoxide": Words(DETECTOR, CLEAR, ("carbon monoxide sensors", "co sensors")),
    "cold": Words(("cold",), ("normal",), ("things",)),
    "connectivity": Words(("connected", "online"), ("disconnected", "offline"), ("devices",)),
    "door": Words(("open",), ("closed", "shut"), ("doors",)),
    "garage_door": Words(("open",), ("closed", "shut"), ("garage doors",)),
    "opening": Words(("open",), ("closed", "shut"), ("openings",)),
    "window": Words(("open",), ("closed", "shut"), ("windows",)),
    "gas": Words(DETECTOR, CLEAR, ("gas sensors",)),
    "heat": Words(("hot",), ("normal",), ("things",)),
    "light": Words(("detected",), ("not detected",), ("light sensors", "lights")),
    "lock": Words(("unlocked",), ("locked",), ("locks",)),
    "moisture": Words(("wet", "leaking", "flooded"), ("dry",), ("water sensors", "leak sensors")),
    "motion": Words(DETECTOR, CLEAR, ("motion sensors",)),
    "occupancy": Words(("occupied", *DETECTOR), ("clear", "empty"), ("occupancy sensors",)),
    "presence": Words(("home", "present"), ("away", "gone", "not home"), ("devices",)),
    "plug": Words(("plugged in",), ("unplugged",), ("devices",)),
    "power": Words(("powered", "powered on", "detected"), ("off", "unpowered"), ("devices",)),
    "problem": Words(("problem", "problems"), ("ok", "fine"), ("devices",)),
    "running": Words(("running",), ("not running", "stopped"), ("devices",)),
    "safety": Words(("unsafe",), ("safe",), ("devices",)),
    "smoke": Words(DETECTOR, CLEAR, ("smoke sensors", "smoke detectors")),
    "sound": Words(DETECTOR, CLEAR, ("sound sensors",)),
    "tamper": Words(("tampered", "detected"), ("clear",), ("tamper sensors",)),
    "update": Words(("update available", "available"), ("up to date",), ("updates",)),
    "vibration": Words(("vibrating",), ("not vibrating", "still"), ("devices",)),
}
# What is sensed, as people name it ("is there smoke in the kitchen?").
SENSED: dict[str, str] = {
    "motion": "motion",
    "movement": "motion",
    "occupancy": "occupancy",
    "smoke": "smoke",
    "gas": "gas",
    "carbon monoxide": "carbon_monoxide",
    "co": "carbon_monoxide",
    "leak": "moisture",
    "water": "moisture",
    "noise": "sound",
    "sound": "sound",
    "vibration": "vibration",
}
# A room in that state ("is the kitchen occupied?", "is the kitchen flooded?").
ROOM_STATES: dict[str, str] = {"occupied": "occupancy", "flooded": "moisture", "wet": "moisture"}
MOTION_FIELD = {"motion", "occupancy", "presence"}
CONTACT_FIELD = {"door", "garage_door", "opening", "window"}
VALUE_QUESTION = re.compile(
    r"^(what is|whats|what are|tell me|how much|what|do you know|give me)\b"
)
YESNO = re.compile(r"^(is|are) (?:the |my |our |there )?(?:any )?(.+)$")


def is_on(device: Device) -> bool | None:
    """A binary sensor's reading: True when in its class's "on" state."""
    s = device.state
    cls = device.device_class or ""
    if cls in MOTION_FIELD and s.motion is not None:
        return s.motion
    if cls in CONTACT_FIELD and s.contact_open is not None:
        return s.contact_open
    if isinstance(s.value, str) and s.value in ("on", "off"):
        return s.value == "on"
    return None


def _binary(devices: list[Device]) -> list[Device]:
    return [d for d in devices if d.kind == Kind.SENSOR and d.device_class in CLASSES]


def _reading(device: Device, state: str) -> bool | None:
    """Whether a binary sensor is in the state said; None when its class has no such word."""
    words = CLASSES.get(device.device_class or "")
    now = is_on(device)
    if words is None or now is None:
        return None
    if state in words.on:
        return now
    if state in words.off:
        return not now
    return None


def _word(device: Device) -> str:
    words = CLASSES[device.device_class or ""]
    return words.on[0] if is_on(device) else words.off[0]


def _names_in(said: str, home: Home) -> list[tuple[str, Device]]:
    """Devices whose name (or alias) the text contains, longest names first."""
    found: list[tuple[str, Device]] = []
    for device in home.devices():
        for text in (device.name, *device.aliases):
            spoken = normalise(text)
            if spoken and re.search(rf"(?<!\w){re.escape(spoken)}s?(?!\w)", said):
                found.append((spoken, device))
    return sorted(found, key=lambda pair: -len(pair[0]))


def answer_sensed(said: str, home: Home) -> str | None:
    """ "is there smoke in the kitchen?", "is motion detected?", "is the kitchen occupied?"."""
    words = "|".join(re.escape(w) for w in sorted(SENSED, key=len, reverse=True))
    match = re.match(
        rf"^(?:is there (?:any )?({words})(?: detected)?|is (?:any )?({words}) detected)"
        r"(?: (?:in|at|on) (?:the )?(.+))?$",
        said,
    )
    room: str | None
    if match is not None:
        cls = SENSED[match.group(1) or match.group(2)]
        room = match.group(3)
    else:
        match = re.match(r"^is (?:the )?(.+) (occupied|flooded|wet)$", said)
        if match is None:
            return None
        cls, room = ROOM_STATES[match.group(2)], match.group(1)
    area = home.find_area(room) if room else None
    if room and area is None:
        return None
    sensors = [
        d
        for d in _binary(home.devices())
        if d.device_class == cls and (area is None or d.area == area)
    ]
    known = [d for d in sensors if is_on(d) is not None]
    if not known:
        return None
    where = f" in the {home.area_name(area)}" if area else ""
    on = [d.name for d in known if is_on(d)]
    if on:
        return f"Yes{where}: {names(on, most=12)}."
    return f"No, nothing{where} ({names([d.name for d in known], most=12)} clear)."


def answer_binary(said: str, home: Home) -> str | None:
    """ "is the phone charging?" / "are any water sensors wet?" / "which devices are home?"."""
    answer = _collective(said, home) or answer_sensed(said, home)
    if answer is not None:
        return answer
    match = YESNO.match(said)
    if match is None:
        return None
    rest = match.group(2)
    found = _names_in(rest, home)
    for spoken, _ in found:
        tail = re.sub(rf"^.*?(?<!\w){re.escape(spoken)}s?(?!\w)\s*", "", rest, count=1).strip()
        tail = re.sub(r"^(is|are) ", "", tail)
        named = [d for n, d in found if n == spoken]
        # "Is the front door open?" of a lock: its contact sensor ("Front door contact") knows.
        named += [d for d in home.devices() if normalise(d.name).startswith(spoken + " ")]
        for device in _binary(named):
            verdict = _reading(device, tail)
            if verdict is not None:
                if verdict:
                    return f"Yes, {device.name} is {tail}."
                return f"No, {device.name} is {_word(device)}."
    return None


def _collective(said: str, home: Home) -> str | None:
    """ "are any smoke sensors triggered?", "how many batteries are low?"..."""
    sensors = _binary(home.devices())
    for noun in sorted({n for d in sensors for n in CLASSES[d.device_class or ""].nouns}, key=len)[
        ::-1
    ]:
        match = re.match(
            rf"^(are any|are all|which|what|how many) (?:of the )?{re.escape(noun)} "
            r"(?:are |is )?(.+)$",
            said,
        )
        if match is None:
            continue
        quantifier, state = match.group(1), match.group(2)
        these = [
            d
            for d in sensors
            if noun in CLASSES[d.device_class or ""].nouns and _reading(d, state) is not None
        ]
        if these:
            return _tell(quantifier, these, state)
    return None


def _tell(quantifier: str, sensors: list[Device], state: str) -> str:
    yes = [d.name for d in sensors if _reading(d, state)]
    no = [d.name for d in sensors if not _reading(d, state)]
    listed = names(yes, most=12)
    if quantifier == "are any":
        return f"Yes: {listed}." if yes else f"No, none are {state}."
    if quantifier == "are all":
        if not no:
            return f"Yes, all {len(yes)} are {state}."
        verb = "is" if len(no) == 1 else "are"
        return f"No: {names(no, most=12)} {verb} not {state}."
    if quantifier == "how many":
        return f"{len(yes)}: {listed}." if yes else f"0 are {state}."
    return f"{state.capitalize()}: {listed}." if yes else f"None are {state}."


def answer_reading(said: str, home: Home, units: str) -> str | None:
    """ "what is the car mileage?": the reading of the one device the question names."""
    if not VALUE_QUESTION.match(said):
        return None
    found = _names_in(said, home)
    if not found:
        return None
    longest = found[0][0]
    devices = [d for n, d in found if n == longest]
    sensors = [d for d in devices if d.kind == Kind.SENSOR]
    if len(sensors) > 1:
        # Several readings of one thing ("Outside rain sensor"): the words pick one.
        sensors = [d for d in sensors if (d.device_class or "").replace("_", " ") in said] or (
            sensors
        )
    chosen = sensors if sensors else devices
    if len(chosen) != 1:
        return None
    device = chosen[0]
    return f"{device.name} is {state_phrase(device, units)}."


def answer_sensor_question(text: str, home: Home, units: str) -> str | None:
    """An answer to a sensor question the sentence matcher missed, or None."""
    said = normalise(text)
    if not said:
        return None
    return answer_binary(said, home) or answer_reading(said, home, units)
