"""Plain state words ("open", "on", "motion") and numbers read from device state snapshots."""

from __future__ import annotations

from typing import Any

# word → (state field, value meaning "in that state")
STATE_WORDS: dict[str, tuple[str, Any]] = {
    "on": ("on", True),
    "off": ("on", False),
    "open": ("contact_open", True),
    "opened": ("contact_open", True),
    "closed": ("contact_open", False),
    "motion": ("motion", True),
    "detected": ("motion", True),
    "clear": ("motion", False),
    "locked": ("locked", True),
    "unlocked": ("locked", False),
    "playing": ("playback", "playing"),
    "paused": ("playback", "paused"),
    "stopped": ("playback", "stopped"),
    "heating": ("hvac_action", "heating"),
    "armed": ("alarm_state", "armed"),
    "disarmed": ("alarm_state", "disarmed"),
    "triggered": ("alarm_state", "triggered"),
    "offline": ("available", False),
    "unavailable": ("available", False),
}

# Which number a threshold reads when none is named, in order of preference.
NUMERIC_FIELDS = (
    "current_temperature_c",
    "humidity",
    "value",
    "power_w",
    "illuminance",
    "battery",
    "brightness",
    "position",
)

# What people call the numbers in a state snapshot.
ATTRIBUTE_NAMES = {
    "temperature": "current_temperature_c",
    "temp": "current_temperature_c",
    "power": "power_w",
    "setpoint": "target_temperature_c",
}


def in_state(state: dict[str, Any] | None, word: str, available: bool = True) -> bool | None:
    """Whether a state snapshot (as JSON) is in the named state; None if it can't tell."""
    field, wanted = STATE_WORDS[word.lower()]
    if field == "available":
        return available is wanted
    if state is None:
        return None
    # Covers report "open" through their position, contact sensors through contact_open.
    if field == "contact_open" and "contact_open" not in state:
        if "position" in state:
            return (state["position"] > 0) is wanted
        if state.get("lock_state") in ("open", "opening"):
            return wanted is True
        return None
    if field == "on" and "on" not in state and "hvac_mode" in state:
        # Heaters and thermostats are "on" when their mode is anything but off.
        return (state["hvac_mode"] != "off") is wanted
    if field == "alarm_state" and wanted == "armed":
        value = state.get("alarm_state")
        return None if value is None else str(value).startswith("armed")
    if field not in state:
        return None
    return bool(state[field] == wanted)


def number(state: dict[str, Any] | None, attribute: str | None) -> float | None:
    """The number a threshold compares against, or None."""
    if not state:
        return None
    attribute = ATTRIBUTE_NAMES.get(attribute or "", attribute)
    fields = (attribute,) if attribute else NUMERIC_FIELDS
    for name in fields:
        value = state.get(name) if name else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
    return None
