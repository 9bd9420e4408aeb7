"""The simulated Home Assistant's robot vacuum, irrigation valve and to-do list:
their entities and services as HA's `vacuum`, `valve` and `todo` integrations
behave (no I/O).

A to-do entity's state is the number of items still to do; its items live
beside the state (as in HA, where only `todo.get_items` returns them).
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from integrations.homeassistant.sim_model import Entity, ServiceError, State
from integrations.homeassistant.vacuum_valve import (
    VACUUM_PAUSE,
    VACUUM_RETURN_HOME,
    VACUUM_START,
    VACUUM_STOP,
    VALVE_CLOSE,
    VALVE_OPEN,
    VALVE_SET_POSITION,
    VALVE_STOP,
)


class Hass(Protocol):
    """What these services ask of the fake (`sim_entities.FakeHass`, which calls them with
    itself: typed here so this module does not import it back)."""

    states: dict[str, State]
    todo_items: dict[str, list[dict[str, Any]]]

    def set_state(self, entity_id: str, state: str | None = None, **attributes: Any) -> State:
        """Change an entity's state and attributes; returns the new state object."""
        ...

    def _attrs(self, entity_id: str) -> dict[str, Any]:
        """An entity's attributes (the live dict, changed in place)."""
        ...


# TodoListEntityFeature: create, delete, update items.
TODO_FEATURES = 1 | 2 | 4
VACUUM_BATTERY, VACUUM_STATE = 64, 4096

SERVICES: dict[str, tuple[str, ...]] = {
    "vacuum": ("start", "pause", "stop", "return_to_base"),
    "valve": ("open_valve", "close_valve", "set_valve_position", "stop_valve", "toggle"),
    "todo": ("add_item", "update_item", "remove_item", "get_items"),
}
# Services that only answer with data (HA refuses them without return_response).
RESPONSE_ONLY = frozenset({("todo", "get_items")})


def _refused(code: str, message: str) -> Exception:
    """HA's error for a refused call."""
    return ServiceError(code, message)


def kind_entities() -> list[Entity]:
    """The demo HA's vacuum, garden valve and shopping list."""
    return [
        Entity(
            "vacuum.roborock_downstairs",
            "docked",
            {
                "friendly_name": "Roborock Downstairs",
                "battery_level": 100,
                "fan_speed": "balanced",
                "supported_features": VACUUM_START
                | VACUUM_PAUSE
                | VACUUM_STOP
                | VACUUM_RETURN_HOME
                | VACUUM_BATTERY
                | VACUUM_STATE,
            },
            area_id="hallway",
        ),
        Entity(
            "valve.irrigation_valve",
            "closed",
            {
                "friendly_name": "Irrigation valve",
                "device_class": "water",
                "reports_position": True,
                "current_position": 0,
                "supported_features": VALVE_OPEN | VALVE_CLOSE | VALVE_SET_POSITION | VALVE_STOP,
            },
            area_id="garden",
        ),
        Entity(
            "todo.shopping_list",
            "2",
            {"friendly_name": "Shopping List", "supported_features": TODO_FEATURES},
        ),
    ]


def initial_items() -> dict[str, list[dict[str, Any]]]:
    """The demo shopping list's items."""
    return {
        "todo.shopping_list": [
            {"summary": "Coffee beans", "uid": uuid.uuid4().hex, "status": "needs_action"},
            {"summary": "Pool chlorine", "uid": uuid.uuid4().hex, "status": "needs_action"},
            {"summary": "Light bulbs", "uid": uuid.uuid4().hex, "status": "completed"},
        ]
    }


def vacuum(hass: Hass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    """start → cleaning, pause → paused, stop → idle, return_to_base → returning."""
    state = {"start": "cleaning", "pause": "paused", "stop": "idle"}.get(service, "returning")
    hass.set_state(entity_id, state)


def valve(hass: Hass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    """Open/close/set position (a valve reporting position keeps `current_position`)."""
    attrs = hass._attrs(entity_id)
    current = attrs.get("current_position")
    if service == "stop_valve":
        return
    if service == "toggle":
        service = "close_valve" if hass.states[entity_id]["state"] == "open" else "open_valve"
    if service == "set_valve_position":
        if not int(attrs.get("supported_features") or 0) & VALVE_SET_POSITION:
            raise _refused("not_supported", "Entity does not support setting position")
        position = int(data.get("position", 0))
    else:
        position = 100 if service == "open_valve" else 0
    changes: dict[str, Any] = {}
    if current is not None:
        changes["current_position"] = position
    hass.set_state(entity_id, "open" if position > 0 else "closed", **changes)


def todo(hass: Hass, entity_id: str, service: str, data: dict[str, Any]) -> Any:
    """add/update/remove/get items; the state follows the count still to do."""
    items = hass.todo_items.setdefault(entity_id, [])
    if service == "get_items":
        wanted = data.get("status") or ["needs_action", "completed"]
        wanted = [wanted] if isinstance(wanted, str) else wanted
        return {"items": [dict(i) for i in items if i["status"] in wanted]}
    if service == "add_item":
        summary = str(data.get("item") or "").strip()
        if not summary:
            raise _refused("invalid_format", "item is required")
        items.append({"summary": summary, "uid": uuid.uuid4().hex, "status": "needs_action"})
    elif service == "update_item":
        item = _item(items, str(data.get("item")))
        if "rename" in data:
            item["summary"] = str(data["rename"])
        if "status" in data:
            item["status"] = str(data["status"])
    elif service == "remove_item":
        wanted = data.get("item")
        for key in [wanted] if isinstance(wanted, str) else list(wanted or []):
            items.remove(_item(items, str(key)))
    pending = sum(1 for i in items if i["status"] == "needs_action")
    hass.set_state(entity_id, str(pending))
    return None


def _item(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """An item by uid or exact summary, as HA's to-do services look them up."""
    for item in items:
        if key in (item["uid"], item["summary"]):
            return item
    raise _refused("service_validation_error", f"Unable to find To-do item: {key}")


HANDLERS = {"vacuum": vacuum, "valve": valve, "todo": todo}
