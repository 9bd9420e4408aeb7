"""Home Assistant MQTT discovery: `<prefix>/<component>/[<node>/]<object>/config` entities."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from integrations.colour import byte_to_percent, percent_to_byte
from integrations.mqtt import ha_vacuum_valve

ABBREVIATIONS = {
    "cmd_t": "command_topic",
    "stat_t": "state_topic",
    "avty_t": "availability_topic",
    "uniq_id": "unique_id",
    "dev": "device",
    "pl_on": "payload_on",
    "pl_off": "payload_off",
    "bri_cmd_t": "brightness_command_topic",
    "bri_stat_t": "brightness_state_topic",
    "bri_scl": "brightness_scale",
    "dev_cla": "device_class",
    "pos_t": "position_topic",
    "set_pos_t": "set_position_topic",
    "temp_cmd_t": "temperature_command_topic",
    "temp_stat_t": "temperature_state_topic",
    "curr_temp_t": "current_temperature_topic",
    "temp_lo_cmd_t": "temperature_low_command_topic",
    "temp_lo_stat_t": "temperature_low_state_topic",
    "temp_hi_cmd_t": "temperature_high_command_topic",
    "temp_hi_stat_t": "temperature_high_state_topic",
    "stat_jam": "state_jammed",
    "stat_locking": "state_locking",
    "stat_unlocking": "state_unlocking",
    "mode_cmd_t": "mode_command_topic",
    "mode_stat_t": "mode_state_topic",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    "val_tpl": "value_template",
    "sa": "suggested_area",
    "pl_lock": "payload_lock",
    "pl_unlk": "payload_unlock",
    "stat_locked": "state_locked",
    "stat_unlocked": "state_unlocked",
    "pl_open": "payload_open",
    "pl_cls": "payload_close",
    "pl_stop": "payload_stop",
    "unit_of_meas": "unit_of_measurement",
    "ids": "identifiers",
    "stat_val_tpl": "state_value_template",
    **ha_vacuum_valve.ABBREVIATIONS,
}
KINDS = {
    "light": Kind.LIGHT,
    "switch": Kind.SWITCH,
    "fan": Kind.FAN,
    "cover": Kind.COVER,
    "lock": Kind.LOCK,
    "climate": Kind.CLIMATE,
    "sensor": Kind.SENSOR,
    "binary_sensor": Kind.SENSOR,
    "vacuum": Kind.VACUUM,
    "valve": Kind.VALVE,
}
TOPIC = re.compile(r"^(?P<component>[\w-]+)/(?:(?P<node>[\w-]+)/)?(?P<object>[\w-]+)/config$")
VALUE_JSON = re.compile(r"\{\{\s*value_json\.(\w+)\s*\}\}")


@dataclass
class HaEntity:
    """One discovered entity and the topics it speaks on."""

    component: str
    unique_id: str
    config: dict[str, Any]
    device: Device
    state_topics: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A config value (abbreviations already expanded)."""
        return self.config.get(key, default)


def _expand(config: dict[str, Any]) -> dict[str, Any]:
    out = {ABBREVIATIONS.get(k, k): v for k, v in config.items()}
    base = out.pop("~", None)
    if isinstance(out.get("device"), dict):
        out["device"] = {ABBREVIATIONS.get(k, k): v for k, v in out["device"].items()}
    if base:
        for key, value in list(out.items()):
            if key.endswith("_topic") and isinstance(value, str):
                out[key] = (
                    value.replace("~", base)
                    if value.startswith("~") or value.endswith("~")
                    else value
                )
    return out


