"""Which devices a matched sentence means: names, areas, floors, kinds, the room
the speaker is in, and when to ask "which one?" instead of guessing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.brain.local_data import KINDS_OF_DOMAIN
from agent.brain.local_plan import Unclear
from agent.devices import Device, Kind

if TYPE_CHECKING:
    from hassil import RecognizeResult

    from agent.home import Home

# Kinds nobody switches, opens or locks: a sentence that acts means the other device
# of a shared name ("lock Smart Lock" when a lock and its sensor are both "Smart Lock").
PASSIVE = {Kind.SENSOR, Kind.CAMERA}
# Where the speaker's room stands in for a room when none is said and none is known.
UNKNOWN_AREA = "\x00unknown-area"


def entity(result: RecognizeResult, name: str) -> Any:
    """A matched slot's value, or None."""
    found = result.entities.get(name)
    return None if found is None else found.value


def said_area(result: RecognizeResult) -> Any:
    """The area a sentence names or the speaker's room, None when neither is known."""
    area = entity(result, "area")
    return None if area == UNKNOWN_AREA else area


def sentence_kinds(result: RecognizeResult) -> set[Kind] | None:
    """The kinds a matched sentence is about: its domain slot, or the domains it requires."""
    domain = entity(result, "domain")
    domains: list[str] = []
    if isinstance(domain, str):
        domains = [domain]
    else:
        required = (result.intent_data.requires_context or {}).get("domain")
        if isinstance(required, str):
            domains = [required]
        elif isinstance(required, list):
            domains = [str(d) for d in required]
    kinds = {k for d in domains for k in KINDS_OF_DOMAIN.get(d, set())}
    return kinds or None


class Resolver:
    """Turns a matched sentence's slots into devices of the Home, looked up at answer time."""

    def __init__(self, home: Home) -> None:
        self.home = home
        # Spoken name -> device ids. Never Device objects: Home replaces a device's
        # object on every state change, so a cached one answers with a stale state.
        self.by_name: dict[str, list[str]] = {}
        self.floors: dict[str, set[str]] = {}

    def named(self, spoken: str) -> list[Device]:
        """Devices called this (name or alias, normalised), as they are now."""
        found = (self.home.find(i) for i in self.by_name.get(spoken, []))
        return [d for d in found if d is not None]

    def area_ids(self, result: RecognizeResult) -> set[str] | None:
        """The areas a sentence names (an area, a floor, or the speaker's room)."""
        area = said_area(result)
        floor = entity(result, "floor")
        if area is not None:
            return {str(area)}
        if floor is not None:
            return self.floors.get(str(floor), set())
        return None

    def targets(
        self,
        result: RecognizeResult,
        kinds: set[Kind] | None = None,
        *,
        acting: bool = True,
        here: str | None = None,
    ) -> list[Device]:
        """The devices meant; Unclear when none, or several where one is meant.

        `acting`: the sentence changes something, so sensors sharing a name with
        the device are not candidates. `here`: the speaker's room, which settles
        a name several rooms share.
        """
        name = entity(result, "name")
        device_class = entity(result, "device_class")
        kinds = kinds or sentence_kinds(result)
        area_ids = self.area_ids(result)
        if name is not None:
            devices = self.named(str(name))
            if area_ids is not None:
                devices = [d for d in devices if d.area in area_ids]
            if kinds:
                devices = [d for d in devices if d.kind in kinds] or devices
            if acting and len(devices) > 1:
                devices = [d for d in devices if d.kind not in PASSIVE] or devices
            if len(devices) > 1 and here is not None:
                devices = [d for d in devices if d.area == here] or devices
            if len(devices) > 1:
                listed = ", ".join(f"{d.name} ({self.home.area_name(d.area)})" for d in devices)
                raise Unclear(listed, question=True)
            if not devices:
                raise Unclear(f"nothing called {name}")
            return devices
        devices = [
            d
            for d in self.home.devices()
            if (area_ids is None or d.area in area_ids) and (not kinds or d.kind in kinds)
        ]
        if device_class is not None:
            devices = [
                d
                for d in devices
                if d.device_class == device_class or str(device_class) in d.name.lower()
            ]
        if area_ids is None and kinds is None:
            raise Unclear("no target")
        if not devices:
            raise Unclear("no such devices")
        if entity(result, "area") == UNKNOWN_AREA and len({d.area for d in devices}) > 1:
            # "Turn on the lights" said nowhere in particular: never guess across the house.
            raise Unclear("which room", question=True, room=True)
        return devices

    def one_climate(self, devices: list[Device], result: RecognizeResult) -> list[Device]:
        """For "set the pool to 84": the area's heater named after it, or ask which one.

        One setpoint rarely suits several heaters (a pool and a spa share an area).
        """
        area = said_area(result)
        if len(devices) <= 1 or area is None or entity(result, "name") is not None:
            return devices
        area_name = self.home.area_name(str(area)).lower()
        named = [d for d in devices if area_name in d.name.lower()]
        if len(named) == 1:
            return named
        listed = ", ".join(d.name for d in devices)
        raise Unclear(listed, question=True)


def climate_targets(result: RecognizeResult, resolver: Resolver, here: str | None) -> list[Device]:
    """The thermostat meant: named, the area's, the room's, or the home's only one."""
    named = entity(result, "name") is not None
    if not named and said_area(result) is None and entity(result, "floor") is None:
        everything = resolver.home.devices(kind=Kind.CLIMATE)
        if here is not None:
            local = [d for d in everything if d.area == here]
            if local:
                everything = local
        if len(everything) == 1:
            return everything
        if not everything:
            raise Unclear("no thermostat")
        listed = ", ".join(f"{d.name} ({resolver.home.area_name(d.area)})" for d in everything)
        raise Unclear(listed, question=True)
    devices = resolver.targets(result, {Kind.CLIMATE}, here=here)
    return resolver.one_climate(devices, result)
