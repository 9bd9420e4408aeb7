"""Home Assistant entities ↔ homeclaw devices: kinds, features, states and services.

Pure functions over HA state objects (no I/O). Temperatures are normalised at
this edge: HA reports climate and water-heater temperatures in its unit system
(from `get_config`), sensors in their own `unit_of_measurement`; homeclaw keeps
°C inside.
"""

from __future__ import annotations

from typing import Any

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import UnsupportedCommand
from integrations.homeassistant import vacuum_valve

INTEGRATION = "homeassistant"

DOMAIN_KINDS: dict[str, Kind] = {
    "light": Kind.LIGHT,
    "switch": Kind.SWITCH,
    "input_boolean": Kind.SWITCH,
    "fan": Kind.FAN,
    "climate": Kind.CLIMATE,
    "water_heater": Kind.CLIMATE,
    "cover": Kind.COVER,
    "lock": Kind.LOCK,
    "alarm_control_panel": Kind.ALARM,
    "media_player": Kind.SPEAKER,
    "sensor": Kind.SENSOR,
    "binary_sensor": Kind.SENSOR,
    "vacuum": Kind.VACUUM,
    "valve": Kind.VALVE,
}

_COLOR_MODES = {"hs", "xy", "rgb", "rgbw", "rgbww"}
# media_player supported_features bits (MediaPlayerEntityFeature).
_MP_PAUSE, _MP_VOLUME_SET, _MP_MUTE, _MP_PREV, _MP_NEXT = 1, 4, 8, 16, 32
_MP_ON, _MP_OFF, _MP_PLAY_MEDIA, _MP_PLAY = 128, 256, 512, 16384
# climate supported_features bits (ClimateEntityFeature): one setpoint, a low/high range.
_CLIMATE_TARGET, _CLIMATE_RANGE = 1, 2
_PLAYBACK = {"playing": "playing", "paused": "paused", "idle": "stopped", "on": "stopped"}
_ARM_SERVICES = {
    "home": "alarm_arm_home",
    "away": "alarm_arm_away",
    "night": "alarm_arm_night",
    "vacation": "alarm_arm_vacation",
}
_SWITCHABLE = {"light", "switch", "input_boolean", "fan", "climate", "water_heater", "media_player"}
_HEATERS = {"climate", "water_heater"}
# Which domains each action can reach (anything else is refused before any call).
_ACTION_DOMAINS: dict[Action, set[str]] = {
    Action.TURN_ON: _SWITCHABLE,
    Action.TURN_OFF: _SWITCHABLE,
    Action.TOGGLE: _SWITCHABLE,
    Action.SET_BRIGHTNESS: {"light", "fan"},
    Action.SET_COLOR: {"light"},
    Action.SET_COLOR_TEMP: {"light"},
    Action.SET_TEMPERATURE: _HEATERS,
    Action.SET_HVAC_MODE: _HEATERS,
    Action.ACTIVATE_PRESET: _HEATERS,
    Action.SET_POSITION: {"cover"},
    Action.OPEN: {"cover"},
    Action.CLOSE: {"cover"},
    Action.STOP: {"cover"},
    Action.LOCK: {"lock"},
    Action.UNLOCK: {"lock"},
    Action.ARM: {"alarm_control_panel"},
    Action.DISARM: {"alarm_control_panel"},
    Action.PLAY: {"media_player"},
    Action.PAUSE: {"media_player"},
    Action.NEXT: {"media_player"},
    Action.PREVIOUS: {"media_player"},
    Action.SET_VOLUME: {"media_player"},
    Action.MUTE: {"media_player"},
    Action.PLAY_MEDIA: {"media_player"},
}
_MOTION_CLASSES = {"motion", "occupancy", "presence", "moving"}
_CONTACT_CLASSES = {"door", "window", "opening", "garage_door"}


def domain_of(entity_id: str) -> str:
    """The domain part of an entity id."""
    return entity_id.split(".", 1)[0]


