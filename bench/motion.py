"""Motion detectors compared on labelled clips: event precision/recall, frame F, frames/s per core.

    python bench/motion.py                      # the simulator's six labelled scenes
    python bench/motion.py --clip drive.mp4 --labels drive.json

A user clip's labels are JSON: {"frames": [1, 0, -1, ...], "expect_event": true}
with one entry per frame (1 moving, 0 nothing, -1 don't care). Detection
only is timed (frames are decoded and converted to luma beforehand), on one
core (`cv2.setNumThreads(1)`), best of several runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision import scenes
from vision.events import EventTracker
from vision.motion import (
    FrigateStyleDetector,
    MotionDetector,
    MotionResult,
    SubtractorDetector,
)

WARMUP = 25  # frames every detector may spend learning the scene (not scored)
DETECTORS: dict[str, Callable[[], object]] = {
    "homeclaw": MotionDetector,
    "frigate-style": FrigateStyleDetector,
    "frigate-style+contrast": lambda: FrigateStyleDetector(contrast=True),
    "MOG2": lambda: SubtractorDetector("MOG2"),
    "KNN": lambda: SubtractorDetector("KNN"),
}


def load_user_clip(video: Path, labels: Path) -> scenes.Clip:
    """A user's video and its per-frame labels."""
    meta = json.loads(labels.read_text())
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    marks = list(meta["frames"])[: len(frames)]
    marks += [-1] * (len(frames) - len(marks))
    return scenes.Clip(video.stem, frames, marks, bool(meta.get("expect_event", True)))


def score(detector_factory: Callable[[], object], clips: list[scenes.Clip]) -> dict[str, float]:
    """Frame-level P/R/F and event-level counts over the clips."""
    tp = fp = fn = 0
    ev_tp = ev_fp = ev_fn = 0
    per_clip = {}
    for clip in clips:
        detector = detector_factory()
        tracker = EventTracker("bench")
        events = 0
        for index, (frame, label) in enumerate(zip(clip.frames, clip.labels, strict=True)):
            result: MotionResult = detector.detect(frame)  # type: ignore[attr-defined]
            started, _ = tracker.feed(index / clip.fps, result)
            events += started is not None
            if index < WARMUP or label == scenes.DONT_CARE:
                continue
            if label == scenes.MOVING:
                tp += result.motion
                fn += not result.motion
            else:
                fp += result.motion
        per_clip[clip.name] = events
        if clip.expect_event:
            ev_tp += min(events, 1)
            ev_fn += events == 0
            ev_fp += max(events - 1, 0)
        else:
            ev_fp += events
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "P": precision,
        "R": recall,
        "F": f,
        "event_precision": ev_tp / (ev_tp + ev_fp) if ev_tp + ev_fp else 1.0,
        "event_recall": ev_tp / (ev_tp + ev_fn) if ev_tp + ev_fn else 1.0,
        **{f"events:{k}": v for k, v in per_clip.items()},
    }


def throughput(
    detector_factory: Callable[[], object], frames: list[np.ndarray], runs: int
) -> float:
    """Frames per second of detection alone on one core (best of `runs`)."""
    best = 0.0
    for _ in range(runs):
        detector = detector_factory()
        started = time.perf_counter()
        for frame in frames:
            detector.detect(frame)  # type: ignore[attr-defined]
        best = max(best, len(frames) / (time.perf_counter() - started))
    return best


def main() -> int:
    """Render (or load) the clips, score each detector, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=80, help="frames per simulated scene")
    parser.add_argument("--clip", type=Path, action="append", default=[])
    parser.add_argument("--labels", type=Path, action="append", default=[])
    parser.add_argument("--runs", type=int, default=7, help="timing repetitions (best kept)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    clips = [scenes.render(name, 640, 360, args.frames) for name in scenes.SCENES]
    for video, labels in zip(args.clip, args.labels, strict=False):
        clips.append(load_user_clip(video, labels))
    timing_360 = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for c in clips[:3] for f in c.frames]
    timing_720 = [cv2.resize(f, (1280, 720)) for f in timing_360[: len(timing_360) // 2]]
    names = [c.name for c in clips]
    print(f"clips: {', '.join(names)}; {args.frames} frames each at 640x360, warm-up {WARMUP}")
    header = f"{'detector':<24}{'F':>6}{'P':>6}{'R':>6}{'evP':>6}{'evR':>6}"
    header += f"{'fps@360p':>10}{'fps@720p':>10}  events per clip"
    print(header)
    # Timing runs interleave the detectors, so a busy moment hurts them all alike.
    fps: dict[str, list[float]] = {name: [0.0, 0.0] for name in DETECTORS}
    for _ in range(args.runs):
        for name, factory in DETECTORS.items():
            fps[name][0] = max(fps[name][0], throughput(factory, timing_360, 1))
            fps[name][1] = max(fps[name][1], throughput(factory, timing_720, 1))
    rows = {}
    for name, factory in DETECTORS.items():
        result = score(factory, clips)
        fps360, fps720 = fps[name]
        rows[name] = (result, fps360)
        counts = " ".join(f"{c}={result[f'events:{c}']:.0f}" for c in names)
        print(
            f"{name:<24}{result['F']:>6.2f}{result['P']:>6.2f}{result['R']:>6.2f}"
            f"{result['event_precision']:>6.2f}{result['event_recall']:>6.2f}"
            f"{fps360:>10.0f}{fps720:>10.0f}  {counts}"
        )
    ours, reference = rows["homeclaw"], rows["frigate-style"]
    print(
        f"\nhomeclaw vs frigate-style: {ours[1] / reference[1]:.2f}x the frames/s at 640x360, "
        f"F {ours[0]['F']:.2f} vs {reference[0]['F']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
