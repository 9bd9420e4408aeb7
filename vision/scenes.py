"""Scripted outdoor scenes rendered with OpenCV, with ground truth per frame.

Every clip shows the same driveway (lawn, a tree whose foliage sways, a house
with a door, sensor noise); some add a real event (a delivery truck pulling in,
a person walking to the door) and others only the classic false alarms of an
outdoor camera (rain, a cloud's shadow, a headlight sweep at night). Labels per
frame: 1 = something is moving, 0 = nothing happens, -1 = don't care (an object
that has stopped: a detector may or may not still see it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

FPS = 10.0
LAYOUT = 1  # seed of the driveway and tree shared by all scenes
MOVING, STILL, DONT_CARE = 1, 0, -1


@dataclass(frozen=True)
class Clip:
    """A rendered clip: BGR frames, per-frame labels, and what an alert should say."""

    name: str
    frames: list[np.ndarray]
    labels: list[int]
    expect_event: bool
    truth: dict[str, object] = field(default_factory=dict)
    fps: float = FPS


@lru_cache(maxsize=8)
def _driveway(w: int, h: int, seed: int) -> np.ndarray:
    """The static background (without foliage), float32 BGR 0..255."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    horizon = int(h * 0.35)
    for y in range(horizon):  # sky gradient
        t = y / max(horizon, 1)
        img[y, :] = (235 - 40 * t, 200 - 20 * t, 150 + 10 * t)
    img[horizon:, :] = (70, 140, 80)  # lawn
    lawn_tex = rng.normal(0, 10, (h - horizon, w, 1)).astype(np.float32)
    img[horizon:] += cv2.GaussianBlur(lawn_tex, (3, 3), 0)[..., None]
    drive = np.array(
        [[int(w * 0.15), h], [int(w * 0.45), horizon + 8], [int(w * 0.62), horizon + 8], [w, h]],
        np.int32,
    )
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [drive], 255)
    asphalt = 105 + rng.normal(0, 7, (h, w)).astype(np.float32)
    for c in range(3):
        img[..., c] = np.where(mask > 0, asphalt, img[..., c])
    # The house with its front door on the right.
    x0, y0 = int(w * 0.70), int(h * 0.12)
    cv2.rectangle(img, (x0, y0), (w - 1, horizon + int(h * 0.12)), (150, 170, 200), -1)
    door = (int(w * 0.80), int(h * 0.22), int(w * 0.86), horizon + int(h * 0.12))
    cv2.rectangle(img, door[:2], door[2:], (40, 60, 120), -1)
    cv2.rectangle(
        img, (int(w * 0.90), int(h * 0.2)), (int(w * 0.97), int(h * 0.3)), (90, 80, 60), -1
    )
    return img


def _foliage(img: np.ndarray, t: float, wind: float, seed: int) -> None:
    """Draw a tree whose canopy sways with the wind (in place)."""
    h, w = img.shape[:2]
    rng = np.random.default_rng(seed + 7)
    trunk_x = int(w * 0.08)
    cv2.rectangle(img, (trunk_x - 4, int(h * 0.3)), (trunk_x + 4, int(h * 0.62)), (40, 60, 80), -1)
    for _ in range(28):
        bx = trunk_x + rng.normal(0, w * 0.05)
        by = h * 0.22 + rng.normal(0, h * 0.06)
        sway = wind * np.sin(2 * np.pi * (0.6 + 0.2 * rng.random()) * t + rng.random() * 6)
        r = int(max(3, w * (0.015 + 0.015 * rng.random())))
        shade = 50 + 50 * rng.random()
        center = (int(bx + sway * w * 0.012), int(by + sway * h * 0.006))
        cv2.circle(img, center, r, (30, shade + 40, 30), -1)


