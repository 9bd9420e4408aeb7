"""Registry edits on the simulated Home Assistant, with the events HA fires for them.

Renaming, moving, hiding, disabling or deleting an entity, moving a device and
renaming an area fire `entity_registry_updated`, `device_registry_updated` and
`area_registry_updated` (with `changes` holding the old values), and a rename
also rewrites the entity's state with its new friendly name, as HA does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from integrations.homeassistant.sim_model import Entity, State


class Hass(Protocol):
    """What the edits need of the fake (`sim_entities.FakeHass`, typed here so this
    module does not import it back)."""

    entities: dict[str, Entity]
    states: dict[str, State]
    devices: dict[str, dict[str, Any]]
    areas: dict[str, str]
    on_change: list[Callable[[str, State | None, State | None], None]]
    on_event: list[Callable[[str, dict[str, Any]], None]]

    def set_state(self, entity_id: str, state: str | None = None, **attributes: Any) -> State:
        """Change an entity's state and attributes; returns the new state object."""
        ...


class RegistryEditor:
    """The owner's edits in HA's settings pages (`hass.registry.rename_entity(...)`)."""

    def __init__(self, hass: Hass) -> None:
        self.hass = hass

    def _fire(self, event_type: str, data: dict[str, Any]) -> None:
        for callback in list(self.hass.on_event):
            callback(event_type, data)

    def _entity_updated(self, entity_id: str, **old: Any) -> None:
        self._fire(
            "entity_registry_updated", {"action": "update", "entity_id": entity_id, "changes": old}
        )

    def rename_entity(self, entity_id: str, name: str) -> None:
        """Give the entity a new name (its friendly_name follows)."""
        entity = self.hass.entities[entity_id]
        old, entity.name = entity.name, name
        self._entity_updated(entity_id, name=old)
        self.hass.set_state(entity_id, friendly_name=name)

    def move_entity(self, entity_id: str, area_id: str | None) -> None:
        """Put the entity in another area (None: back to its device's)."""
        entity = self.hass.entities[entity_id]
        old, entity.area_id = entity.area_id, area_id
        self._entity_updated(entity_id, area_id=old)

    def hide_entity(self, entity_id: str, hidden: bool = True) -> None:
        """Hide (or show again) the entity."""
        entity = self.hass.entities[entity_id]
        old, entity.hidden = entity.hidden, hidden
        self._entity_updated(entity_id, hidden_by="user" if old else None)

    def disable_entity(self, entity_id: str) -> None:
        """Disable the entity: its registry entry says so and its state goes away."""
        self.hass.entities[entity_id].disabled = True
        self._entity_updated(entity_id, disabled_by=None)
        self._drop_state(entity_id)

    def remove_entity(self, entity_id: str) -> None:
        """Delete the entity from HA altogether."""
        self.hass.entities.pop(entity_id, None)
        self._fire("entity_registry_updated", {"action": "remove", "entity_id": entity_id})
        self._drop_state(entity_id)

    def _drop_state(self, entity_id: str) -> None:
        old = self.hass.states.pop(entity_id, None)
        if old is not None:
            for callback in list(self.hass.on_change):
                callback(entity_id, old, None)

    def move_device(self, device_id: str, area_id: str | None) -> None:
        """Put a device (and the entities that follow it) in another area."""
        device = self.hass.devices[device_id]
        old = device.get("area_id")
        device["area_id"] = area_id
        self._fire(
            "device_registry_updated",
            {"action": "update", "device_id": device_id, "changes": {"area_id": old}},
        )

    def rename_area(self, area_id: str, name: str) -> None:
        """Give an area a new name (its id stays)."""
        self.hass.areas[area_id] = name
        self._fire("area_registry_updated", {"action": "update", "area_id": area_id})
