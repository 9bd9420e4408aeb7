"""Where frames come from: one grabber thread per camera keeping only the latest frame.

`StreamSource` reads RTSP (over TCP), HTTP MJPEG or a file through OpenCV's
FFmpeg backend with open/read timeouts, so a stalled camera fails a read in
seconds instead of blocking for 30 s; it reconnects with capped backoff.
`SnapshotSource` polls a snapshot URL. Both keep only the newest frame: the
detector always looks at "now", never at a backlog.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)


class CameraUnavailable(Exception):
    """The camera cannot be reached or sent no picture."""


@dataclass(frozen=True)
class Frame:
    """One decoded picture (BGR), when it arrived, and its sequence number."""

    image: np.ndarray
    ts: float
    seq: int


class Source(Protocol):
    """A camera feed that keeps its newest frame."""

    def start(self) -> None:
        """Start grabbing in the background."""
        ...

    def stop(self) -> None:
        """Stop grabbing and release the camera."""
        ...

    def latest(self) -> Frame | None:
        """The newest frame, if any arrived."""
        ...

    def health(self) -> dict[str, Any]:
        """Status, frame rate, age of the last frame, reconnects, last error."""
        ...


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode an image body; raise CameraUnavailable when it is not a picture."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise CameraUnavailable("the camera sent something that is not an image")
    return image


def fetch_snapshot(url: str, timeout: float = 5.0) -> np.ndarray:
    """GET a snapshot URL and decode it (blocking; call from a thread)."""
    if not url.startswith(("http://", "https://")):
        raise CameraUnavailable(f"snapshot URL must be http(s): {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return decode_jpeg(response.read(16 * 1024 * 1024))
    except OSError as err:
        raise CameraUnavailable(f"snapshot from {url} failed: {err}") from None


class _Grabber:
    """Shared state and thread handling of the sources."""

    def __init__(self, name: str, *, stale_after: float, max_backoff: float) -> None:
        self.name = name
        self.stale_after = stale_after
        self.max_backoff = max_backoff
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = "starting"
        self.error = ""
        self.reconnects = 0
        self._arrivals: deque[float] = deque(maxlen=50)

    def start(self) -> None:
        """Start the grabber thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"camera:{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and wait briefly (a blocked read ends at its timeout)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=6)

    def latest(self) -> Frame | None:
        """The newest frame, if any arrived."""
        with self._lock:
            return self._frame

    def _publish(self, image: np.ndarray) -> None:
        now = time.time()
        with self._lock:
            self._arrivals.append(now)
            self._seq += 1
            self._frame = Frame(image, now, self._seq)

    def _backoff(self, attempt: int) -> None:
        self._stop.wait(min(self.max_backoff, 0.5 * 2**attempt))

    def _run(self) -> None:
        raise NotImplementedError

    def health(self) -> dict[str, Any]:
        """Status, frame rate, age of the last frame, reconnects, last error."""
        frame = self.latest()
        age = time.time() - frame.ts if frame else None
        status = self.status
        arrivals = list(self._arrivals)
        # Frames over wall time: FFmpeg delivers in bursts, so 1/gap would lie.
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
        rate = (len(arrivals) - 1) / span if span > 0 else 0.0
        if status == "ok" and (age is None or age > self.stale_after):
            status = "stale"
        return {
            "status": status,
            "fps": round(rate, 1),
            "last_frame_age": None if age is None else round(age, 2),
            "reconnects": self.reconnects,
            "error": self.error,
        }


class StreamSource(_Grabber):
    """RTSP / HTTP MJPEG / file capture through OpenCV, with timeouts and reconnects."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        open_timeout: float = 5.0,
        read_timeout: float = 5.0,
        stale_after: float = 10.0,
        max_backoff: float = 30.0,
    ) -> None:
        super().__init__(name, stale_after=stale_after, max_backoff=max_backoff)
        self.url = url
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout

    def _open(self) -> cv2.VideoCapture:
        if self.url.startswith("rtsp") and "OPENCV_FFMPEG_CAPTURE_OPTIONS" not in os.environ:
            # RTSP over UDP drops packets on busy Wi-Fi and smears frames; TCP does not.
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "rtsp_transport;tcp"
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout * 1000),
        ]
        return cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)

    def _run(self) -> None:
        attempt = 0
        is_file = "://" not in self.url
        while not self._stop.is_set():
            cap = self._open()
            try:
                if not cap.isOpened():
                    self.status, self.error = "unreachable", f"cannot open {self._safe_url()}"
                    log.info("camera %s: %s", self.name, self.error)
                    self._backoff(attempt)
                    attempt += 1
                    continue
                pace = 1.0 / (cap.get(cv2.CAP_PROP_FPS) or 10.0) if is_file else 0.0
                got_any = False
                while not self._stop.is_set():
                    ok, image = cap.read()
                    if not ok or image is None:
                        break
                    if not got_any:
                        got_any, attempt = True, 0
                        self.status, self.error = "ok", ""
                        log.info("camera %s: streaming", self.name)
                    self._publish(image)
                    if pace:
                        self._stop.wait(pace)  # play files in real time, looping
                if self._stop.is_set():
                    break
                if not is_file:
                    self.status, self.error = "reconnecting", "stream stalled or closed"
                    log.info("camera %s: stream lost; reconnecting", self.name)
                self.reconnects += 1
                if not got_any:
                    self._backoff(attempt)
                    attempt += 1
            finally:
                cap.release()
        self.status = "stopped"

    def _safe_url(self) -> str:
        """The URL without credentials, for logs and health."""
        if "@" in self.url and "://" in self.url:
            scheme, rest = self.url.split("://", 1)
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return self.url


class SnapshotSource(_Grabber):
    """Polls a snapshot URL (cameras without a usable stream)."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        interval: float = 1.0,
        timeout: float = 5.0,
        stale_after: float = 10.0,
        max_backoff: float = 30.0,
    ) -> None:
        super().__init__(name, stale_after=stale_after, max_backoff=max_backoff)
        self.url = url
        self.interval = interval
        self.timeout = timeout

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._publish(fetch_snapshot(self.url, self.timeout))
                self.status, self.error, attempt = "ok", "", 0
            except CameraUnavailable as err:
                self.status, self.error = "unreachable", str(err)
                self.reconnects += 1
                self._backoff(attempt)
                attempt += 1
                continue
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        self.status = "stopped"


def open_source(name: str, url: str, *, snapshot: bool = False, **options: Any) -> _Grabber:
    """The right source for a URL: snapshot polling or a stream."""
    if snapshot:
        return SnapshotSource(name, url, **options)
    return StreamSource(name, url, **options)