def to_celsius(value: Any, unit: str | None) -> float | None:
    """A temperature in °C from HA's value and unit (None if not a number)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if unit in ("°F", "F"):
        number = (number - 32) * 5 / 9
    elif unit in ("K",):
        number -= 273.15
    return round(number, 2)


def from_celsius(value: float, unit: str) -> float:
    """A °C value in HA's unit, rounded to the tenth HA expects.

    °F setpoints come from whole °F said or clicked, carried as °C to a tenth:
    back within 0.15 of a whole degree means that whole degree (21.7 °C → 71, not 71.1).
    """
    if unit != "°F":
        return round(value, 1)
    fahrenheit = value * 9 / 5 + 32
    whole = round(fahrenheit)
    return float(whole) if abs(fahrenheit - whole) < 0.15 else round(fahrenheit, 1)


def _sf(attrs: dict[str, Any]) -> int:
    try:
        return int(attrs.get("supported_features") or 0)
    except (TypeError, ValueError):
        return 0


def features(domain: str, attrs: dict[str, Any]) -> frozenset[Feature]:
    """What the entity can do, from its domain and advertised features."""
    if domain in vacuum_valve.DOMAINS:
        return vacuum_valve.features(domain, attrs)
    found: set[Feature] = set()
    sf = _sf(attrs)
    if domain in ("light", "switch", "input_boolean", "fan"):
        found.add(Feature.ON_OFF)
    if domain == "light":
        modes = set(attrs.get("supported_color_modes") or [])
        if modes - {"onoff"}:
            found.add(Feature.BRIGHTNESS)
        if modes & _COLOR_MODES:
            found.add(Feature.COLOR)
        if "color_temp" in modes:
            found.add(Feature.COLOR_TEMP)
    elif domain == "fan" and sf & 1:
        found.add(Feature.BRIGHTNESS)  # fan speed percent is driven like brightness
    elif domain == "climate":
        found |= {Feature.HVAC_MODE, Feature.ON_OFF}
        if sf & _CLIMATE_TARGET:
            found.add(Feature.TARGET_TEMPERATURE)
        if sf & _CLIMATE_RANGE:
            found.add(Feature.TARGET_TEMPERATURE_RANGE)
        if attrs.get("preset_modes"):
            found.add(Feature.PRESET)
    elif domain == "water_heater":
        found |= {Feature.HVAC_MODE, Feature.ON_OFF}
        if sf & 1:
            found.add(Feature.TARGET_TEMPERATURE)
        if attrs.get("operation_list"):
            found.add(Feature.PRESET)
    elif domain == "cover":
        if sf & 3 or not sf:
            found.add(Feature.OPEN_CLOSE)
        if sf & 4:
            found.add(Feature.POSITION)
    elif domain == "lock":
        found.add(Feature.LOCK)
    elif domain == "alarm_control_panel":
        found.add(Feature.ALARM)
    elif domain == "media_player":
        if sf & (_MP_PLAY | _MP_PAUSE):
            found.add(Feature.PLAYBACK)
        if sf & (_MP_NEXT | _MP_PREV):
            found.add(Feature.TRACKS)
        if sf & _MP_VOLUME_SET:
            found.add(Feature.VOLUME)
        if sf & _MP_MUTE:
            found.add(Feature.MUTE)
        if sf & _MP_PLAY_MEDIA:
            found.add(Feature.PLAY_MEDIA)
        if sf & (_MP_ON | _MP_OFF):
            found.add(Feature.ON_OFF)
    return frozenset(found)


def device_class(domain: str, entity_id: str, attrs: dict[str, Any]) -> str | None:
    """HA's device class, or a homeclaw one that lets names like "thermostat" narrow."""
    if attrs.get("device_class"):
        return str(attrs["device_class"])
    if domain == "water_heater":
        return "water_heater"
    if domain == "climate":
        text = f"{entity_id} {attrs.get('friendly_name', '')}".lower()
        return "heater" if any(w in text for w in ("pool", "spa", "tub")) else "thermostat"
    return None


