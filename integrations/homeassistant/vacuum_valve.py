"""Home Assistant's `vacuum` and `valve` entities ↔ homeclaw vacuums and valves:
features from `supported_features`, state, and the service for each command.

Pure functions (no I/O), used by `entities.py` for these two domains.
"""

from __future__ import annotations

from typing import Any

from agent.devices import Action, Command, Device, Feature
from agent.errors import UnsupportedCommand

DOMAINS = frozenset({"vacuum", "valve"})

# VacuumEntityFeature bits.
VACUUM_PAUSE, VACUUM_STOP, VACUUM_RETURN_HOME = 4, 8, 16
VACUUM_START = 8192
# ValveEntityFeature bits.
VALVE_OPEN, VALVE_CLOSE, VALVE_SET_POSITION, VALVE_STOP = 1, 2, 4, 8

ACTIVITIES = frozenset({"cleaning", "docked", "returning", "paused", "idle", "error"})


def _sf(attrs: dict[str, Any]) -> int:
    try:
        return int(attrs.get("supported_features") or 0)
    except (TypeError, ValueError):
        return 0


def features(domain: str, attrs: dict[str, Any]) -> frozenset[Feature]:
    """What a vacuum or valve declares it can do."""
    sf = _sf(attrs)
    found: set[Feature] = set()
    if domain == "vacuum":
        if sf & VACUUM_START:
            found.add(Feature.CLEAN)
        if sf & VACUUM_PAUSE:
            found.add(Feature.PAUSE)
        if sf & VACUUM_RETURN_HOME:
            found.add(Feature.RETURN_HOME)
    elif domain == "valve":
        if sf & (VALVE_OPEN | VALVE_CLOSE):
            found.add(Feature.OPEN_CLOSE)
        if sf & VALVE_SET_POSITION:
            found.add(Feature.POSITION)
    return frozenset(found)


def state_fields(domain: str, state: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """DeviceState fields of a vacuum or valve state object."""
    s: dict[str, Any] = {}
    if domain == "vacuum":
        s["activity"] = state if state in ACTIVITIES else None
        battery = attrs.get("battery_level")
        if isinstance(battery, int | float):
            s["battery"] = round(battery)
    elif domain == "valve":
        position = attrs.get("current_position")
        if position is None and state in ("open", "closed"):
            position = 100 if state == "open" else 0
        s["position"] = position
        s["moving"] = state if state in ("opening", "closing") else None
    return s


def service(device: Device, domain: str, command: Command) -> tuple[str, dict[str, Any]]:
    """(service, service_data) for a command on a vacuum or valve entity."""
    a = command.action
    if domain == "vacuum":
        if a in (Action.START, Action.PLAY):
            return "start", {}
        if a is Action.PAUSE:
            return "pause", {}
        if a is Action.STOP:
            return "stop", {}
        if a is Action.RETURN_TO_BASE:
            return "return_to_base", {}
    elif domain == "valve":
        if a is Action.OPEN:
            return "open_valve", {}
        if a is Action.CLOSE:
            return "close_valve", {}
        if a is Action.STOP:
            return "stop_valve", {}
        if a is Action.SET_POSITION:
            return "set_valve_position", {"position": command.position}
    raise UnsupportedCommand(f"{device.name} can't {a.value.replace('_', ' ')}.")
