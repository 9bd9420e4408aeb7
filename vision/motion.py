"""Change detection for outdoor cameras: cheap, always on, hard to fool.

`MotionDetector` compares the *structure* of each frame with a learned
background instead of its brightness: the downscaled luma goes through a
logarithm (so a change of illumination becomes an additive offset) and a
band-pass filter (which removes that smooth offset). Cloud shadows, headlight
sweeps and auto-exposure then barely register, while an object with edges of
its own does. Each pixel also learns how much it usually flickers, so swaying
foliage and sensor noise raise their own threshold. Blobs smaller than a
minimum area (rain streaks, insects) are dropped, masked polygons are ignored,
and a change over most of the frame (lightning, IR switch) recalibrates.

`FrigateStyleDetector` is the reference from PROTOCOLS.md, kept for the bench.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x, y, w, h as fractions of the frame


@dataclass(frozen=True)
class MotionResult:
    """What one frame showed: whether anything moved, where, and how much."""

    motion: bool
    area: float = 0.0  # changed fraction of the (unmasked) frame
    boxes: tuple[Box, ...] = ()
    recalibrated: bool = False

    @property
    def bbox(self) -> Box | None:
        """The union of all boxes."""
        if not self.boxes:
            return None
        x0 = min(b[0] for b in self.boxes)
        y0 = min(b[1] for b in self.boxes)
        x1 = max(b[0] + b[2] for b in self.boxes)
        y1 = max(b[1] + b[3] for b in self.boxes)
        return (x0, y0, x1 - x0, y1 - y0)


def _luma(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def mask_image(
    polygons: Sequence[Sequence[tuple[float, float]]], width: int, height: int
) -> np.ndarray | None:
    """A uint8 image (255 = watched) from masked polygons in frame fractions."""
    if not polygons:
        return None
    keep = np.full((height, width), 255, np.uint8)
    for poly in polygons:
        pts = np.array([[x * width, y * height] for x, y in poly], np.int32)
        if len(pts) >= 3:
            cv2.fillPoly(keep, [pts], 0)
    return keep


@dataclass
class MotionSettings:
    """Tuning of `MotionDetector`; `sensitivity` 0..1 maps onto the thresholds."""

    width: int = 160
    sensitivity: float = 0.5
    masks: list[list[tuple[float, float]]] = field(default_factory=list)
    alpha: float = 0.05  # background learning rate (per frame, on still pixels)
    beta: float = 0.02  # learning rate of each pixel's usual flicker
    beta_up: float = 0.0  # extra rate while the flicker exceeds its estimate
    min_area: float = 0.0015  # smallest blob, as a fraction of the frame
    recalibrate_above: float = 0.6  # changed fraction treated as a global change
    warmup: int = 20  # frames spent learning the scene after a (re)start
    peak: float = 0.5  # share of the widest swing seen while warming up kept as flicker


class MotionDetector:
    """Illumination-invariant change detector with per-pixel adaptive thresholds."""

    def __init__(self, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        s = self.settings
        # log(1 + I/k): shadows and lights become offsets; k keeps night noise tame.
        k = 12.0
        ramp = np.log1p(np.arange(256, dtype=np.float32) / k)
        self._lut = np.clip(ramp * (255.0 / ramp[-1]), 0, 255).astype(np.uint8)
        self._threshold = 10.0 + (1.0 - s.sensitivity) * 16.0  # in log-luma units
        self._bg: np.ndarray | None = None
        self._learned = 0
        self._dev: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._size: tuple[int, int] = (0, 0)
        self._floor = np.zeros((1, 1), np.float32)
        self._limit: Any = self._floor
        self._tick = 0
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))

    def reset(self) -> None:
        """Forget the background (e.g. after a reconnect)."""
        self._bg = None

    def _structure(self, frame: np.ndarray) -> np.ndarray:
        luma = _luma(frame)
        h, w = luma.shape
        width = self.settings.width
        size = (width, max(8, round(h * width / w)))
        if size != self._size:
            self._size = size
            self._bg = None
            self._mask = mask_image(self.settings.masks, *size)
            self._floor = np.full((size[1], size[0]), self._threshold, np.float32)
        # Halving with INTER_AREA hits OpenCV's fast path (10x cheaper than one
        # big non-power-of-two step) and averages the sensor noise away; a big
        # frame is sampled straight down to the working size (its noise is
        # finer-grained, and reading every pixel of it would cost more).
        if w > 4 * width:
            w, h = size
            luma = cv2.resize(luma, size, interpolation=cv2.INTER_LINEAR)
        while w >= 2 * width:
            w, h = w // 2, h // 2
            luma = cv2.resize(luma, (w, h), interpolation=cv2.INTER_AREA)
        if (w, h) != size:
            luma = cv2.resize(luma, size, interpolation=cv2.INTER_LINEAR)
        log = cv2.blur(cv2.LUT(luma, self._lut), (3, 3))
        # Band-pass: the structure minus the smooth illumination field.
        return cv2.subtract(log, cv2.blur(log, (15, 15)), dtype=cv2.CV_32F)

    def detect(self, frame: np.ndarray) -> MotionResult:
        """Feed one frame (BGR or grey, any size); returns what changed."""
        s = self.settings
        band = self._structure(frame)
        if self._bg is None or self._dev is None:
            self._bg = band.copy()
            self._dev = np.full_like(band, 3.0)
            self._learned = 0
            return MotionResult(False)
        diff = cv2.absdiff(band, self._bg)
        if self._learned < s.warmup:
            # Calibrating after a (re)start: learn fast, report nothing yet; the
            # flicker estimate keeps the peaks (a branch's widest swing).
            self._learned += 1
            cv2.accumulateWeighted(band, self._bg, 0.3)
            if self._learned * 2 <= s.warmup:  # the background itself is still settling
                cv2.accumulateWeighted(diff, self._dev, 0.3)
            else:
                cv2.max(self._dev, diff * s.peak, dst=self._dev)
            return MotionResult(False)
        # A pixel changes when it leaves its own usual range by a margin (the
        # range moves slowly, so the limit is refreshed every few frames).
        self._tick += 1
        if self._tick % 4 == 1 or self._limit.shape != band.shape:
            self._limit = cv2.scaleAdd(self._dev, 3.0, self._floor)
        fg = cv2.compare(diff, self._limit, cv2.CMP_GT)
        if self._mask is not None:
            fg = cv2.bitwise_and(fg, self._mask)
        count = cv2.countNonZero(fg)
        changed = count / fg.size
        if changed > s.recalibrate_above:
            self._bg = band.copy()
            return MotionResult(False, changed, (), recalibrated=True)
        # The flicker estimate learns everywhere; the background learns fast on
        # still pixels and slowly under motion, so a branch that keeps moving or
        # a car that has parked fades into the background instead of staying
        # "motion" forever.
        cv2.accumulateWeighted(diff, self._dev, s.beta)
        if s.beta_up:  # optionally rise faster than it decays (gusty wind)
            cv2.accumulateWeighted(
                diff, self._dev, s.beta_up, mask=cv2.compare(diff, self._dev, cv2.CMP_GT)
            )
        if count == 0:
            cv2.accumulateWeighted(band, self._bg, s.alpha)
            return MotionResult(False)
        cv2.accumulateWeighted(band, self._bg, s.alpha * 0.2)
        cv2.accumulateWeighted(band, self._bg, s.alpha, mask=cv2.bitwise_not(fg))
        if count < s.min_area * fg.size * 0.5:
            return MotionResult(False, changed)
        return self._blobs(cv2.dilate(fg, self._kernel, iterations=2), changed)

    def _blobs(self, fg: np.ndarray, changed: float) -> MotionResult:
        h, w = fg.shape
        contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        # Dilation grew every blob by ~2 px a side; compare like with like.
        min_px = self.settings.min_area * w * h * 3
        boxes: list[Box] = []
        for contour in contours:
            x, y, bw, bh = cv2.boundingRect(contour)
            if bw * bh >= min_px and cv2.contourArea(contour) >= min_px * 0.5:
                boxes.append((x / w, y / h, bw / w, bh / h))
        return MotionResult(bool(boxes), changed, tuple(boxes))


class FrigateStyleDetector:
    """The reference detector described in PROTOCOLS.md (Frigate's classic design)."""

    def __init__(
        self,
        *,
        height: int = 100,
        threshold: int = 30,
        contour_area: int = 10,
        contrast: bool = False,
    ) -> None:
        self.height = height
        self.threshold = threshold
        self.contour_area = contour_area
        self.contrast = contrast
        self._avg: np.ndarray | None = None
        self._motion_frames = 0
        self._kernel = np.ones((3, 3), np.uint8)

    def detect(self, frame: np.ndarray) -> MotionResult:
        """Feed one frame; returns boxes of changed regions."""
        luma = _luma(frame)
        h, w = luma.shape
        size = (round(w * self.height / h), self.height)
        small = cv2.resize(luma, size, interpolation=cv2.INTER_LINEAR)
        if self.contrast:
            small = cv2.normalize(small, small.copy(), 0, 255, cv2.NORM_MINMAX)
        blurred = cv2.GaussianBlur(small, (3, 3), 0)
        if self._avg is None:
            self._avg = blurred.astype(np.float32)
            return MotionResult(False)
        delta = cv2.absdiff(blurred, cv2.convertScaleAbs(self._avg))
        _, thresh = cv2.threshold(delta, self.threshold, 255, cv2.THRESH_BINARY)
        thresh = cv2.dilate(thresh, self._kernel, iterations=1)
        contours, _ = cv2.findContours(thresh, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[Box] = []
        for contour in contours:
            if cv2.contourArea(contour) > self.contour_area:
                x, y, bw, bh = cv2.boundingRect(contour)
                boxes.append((x / size[0], y / size[1], bw / size[0], bh / size[1]))
        changed = cv2.countNonZero(thresh) / thresh.size
        if changed > 0.8:
            self._avg = blurred.astype(np.float32)  # lightning / IR switch: start over
            self._motion_frames = 0
            return MotionResult(False, changed, (), recalibrated=True)
        self._motion_frames = self._motion_frames + 1 if boxes else 0
        if not boxes or self._motion_frames > 10:
            cv2.accumulateWeighted(blurred, self._avg, 0.01)
        return MotionResult(bool(boxes), changed, tuple(boxes))


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