def device_state(domain: str, state: str, attrs: dict[str, Any], temp_unit: str) -> DeviceState:
    """The normalised snapshot of one HA state object."""
    s: dict[str, Any] = {}
    if domain in vacuum_valve.DOMAINS:
        s.update(vacuum_valve.state_fields(domain, state, attrs))
    elif domain in ("light", "switch", "input_boolean", "fan"):
        s["on"] = state == "on"
        if domain == "light" and attrs.get("brightness") is not None:
            s["brightness"] = round(int(attrs["brightness"]) * 100 / 255)
        if domain == "fan" and attrs.get("percentage") is not None:
            s["brightness"] = int(attrs["percentage"])
        if attrs.get("rgb_color"):
            s["color"] = tuple(int(c) for c in attrs["rgb_color"][:3])
        if attrs.get("color_temp_kelvin"):
            s["color_temp_k"] = int(attrs["color_temp_kelvin"])
    elif domain in ("climate", "water_heater"):
        s["on"] = state != "off"
        s["hvac_mode"] = state if domain == "climate" else ("off" if state == "off" else "heat")
        s["hvac_action"] = attrs.get("hvac_action")
        s["target_temperature_c"] = to_celsius(attrs.get("temperature"), temp_unit)
        s["target_low_c"] = to_celsius(attrs.get("target_temp_low"), temp_unit)
        s["target_high_c"] = to_celsius(attrs.get("target_temp_high"), temp_unit)
        s["current_temperature_c"] = to_celsius(attrs.get("current_temperature"), temp_unit)
        s["humidity"] = attrs.get("current_humidity")
        s["preset"] = attrs.get("operation_mode") if domain == "water_heater" else None
        s["preset"] = s["preset"] or attrs.get("preset_mode")
    elif domain == "cover":
        position = attrs.get("current_position")
        if position is None and state in ("open", "closed"):
            position = 100 if state == "open" else 0
        s["position"] = position
        s["moving"] = state if state in ("opening", "closing") else None
        s["contact_open"] = state != "closed" if state in ("open", "closed") else None
    elif domain == "lock":
        # jammed, locking, unlocking: neither locked nor unlocked (lock_state says which).
        s["locked"] = {"locked": True, "unlocked": False, "open": False}.get(state)
        s["lock_state"] = state
    elif domain == "alarm_control_panel":
        s["alarm_state"] = state
    elif domain == "media_player":
        s["on"] = state != "off"
        s["playback"] = _PLAYBACK.get(state, state)
        if attrs.get("volume_level") is not None:
            s["volume"] = round(float(attrs["volume_level"]) * 100)
        s["muted"] = attrs.get("is_volume_muted")
        s["media_title"] = attrs.get("media_title")
        s["media_artist"] = attrs.get("media_artist")
        s["media_source"] = attrs.get("source") or attrs.get("media_content_id")
    elif domain == "sensor":
        s.update(_sensor(state, attrs))
    elif domain == "binary_sensor":
        cls = attrs.get("device_class")
        if cls in _MOTION_CLASSES:
            s["motion"] = state == "on"
        elif cls in _CONTACT_CLASSES:
            s["contact_open"] = state == "on"
        else:
            s["value"] = state
    return DeviceState.model_validate({k: v for k, v in s.items() if v is not None})


def _sensor(state: str, attrs: dict[str, Any]) -> dict[str, Any]:
    unit = attrs.get("unit_of_measurement")
    cls = attrs.get("device_class")
    try:
        number: float | None = float(state)
    except ValueError:
        number = None
    if cls == "temperature" and number is not None:
        celsius = to_celsius(number, unit)
        return {"current_temperature_c": celsius, "value": celsius, "unit": "°C"}
    out: dict[str, Any] = {"value": number if number is not None else state, "unit": unit}
    if number is not None:
        if cls == "humidity":
            out["humidity"] = number
        elif cls == "battery":
            out["battery"] = round(number)
        elif cls == "illuminance":
            out["illuminance"] = number
        elif cls == "power":
            out["power_w"] = number * 1000 if unit == "kW" else number
    return out


def to_device(ha_state: dict[str, Any], area: str | None, temp_unit: str) -> Device | None:
    """A homeclaw Device for an HA state object (None for domains homeclaw does not use)."""
    entity_id = str(ha_state["entity_id"])
    domain = domain_of(entity_id)
    kind = DOMAIN_KINDS.get(domain)
    if kind is None:
        return None
    attrs = ha_state.get("attributes") or {}
    raw_state = str(ha_state.get("state"))
    return Device(
        id=f"{INTEGRATION}:{entity_id}",
        name=str(attrs.get("friendly_name") or entity_id.split(".", 1)[1].replace("_", " ")),
        kind=kind,
        integration=INTEGRATION,
        area=area,
        features=features(domain, attrs),
        device_class=device_class(domain, entity_id, attrs),
        state=device_state(domain, raw_state, attrs, temp_unit),
        available=raw_state not in ("unavailable", "unknown") or domain in ("sensor",),
        info=_info(entity_id, attrs, temp_unit),
        hvac_modes=hvac_modes(domain, attrs),
    )


def _info(entity_id: str, attrs: dict[str, Any], temp_unit: str) -> dict[str, Any]:
    """The entity id, and a thermostat's setpoint range in °C (the local path checks it)."""
    info: dict[str, Any] = {"entity_id": entity_id}
    low, high = (
        to_celsius(attrs.get("min_temp"), temp_unit),
        to_celsius(attrs.get("max_temp"), temp_unit),
    )
    if low is not None and high is not None:
        info["min_temp_c"], info["max_temp_c"] = low, high
    return info


