"""Name resolution: what a person calls devices ("kitchen lights", "all the lights
downstairs", "the thermostat") to the devices they mean, or a clear "no such
device" / "which one?"."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from agent.devices import Area, Device, Kind

# Words people use for each kind, singular; the value may narrow by device class.
KIND_WORDS: dict[str, tuple[Kind, frozenset[str] | None]] = {
    "light": (Kind.LIGHT, None),
    "lamp": (Kind.LIGHT, None),
    "bulb": (Kind.LIGHT, None),
    "strip": (Kind.LIGHT, None),
    "switch": (Kind.SWITCH, None),
    "plug": (Kind.SWITCH, None),
    "outlet": (Kind.SWITCH, None),
    "socket": (Kind.SWITCH, None),
    "fan": (Kind.FAN, None),
    "speaker": (Kind.SPEAKER, None),
    "music": (Kind.SPEAKER, None),
    "sonos": (Kind.SPEAKER, None),
    "thermostat": (Kind.CLIMATE, frozenset({"thermostat", "hvac"})),
    "heating": (Kind.CLIMATE, frozenset({"thermostat", "hvac"})),
    "heater": (Kind.CLIMATE, None),
    "ac": (Kind.CLIMATE, frozenset({"thermostat", "hvac"})),
    "climate": (Kind.CLIMATE, None),
    "shade": (Kind.COVER, frozenset({"shade", "blind", "curtain", "shutter", "awning"})),
    "blind": (Kind.COVER, frozenset({"shade", "blind", "curtain", "shutter", "awning"})),
    "curtain": (Kind.COVER, frozenset({"shade", "blind", "curtain", "shutter", "awning"})),
    "shutter": (Kind.COVER, frozenset({"shade", "blind", "curtain", "shutter", "awning"})),
    "cover": (Kind.COVER, None),
    "garage": (Kind.COVER, frozenset({"garage"})),
    "lock": (Kind.LOCK, None),
    "alarm": (Kind.ALARM, None),
    "sensor": (Kind.SENSOR, None),
    "camera": (Kind.CAMERA, None),
    "vacuum": (Kind.VACUUM, None),
    "robot": (Kind.VACUUM, None),
    "hoover": (Kind.VACUUM, None),
    "valve": (Kind.VALVE, None),
    "irrigation": (Kind.VALVE, None),
    "sprinkler": (Kind.VALVE, None),
}
PLURAL_KIND_WORDS = {
    "vacuums",
    "valves",
    "sprinklers",
    "lights",
    "lamps",
    "bulbs",
    "strips",
    "switches",
    "plugs",
    "outlets",
    "sockets",
    "fans",
    "speakers",
    "thermostats",
    "heaters",
    "shades",
    "blinds",
    "curtains",
    "shutters",
    "covers",
    "locks",
    "alarms",
    "sensors",
    "cameras",
}
QUANTIFIERS = {"all", "every", "everything", "both", "each"}
STOPWORDS = {
    "the",
    "a",
    "an",
    "my",
    "our",
    "in",
    "on",
    "at",
    "of",
    "to",
    "and",
    "please",
    "device",
    "devices",
    "room",
    "thing",
    "things",
    "one",
    "ones",
}
EVERYTHING = {
    "everything",
    "all",
    "all devices",
    "whole house",
    "house",
    "the house",
    "the whole house",
    "every device",
    "home",
}


@dataclass
class Resolution:
    """The outcome of resolving a name: devices found, or why not."""

    status: Literal["ok", "none", "ambiguous"]
    devices: list[Device] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the name resolved to one or more devices."""
        return self.status == "ok"


