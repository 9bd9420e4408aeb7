"""OpenCV's MOG2 and KNN background subtractors, boxed like ours, for the bench."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision.motion import MotionResult, _luma


class SubtractorDetector:
    """OpenCV's MOG2 or KNN background subtractor with the same blob filtering (bench)."""

    def __init__(self, kind: str = "MOG2", width: int = 160, min_area: float = 0.0015) -> None:
        self.sub = (
            cv2.createBackgroundSubtractorMOG2(detectShadows=False)
            if kind == "MOG2"
            else cv2.createBackgroundSubtractorKNN(detectShadows=False)
        )
        self.width = width
        self.min_area = min_area

    def detect(self, frame: np.ndarray) -> MotionResult:
        """Feed one frame; returns boxes of foreground blobs."""
        luma = _luma(frame)
        h, w = luma.shape
        size = (self.width, max(8, round(h * self.width / w)))
        fg = self.sub.apply(cv2.resize(luma, size, interpolation=cv2.INTER_AREA))
        fg = cv2.medianBlur(fg, 3)
        count, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        min_px = self.min_area * fg.size
        boxes = tuple(
            (x / size[0], y / size[1], bw / size[0], bh / size[1])
            for x, y, bw, bh, area in stats[1:count]
            if area >= min_px
        )
        return MotionResult(bool(boxes), cv2.countNonZero(fg) / fg.size, boxes)