def hvac_modes(domain: str, attrs: dict[str, Any]) -> tuple[str, ...]:
    """The HVAC modes the entity declares (a water heater is off or heating)."""
    if domain == "water_heater":
        return ("off", "heat")
    if domain != "climate":
        return ()
    return tuple(str(m) for m in attrs.get("hvac_modes") or ())


def _setpoints(device: Device, command: Command, temp_unit: str) -> dict[str, Any]:
    """set_temperature's data: one `temperature`, or both range ends (HA wants the pair)."""
    if command.temperature_c is not None:
        return {"temperature": from_celsius(command.temperature_c, temp_unit)}
    low = command.target_low_c if command.target_low_c is not None else device.state.target_low_c
    high = (
        command.target_high_c if command.target_high_c is not None else device.state.target_high_c
    )
    if low is None or high is None:
        raise UnsupportedCommand(f"{device.name} needs both a heating and a cooling setpoint.")
    if low > high:
        raise UnsupportedCommand(f"{device.name}: heat-to must not be above cool-to.")
    return {
        "target_temp_low": from_celsius(low, temp_unit),
        "target_temp_high": from_celsius(high, temp_unit),
    }


def service_call(
    device: Device,
    command: Command,
    temp_unit: str,
    *,
    alarm_code: str | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """(domain, service, service_data) that carries out a command on an entity."""
    entity_id = str(device.info["entity_id"])
    domain = domain_of(entity_id)
    a = command.action
    data: dict[str, Any] = {}
    service: str | None = None
    if domain in vacuum_valve.DOMAINS:
        service, data = vacuum_valve.service(device, domain, command)
        return domain, service, data
    if domain not in _ACTION_DOMAINS.get(a, set()):
        raise UnsupportedCommand(f"{device.name} can't {a.value.replace('_', ' ')}.")
    if a in (Action.TURN_ON, Action.TURN_OFF, Action.TOGGLE):
        service = a.value
        if domain == "water_heater" and a is Action.TOGGLE:
            service = "turn_off" if device.state.on else "turn_on"
    elif a is Action.SET_BRIGHTNESS and domain == "fan":
        service, data = "set_percentage", {"percentage": command.brightness}
    elif a is Action.SET_BRIGHTNESS:
        service, data = "turn_on", {"brightness_pct": command.brightness}
    elif a is Action.SET_COLOR:
        service, data = "turn_on", {"rgb_color": list(command.color or ())}
    elif a is Action.SET_COLOR_TEMP:
        service, data = "turn_on", {"color_temp_kelvin": command.color_temp_k}
    elif a is Action.SET_TEMPERATURE:
        service, data = "set_temperature", _setpoints(device, command, temp_unit)
    elif a is Action.SET_HVAC_MODE and domain == "climate":
        service, data = "set_hvac_mode", {"hvac_mode": command.hvac_mode}
    elif a is Action.SET_HVAC_MODE:
        service = "turn_off" if command.hvac_mode == "off" else "turn_on"
    elif a is Action.ACTIVATE_PRESET and domain == "water_heater":
        service, data = "set_operation_mode", {"operation_mode": command.preset}
    elif a is Action.ACTIVATE_PRESET:
        service, data = "set_preset_mode", {"preset_mode": command.preset}
    elif a is Action.SET_POSITION:
        service, data = "set_cover_position", {"position": command.position}
    elif a in (Action.OPEN, Action.CLOSE, Action.STOP):
        service = f"{a.value}_cover"
    elif a in (Action.LOCK, Action.UNLOCK):
        service = a.value
    elif a is Action.ARM:
        service = _ARM_SERVICES[command.arm_mode or "away"]
    elif a is Action.DISARM:
        service = "alarm_disarm"
    elif a in (Action.PLAY, Action.PAUSE):
        service = f"media_{a.value}"
    elif a in (Action.NEXT, Action.PREVIOUS):
        service = f"media_{a.value}_track"
    elif a is Action.SET_VOLUME:
        service, data = "volume_set", {"volume_level": (command.volume or 0) / 100}
    elif a is Action.MUTE:
        service, data = "volume_mute", {"is_volume_muted": command.muted}
    elif a is Action.PLAY_MEDIA:
        service = "play_media"
        data = {"media_content_id": command.media, "media_content_type": "music"}
    if service is None:  # unreachable while _ACTION_DOMAINS and the branches agree
        raise UnsupportedCommand(f"{device.name} can't {a.value.replace('_', ' ')}.")
    if alarm_code and domain in ("alarm_control_panel", "lock"):
        data["code"] = alarm_code
    return domain, service, data