def parse(topic_suffix: str, payload: bytes) -> HaEntity | None:
    """An entity from a discovery message (topic without the prefix), or None if unusable."""
    match = TOPIC.match(topic_suffix)
    if not match or not payload:
        return None
    component = match["component"]
    kind = KINDS.get(component)
    if kind is None:
        return None
    try:
        raw = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    config = _expand(raw)
    unique_id = str(config.get("unique_id") or f"{match['node'] or ''}{match['object']}")
    features: set[Feature] = set()
    device_class = config.get("device_class")
    if component in ("light", "switch", "fan"):
        features.add(Feature.ON_OFF)
        if component == "light" and (
            config.get("brightness_command_topic") or config.get("brightness") is True
        ):
            features.add(Feature.BRIGHTNESS)
    elif component == "cover":
        features.add(Feature.OPEN_CLOSE)
        if config.get("set_position_topic"):
            features.add(Feature.POSITION)
    elif component in ha_vacuum_valve.COMPONENTS:
        features |= ha_vacuum_valve.features(component, config)
    elif component == "lock":
        features.add(Feature.LOCK)
    elif component == "climate":
        if config.get("temperature_command_topic") or not config.get(
            "temperature_low_command_topic"
        ):
            features.add(Feature.TARGET_TEMPERATURE)
        if config.get("temperature_low_command_topic") and config.get(
            "temperature_high_command_topic"
        ):
            features.add(Feature.TARGET_TEMPERATURE_RANGE)
        if config.get("mode_command_topic"):
            features.add(Feature.HVAC_MODE)
        device_class = device_class or "thermostat"
    device_info = config.get("device") or {}
    device = Device(
        id=f"mqtt:{unique_id}",
        name=str(config.get("name") or device_info.get("name") or unique_id),
        kind=kind,
        integration="mqtt",
        area=device_info.get("suggested_area") or config.get("suggested_area"),
        features=frozenset(features),
        device_class=device_class,
        info={
            "via": "homeassistant-discovery",
            "model": device_info.get("model"),
            "manufacturer": device_info.get("manufacturer"),
        },
        hvac_modes=tuple(str(m) for m in config.get("modes") or ())
        if component == "climate"
        else (),
    )
    entity = HaEntity(component, unique_id, config, device)
    for key in (
        "state_topic",
        "brightness_state_topic",
        "position_topic",
        "temperature_state_topic",
        "current_temperature_topic",
        "temperature_low_state_topic",
        "temperature_high_state_topic",
        "mode_state_topic",
    ):
        if config.get(key):
            entity.state_topics[config[key]] = key
    return entity


def _value(entity: HaEntity, payload: bytes, template_key: str = "value_template") -> Any:
    text = payload.decode(errors="replace")
    template = entity.get(template_key) or (
        entity.get("state_value_template") if template_key == "value_template" else None
    )
    if entity.component == "light" and entity.get("schema") == "json":
        try:
            return json.loads(text)
        except ValueError:
            return {}
    if isinstance(template, str) and (m := VALUE_JSON.search(template)):
        try:
            return json.loads(text).get(m.group(1))
        except (ValueError, AttributeError):
            return None
    return text


