"""Motion detectors compared, on real footage and on the simulator's synthetic scenes.

    python bench/motion.py                      # synthetic: the simulator's six scenes
    python bench/motion.py --cdnet DIR [--clip FILE ...] [--frigate PATH]

Real footage (fetch it yourself; it is not part of the repository):
- `--cdnet DIR`: a CDnet 2014 folder (input/, groundtruth/, temporalROI.txt),
  e.g. `highway/` of changedetection.net's baseline category. Scored per pixel
  with the detectors' boxes filled in, plus frames with a false box, a cold
  start in traffic and the foliage corner (see bench/cdnet.py).
- `--clip FILE`: a video or a folder of frames; events and share of frames
  with motion (unlabelled). A clip with labels beside it (`FILE.json`:
  {"frames": [1, 0, -1, ...], "expect_event": true}, 1 moving, 0 nothing,
  -1 don't care) joins the labelled table instead.
- `--frigate PATH`: a Frigate checkout; its own ImprovedMotionDetector runs
  beside ours with its defaults (bench/frigate_motion.py says what is stubbed).

Detection only is timed (frames are decoded and converted to luma
beforehand), on one core (`cv2.setNumThreads(1)`), best of several runs.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import motion_real
from cdnet import Sequence_
from frigate_motion import FrigateDetector, FrigateModules
from opencv_motion import SubtractorDetector

from vision import scenes
from vision.events import EventSettings, EventTracker
from vision.motion import MotionDetector, MotionResult, MotionSettings

WARMUP = 25  # frames every detector may spend learning the scene (not scored)
# Each factory takes the rate the frames come at (ours learns per second).
Factory = Callable[[float], object]
DETECTORS: dict[str, Factory] = {
    "homeclaw": lambda fps: MotionDetector(MotionSettings(fps=fps)),
    "MOG2": lambda fps: SubtractorDetector("MOG2"),
    "KNN": lambda fps: SubtractorDetector("KNN"),
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


def score(detector_factory: Factory, clips: list[scenes.Clip]) -> dict[str, float]:
    """Frame-level P/R/F and event-level counts over the clips."""
    tp = fp = fn = 0
    ev_tp = ev_fp = ev_fn = 0
    per_clip = {}
    for clip in clips:
        detector = detector_factory(clip.fps)
        tracker = EventTracker("bench", EventSettings.at(clip.fps))
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


def throughput(detector_factory: Factory, frames: list[np.ndarray], runs: int) -> float:
    """Frames per second of detection alone on one core (best of `runs`)."""
    best = 0.0
    for _ in range(runs):
        detector = detector_factory(5.0)
        started = time.perf_counter()
        for frame in frames:
            detector.detect(frame)  # type: ignore[attr-defined]
        best = max(best, len(frames) / (time.perf_counter() - started))
    return best


def synthetic(args: argparse.Namespace, detectors: dict[str, Factory]) -> None:
    """The labelled table: synthetic scenes (and user clips with labels), frames/s."""
    clips = [scenes.render(name, 640, 360, args.frames) for name in scenes.SCENES]
    for video in args.clip:
        labels = video.with_suffix(".json")
        if labels.is_file():
            clips.append(load_user_clip(video, labels))
    timing_360 = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for c in clips[:3] for f in c.frames]
    timing_720 = [cv2.resize(f, (1280, 720)) for f in timing_360[: len(timing_360) // 2]]
    names = [c.name for c in clips]
    print(f"## Labelled clips (synthetic scenes: {', '.join(scenes.SCENES)})")
    print(f"{args.frames} frames each at 640x360, warm-up {WARMUP} frames (homeclaw's set to 2 s),")
    print("frames/s on synthetic frames")
    header = f"{'detector':<24}{'F':>6}{'P':>6}{'R':>6}{'evP':>6}{'evR':>6}"
    header += f"{'fps@360p':>10}{'fps@720p':>10}  events per clip"
    print(header)
    # Timing runs interleave the detectors, so a busy moment hurts them all alike.
    fps: dict[str, list[float]] = {name: [0.0, 0.0] for name in detectors}
    detectors = {
        name: (lambda f: MotionDetector(MotionSettings(fps=f, warmup=2.0)))
        if name == "homeclaw"
        else factory
        for name, factory in detectors.items()
    }
    for _ in range(args.runs):
        for name, factory in detectors.items():
            fps[name][0] = max(fps[name][0], throughput(factory, timing_360, 1))
            fps[name][1] = max(fps[name][1], throughput(factory, timing_720, 1))
    for name, factory in detectors.items():
        result = score(factory, clips)
        fps360, fps720 = fps[name]
        counts = " ".join(f"{c}={result[f'events:{c}']:.0f}" for c in names)
        print(
            f"{name:<24}{result['F']:>6.2f}{result['P']:>6.2f}{result['R']:>6.2f}"
            f"{result['event_precision']:>6.2f}{result['event_recall']:>6.2f}"
            f"{fps360:>10.0f}{fps720:>10.0f}  {counts}"
        )


def main() -> int:
    """Parse the arguments, run the tables asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cdnet", type=Path, help="a CDnet 2014 sequence folder")
    parser.add_argument("--clip", type=Path, action="append", default=[], help="video or folder")
    parser.add_argument("--frigate", type=Path, help="a Frigate checkout (its own detector runs)")
    parser.add_argument("--synthetic", action="store_true", help="also the synthetic scenes")
    parser.add_argument("--frames", type=int, default=80, help="frames per synthetic scene")
    parser.add_argument("--source-fps", type=float, default=30.0, help="frame rate of --cdnet")
    parser.add_argument(
        "--detect-fps", type=float, nargs="+", default=[30.0, 5.0], help="rates to score at"
    )
    parser.add_argument("--runs", type=int, default=5, help="timing repetitions (best kept)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    detectors = dict(DETECTORS)
    if args.frigate is not None:
        modules = FrigateModules(args.frigate)
        detectors = {
            "homeclaw": DETECTORS["homeclaw"],
            "frigate": lambda fps: FrigateDetector(modules, round(fps)),
        }
        detectors.update((k, v) for k, v in DETECTORS.items() if k != "homeclaw")
    real = args.cdnet is not None or any(not c.with_suffix(".json").is_file() for c in args.clip)
    if args.synthetic or not real:
        synthetic(args, detectors)
    steps = sorted({max(1, round(args.source_fps / f)) for f in args.detect_fps})
    if args.cdnet is not None:
        seq = Sequence_.open(args.cdnet)
        motion_real.cdnet_table(seq, detectors, steps, args.source_fps)
        motion_real.foliage_table(seq, detectors, steps, args.source_fps)
    unlabelled = [c for c in args.clip if not c.with_suffix(".json").is_file()]
    if unlabelled:
        motion_real.clips_table(unlabelled, detectors, min(args.detect_fps))
    if args.cdnet is not None:
        timing = [seq.frame(i) for i in range(seq.first, min(seq.last, seq.first + 640) + 1)]
        reference = "frigate" if "frigate" in detectors else "KNN"
        motion_real.timing_table(timing, detectors, args.runs, reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
