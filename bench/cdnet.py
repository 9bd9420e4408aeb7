"""Scoring motion boxes against CDnet 2014 ground truth (changedetection.net format).

A CDnet folder holds `input/in000001.jpg …`, `groundtruth/gt000001.png …` and
`temporalROI.txt` (first and last scored frame; the frames before are for
learning the scene). Ground-truth values: 255 motion, 0 static, 50 hard
shadow (scored as static), 85 outside the region of interest and 170 unknown
(object borders): both left out of the score.

Every detector's boxes are filled into a mask the same way and compared pixel
by pixel, so a detector that reports one box round two cars pays for the road
between them exactly as any other would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from vision.motion import Box, MotionResult

MOTION, SHADOW, OUTSIDE, UNKNOWN = 255, 50, 85, 170


@dataclass
class Sequence_:
    """A CDnet sequence on disk: frame paths, ground-truth paths and the scored range."""

    root: Path
    first: int  # first scored frame (1-based, inclusive)
    last: int

    @classmethod
    def open(cls, root: Path) -> Sequence_:
        """Read temporalROI.txt and check the folders are there."""
        first, last = (int(v) for v in (root / "temporalROI.txt").read_text().split()[:2])
        if not (root / "input").is_dir() or not (root / "groundtruth").is_dir():
            raise SystemExit(f"{root}: expected input/ and groundtruth/ (a CDnet folder)")
        return cls(root, first, last)

    def frame(self, index: int) -> np.ndarray:
        """Input frame `index` (1-based) as grey."""
        return _read(self.root / "input" / f"in{index:06d}.jpg")

    def truth(self, index: int) -> np.ndarray:
        """Ground truth of frame `index`."""
        return _read(self.root / "groundtruth" / f"gt{index:06d}.png")


@lru_cache(maxsize=4096)  # every detector reads every frame; decode each once
def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise SystemExit(f"missing {path}")
    image.flags.writeable = False  # shared between detectors: none may draw on it
    return image


@dataclass
class Score:
    """Pixel counts of filled boxes against ground truth, and box-level faults."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    frames: int = 0
    false_box_frames: int = 0  # a box touching no motion (nor an unknown border)
    motion_frames: int = 0  # frames with motion in the ground truth
    seen_frames: int = 0  # ... of which at least one box touched it
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        """TP / (TP + FP)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def pwc(self) -> float:
        """Percentage of wrong classifications (CDnet's PWC)."""
        total = self.tp + self.fp + self.fn + self.tn
        return 100.0 * (self.fp + self.fn) / total if total else 0.0

    @property
    def frame_recall(self) -> float:
        """Share of frames with motion in which some box touched it."""
        return self.seen_frames / self.motion_frames if self.motion_frames else 0.0


def fill(boxes: Sequence[Box], shape: tuple[int, int]) -> np.ndarray:
    """Boxes (frame fractions) filled into a boolean mask of `shape`."""
    h, w = shape
    mask = np.zeros(shape, bool)
    for x, y, bw, bh in boxes:
        x0, y0 = round(x * w), round(y * h)
        x1, y1 = round((x + bw) * w), round((y + bh) * h)
        mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
    return mask


def add(score: Score, boxes: Sequence[Box], truth: np.ndarray) -> None:
    """Score one frame's boxes against its ground truth."""
    predicted = fill(boxes, truth.shape[:2])
    positive = truth == MOTION
    negative = (truth == 0) | (truth == SHADOW)
    score.tp += int(np.count_nonzero(predicted & positive))
    score.fp += int(np.count_nonzero(predicted & negative))
    score.fn += int(np.count_nonzero(~predicted & positive))
    score.tn += int(np.count_nonzero(~predicted & negative))
    score.frames += 1
    touched = False
    false_box = False
    h, w = truth.shape[:2]
    for box in boxes:
        region = truth[fill([box], (h, w))]
        if region.size == 0 or np.all(region == OUTSIDE):
            continue
        if np.any(region == MOTION):
            touched = True
        elif not np.any(region == UNKNOWN):
            false_box = True
    score.false_box_frames += false_box
    if positive.any():
        score.motion_frames += 1
        score.seen_frames += touched


def frames(seq: Sequence_, step: int, start: int = 1) -> Iterator[int]:
    """Frame indices from `start` to the last scored one, every `step`th."""
    yield from range(start, seq.last + 1, step)


Detect = Callable[[np.ndarray], MotionResult]


def run(seq: Sequence_, detect: Detect, step: int, crop: tuple[int, int] | None = None) -> Score:
    """Run a detector over the sequence (from frame 1) and score the temporal ROI."""
    score = Score()
    for index in frames(seq, step):
        image = seq.frame(index)
        if crop is not None:
            image = image[: crop[1], : crop[0]]
        result = detect(image)
        if index >= seq.first:
            truth = seq.truth(index)
            if crop is not None:
                truth = truth[: crop[1], : crop[0]]
            add(score, result.boxes if result.motion else (), truth)
    return score


def cold_start(seq: Sequence_, detect: Detect, step: int, fps: float, seconds: float) -> Score:
    """Start the detector in the middle of the traffic; score its first `seconds` after warm-up.

    The warm-up given to every detector is the same: `seconds` of frames first
    (ignored), then the next `seconds` are scored. A detector that learnt the
    passing cars as background is blind here.
    """
    score = Score()
    n = max(1, round(seconds * fps))  # fps: the rate the detector sees
    indices = list(frames(seq, step, seq.first))[: 2 * n]
    for i, index in enumerate(indices):
        result = detect(seq.frame(index))
        if i >= n:
            add(score, result.boxes if result.motion else (), seq.truth(index))
    return score
