"""Words for the home's state: colours, temperatures in the owner's units, state phrases.

Shared by the device tools (for the model) and the local fast path (for the
owner), so both describe the house the same way.
"""

from __future__ import annotations

import re

from agent.devices import Device, DeviceState, Kind

COLORS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "red": (255, 0, 0),
    "orange": (255, 140, 0),
    "amber": (255, 191, 0),
    "yellow": (255, 230, 0),
    "green": (0, 200, 0),
    "lime": (150, 255, 0),
    "teal": (0, 160, 160),
    "cyan": (0, 255, 255),
    "turquoise": (64, 224, 208),
    "blue": (0, 60, 255),
    "purple": (140, 0, 255),
    "violet": (180, 90, 255),
    "magenta": (255, 0, 255),
    "pink": (255, 105, 180),
    "brown": (150, 75, 0),
    "gold": (255, 200, 60),
}
WHITES: dict[str, int] = {
    "candle light": 1900,
    "candlelight": 1900,
    "warm": 2700,
    "warm white": 2700,
    "soft white": 2700,
    "neutral": 4000,
    "neutral white": 4000,
    "cool": 4000,
    "cool white": 4000,
    "cold white": 4000,
    "daylight": 6500,
    "day light": 6500,
}


def parse_color(text: str) -> tuple[int, int, int] | int:
    """An RGB triple for a colour name or #hex, or kelvin for a shade of white."""
    value = text.strip().lower()
    if value in WHITES:
        return WHITES[value]
    if value in COLORS:
        return COLORS[value]
    if re.fullmatch(r"#?[0-9a-f]{6}", value):
        raw = value.lstrip("#")
        return (int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16))
    match = re.fullmatch(r"(\d{4,5})\s*k(elvin)?", value)
    if match:
        return int(match.group(1))
    raise ValueError(
        f"unknown colour {text!r} (use a name like red or warm white, #rrggbb, or 2700K)"
    )


def color_name(rgb: tuple[int, int, int]) -> str:
    """The nearest named colour (for telling the owner)."""
    return min(COLORS, key=lambda n: sum((a - b) ** 2 for a, b in zip(COLORS[n], rgb, strict=True)))


def to_celsius(value: float, units: str) -> float:
    """A temperature the owner said (in their units) in °C."""
    return round((value - 32) * 5 / 9, 1) if units == "imperial" else float(value)


def from_celsius(value: float, units: str) -> float:
    """A °C temperature in the owner's units."""
    return round(value * 9 / 5 + 32) if units == "imperial" else round(value, 1)


def degrees(value_c: float, units: str) -> str:
    """A °C temperature as the owner reads it ("68°F", "20.5°C")."""
    shown = from_celsius(value_c, units)
    text = f"{shown:g}"
    return f"{text}°F" if units == "imperial" else f"{text}°C"


def value_phrase(value: float | str, unit: str | None) -> str:
    """A raw reading with its unit ("42 hPa", "48%", "on")."""
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    if not unit:
        return shown
    return f"{shown}{unit}" if unit.startswith(("°", "%")) else f"{shown} {unit}"


def state_phrase(device: Device, units: str) -> str:
    """A short phrase for a device's live state ("on, 40%", "locked", "heat to 68°F")."""
    if not device.available:
        return "unavailable"
    s: DeviceState = device.state
    parts: list[str] = []
    if device.kind == Kind.LOCK:
        return s.lock_state or (
            "locked" if s.locked else "unlocked" if s.locked is False else "unknown"
        )
    if device.kind == Kind.ALARM:
        return s.alarm_state or "unknown"
    if device.kind == Kind.VACUUM:
        parts.append(s.activity or "unknown")
        if s.battery is not None:
            parts.append(f"battery {s.battery}%")
        return ", ".join(parts)
    if device.kind in (Kind.COVER, Kind.VALVE):
        if s.position is not None:
            return (
                "closed"
                if s.position == 0
                else "open"
                if s.position == 100
                else f"{s.position}% open"
            )
        if s.contact_open is not None:
            return "open" if s.contact_open else "closed"
        return s.moving or "unknown"
    if device.kind == Kind.CLIMATE:
        parts.append(s.hvac_mode or ("on" if s.on else "off" if s.on is False else "unknown"))
        if s.target_temperature_c is not None:
            parts.append(f"set to {degrees(s.target_temperature_c, units)}")
        if s.target_low_c is not None and s.target_high_c is not None:
            low, high = degrees(s.target_low_c, units), degrees(s.target_high_c, units)
            parts.append(f"heat to {low}, cool to {high}")
        if s.current_temperature_c is not None:
            parts.append(f"now {degrees(s.current_temperature_c, units)}")
        return ", ".join(parts)
    if device.kind == Kind.SPEAKER:
        parts.append(s.playback or "idle")
        if s.media_title:
            parts.append(f"“{s.media_title}”" + (f" by {s.media_artist}" if s.media_artist else ""))
        if s.volume is not None:
            parts.append(f"volume {s.volume}%")
        return ", ".join(parts)
    if device.kind == Kind.SENSOR:
        if s.current_temperature_c is not None:
            parts.append(degrees(s.current_temperature_c, units))
        if s.humidity is not None:
            parts.append(f"{s.humidity:g}% humidity")
        if s.motion is not None:
            parts.append("motion" if s.motion else "no motion")
        if s.contact_open is not None:
            parts.append("open" if s.contact_open else "closed")
        temperature_unit = (s.unit or "").lstrip("°").upper() in ("C", "F", "K")
        if s.value is not None and not (temperature_unit and s.current_temperature_c is not None):
            # One reading, in the owner's units: not "79°F, 26.11°C" for a pool.
            parts.append(value_phrase(s.value, s.unit))
        if s.illuminance is not None:
            parts.append(f"{s.illuminance:g} lx")
        if s.power_w is not None:
            parts.append(f"{s.power_w:g} W")
        if s.battery is not None and (s.battery < 20 or not parts):
            parts.append(f"battery {s.battery}%")
        return ", ".join(parts) or "no reading"
    if s.on is None:
        return "unknown"
    if not s.on:
        return "off"
    parts.append("on")
    if s.brightness is not None:
        parts.append(f"{s.brightness}%")
    if s.color is not None:
        parts.append(color_name(s.color))
    elif s.color_temp_k is not None:
        parts.append(f"{s.color_temp_k}K")
    if s.power_w is not None:
        parts.append(f"{s.power_w:g} W")
    return ", ".join(parts)