def singular(word: str) -> str:
    """A rough English singular, enough for device words."""
    if word in ("glass", "bus", "status", "gas"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def normalise(text: str) -> str:
    """Lower-case, drop possessives and punctuation, collapse spaces."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"[^\w\s%-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _tokens(text: str) -> list[str]:
    return [singular(t) for t in normalise(text).replace("-", " ").split()]


def _find_phrase(tokens: list[str], phrase: list[str]) -> int:
    for i in range(len(tokens) - len(phrase) + 1):
        if tokens[i : i + len(phrase)] == phrase:
            return i
    return -1


def resolve(
    text: str,
    devices: Sequence[Device],
    areas: Mapping[str, Area],
    kind: Kind | None = None,
) -> Resolution:
    """Resolve a phrase against devices and areas (see module docstring)."""
    phrase = normalise(text)
    scoped = [d for d in devices if kind is None or d.kind == kind]
    if not phrase:
        return Resolution("none", message="Which device do you mean?")

    # 1. A device's exact name or alias wins.
    exact = [
        d
        for d in scoped
        if _tokens(phrase) in (_tokens(n) for n in (d.name, *d.aliases))
        or _tokens(phrase.removeprefix("the ")) in (_tokens(n) for n in (d.name, *d.aliases))
    ]
    if len(exact) == 1:
        return Resolution("ok", exact)

    if phrase in EVERYTHING or phrase.removeprefix("all ") in EVERYTHING:
        return Resolution("ok", list(scoped)) if scoped else _none(text)

    raw = phrase.replace("-", " ").split()
    plural = any(w in PLURAL_KIND_WORDS or w in QUANTIFIERS for w in raw)
    tokens = [singular(w) for w in raw]

    # 2. Areas and floors named in the phrase (longest names first).
    area_ids: set[str] = set()
    names: list[tuple[list[str], set[str]]] = []
    floors: dict[str, set[str]] = {}
    for area in areas.values():
        for n in (area.id.replace("_", " "), area.name, *area.aliases):
            names.append((_tokens(n), {area.id}))
        if area.floor:
            floors.setdefault(area.floor, set()).add(area.id)
    for floor, ids in floors.items():
        names.append((_tokens(floor), ids))
    for d in scoped:  # areas that only exist on devices (no config entry)
        if d.area and d.area not in areas:
            names.append((_tokens(d.area.replace("_", " ")), {d.area}))
    for words, ids in sorted(names, key=lambda n: -len(n[0])):
        at = _find_phrase(tokens, words)
        if words and at >= 0:
            area_ids |= ids
            del tokens[at : at + len(words)]

    # 3. Kind words.
    kinds: set[Kind] = set()
    classes: frozenset[str] | None = None
    remaining: list[str] = []
    for tok in tokens:
        if tok in KIND_WORDS:
            k, cls = KIND_WORDS[tok]
            kinds.add(k)
            classes = cls if cls is not None else classes
        elif tok in QUANTIFIERS or tok in STOPWORDS:
            continue
        else:
            remaining.append(tok)

    candidates = [d for d in scoped if not area_ids or d.area in area_ids]
    # 4. Leftover words must appear in the device's name or aliases.
    if remaining:
        by_name = [d for d in candidates if _name_has(d, remaining + _kind_tokens(raw))]
        if not by_name:
            by_name = [d for d in candidates if _name_has(d, remaining)]
        if not by_name:
            return _none(text)
        candidates = by_name
        if kinds and any(d.kind in kinds for d in candidates):
            candidates = [d for d in candidates if d.kind in kinds]
    elif kinds:
        candidates = [d for d in candidates if d.kind in kinds]
        if classes is not None and len(candidates) > 1:
            narrowed = [d for d in candidates if d.device_class in classes]
            candidates = narrowed or candidates
    elif not area_ids:
        return _none(text)

    if not candidates:
        return _none(text)
    # "the kitchen light" means the room's lights (as Home Assistant reads it);
    # "the thermostat" or "the lamp" with several matches needs a question back.
    room_level = bool(area_ids) and not remaining
    if len(candidates) > 1 and not plural and not room_level:
        listed = ", ".join(d.name for d in candidates[:6])
        return Resolution("ambiguous", candidates, f"Which one do you mean: {listed}?")
    return Resolution("ok", candidates)


def _kind_tokens(raw: list[str]) -> list[str]:
    return [singular(w) for w in raw if singular(w) in KIND_WORDS]


def _name_has(device: Device, words: list[str]) -> bool:
    for name in (device.name, *device.aliases):
        toks = set(_tokens(name))
        if all(w in toks for w in words):
            return True
    return False


def _none(text: str) -> Resolution:
    return Resolution("none", message=f"There's no device called “{text.strip()}” in this home.")
