"""Colour conversions at the edge: CIE xy and mireds ↔ the RGB and kelvin we keep."""

from __future__ import annotations


def mired_to_kelvin(mired: float) -> int:
    """Mireds (what Zigbee and Hue speak) to kelvin."""
    return round(1_000_000 / max(mired, 1))


def kelvin_to_mired(kelvin: float) -> int:
    """Kelvin to mireds."""
    return round(1_000_000 / max(kelvin, 1))


def _gamma(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _ungamma(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def rgb_to_xy(r: int, g: int, b: int) -> tuple[float, float]:
    """sRGB (0-255) to CIE 1931 xy (sRGB D65 primaries)."""
    rl, gl, bl = (_gamma(c / 255) for c in (r, g, b))
    x = rl * 0.4124 + gl * 0.3576 + bl * 0.1805
    y = rl * 0.2126 + gl * 0.7152 + bl * 0.0722
    z = rl * 0.0193 + gl * 0.1192 + bl * 0.9505
    total = x + y + z
    if total == 0:
        return (0.3127, 0.3290)  # white point for black
    return (round(x / total, 4), round(y / total, 4))


def xy_to_rgb(x: float, y: float, brightness: float = 1.0) -> tuple[int, int, int]:
    """CIE xy (+ relative brightness) back to sRGB 0-255, normalised to the brightest channel."""
    if y <= 0:
        return (255, 255, 255)
    big_y = brightness
    big_x = big_y / y * x
    big_z = big_y / y * (1 - x - y)
    r = big_x * 3.2406 - big_y * 1.5372 - big_z * 0.4986
    g = -big_x * 0.9689 + big_y * 1.8758 + big_z * 0.0415
    b = big_x * 0.0557 - big_y * 0.2040 + big_z * 1.0570
    rgb = [max(0.0, _ungamma(max(c, 0.0))) for c in (r, g, b)]
    peak = max(rgb) or 1.0
    return (
        round(rgb[0] / peak * 255),
        round(rgb[1] / peak * 255),
        round(rgb[2] / peak * 255),
    )


def percent_to_byte(percent: float, top: int = 254) -> int:
    """0-100 % to 0..top (Zigbee brightness is 0-254, WLED 0-255)."""
    return round(max(0.0, min(100.0, percent)) * top / 100)


def byte_to_percent(value: float, top: int = 254) -> int:
    """0..top to 0-100 %, never rounding a lit light down to 0."""
    percent = round(max(0.0, min(float(top), value)) * 100 / top)
    return 1 if value > 0 and percent == 0 else percent