def _box_truck(img: np.ndarray, x: float, y_ground: float, scale: float) -> tuple[int, ...]:
    """A white box truck with a two-colour carrier logo; returns its bounding box."""
    bw, bh = int(150 * scale), int(70 * scale)
    x0, y1 = int(x), int(y_ground)
    y0 = y1 - bh
    cv2.rectangle(img, (x0, y0), (x0 + bw, y1 - int(12 * scale)), (245, 245, 245), -1)
    cv2.rectangle(img, (x0, y0), (x0 + bw, y1 - int(12 * scale)), (60, 60, 60), 1)
    cab = (x0 + bw, y0 + int(22 * scale), x0 + bw + int(40 * scale), y1 - int(10 * scale))
    cv2.rectangle(img, cab[:2], cab[2:], (235, 235, 235), -1)
    cv2.rectangle(
        img, (cab[0] + 6, cab[1] + 4), (cab[2] - 4, cab[1] + int(18 * scale)), (90, 70, 50), -1
    )
    font, fs, th = cv2.FONT_HERSHEY_DUPLEX, 1.1 * scale, max(1, int(2 * scale))
    tx, ty = x0 + int(18 * scale), y0 + int(45 * scale)
    cv2.putText(img, "Fed", (tx, ty), font, fs, (120, 30, 80), th)  # purple (BGR)
    (fw, _), _ = cv2.getTextSize("Fed", font, fs, th)
    cv2.putText(img, "Ex", (tx + fw, ty), font, fs, (0, 100, 255), th)  # orange
    for wx in (x0 + int(25 * scale), x0 + bw + int(20 * scale)):
        cv2.circle(img, (wx, y1 - int(8 * scale)), int(10 * scale), (25, 25, 25), -1)
    return (x0, y0, cab[2], y1)


