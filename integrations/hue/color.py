"""Hue units at the edge: bri 1-254 ↔ %, mired ↔ kelvin, CIE xy / hue-sat ↔ RGB."""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]

# The Hue v1 API accepts colour temperatures between these (mired).
MIRED_MIN, MIRED_MAX = 153, 500
# White in xy, used for black (which has no chromaticity).
WHITE_XY = (0.3227, 0.329)


def bri_to_percent(bri: int) -> int:
    """Hue brightness (1-254) as percent (1-100; never 0 for a lit bulb)."""
    return max(1, min(100, round(bri * 100 / 254)))


def percent_to_bri(percent: int) -> int:
    """Percent (1-100) as Hue brightness (1-254)."""
    return max(1, min(254, round(percent * 254 / 100)))


def mired_to_kelvin(mired: int) -> int:
    """Colour temperature in mired as kelvin."""
    return round(1_000_000 / max(mired, 1))


def kelvin_to_mired(kelvin: int) -> int:
    """Kelvin as mired, clamped to what a Hue bulb accepts."""
    return max(MIRED_MIN, min(MIRED_MAX, round(1_000_000 / kelvin)))


def _linear(channel: float) -> float:
    return ((channel + 0.055) / 1.055) ** 2.4 if channel > 0.04045 else channel / 12.92


def _gamma(channel: float) -> float:
    return 12.92 * channel if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


def rgb_to_xy(rgb: RGB) -> tuple[float, float]:
    """sRGB as CIE 1931 xy (Philips' wide-gamut conversion; brightness is separate)."""
    r, g, b = (_linear(c / 255) for c in rgb)
    x = r * 0.664511 + g * 0.154324 + b * 0.162028
    y = r * 0.283881 + g * 0.668433 + b * 0.047685
    z = r * 0.000088 + g * 0.072310 + b * 0.986039
    total = x + y + z
    if total == 0:
        return WHITE_XY
    return round(x / total, 4), round(y / total, 4)


def xy_to_rgb(x: float, y: float) -> RGB:
    """CIE xy as the brightest sRGB colour of that chromaticity."""
    if y <= 0:
        return (255, 255, 255)
    big_y = 1.0
    big_x = big_y / y * x
    big_z = big_y / y * (1 - x - y)
    r = big_x * 1.656492 - big_y * 0.354851 - big_z * 0.255038
    g = -big_x * 0.707196 + big_y * 1.655397 + big_z * 0.036152
    b = big_x * 0.051713 - big_y * 0.121364 + big_z * 1.011530
    channels = [max(0.0, c) for c in (r, g, b)]
    peak = max(channels) or 1.0
    out = [round(max(0.0, min(1.0, _gamma(c / peak))) * 255) for c in channels]
    return out[0], out[1], out[2]


def hs_to_rgb(hue: int, sat: int) -> RGB:
    """Hue's hue (0-65535) and saturation (0-254) as full-brightness RGB."""
    r, g, b = colorsys.hsv_to_rgb(hue / 65535, sat / 254, 1.0)
    return round(r * 255), round(g * 255), round(b * 255)
