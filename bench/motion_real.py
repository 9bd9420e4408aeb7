"""The real-footage half of bench/motion.py: CDnet scoring, foliage corner, clips, timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from cdnet import Score, Sequence_, cold_start, run

from vision.events import EventSettings, EventTracker
from vision.motion import MotionResult

Factory = Callable[[float], object]  # takes the rate frames come at
FOLIAGE_CORNER = (104, 78)  # top-left of CDnet highway: trees and grass, nothing passes


def _detect(factory: Factory, fps: float) -> Callable[[np.ndarray], MotionResult]:
    return factory(fps).detect  # type: ignore[attr-defined,no-any-return]


def cdnet_table(
    seq: Sequence_, detectors: dict[str, Factory], steps: list[int], source_fps: float
) -> None:
    """Pixel P/R/F/PWC of filled boxes, frames with a false box, and a cold start in traffic."""
    scored = seq.last - seq.first + 1
    print(f"\n## CDnet {seq.root.name}: frames {seq.first}-{seq.last} scored ({scored} frames)")
    print("Boxes filled into a mask, scored per pixel (255 motion; 0 and 50 shadow static;")
    print("85 and 170 left out). false = frames with a box touching no motion;")
    print("seen = frames with motion in which a box touched it; cold = the detector starts")
    print("in traffic, warms up 5 s, then its next 5 s are scored (4 starting points).")
    for step in steps:
        fps = source_fps / step
        print(f"\n### every {step} frame(s) = {fps:g} fps (source taken as {source_fps:g} fps)")
        print(
            f"{'detector':<24}{'P':>6}{'R':>6}{'F':>6}{'PWC':>7}{'false':>12}{'seen':>7}"
            f"{'cold R':>8}{'cold F':>8}{'cold seen':>10}"
        )
        for name, factory in detectors.items():
            score = run(seq, _detect(factory, fps), step)
            cold = Score()
            span = round(10 * fps) * step
            for start in range(seq.first, seq.last - span, max(span, (seq.last - seq.first) // 4)):
                part = cold_start(
                    Sequence_(seq.root, start, seq.last), _detect(factory, fps), step, fps, 5.0
                )
                for key in ("tp", "fp", "fn", "tn", "frames", "motion_frames", "seen_frames"):
                    setattr(cold, key, getattr(cold, key) + getattr(part, key))
            print(
                f"{name:<24}{score.precision:>6.2f}{score.recall:>6.2f}{score.f:>6.2f}"
                f"{score.pwc:>7.2f}{f'{score.false_box_frames}/{score.frames}':>12}"
                f"{score.frame_recall:>7.2f}{cold.recall:>8.2f}{cold.f:>8.2f}"
                f"{cold.frame_recall:>10.2f}"
            )


def _events(
    detect: Callable[[np.ndarray], MotionResult],
    images: list[np.ndarray],
    fps: float,
    score_from: int = 0,
) -> tuple[int, float]:
    """Events started (from frame `score_from` on) and the share of those frames with motion."""
    tracker = EventTracker("bench", EventSettings.at(fps))
    events = moving = 0
    for index, image in enumerate(images):
        result = detect(image)
        started, _ = tracker.feed(index / fps, result)
        if index >= score_from:
            events += started is not None
            moving += result.motion
    counted = max(1, len(images) - score_from)
    return events, moving / counted


def foliage_table(
    seq: Sequence_, detectors: dict[str, Factory], steps: list[int], source_fps: float
) -> None:
    """Events opened by a corner of the scene where only leaves and grass move."""
    w, h = FOLIAGE_CORNER
    print(f"\n## Foliage corner: top-left {w}x{h} px of {seq.root.name} (no motion in any frame)")
    print("Events started over the scored frames, and the share of frames with a box.")
    images = [seq.frame(i)[:h, :w] for i in range(1, seq.last + 1)]
    for step in steps:
        fps = source_fps / step
        picked = images[::step]
        first = (seq.first - 1 + step - 1) // step
        seconds = (len(picked) - first) / fps
        row = []
        for name, factory in detectors.items():
            events, share = _events(_detect(factory, fps), picked, fps, first)
            row.append(f"{name} {events} ({share:.0%})")
        print(f"{fps:g} fps, {seconds:.0f} s: " + ", ".join(row))


def read_clip(path: Path) -> tuple[list[np.ndarray], float]:
    """Grey frames and frame rate of a video file, or of a folder of numbered images."""
    if path.is_dir():
        files = sorted(
            (p for p in path.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".bmp"}),
            key=lambda p: (len(p.stem), p.stem),
        )
        return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in files], 25.0
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    cap.release()
    return frames, fps


def clips_table(clips: list[Path], detectors: dict[str, Factory], detect_fps: float) -> None:
    """Events and share of frames with motion on unlabelled real clips, at `detect_fps`."""
    print(f"\n## Clips at {detect_fps:g} fps: events (share of frames with motion)")
    for path in clips:
        frames, fps = read_clip(path)
        step = max(1, round(fps / detect_fps))
        picked = frames[::step]
        size = f"{frames[0].shape[1]}x{frames[0].shape[0]}" if frames else "empty"
        row = []
        for name, factory in detectors.items():
            events, share = _events(_detect(factory, fps / step), picked, fps / step)
            row.append(f"{name} {events} ({share:.0%})")
        print(f"{path.name} ({size}, {len(picked)} frames, {len(picked) * step / fps:.0f} s): ")
        print("   " + ", ".join(row))


def timing_table(
    frames: list[np.ndarray],
    detectors: dict[str, Factory],
    runs: int,
    reference: str | None,
    skip: int = 40,
) -> None:
    """ms per frame of detection alone, one core, interleaved runs, best kept.

    The first `skip` frames (every detector's warm-up, a one-off cost) are fed
    untimed: a camera runs for hours, the steady state is what it costs.
    """
    sizes = [(frames[0].shape[1], frames[0].shape[0]), (640, 360), (1280, 720)]
    sets = {
        size: [f if (f.shape[1], f.shape[0]) == size else cv2.resize(f, size) for f in frames]
        for size in sizes
    }
    best = {(name, size): float("inf") for name in detectors for size in sizes}
    for _ in range(runs):
        for size, images in sets.items():
            for name, factory in detectors.items():
                detect = _detect(factory, 5.0)
                for image in images[:skip]:
                    detect(image)
                started = time.perf_counter()
                for image in images[skip:]:
                    detect(image)
                ms = (time.perf_counter() - started) * 1000 / max(1, len(images) - skip)
                best[(name, size)] = min(best[(name, size)], ms)
    timed = len(frames) - skip
    print(f"\n## ms per frame (grey in, one core, best of {runs}, {timed} frames after {skip})")
    print(f"{'detector':<24}" + "".join(f"{f'{w}x{h}':>12}" for w, h in sizes))
    for name in detectors:
        print(f"{name:<24}" + "".join(f"{best[(name, s)]:>12.3f}" for s in sizes))
    if reference in detectors and "homeclaw" in detectors:
        ratios = ", ".join(
            f"{w}x{h} {best[(reference, (w, h))] / best[('homeclaw', (w, h))]:.1f}x"
            for w, h in sizes
        )
        print(f"homeclaw is cheaper than {reference} by: {ratios}")
