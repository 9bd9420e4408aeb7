"""Home Assistant MQTT discovery's `vacuum` (state schema) and `valve` components:
features, state messages and command payloads (used by `ha_discovery.py`).

Vacuum: JSON on `state_topic` (`{"state": "cleaning", "battery_level": 61}`),
commands on `command_topic` (`payload_start` "start", `payload_pause` "pause",
`payload_stop` "stop", `payload_return_to_base` "return_to_base"), and a
`supported_features` list (HA's default: start, stop, return_home, status,
battery, clean_spot). Valve: `state_open`/`state_closed`/`…ing` on
`state_topic`; with `reports_position` a number (or `{"state", "position"}`)
instead, and the wanted position is published as the command.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from agent.devices import Action, Command, Feature


class HaEntity(Protocol):
    """What these helpers read of a discovered entity (`ha_discovery.HaEntity`, whose module
    calls them: typed here so this module does not import it back)."""

    component: str
    config: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        """A config value (abbreviations already expanded)."""
        ...


COMPONENTS = frozenset({"vacuum", "valve"})
ABBREVIATIONS = {
    "pl_strt": "payload_start",
    "pl_paus": "payload_pause",
    "pl_ret": "payload_return_to_base",
    "sup_feat": "supported_features",
    "pos": "reports_position",
    "pos_open": "position_open",
    "pos_clsd": "position_closed",
    "stat_open": "state_open",
    "stat_clsd": "state_closed",
    "stat_opening": "state_opening",
    "stat_closing": "state_closing",
}
DEFAULT_VACUUM_FEATURES = ("start", "stop", "return_home", "status", "battery", "clean_spot")
ACTIVITIES = frozenset({"cleaning", "docked", "returning", "paused", "idle", "error"})


def features(component: str, config: dict[str, Any]) -> set[Feature]:
    """What the discovered vacuum or valve can do."""
    found: set[Feature] = set()
    if component == "vacuum":
        declared = set(config.get("supported_features") or DEFAULT_VACUUM_FEATURES)
        if "start" in declared:
            found.add(Feature.CLEAN)
        if "pause" in declared:
            found.add(Feature.PAUSE)
        if "return_home" in declared:
            found.add(Feature.RETURN_HOME)
    elif component == "valve":
        found.add(Feature.OPEN_CLOSE)
        if config.get("reports_position"):
            found.add(Feature.POSITION)
    return found


def _percent(entity: HaEntity, raw: float) -> int:
    """A device position (position_closed..position_open) as percent."""
    low, high = float(entity.get("position_closed", 0)), float(entity.get("position_open", 100))
    return max(0, min(100, round((raw - low) * 100 / (high - low)))) if high != low else 0


def parse_state(entity: HaEntity, payload: bytes) -> dict[str, Any]:
    """DeviceState changes for a state-topic message."""
    text = payload.decode(errors="replace").strip()
    if entity.component == "vacuum":
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        if not isinstance(value, dict):
            return {}
        changes: dict[str, Any] = {}
        if value.get("state") in ACTIVITIES:
            changes["activity"] = value["state"]
        if isinstance(value.get("battery_level"), int | float):
            changes["battery"] = round(value["battery_level"])
        return changes
    states = {
        str(entity.get("state_open", "open")): "open",
        str(entity.get("state_closed", "closed")): "closed",
        str(entity.get("state_opening", "opening")): "opening",
        str(entity.get("state_closing", "closing")): "closing",
    }
    position: float | None = None
    state = states.get(text)
    if state is None:
        try:
            parsed = json.loads(text)
        except ValueError:
            return {}
        if isinstance(parsed, dict):
            state = states.get(str(parsed.get("state")))
            if isinstance(parsed.get("position"), int | float):
                position = float(parsed["position"])
        elif isinstance(parsed, int | float):
            position = float(parsed)
    out: dict[str, Any] = {}
    if position is not None:
        out["position"] = _percent(entity, position)
    elif state in ("open", "closed"):
        out["position"] = 100 if state == "open" else 0
    if state in ("opening", "closing"):
        out["moving"] = state
    elif state is not None or position is not None:
        out["moving"] = "stopped"
    return out


def command_messages(entity: HaEntity, command: Command) -> list[tuple[str, str]]:
    """(topic, payload) pairs that carry out a command on a vacuum or valve."""
    cfg, action = entity.config, command.action
    topic = cfg["command_topic"]
    if entity.component == "vacuum":
        keys = {
            Action.START: ("payload_start", "start"),
            Action.PLAY: ("payload_start", "start"),
            Action.PAUSE: ("payload_pause", "pause"),
            Action.STOP: ("payload_stop", "stop"),
            Action.RETURN_TO_BASE: ("payload_return_to_base", "return_to_base"),
        }
        if action in keys:
            key, default = keys[action]
            return [(topic, str(cfg.get(key, default)))]
    elif cfg.get("reports_position") and action in (
        Action.OPEN,
        Action.CLOSE,
        Action.SET_POSITION,
    ):
        low, high = float(cfg.get("position_closed", 0)), float(cfg.get("position_open", 100))
        percent = {Action.OPEN: 100, Action.CLOSE: 0}.get(action, command.position or 0)
        value = low + (high - low) * percent / 100
        return [(topic, str(round(value)))]
    elif action in (Action.OPEN, Action.CLOSE):
        opening = action is Action.OPEN
        key, default = ("payload_open", "OPEN") if opening else ("payload_close", "CLOSE")
        return [(topic, str(cfg.get(key, default)))]
    elif action is Action.STOP and cfg.get("payload_stop") is not None:
        return [(topic, str(cfg["payload_stop"]))]
    raise ValueError(f"{entity.component} cannot {action.value}")
