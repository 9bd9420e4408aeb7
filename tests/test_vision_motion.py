"""Motion detection and event tracking on the simulator's labelled clips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision import scenes
from vision.events import EventTracker
from vision.motion import MotionDetector, MotionSettings

W, H, N = 320, 180, 50


def settings(**kw: object) -> MotionSettings:
    """The defaults, at the clips' rate, with a warm-up that fits a 5 s clip (2 s)."""
    return MotionSettings(fps=scenes.FPS, warmup=2.0, **kw)  # type: ignore[arg-type]


def run_clip(clip: scenes.Clip, detector: object | None = None) -> list[str]:
    """Feed a clip through detector + tracker; return the ids of events that started."""
    detector = detector or MotionDetector(settings())
    tracker = EventTracker("test")
    started = []
    for index, frame in enumerate(clip.frames):
        result = detector.detect(frame)  # type: ignore[attr-defined]
        event, _ = tracker.feed(index / clip.fps, result, frame)
        if event is not None:
            started.append(event.id)
    return started


@pytest.fixture(scope="module")
def clips() -> dict[str, scenes.Clip]:
    return {name: scenes.render(name, W, H, N) for name in scenes.SCENES}


@pytest.mark.parametrize("name", ["truck", "person"])
def test_real_scenes_make_exactly_one_event(clips: dict[str, scenes.Clip], name: str) -> None:
    assert len(run_clip(clips[name])) == 1


@pytest.mark.parametrize("name", ["foliage", "rain", "cloud_shadow", "headlights"])
def test_false_alarm_scenes_make_no_event(clips: dict[str, scenes.Clip], name: str) -> None:
    assert run_clip(clips[name]) == []


def test_motion_is_where_the_truck_is(clips: dict[str, scenes.Clip]) -> None:
    clip = clips["truck"]
    detector = MotionDetector(settings())
    boxes = []
    for frame, label in zip(clip.frames, clip.labels, strict=True):
        result = detector.detect(frame)
        if label == scenes.MOVING and result.motion:
            boxes.append(result.bbox)
    assert boxes, "the moving truck was never seen"
    # The truck drives along the lower part of the frame.
    assert all(b is not None and b[1] + b[3] > 0.5 for b in boxes)


def test_masked_region_is_ignored(clips: dict[str, scenes.Clip]) -> None:
    # Mask the whole lower half: the truck drives there, so nothing is reported.
    mask = [[(0.0, 0.45), (1.0, 0.45), (1.0, 1.0), (0.0, 1.0)]]
    detector = MotionDetector(settings(masks=mask))
    assert run_clip(clips["truck"], detector) == []


def test_lightning_is_not_motion(clips: dict[str, scenes.Clip]) -> None:
    frames = list(clips["foliage"].frames)
    frames[30:33] = [cv2.convertScaleAbs(f, alpha=1.8, beta=20) for f in frames[30:33]]
    flashed = scenes.Clip("flash", frames, clips["foliage"].labels, False)
    assert run_clip(flashed) == []


def test_a_different_picture_recalibrates_instead_of_reporting(
    clips: dict[str, scenes.Clip],
) -> None:
    detector = MotionDetector(settings())
    for frame in clips["foliage"].frames[:30]:
        detector.detect(frame)
    # The camera was knocked / the PTZ moved: every part of the picture is new.
    board = np.kron((np.indices((18, 32)).sum(axis=0) % 2) * 255, np.ones((10, 10)))
    result = detector.detect(board.astype(np.uint8))
    assert result.recalibrated and not result.motion


def test_detector_accepts_grey_and_colour_of_any_size() -> None:
    detector = MotionDetector(settings())
    for shape in [(90, 160), (360, 640, 3), (241, 333, 3)]:
        detector.reset()
        assert not detector.detect(np.zeros(shape, np.uint8)).motion
