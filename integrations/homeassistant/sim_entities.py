"""The simulated Home Assistant's entities, registries and services (no I/O).

State objects have the shape HA serves (`entity_id`, `state`, `attributes`,
`last_changed`, `last_updated`, `context`); services change them the way the
real integrations do, so the adapter parses what a real HA would send.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from integrations.homeassistant import sim_kinds
from integrations.homeassistant.sim_model import Entity, ServiceError, State

if TYPE_CHECKING:
    from integrations.homeassistant.sim_registry import RegistryEditor


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class FakeHass:
    """Entities, registries and services of one simulated Home Assistant."""

    entities: dict[str, Entity] = field(default_factory=dict)
    areas: dict[str, str] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarm_code: str | None = None
    states: dict[str, State] = field(default_factory=dict)
    on_change: list[Callable[[str, State | None, State | None], None]] = field(default_factory=list)
    # Other events (registry updates): (event_type, data).
    on_event: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    moving: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    todo_items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entity in self.entities.values():
            self.states[entity.entity_id] = self._state(
                entity.entity_id, entity.state, {**entity.attributes}
            )

    @classmethod
    def demo(
        cls, alarm_code: str | None = None, garage_travel: float = 0.0, lock_travel: float = 0.0
    ) -> FakeHass:
        """The demo home's HA (the garage door takes `garage_travel` s to move, locks
        `lock_travel` s)."""
        from integrations.homeassistant.sim_demo import DEMO_AREAS, DEMO_DEVICES, demo_entities

        demo = [*demo_entities(garage_travel, lock_travel), *sim_kinds.kind_entities()]
        return cls(
            entities={e.entity_id: e for e in demo},
            todo_items=sim_kinds.initial_items(),
            areas=dict(DEMO_AREAS),
            devices=copy.deepcopy(DEMO_DEVICES),
            alarm_code=alarm_code,
        )

    # -- state ----------------------------------------------------------------

    @staticmethod
    def _state(entity_id: str, state: str, attributes: dict[str, Any]) -> State:
        now = _now()
        return {
            "entity_id": entity_id,
            "state": state,
            "attributes": attributes,
            "last_changed": now,
            "last_updated": now,
            "context": {"id": uuid.uuid4().hex, "parent_id": None, "user_id": None},
        }

    def set_state(self, entity_id: str, state: str | None = None, **attributes: Any) -> State:
        """Change an entity (as a device or another HA user would) and emit state_changed."""
        old = self.states.get(entity_id)
        if old is None:
            raise ServiceError("not_found", f"Entity {entity_id} not found.")
        new_attrs = {**old["attributes"], **attributes}
        new_state = old["state"] if state is None else state
        if new_state == old["state"] and new_attrs == old["attributes"]:
            return old
        new = self._state(entity_id, new_state, new_attrs)
        if new_state == old["state"]:
            new["last_changed"] = old["last_changed"]
        self.states[entity_id] = new
        for callback in list(self.on_change):
            callback(entity_id, old, new)
        return new

    # -- registries -----------------------------------------------------------

    @property
    def registry(self) -> RegistryEditor:
        """Edit the registries as the owner would in HA (events included)."""
        from integrations.homeassistant.sim_registry import RegistryEditor

        return RegistryEditor(self)

    def area_registry(self) -> list[dict[str, Any]]:
        """`config/area_registry/list` rows."""
        return [
            {
                "area_id": a,
                "name": n,
                "aliases": [],
                "floor_id": None,
                "icon": None,
                "picture": None,
            }
            for a, n in self.areas.items()
        ]

    def device_registry(self) -> list[dict[str, Any]]:
        """`config/device_registry/list` rows."""
        return [
            {"id": d, "name": info["name"], "name_by_user": None, "area_id": info.get("area_id")}
            for d, info in self.devices.items()
        ]

    def entity_registry(self) -> list[dict[str, Any]]:
        """`config/entity_registry/list` rows."""
        return [
            {
                "entity_id": e.entity_id,
                "area_id": e.area_id,
                "device_id": e.device_id,
                "disabled_by": "user" if e.disabled else None,
                "hidden_by": "user" if e.hidden else None,
                "name": e.name,
                "platform": "demo",
                "unique_id": e.entity_id.replace(".", "_"),
            }
            for e in self.entities.values()
        ]

    def services(self) -> dict[str, dict[str, Any]]:
        """`get_services`: domain → service → description."""
        return {
            domain: {name: {"name": name, "fields": {}} for name in names}
            for domain, names in _SERVICE_NAMES.items()
        }

    # -- services -------------------------------------------------------------

    def call(
        self,
        domain: str,
        service: str,
        data: dict[str, Any],
        target: dict[str, Any] | None,
        response: dict[str, Any] | None = None,
    ) -> list[State]:
        """Run a service on its target entities; return their new states.

        Services that answer with data (`todo.get_items`) fill `response` (entity id →
        data) and are refused, as by HA, when the caller did not ask for it.
        """
        if (domain, service) in sim_kinds.RESPONSE_ONLY and response is None:
            raise ServiceError(
                "service_validation_error",
                "Service call requires responses but caller did not ask for responses",
            )
        if service not in _SERVICE_NAMES.get(domain, ()):
            raise ServiceError("not_found", f"Service {domain}.{service} not found.")
        data = dict(data)
        ids: Any = (target or {}).get("entity_id", data.pop("entity_id", None))
        if ids is None:
            raise ServiceError("invalid_format", "No entity_id given.")
        entity_ids = [ids] if isinstance(ids, str) else list(ids)
        self.calls.append((domain, service, {"entity_id": entity_ids, **data}))
        changed = []
        for entity_id in entity_ids:
            if not entity_id.startswith(domain + ".") or entity_id not in self.states:
                continue  # HA ignores targets outside the service's domain
            handler = _HANDLERS[domain]
            answer = handler(self, entity_id, service, data)
            if response is not None and answer is not None:
                response[entity_id] = answer
            changed.append(self.states[entity_id])
        return changed

    def _attrs(self, entity_id: str) -> dict[str, Any]:
        attrs: dict[str, Any] = self.states[entity_id]["attributes"]
        return attrs


def _temperature(hass: FakeHass, entity_id: str, data: dict[str, Any]) -> float:
    attrs = hass._attrs(entity_id)
    try:
        value = float(data["temperature"])
    except (KeyError, TypeError, ValueError):
        raise ServiceError("invalid_format", "temperature is required") from None
    if not attrs.get("min_temp", -100) <= value <= attrs.get("max_temp", 1000):
        raise ServiceError(
            "home_assistant_error",
            f"Provided temperature {value} is not valid. Accepted range is "
            f"{attrs.get('min_temp')} to {attrs.get('max_temp')}.",
        )
    return value


def _action(state: str, target: float | None, current: float | None) -> str:
    if state == "off":
        return "off"
    if state == "heat" and target is not None and current is not None:
        return "heating" if current < target else "idle"
    return "idle"


def _climate(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    attrs = hass._attrs(entity_id)
    state = hass.states[entity_id]["state"]
    changes: dict[str, Any] = {}
    if service == "set_temperature":
        changes = _setpoints(hass, entity_id, data)
        state = data.get("hvac_mode", state)
    elif service == "set_hvac_mode":
        state = data.get("hvac_mode", "")
    elif service == "turn_on":
        state = next((m for m in attrs.get("hvac_modes", ()) if m != "off"), "heat")
    elif service == "turn_off":
        state = "off"
    if state not in attrs.get("hvac_modes", ()):
        valid = ", ".join(attrs.get("hvac_modes", ()))
        raise ServiceError(
            "service_validation_error",
            f"HVAC mode {state} is not valid. Valid HVAC modes are: {valid}",
        )
    target = changes.get("temperature", attrs.get("temperature"))
    action = _action(state, target, attrs.get("current_temperature"))
    hass.set_state(entity_id, state, **changes, hvac_action=action)


def _setpoints(hass: FakeHass, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """set_temperature's setpoints, refused as HA refuses them (feature and range checks)."""
    attrs = hass._attrs(entity_id)
    features = int(attrs.get("supported_features") or 0)
    ranged = "target_temp_low" in data or "target_temp_high" in data
    if "temperature" in data and not features & 1:
        raise ServiceError(
            "service_validation_error",
            "Set temperature action was used with the target temperature parameter "
            "but the entity does not support it",
        )
    if ranged and not features & 2:
        raise ServiceError(
            "service_validation_error",
            "Set temperature action was used with the target temperature low/high parameter "
            "but the entity does not support it",
        )
    if ranged:
        if "target_temp_low" not in data or "target_temp_high" not in data:
            raise ServiceError("invalid_format", "must contain at least one of temperature.")
        low = _temperature(hass, entity_id, {"temperature": data["target_temp_low"]})
        high = _temperature(hass, entity_id, {"temperature": data["target_temp_high"]})
        return {"target_temp_low": low, "target_temp_high": high}
    return {"temperature": _temperature(hass, entity_id, data)}


