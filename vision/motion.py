"""Change detection for outdoor cameras: cheap, always on, hard to fool.

`MotionDetector` works on the downscaled luma through a logarithm (a change of
illumination becomes an additive offset) and looks at two cues, each against
a learned background and each pixel's own usual flicker:

- the *structure* (a band-pass of the log-luma: edges and texture, blind to
  light). Cloud shadows, headlight sweeps and auto-exposure barely register;
- the *level* (the log-luma itself, less the frame-wide exposure shift), which
  fills in the plain body of an object (a car's bonnet has no edges of its
  own).

A blob is reported only if enough of it is changed structure, so a change of
level alone (a cloud, a glow) is not motion. The scene is learnt at start from
the per-pixel median of the warm-up frames, so traffic passing then is not
taken for flicker. A few recent samples of the scene are kept besides the
background: what matches one of them (a leaf back where it was a moment ago)
is not new. Blobs smaller than a minimum area (rain, insects) are dropped,
masked polygons are ignored, and a change over most of the frame (lightning,
an IR switch) recalibrates.

Measured on real footage beside Frigate's own detector: see bench/motion.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

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


class _Reference(NamedTuple):
    """Byte copies of what each frame is compared with (refreshed every few frames)."""

    bg: np.ndarray  # background structure, centred on 128
    bg_level: np.ndarray  # background log-luma, plus the exposure shift
    limit: np.ndarray  # per-pixel structure threshold
    limit_level: np.ndarray  # per-pixel level threshold
    limit_f: np.ndarray  # the same two in float
    limit_level_f: np.ndarray
    gate: np.ndarray  # the least level change under changed structure


@dataclass
class MotionSettings:
    """Tuning of `MotionDetector`; `sensitivity` 0..1 maps onto the thresholds."""

    width: int = 160
    sensitivity: float = 0.5
    masks: list[list[tuple[float, float]]] = field(default_factory=list)
    fps: float = 5.0  # the rate frames are fed at; the rates below are per second
    alpha: float = 0.23  # background learning rate (per second, on still pixels)
    beta: float = 0.1  # learning rate of each pixel's usual flicker
    min_area: float = 0.0015  # smallest blob, as a fraction of the frame
    recalibrate_above: float = 0.6  # changed fraction treated as a global change
    warmup: float = 4.0  # seconds spent learning the scene after a (re)start
    level_share: float = 0.5  # the level cue's threshold, as a share of the structure's
    seed_share: float = 0.12  # least share of a blob that must be changed structure
    samples: int = 2  # recent samples of the scene kept besides the background
    sample_every: float = 0.6  # seconds between two samples

    def per_frame(self, rate: float) -> float:
        """A per-second learning rate as the weight of one frame at `fps`."""
        return float(1.0 - (1.0 - rate) ** (1.0 / self.fps))


class MotionDetector:
    """Illumination-invariant change detector with per-pixel adaptive thresholds."""

    def __init__(self, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        s = self.settings
        # log(1 + I/k): shadows and lights become offsets; k keeps night noise tame.
        k = 12.0
        ramp = np.log1p(np.arange(256, dtype=np.float32) / k)
        scale = 255.0 / float(ramp[-1])  # LUT units per natural-log unit
        self._lut = np.clip(ramp * scale, 0, 255).astype(np.uint8)
        self._threshold = 10.0 + (1.0 - s.sensitivity) * 16.0  # in log-luma units
        self._bg: np.ndarray | None = None  # background structure (band-pass)
        self._bg_level: np.ndarray = np.zeros((1, 1), np.float32)  # background log-luma
        self._dev: np.ndarray = self._bg_level  # each pixel's usual flicker, per cue
        self._dev_level: np.ndarray = self._bg_level
        self._floor: np.ndarray = self._bg_level  # the threshold before any flicker
        self._warm: list[tuple[np.ndarray, np.ndarray]] = []
        # (structure middle, its reach, level) of recent frames, moving objects left out
        self._samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._tick = 0
        self._limits: _Reference | None = None  # see _refresh
        self._alpha, self._beta = s.per_frame(s.alpha), s.per_frame(s.beta)
        self._warmup = max(5, round(s.warmup * s.fps))
        self._sample_every = max(1, round(s.sample_every * s.fps))
        self._mask: np.ndarray | None = None
        self._size: tuple[int, int] = (0, 0)
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))

    def reset(self) -> None:
        """Forget the background (e.g. after a reconnect)."""
        self._bg = None
        self._warm = []
        self._samples = []

    def _prepare(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The frame's log-luma and its structure at the working size."""
        luma = _luma(frame)
        h, w = luma.shape
        width = self.settings.width
        size = (width, max(8, round(h * width / w)))
        if size != self._size:
            self._size = size
            self.reset()
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
        # Band-pass: the structure minus the smooth illumination field, centred
        # on 128 (the comparisons run on bytes: a quarter of the memory traffic).
        band = cv2.addWeighted(log, 1.0, cv2.blur(log, (15, 15)), -1.0, 128.0)
        return log, band

    def _learn(self, level: np.ndarray, band: np.ndarray) -> None:
        """Start from the warm-up frames: the per-pixel median and its spread.

        A median ignores what passed through (cars on a busy road cover a lane
        for a fraction of the time), where a running average would blur them
        into the background and count them as the lane's usual flicker, leaving
        it blind for a while after a start in traffic.
        """
        self._warm.append((level, band))
        if len(self._warm) < self._warmup:
            return
        levels = np.stack([w[0] for w in self._warm]).astype(np.float32)
        bands = np.stack([w[1] for w in self._warm]).astype(np.float32)
        self._warm = []
        self._bg_level = np.asarray(np.median(levels, axis=0), np.float32)
        self._bg = np.asarray(np.median(bands, axis=0), np.float32)
        # The spread is the median distance (a sway that is there half the time
        # counts, a car that passed does not), widened to the neighbours: a
        # swaying edge moves across pixels.
        spread = np.median(np.abs(bands - self._bg), axis=0).astype(np.float32)
        spread_level = np.median(np.abs(levels - self._bg_level), axis=0).astype(np.float32)
        self._dev = cv2.dilate(spread, self._kernel)
        self._dev_level = cv2.dilate(spread_level, self._kernel)
        self._refresh(None)
        assert self._limits is not None
        limit, limit_level = self._limits.limit_f, self._limits.limit_level_f
        # The first samples come from the warm-up too, with whatever was far
        # from the median (a passing car) replaced by the median.
        picks = np.linspace(0, len(levels) - 1, self.settings.samples + 2)[1:-1].round()
        for i in picks.astype(int):
            band, level = bands[i], levels[i]
            away = np.abs(band - self._bg) > limit
            away |= np.abs(level - self._bg_level) > limit_level
            self._store(np.where(away, self._bg, band), np.where(away, self._bg_level, level))

    def _refresh(self, level: np.ndarray | None) -> None:
        """Byte copies of the background and the limits, refreshed every few frames.

        They drift slowly; so does auto-exposure, which shifts every pixel's
        log-luma alike (its median shift over the frame is taken out).
        """
        assert self._bg is not None
        bg_level = self._bg_level
        if level is not None:
            delta = cv2.subtract(level[::6, ::6], bg_level[::6, ::6], dtype=cv2.CV_32F).ravel()
            bg_level = bg_level + float(np.partition(delta, delta.size // 2)[delta.size // 2])
        limit = cv2.scaleAdd(self._dev, 3.0, self._floor)
        limit_level = cv2.scaleAdd(self._dev_level, 3.0, self._floor * self.settings.level_share)
        self._limits = _Reference(
            bg=cv2.convertScaleAbs(self._bg),
            bg_level=cv2.convertScaleAbs(bg_level),
            limit=cv2.convertScaleAbs(limit),
            limit_level=cv2.convertScaleAbs(limit_level),
            limit_f=limit,
            limit_level_f=limit_level,
            gate=np.full(limit.shape, round(self._threshold * 0.5), np.uint8),
        )

    def detect(self, frame: np.ndarray) -> MotionResult:
        """Feed one frame (BGR or grey, any size); returns what changed."""
        s = self.settings
        level, band = self._prepare(frame)
        if self._bg is None or self._warm:
            if self._bg is None and not self._warm:
                self._bg = band.astype(np.float32)  # calibrating: see _learn
            self._learn(level, band)
            return MotionResult(False)
        self._tick += 1
        if self._tick % 4 == 1 or self._limits is None:
            self._refresh(level)
        assert self._limits is not None
        ref = self._limits
        limit, limit_level = ref.limit, ref.limit_level
        diff = cv2.absdiff(band, ref.bg)
        moved = cv2.absdiff(level, ref.bg_level)
        # The band-pass rings round an object (its blur reaches 7 px out): only
        # where the level changed a little too is the change the object's own.
        structure = cv2.bitwise_and(
            cv2.compare(diff, limit, cv2.CMP_GT), cv2.compare(moved, ref.gate, cv2.CMP_GT)
        )
        body = cv2.compare(moved, limit_level, cv2.CMP_GT)
        for middle, reach, sample in self._samples:
            beyond = cv2.compare(cv2.absdiff(band, middle), cv2.add(limit, reach), cv2.CMP_GT)
            structure = cv2.bitwise_and(structure, beyond)
            body = cv2.bitwise_and(
                body, cv2.compare(cv2.absdiff(level, sample), limit_level, cv2.CMP_GT)
            )
        fg = cv2.bitwise_or(structure, body)
        if self._mask is not None:
            fg = cv2.bitwise_and(fg, self._mask)
            structure = cv2.bitwise_and(structure, self._mask)
        count = cv2.countNonZero(fg)
        changed = count / fg.size
        if changed > s.recalibrate_above:
            self._bg, self._bg_level = band.astype(np.float32), level.astype(np.float32)
            self._samples, self._limits = [], None
            return MotionResult(False, changed, (), recalibrated=True)
        result, kept = MotionResult(False, changed), None
        if count >= s.min_area * fg.size * 0.5:
            result, kept = self._blobs(fg, structure, changed)
        self._update(level, band, diff, moved, kept)
        return result

    def _update(
        self,
        level: np.ndarray,
        band: np.ndarray,
        diff: np.ndarray,
        moved: np.ndarray,
        kept: np.ndarray | None,
    ) -> None:
        """Learn: fast where nothing was reported, slowly under what was.

        Under reported motion the background still learns a little, so a car
        that parks fades into it instead of staying "motion" for ever; the
        flicker estimate does not learn from it at all (a passing car is not
        the lane's usual flicker), and neither do the samples.
        """
        s = self.settings
        assert self._bg is not None
        still = None if kept is None else cv2.bitwise_not(kept)
        slow = still is not None and self._tick % 4 == 0  # a fifth of the rate, every 4th frame
        for bg, new in ((self._bg, band), (self._bg_level, level)):
            if slow:
                cv2.accumulateWeighted(new, bg, self._alpha * 0.8)
            cv2.accumulateWeighted(new, bg, self._alpha, mask=still)
        cv2.accumulateWeighted(diff, self._dev, self._beta, mask=still)
        cv2.accumulateWeighted(moved, self._dev_level, self._beta, mask=still)
        if s.samples and self._tick % self._sample_every == 0:
            if kept is not None and self._limits is not None:
                band = np.where(kept > 0, self._limits.bg, band)
                level = np.where(kept > 0, self._limits.bg_level, level)
            self._store(band, level)

    def _store(self, band: np.ndarray, level: np.ndarray) -> None:
        """Keep a sample of the scene (the oldest goes)."""
        # A leaf shifts by a pixel: a structure sample spans its neighbours'
        # range, kept as its middle and half-width.
        band = cv2.convertScaleAbs(band)
        low, high = cv2.erode(band, self._kernel), cv2.dilate(band, self._kernel)
        middle = cv2.addWeighted(low, 0.5, high, 0.5, 0.0)
        reach = cv2.absdiff(high, middle)
        self._samples.append((middle, reach, cv2.convertScaleAbs(level)))
        del self._samples[: -self.settings.samples]

    def _blobs(
        self, fg: np.ndarray, structure: np.ndarray, changed: float
    ) -> tuple[MotionResult, np.ndarray | None]:
        """Boxes round blobs big enough and holding enough changed structure."""
        h, w = fg.shape
        closed = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, self._kernel)
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px = self.settings.min_area * w * h
        boxes: list[Box] = []
        kept = np.zeros_like(closed)
        for contour in contours:
            x, y, bw, bh = cv2.boundingRect(contour)
            if bw * bh < min_px:
                continue
            # Counted within the box (cheaper than labelling every pixel, and a
            # neighbour's few pixels in the corner change little).
            area = cv2.countNonZero(closed[y : y + bh, x : x + bw])
            seeds = cv2.countNonZero(structure[y : y + bh, x : x + bw])
            # A blob counts only with structure of its own: a change of level
            # alone (a cloud's shadow, a headlight's glow) has none, and a gust
            # through foliage has little.
            if area < min_px or seeds < max(min_px * 0.3, area * self.settings.seed_share):
                continue
            kept[y : y + bh, x : x + bw] = 255
            if bw > 3 and bh > 3:  # the 3x3 blur spread the blob by a pixel a side
                x, y, bw, bh = x + 1, y + 1, bw - 2, bh - 2
            boxes.append((x / w, y / h, bw / w, bh / h))
        if not boxes:
            return MotionResult(False, changed), None
        return MotionResult(True, changed, tuple(boxes)), kept