def parse_state(entity: HaEntity, topic: str, payload: bytes, old: DeviceState) -> DeviceState:
    """Merge a state-topic message into the entity's state."""
    role = entity.state_topics.get(topic)
    if entity.component in ha_vacuum_valve.COMPONENTS:
        found = ha_vacuum_valve.parse_state(entity, payload)
        return old.merged(**found) if found else old
    value = _value(entity, payload)
    changes: dict[str, Any] = {}
    on, off = entity.get("payload_on", "ON"), entity.get("payload_off", "OFF")
    if entity.component == "light" and isinstance(value, dict):
        if "state" in value:
            changes["on"] = value["state"] == "ON"
        if "brightness" in value:
            changes["brightness"] = byte_to_percent(
                value["brightness"], entity.get("brightness_scale", 255)
            )
    elif role == "brightness_state_topic":
        changes["brightness"] = byte_to_percent(float(value), entity.get("brightness_scale", 255))
    elif entity.component in ("light", "switch", "fan") and role == "state_topic":
        changes["on"] = str(value) == str(on) if str(value) in (str(on), str(off)) else None
    elif entity.component == "binary_sensor":
        active = str(value) == str(on)
        if entity.device.device_class in ("door", "window", "opening", "garage_door"):
            changes["contact_open"] = active
        else:
            changes["motion"] = active
    elif entity.component == "sensor":
        try:
            number = float(value)
        except (TypeError, ValueError):
            changes["value"] = str(value)
        else:
            if entity.device.device_class == "temperature":
                changes["current_temperature_c"] = number
            elif entity.device.device_class == "humidity":
                changes["humidity"] = number
            else:
                changes["value"] = number
                changes["unit"] = entity.get("unit_of_measurement")
    elif entity.component == "cover":
        if role == "position_topic":
            changes["position"] = int(float(value))
        elif str(value) in ("open", "closed", "opening", "closing"):
            changes["moving"] = str(value) if str(value).endswith("ing") else "stopped"
    elif entity.component == "lock":
        states = {
            str(entity.get("state_locked", "LOCKED")): ("locked", True),
            str(entity.get("state_unlocked", "UNLOCKED")): ("unlocked", False),
            str(entity.get("state_jammed", "JAMMED")): ("jammed", None),
            str(entity.get("state_locking", "LOCKING")): ("locking", None),
            str(entity.get("state_unlocking", "UNLOCKING")): ("unlocking", None),
        }
        # Anything else (an unknown payload) reads as unlocked, as before.
        lock_state, locked = states.get(str(value), ("unlocked", False))
        changes["lock_state"] = lock_state
        changes["locked"] = locked
        if locked is None:
            return old.merged(locked=None, lock_state=lock_state)
    elif entity.component == "climate":
        key = {
            "temperature_state_topic": "target_temperature_c",
            "current_temperature_topic": "current_temperature_c",
            "temperature_low_state_topic": "target_low_c",
            "temperature_high_state_topic": "target_high_c",
        }.get(role or "")
        if key:
            changes[key] = float(value)
        elif role == "mode_state_topic":
            changes["hvac_mode"] = str(value)
    changes = {k: v for k, v in changes.items() if v is not None}
    return old.merged(**changes) if changes else old


def command_messages(entity: HaEntity, command: Command) -> list[tuple[str, str]]:
    """(topic, payload) pairs to publish for a command."""
    action, cfg = command.action, entity.config
    if entity.component in ha_vacuum_valve.COMPONENTS:
        return ha_vacuum_valve.command_messages(entity, command)
    if entity.component == "light" and cfg.get("schema") == "json":
        body: dict[str, Any] = {"state": "OFF" if action == Action.TURN_OFF else "ON"}
        if action == Action.SET_BRIGHTNESS and command.brightness is not None:
            body["brightness"] = percent_to_byte(
                command.brightness, cfg.get("brightness_scale", 255)
            )
        return [(cfg["command_topic"], json.dumps(body))]
    if action in (Action.TURN_ON, Action.TURN_OFF):
        payload = (
            cfg.get("payload_on", "ON")
            if action == Action.TURN_ON
            else cfg.get("payload_off", "OFF")
        )
        return [(cfg["command_topic"], str(payload))]
    if action == Action.SET_BRIGHTNESS and command.brightness is not None:
        return [
            (
                cfg["brightness_command_topic"],
                str(percent_to_byte(command.brightness, cfg.get("brightness_scale", 255))),
            )
        ]
    if action in (Action.OPEN, Action.CLOSE, Action.STOP):
        key = {"open": "payload_open", "close": "payload_close", "stop": "payload_stop"}[
            action.value
        ]
        return [(cfg["command_topic"], str(cfg.get(key, action.value.upper())))]
    if action == Action.SET_POSITION:
        return [(cfg["set_position_topic"], str(command.position))]
    if action in (Action.LOCK, Action.UNLOCK):
        key = "payload_lock" if action == Action.LOCK else "payload_unlock"
        return [(cfg["command_topic"], str(cfg.get(key, action.value.upper())))]
    if action == Action.SET_TEMPERATURE and command.temperature_c is not None:
        return [(cfg["temperature_command_topic"], str(command.temperature_c))]
    if action == Action.SET_TEMPERATURE:  # a range: each end on its own topic
        ends = (
            ("temperature_low_command_topic", command.target_low_c),
            ("temperature_high_command_topic", command.target_high_c),
        )
        return [(cfg[key], str(value)) for key, value in ends if value is not None]
    if action == Action.SET_HVAC_MODE:
        return [(cfg["mode_command_topic"], str(command.hvac_mode))]
    raise ValueError(f"{entity.component} cannot {action.value}")
