"""From per-frame motion to camera events: debounce, lifecycle, keyframes.

An event starts when motion is seen in most of the last few frames, lasts while
motion continues (short gaps are bridged), and ends after a quiet spell. An
event is marked quiet (logged, never sent) when its motion stays inside the
spot where an earlier event came to rest — the parked car that keeps
shimmering is not news (cooldowns per label live in the notifier). Keyframes
are the largest, sharpest frames not cut by the frame edge, plus the most
different ones.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from vision.motion import Box, MotionResult

_ids = itertools.count(1)
MAX_KEYFRAME_WIDTH = 1280


@dataclass
class EventSettings:
    """Timing and size rules of events (seconds and frame fractions)."""

    start_frames: int = 3  # motion in this many of the last `window` frames starts one
    window: int = 4
    end_after: float = 2.5  # quiet this long ends an event
    min_area: float = 0.002  # smallest union box (fraction of the frame)
    max_duration: float = 300.0
    stationary_memory: float = 6 * 3600.0
    keyframes: int = 3
    candidates: int = 12

    @classmethod
    def at(cls, fps: float) -> EventSettings:
        """The defaults for frames coming at `fps`: the start window spans ~0.8 s.

        The defaults (3 of 4 frames) are for 5 frames/s; at 30 frames/s four
        frames are a blink, and a gust through leaves fills them easily.
        """
        window = max(4, round(0.8 * fps))
        return cls(start_frames=max(3, round(window * 0.75)), window=window)


@dataclass(eq=False)  # compared by identity: frames are big arrays
class Candidate:
    """A frame that may become a keyframe."""

    ts: float
    image: np.ndarray
    score: float
    thumb: np.ndarray
    box: Box | None


@dataclass
class CameraEvent:
    """One event in progress or finished."""

    camera: str
    started: float
    id: str = field(default_factory=lambda: f"{int(time.time() * 1000):x}-{next(_ids)}")
    ended: float | None = None
    last_motion: float = 0.0
    peak_area: float = 0.0
    frames: int = 0
    union: Box | None = None
    rest: Box | None = None  # where the motion was at the end
    quiet: str | None = None  # "stationary": logged but not sent
    candidates: list[Candidate] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)  # facts from elsewhere (a zone)

    @property
    def duration(self) -> float:
        """Seconds from start to end (or to the last motion so far)."""
        return (self.ended or self.last_motion) - self.started

    def facts(self) -> dict[str, object]:
        """Motion facts for the describer-less message: where, how big, how long."""
        where = _where(self.union)
        return {
            "where": where,
            "size": "large"
            if self.peak_area > 0.08
            else "medium"
            if self.peak_area > 0.02
            else "small",
            "duration": round(self.duration, 1),
            **self.extra,
        }


def _where(box: Box | None) -> str:
    if box is None:
        return "in view"
    cx = box[0] + box[2] / 2
    cy = box[1] + box[3] / 2
    horizontal = "left" if cx < 0.33 else "right" if cx > 0.67 else "centre"
    vertical = "far" if cy < 0.4 else "near" if cy > 0.75 else ""
    return f"{vertical} {horizontal}".strip()


def union(a: Box | None, b: Box | None) -> Box | None:
    """The smallest box holding both."""
    if a is None or b is None:
        return a or b
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def inside_fraction(inner: Box, outer: Box) -> float:
    """How much of `inner` lies within `outer` (0..1)."""
    ix = max(0.0, min(inner[0] + inner[2], outer[0] + outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[1] + inner[3], outer[1] + outer[3]) - max(inner[1], outer[1]))
    area = inner[2] * inner[3]
    return ix * iy / area if area > 0 else 0.0


def frame_score(image: np.ndarray, box: Box | None) -> tuple[float, np.ndarray]:
    """How good a keyframe this is (size x sharpness, penalised at the edge) and a thumbnail."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    thumb = cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
    if box is None:
        return 0.0, thumb
    h, w = grey.shape
    x0, y0 = int(box[0] * w), int(box[1] * h)
    x1, y1 = max(x0 + 2, int((box[0] + box[2]) * w)), max(y0 + 2, int((box[1] + box[3]) * h))
    crop = grey[y0:y1, x0:x1]
    if crop.shape[1] > 160:  # sharpness needs edges, not megapixels
        crop = cv2.resize(crop, (160, max(2, crop.shape[0] * 160 // crop.shape[1])))
    sharp = float(cv2.Laplacian(crop, cv2.CV_32F).var()) if crop.size else 0.0
    size = min(box[2] * box[3], 0.5)
    edge = 0.02
    cut = box[0] < edge or box[1] < edge or box[0] + box[2] > 1 - edge or box[1] + box[3] > 1 - edge
    return size * np.sqrt(sharp + 1.0) * (0.4 if cut else 1.0), thumb


def choose_keyframes(candidates: list[Candidate], count: int = 3) -> list[Candidate]:
    """The best frame first, then the frames most different from those already chosen."""
    if not candidates:
        return []
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    chosen = [ranked[0]]
    rest = ranked[1:]
    while rest and len(chosen) < count:

        def novelty(c: Candidate) -> float:
            return min(float(np.mean(np.abs(c.thumb - k.thumb))) for k in chosen)

        best = max(rest, key=novelty)
        if novelty(best) < 4.0:  # nothing new to show
            break
        chosen.append(best)
        rest.remove(best)
    return chosen


class EventTracker:
    """Turns one camera's motion results into started/ended events."""

    def __init__(self, camera: str, settings: EventSettings | None = None) -> None:
        self.camera = camera
        self.settings = settings or EventSettings()
        self.current: CameraEvent | None = None
        self._recent: deque[tuple[float, MotionResult]] = deque(maxlen=self.settings.window)
        self._rests: list[tuple[float, Box]] = []

    def feed(
        self, ts: float, result: MotionResult, image: np.ndarray | None = None
    ) -> tuple[CameraEvent | None, CameraEvent | None]:
        """Feed one frame's result; returns (event that started, event that ended)."""
        s = self.settings
        box = result.bbox if result.motion else None
        if box is not None and box[2] * box[3] < s.min_area:
            box = None
        self._recent.append((ts, result if box else MotionResult(False)))
        started = ended = None
        event = self.current
        if event is None:
            hits = [(t, r) for t, r in self._recent if r.motion]
            if len(hits) >= s.start_frames:
                event = self.current = CameraEvent(self.camera, started=hits[0][0])
                for t, r in hits:
                    self._grow(event, t, r)
                event.quiet = self.quiet_reason(event)
                started = event
        elif box is not None:
            self._grow(event, ts, result)
        if event is not None and box is not None and image is not None:
            self._consider(event, ts, image, box)
        if event is not None and (
            ts - event.last_motion >= s.end_after or ts - event.started >= s.max_duration
        ):
            ended = self._end(event)
        return started, ended

    def flush(self, ts: float | None = None) -> CameraEvent | None:
        """End the current event now (camera lost, shutting down)."""
        return self._end(self.current) if self.current is not None else None

    def _grow(self, event: CameraEvent, ts: float, result: MotionResult) -> None:
        event.frames += 1
        event.last_motion = max(event.last_motion, ts)
        event.peak_area = max(event.peak_area, result.area)
        event.union = union(event.union, result.bbox)
        event.rest = result.bbox

    def _consider(self, event: CameraEvent, ts: float, image: np.ndarray, box: Box) -> None:
        if image.shape[1] > MAX_KEYFRAME_WIDTH:
            # A dozen 4K candidates would be 300 MB; 1280 px is plenty to describe.
            height = round(image.shape[0] * MAX_KEYFRAME_WIDTH / image.shape[1])
            image = cv2.resize(image, (MAX_KEYFRAME_WIDTH, height), interpolation=cv2.INTER_AREA)
        score, thumb = frame_score(image, box)
        event.candidates.append(Candidate(ts, image, score, thumb, box))
        if len(event.candidates) > self.settings.candidates:
            # Keep the best and the latest; drop the weakest of the older ones.
            older = event.candidates[:-1]
            older.remove(min(older, key=lambda c: c.score))
            event.candidates = [*older, event.candidates[-1]]

    def quiet_reason(self, event: CameraEvent) -> str | None:
        """ "stationary" while all the event's motion stays where an earlier one came to rest."""
        s = self.settings
        self._rests = [(t, b) for t, b in self._rests if event.started - t < s.stationary_memory]
        if event.union is not None:
            for _, rest in self._rests:
                grown = (rest[0] - 0.03, rest[1] - 0.03, rest[2] + 0.06, rest[3] + 0.06)
                if inside_fraction(event.union, grown) > 0.8:
                    return "stationary"
        return None

    def _end(self, event: CameraEvent) -> CameraEvent:
        event.ended = event.last_motion or event.started
        self.current = None
        self._recent.clear()
        if event.rest is not None:
            self._rests.append((event.ended, event.rest))
        return event