def _person(img: np.ndarray, x: float, y_feet: float, scale: float, phase: float) -> None:
    """A walking person (head, coat, swinging legs)."""
    x, y = int(x), int(y_feet)
    hh = int(60 * scale)
    leg = int(np.sin(phase) * 8 * scale)
    cv2.line(img, (x, y - hh // 2), (x - leg, y), (60, 40, 30), max(2, int(5 * scale)))
    cv2.line(img, (x, y - hh // 2), (x + leg, y), (60, 40, 30), max(2, int(5 * scale)))
    cv2.rectangle(
        img, (x - int(9 * scale), y - hh), (x + int(9 * scale), y - hh // 2), (40, 40, 170), -1
    )
    cv2.circle(img, (x, y - hh - int(8 * scale)), max(2, int(7 * scale)), (120, 160, 210), -1)


def _finish(img: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Add sensor noise and quantise to uint8 BGR."""
    img = img + rng.normal(0, noise, img.shape[:2])[..., None].astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


Painter = Callable[[np.ndarray, int, float], int]


def _render(
    name: str,
    n: int,
    w: int,
    h: int,
    seed: int,
    painter: Painter,
    *,
    wind: float = 2.0,
    noise: float = 3.0,
    night: bool = False,
    expect: bool = False,
    truth: dict[str, object] | None = None,
) -> Clip:
    rng = np.random.default_rng(seed + 1000)
    frames: list[np.ndarray] = []
    labels: list[int] = []
    # Every scene shows the same driveway and tree (so a camera can cut between
    # scenes without a seam); only the noise and the events differ.
    base = _driveway(w, h, LAYOUT)
    for i in range(n):
        img = base.copy()
        t = i / FPS
        _foliage(img, t, wind, LAYOUT)
        label = painter(img, i, t)
        if night:
            img *= 0.12
        frames.append(_finish(img, rng, noise * (2.0 if night else 1.0)))
        labels.append(label)
    return Clip(name, frames, labels, expect, truth or {})


def foliage(w: int = 640, h: int = 360, n: int = 60, seed: int = 1) -> Clip:
    """Swaying foliage and sensor noise; nothing happens."""
    return _render("foliage", n, w, h, seed, lambda img, i, t: STILL)


def truck(w: int = 640, h: int = 360, n: int = 60, seed: int = 2) -> Clip:
    """A FedEx-like box truck pulls into the driveway and stops."""
    scale = w / 640
    enter, stop = int(n * 0.35), int(n * 0.75)

    def paint(img: np.ndarray, i: int, t: float) -> int:
        if i < enter:
            return STILL
        k = min(1.0, (i - enter) / max(stop - enter, 1))
        eased = 1 - (1 - k) ** 2  # decelerates to a stop
        x = -200 * scale + eased * (w * 0.48)
        _box_truck(img, x, h * 0.82, scale)
        return MOVING if i < stop else DONT_CARE

    truth: dict[str, object] = {
        "labels": ["vehicle"],
        "carrier": "FedEx",
        "title": "FedEx truck pulled up",
    }
    return _render("truck", n, w, h, seed, paint, expect=True, truth=truth)


def person(w: int = 640, h: int = 360, n: int = 60, seed: int = 3) -> Clip:
    """Someone walks up the driveway to the front door and waits."""
    scale = w / 640
    enter, arrive = int(n * 0.35), int(n * 0.85)

    def paint(img: np.ndarray, i: int, t: float) -> int:
        if i < enter:
            return STILL
        k = min(1.0, (i - enter) / max(arrive - enter, 1))
        x = w * (0.35 + 0.48 * k)
        y = h * (0.95 - 0.37 * k)
        _person(img, x, y, scale * (1.3 - 0.5 * k), i * 0.9 if i < arrive else 0.0)
        return MOVING if i < arrive else DONT_CARE

    truth: dict[str, object] = {"labels": ["person"], "title": "Someone is at the front door"}
    return _render("person", n, w, h, seed, paint, expect=True, truth=truth)


def rain(w: int = 640, h: int = 360, n: int = 60, seed: int = 4) -> Clip:
    """Heavy rain: bright streaks everywhere, a darker scene, foliage moving."""
    rng = np.random.default_rng(seed)

    def paint(img: np.ndarray, i: int, t: float) -> int:
        img *= 0.8
        for _ in range(int(w * h / 900)):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            length = int(rng.integers(4, 12) * w / 640) + 2
            cv2.line(img, (x, y), (x + length // 3, y + length), (200, 200, 200), 1)
        return STILL

    return _render("rain", n, w, h, seed, paint, noise=4.0)


def cloud_shadow(w: int = 640, h: int = 360, n: int = 60, seed: int = 5) -> Clip:
    """A cloud's soft shadow drifts across the whole scene."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    def paint(img: np.ndarray, i: int, t: float) -> int:
        cx = -0.6 * w + (i / max(n - 1, 1)) * 2.2 * w
        d = ((xx - cx) / (0.45 * w)) ** 2 + ((yy - 0.6 * h) / (0.7 * h)) ** 2
        shade = 1.0 - 0.45 * np.exp(-d * 1.5)
        img *= shade[..., None]
        return STILL

    return _render("cloud_shadow", n, w, h, seed, paint)


def headlights(w: int = 640, h: int = 360, n: int = 60, seed: int = 6) -> Clip:
    """At night, a passing car's headlights sweep across the driveway (the car is off-frame)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    def paint(img: np.ndarray, i: int, t: float) -> int:
        cx = w * (1.3 - 1.6 * i / max(n - 1, 1))
        d = ((xx - cx) / (0.25 * w)) ** 2 + ((yy - 0.75 * h) / (0.35 * h)) ** 2
        beam = 5.0 * np.exp(-d)  # up to 6x the night light level where it falls
        img *= (1.0 + beam)[..., None]
        return STILL

    return _render("headlights", n, w, h, seed, paint, night=True)


# What a good vision model would say about each scene (the demo's fake model answers this).
SCENE_TRUTH: dict[str, dict[str, object]] = {
    "truck": {
        "title": "FedEx truck just pulled up",
        "description": "A white FedEx box truck pulled into the driveway and stopped; "
        "looks like a delivery.",
        "notable": True,
        "labels": ["vehicle"],
        "carrier": "FedEx",
    },
    "person": {
        "title": "Someone is at the front door",
        "description": "A person in a red coat walked up the driveway to the front door.",
        "notable": True,
        "labels": ["person"],
        "carrier": None,
    },
}
NOTHING: dict[str, object] = {
    "title": "No activity",
    "description": "",
    "notable": False,
    "labels": [],
    "carrier": None,
}

SCENES: dict[str, Callable[..., Clip]] = {
    "foliage": foliage,
    "truck": truck,
    "person": person,
    "rain": rain,
    "cloud_shadow": cloud_shadow,
    "headlights": headlights,
}


def render(name: str, w: int = 640, h: int = 360, n: int = 60) -> Clip:
    """Render a scene by name."""
    if name not in SCENES:
        raise KeyError(f"unknown scene {name!r} (known: {', '.join(SCENES)})")
    return SCENES[name](w=w, h=h, n=n)
