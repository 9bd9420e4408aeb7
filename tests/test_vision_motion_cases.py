"""The detector's answers to what real footage showed: traffic at start-up, plain car bodies, gusts.

Small synthetic sequences stand in for the real footage the bench scores
(bench/motion.py --cdnet): a textured road, cars as plain boxes with a
windscreen, leaves as texture that shifts by a few pixels.
"""

from __future__ import annotations

import numpy as np
import pytest

from vision.events import EventTracker
from vision.motion import MotionDetector, MotionSettings

W, H, FPS = 320, 240, 5.0


def road(seed: int = 3) -> np.ndarray:
    """A grey road with fine texture (grey, uint8)."""
    rng = np.random.default_rng(seed)
    return np.clip(150 + rng.normal(0, 6, (H, W)), 0, 255).astype(np.uint8)


def with_car(frame: np.ndarray, x: int, y: int, shade: int = 200) -> np.ndarray:
    """A plain car body (60x40) with a dark windscreen, its top-left at (x, y)."""
    out = frame.copy()
    out[max(0, y) : max(0, y + 40), max(0, x) : max(0, x + 60)] = shade
    out[max(0, y + 8) : max(0, y + 18), max(0, x + 8) : max(0, x + 52)] = 60
    return out


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_traffic_during_warm_up_is_not_learnt_as_flicker() -> None:
    # Cars stream down one lane while the camera starts (busy road): the lane
    # must not be taken for a flickering spot and go blind afterwards.
    base = road()
    detector = MotionDetector(MotionSettings(fps=FPS))
    warmup = round(MotionSettings().warmup * FPS)
    for i in range(warmup):
        y = (i * 37) % (H + 40) - 40  # a car every couple of frames in the lane
        detector.detect(with_car(base, 130, y) if i % 3 else base)
    seen = 0
    for y in range(0, H - 40, 30):  # the next car drives down the same lane
        result = detector.detect(with_car(base, 130, y))
        seen += result.motion
    assert seen >= 6, f"saw the car in only {seen} of 7 frames after a busy start"


@pytest.mark.parametrize("shade", [110, 185])
def test_a_plain_car_body_gets_a_tight_box(shade: int) -> None:
    # The box must hold the car (recall) and not much road round it
    # (precision): the band-pass alone sees the edges and rings round them.
    base = road()
    detector = MotionDetector(MotionSettings(fps=FPS))
    for _ in range(30):
        detector.detect(base)
    result = detector.detect(with_car(base, 120, 100, shade=shade))
    assert result.motion
    car = (120 / W, 100 / H, 60 / W, 40 / H)
    best = max(iou(box, car) for box in result.boxes)
    assert best > 0.8, f"best box overlaps the car by IoU {best:.2f}"


def test_a_gust_through_leaves_opens_no_event() -> None:
    # Leaves sway a little while the camera starts, then a gust swings them
    # between a few positions for 20 s: nothing new arrives, so no event.
    rng = np.random.default_rng(5)
    leaves = np.clip(90 + rng.normal(0, 40, (H, W)), 0, 255).astype(np.uint8)
    leaves = np.kron(leaves[::4, ::4], np.ones((4, 4), np.uint8))  # leaf-sized blobs
    detector = MotionDetector(MotionSettings(fps=FPS))
    tracker = EventTracker("garden")
    events = []
    t = 0.0
    for i in range(200):
        calm = i < 40
        shift = (i % 2) if calm else int(rng.choice([0, 2, 4, 6]))
        frame = np.roll(leaves, shift, axis=1)
        started, _ = tracker.feed(t, detector.detect(frame))
        t += 1 / FPS
        if started is not None:
            events.append(i)
    assert events == [], f"events opened at frames {events}"