def _water_heater(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    attrs = hass._attrs(entity_id)
    mode = hass.states[entity_id]["state"]
    target = attrs.get("temperature")
    if service == "set_temperature":
        target = _temperature(hass, entity_id, data)
        mode = data.get("operation_mode", mode)
    elif service == "set_operation_mode":
        mode = data.get("operation_mode", "")
    elif service == "turn_on":
        mode = next(m for m in attrs["operation_list"] if m != "off")
    elif service == "turn_off":
        mode = "off"
    if mode not in attrs.get("operation_list", ()):
        raise ServiceError("home_assistant_error", f"Operation mode {mode} is not valid.")
    hass.set_state(entity_id, mode, temperature=target, operation_mode=mode)


def _cover(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    attrs = hass._attrs(entity_id)
    has_position = "current_position" in attrs
    position = {"open_cover": 100, "close_cover": 0}.get(service)
    if service == "set_cover_position":
        if not has_position:
            raise ServiceError("not_supported", "Entity does not support set_cover_position.")
        position = int(data.get("position", -1))
        if not 0 <= position <= 100:
            raise ServiceError("invalid_format", "position must be 0-100")
    timer = hass.moving.pop(entity_id, None)
    if timer is not None:
        timer.cancel()
    if service == "stop_cover" or position is None:
        if timer is not None:  # stopped half-way: partly open
            hass.set_state(entity_id, "open")
        return
    final = {"current_position": position} if has_position else {}
    state = "closed" if position == 0 else "open"
    travel = hass.entities[entity_id].travel_seconds if entity_id in hass.entities else 0.0
    if travel <= 0 or (hass.states[entity_id]["state"] == state and not has_position):
        hass.set_state(entity_id, state, **final)
        return
    hass.set_state(entity_id, "opening" if position > 0 else "closing")

    def arrive() -> None:
        hass.moving.pop(entity_id, None)
        hass.set_state(entity_id, state, **final)

    hass.moving[entity_id] = asyncio.get_running_loop().call_later(travel, arrive)


_ARM = {
    "alarm_arm_home": "armed_home",
    "alarm_arm_away": "armed_away",
    "alarm_arm_night": "armed_night",
    "alarm_arm_vacation": "armed_vacation",
}


def _alarm(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    if service == "alarm_disarm" and hass.alarm_code and data.get("code") != hass.alarm_code:
        raise ServiceError("home_assistant_error", "Invalid alarm code provided")
    hass.set_state(entity_id, _ARM.get(service, "disarmed"))


def _on_off(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    state = hass.states[entity_id]["state"]
    if service == "toggle":
        service = "turn_off" if state == "on" else "turn_on"
    if service == "turn_off":
        hass.set_state(entity_id, "off")
        return
    attrs: dict[str, Any] = {}
    if "brightness_pct" in data:
        attrs["brightness"] = round(int(data["brightness_pct"]) * 255 / 100)
    for key in ("brightness", "rgb_color", "color_temp_kelvin", "percentage"):
        if key in data:
            attrs[key] = data[key]
    hass.set_state(entity_id, "on", **attrs)


def _fan(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    if service == "set_percentage":
        pct = int(data.get("percentage", 0))
        hass.set_state(entity_id, "on" if pct else "off", percentage=pct)
    else:
        _on_off(hass, entity_id, service, data)


def _lock(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    """Lock or unlock, through locking/unlocking when the lock takes time; some jam."""
    entity = hass.entities.get(entity_id)
    final = "locked" if service == "lock" else "unlocked"
    if service == "lock" and entity is not None and entity.jams:
        final = "jammed"
    travel = entity.travel_seconds if entity is not None else 0.0
    if travel <= 0:
        hass.set_state(entity_id, final)
        return
    hass.set_state(entity_id, "locking" if service == "lock" else "unlocking")
    timer = hass.moving.pop(entity_id, None)
    if timer is not None:
        timer.cancel()

    def arrive() -> None:
        hass.moving.pop(entity_id, None)
        hass.set_state(entity_id, final)

    hass.moving[entity_id] = asyncio.get_running_loop().call_later(travel, arrive)


# The media_player feature bit each service needs (MediaPlayerEntityFeature).
_MEDIA_NEEDS = {
    "media_pause": 1,
    "volume_set": 4,
    "volume_mute": 8,
    "media_previous_track": 16,
    "media_next_track": 32,
    "turn_on": 128,
    "turn_off": 256,
    "play_media": 512,
    "media_stop": 4096,
    "media_play": 16384,
}


def _media(hass: FakeHass, entity_id: str, service: str, data: dict[str, Any]) -> None:
    features = int(hass._attrs(entity_id).get("supported_features") or 0)
    if not features & _MEDIA_NEEDS.get(service, 0) and service in _MEDIA_NEEDS:
        raise ServiceError(
            "home_assistant_error",
            f"Entity {entity_id} does not support action media_player.{service}",
        )
    if service == "volume_set":
        hass.set_state(entity_id, volume_level=float(data.get("volume_level", 0)))
    elif service == "volume_mute":
        hass.set_state(entity_id, is_volume_muted=bool(data.get("is_volume_muted")))
    elif service == "play_media":
        hass.set_state(
            entity_id,
            "playing",
            media_content_id=data.get("media_content_id"),
            media_title=str(data.get("media_content_id", "")).rsplit("/", 1)[-1],
        )
    else:
        state = {
            "media_play": "playing",
            "media_pause": "paused",
            "media_stop": "idle",
            "turn_on": "idle",
            "turn_off": "off",
        }.get(service, hass.states[entity_id]["state"])
        hass.set_state(entity_id, state)


_SERVICE_NAMES: dict[str, tuple[str, ...]] = {
    "light": ("turn_on", "turn_off", "toggle"),
    "switch": ("turn_on", "turn_off", "toggle"),
    "fan": ("turn_on", "turn_off", "toggle", "set_percentage"),
    "climate": ("set_temperature", "set_hvac_mode", "turn_on", "turn_off"),
    "water_heater": ("set_temperature", "set_operation_mode", "turn_on", "turn_off"),
    "cover": ("open_cover", "close_cover", "stop_cover", "set_cover_position"),
    "lock": ("lock", "unlock"),
    "alarm_control_panel": (*_ARM, "alarm_disarm"),
    "media_player": (
        "media_play",
        "media_pause",
        "media_stop",
        "media_next_track",
        "media_previous_track",
        "volume_set",
        "volume_mute",
        "play_media",
        "turn_on",
        "turn_off",
    ),
}
_SERVICE_NAMES.update(sim_kinds.SERVICES)
_HANDLERS: dict[str, Callable[[FakeHass, str, str, dict[str, Any]], Any]] = {
    **sim_kinds.HANDLERS,
    "light": _on_off,
    "switch": _on_off,
    "fan": _fan,
    "climate": _climate,
    "water_heater": _water_heater,
    "cover": _cover,
    "lock": _lock,
    "alarm_control_panel": _alarm,
    "media_player": _media,
}
