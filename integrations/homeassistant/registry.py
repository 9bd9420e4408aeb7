"""Home Assistant's area, device and entity registries, as the bridge needs them:
which area an entity is in (its own, else its device's), and which entities the
owner hid or disabled. Fetched on connect and again whenever HA announces a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integrations.homeassistant.client import Connection

# The events HA fires when the owner edits its registries.
REGISTRY_EVENTS = ("entity_registry_updated", "device_registry_updated", "area_registry_updated")


@dataclass
class Registries:
    """One consistent snapshot of HA's registries (empty when HA would not list them)."""

    areas: dict[str, str] = field(default_factory=dict)  # area_id → name
    device_areas: dict[str, str | None] = field(default_factory=dict)  # device_id → area_id
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # entity_id → row
    loaded: bool = False

    @classmethod
    async def fetch(cls, conn: Connection) -> Registries:
        """List all three registries (raises HomeAssistantError when HA refuses)."""
        areas = await conn.command("config/area_registry/list")
        devices = await conn.command("config/device_registry/list")
        entities = await conn.command("config/entity_registry/list")
        return cls(
            areas={a["area_id"]: a.get("name") or a["area_id"] for a in areas},
            device_areas={d["id"]: d.get("area_id") for d in devices},
            entities={e["entity_id"]: e for e in entities},
            loaded=True,
        )

    def area_of(self, entity_id: str) -> str | None:
        """The entity's area id: its own, else its device's (as HA assigns them)."""
        entry = self.entities.get(entity_id) or {}
        return entry.get("area_id") or self.device_areas.get(entry.get("device_id") or "")

    def area_name(self, area_id: str | None) -> str | None:
        """The area's current name (its id if HA did not list it)."""
        return self.areas.get(area_id, area_id) if area_id else None

    def hidden(self, entity_id: str) -> bool:
        """Whether the owner hid or disabled the entity in HA."""
        entry = self.entities.get(entity_id) or {}
        return bool(entry.get("hidden_by") or entry.get("disabled_by"))

    def deleted(self, entity_id: str) -> bool:
        """Whether the entity is gone from HA (known only when the registries loaded)."""
        return self.loaded and entity_id not in self.entities


def describe_change(event_type: str, data: dict[str, Any]) -> str:
    """A short log phrase for a registry event ("entity light.x update: name, area_id")."""
    what = event_type.removesuffix("_registry_updated")
    subject = data.get("entity_id") or data.get("device_id") or data.get("area_id") or "?"
    changes = ", ".join(sorted(data.get("changes") or {}))
    return f"{what} {subject} {data.get('action', 'update')}" + (f": {changes}" if changes else "")
