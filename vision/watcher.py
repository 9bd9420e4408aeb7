"""One camera, watched: frames → motion → events → keyframes → describer → notifier.

Detection runs on the newest frame only, at the camera's `detect_fps`, in a
worker thread. When an event starts, the watcher lets it settle briefly (a
better keyframe), saves the keyframes, asks the describer (one description
in flight per camera) and hands the result to the notifier: the photo and the
description together when the description is quick, else the photo first when
the description could not change the decision, and the description after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agent.bus import Bus, Notice
from vision.config import CameraConfig, VisionConfig
from vision.describe import Description, FallbackDescriber, Request
from vision.eventlog import EventLog, encode_jpeg
from vision.events import CameraEvent, EventSettings, EventTracker, choose_keyframes
from vision.motion import MotionDetector, MotionSettings
from vision.notify import Notifier, Preferences, message_text
from vision.sources import Frame, fetch_snapshot, open_source

log = logging.getLogger(__name__)


class CameraWatcher:
    """Runs the pipeline of one camera (a supervised task calls `run`)."""

    def __init__(
        self,
        camera: CameraConfig,
        vision: VisionConfig,
        *,
        bus: Bus,
        events: EventLog,
        describer: FallbackDescriber,
        notifier: Notifier,
        preferences: Callable[[str], Preferences],
        masks: list[list[tuple[float, float]]] | None = None,
    ) -> None:
        self.camera = camera
        self.vision = vision
        self.bus = bus
        self.events = events
        self.describer = describer
        self.notifier = notifier
        self.preferences = preferences
        detect_url = camera.detect_url or camera.url
        self.source = open_source(
            camera.name,
            detect_url or camera.snapshot_url or "",
            snapshot=detect_url is None,
            **({"interval": 1.0 / camera.detect_fps} if detect_url is None else {}),
        )
        # The photo sent comes from the best picture available: a snapshot URL or the
        # main stream when detection runs on a sub-stream.
        self.photo_source = (
            open_source(f"{camera.name} (main)", camera.url)
            if camera.detect_url and camera.url
            else None
        )
        self.detector = MotionDetector(
            MotionSettings(
                sensitivity=camera.sensitivity,
                masks=masks or list(camera.masks),
                fps=camera.detect_fps,
            )
        )
        self.tracker = EventTracker(camera.name, EventSettings.at(camera.detect_fps))
        self._describing = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.last_event: str | None = None
        self.frames = 0

    def set_masks(self, masks: list[list[tuple[float, float]]]) -> None:
        """Use new motion masks (drawn on the dashboard) from the next frame on."""
        self.detector = MotionDetector(
            MotionSettings(
                sensitivity=self.camera.sensitivity, masks=masks, fps=self.camera.detect_fps
            )
        )

    # -- the loop ----------------------------------------------------------------

    async def run(self) -> None:
        """Grab, detect and track until cancelled."""
        self.source.start()
        if self.photo_source is not None:
            self.photo_source.start()
        interval = 1.0 / self.camera.detect_fps
        last_seq = 0
        next_at = time.monotonic()
        try:
            while True:
                next_at = max(next_at + interval, time.monotonic())
                await asyncio.sleep(next_at - time.monotonic())
                frame = self.source.latest()
                if frame is None or frame.seq == last_seq:
                    self._check_stale()
                    continue
                last_seq = frame.seq
                started, ended = await asyncio.to_thread(self._step, frame)
                if started is not None:
                    self._on_start(started)
                if ended is not None:
                    self._on_end(ended)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Stop the grabber threads (blocking; at most a read timeout)."""
        self.source.stop()
        if self.photo_source is not None:
            self.photo_source.stop()

    def _step(self, frame: Frame) -> tuple[CameraEvent | None, CameraEvent | None]:
        self.frames += 1
        result = self.detector.detect(frame.image)
        return self.tracker.feed(frame.ts, result, frame.image)

    def _check_stale(self) -> None:
        health = self.source.health()
        if health["status"] != "ok" and self.tracker.current is not None:
            ended = self.tracker.flush()
            if ended is not None:
                self._on_end(ended)

    # -- events ------------------------------------------------------------------

    def _notice(self, event_id: str, stage: str) -> None:
        row = self.events.event(event_id)
        if row is not None:
            self.bus.publish(Notice(topic="camera_event", data={**row, "stage": stage}))

    def _on_start(self, event: CameraEvent) -> None:
        self.last_event = event.id
        self.events.record(event)
        log.info(
            "camera %s: event %s started%s",
            event.camera,
            event.id,
            f" ({event.quiet})" if event.quiet else "",
        )
        self._notice(event.id, "started")
        task = asyncio.create_task(self._analyse(event), name=f"camera-event:{event.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_end(self, event: CameraEvent) -> None:
        self.events.record(event)
        log.info("camera %s: event %s ended after %.1f s", event.camera, event.id, event.duration)
        self._notice(event.id, "ended")

    async def _photo(self) -> np.ndarray | None:
        """A fresh high-resolution picture, when the camera offers a better one."""
        if self.photo_source is not None:
            frame = self.photo_source.latest()
            return frame.image if frame else None
        if self.camera.snapshot_url and (self.camera.url or self.camera.detect_url):
            try:
                return await asyncio.to_thread(fetch_snapshot, self.camera.snapshot_url, 3.0)
            except Exception as err:  # the keyframe is a fine photo too
                log.debug("camera %s: snapshot failed: %s", self.camera.name, err)
        return None

    async def _analyse(self, event: CameraEvent) -> None:
        """Settle, keep keyframes, describe, decide, notify."""
        try:
            deadline = time.monotonic() + self.vision.settle
            while event.ended is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            chosen = choose_keyframes(list(event.candidates))
            if not chosen:
                return
            images = [c.image for c in chosen]
            photo = await self._photo()
            if photo is not None:
                images = [photo, *images[1:]]
            paths = await asyncio.to_thread(self.events.save_keyframes, event, images)
            event.quiet = event.quiet and self.tracker.quiet_reason(event)
            self.events.record(event)
            self._notice(event.id, "keyframes")
            await self._describe_and_notify(event, images, paths)
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad event must never stop the camera
            log.exception("camera %s: analysing event %s failed", event.camera, event.id)

    async def _describe_and_notify(
        self, event: CameraEvent, images: list[np.ndarray], paths: list[Path]
    ) -> None:
        prefs = self.preferences(self.camera.name)
        request = Request(
            camera=self.camera.name,
            images=tuple(encode_jpeg(i) for i in images[:3]),
            area=self.camera.area,
            facts=event.facts(),
        )

        async def describe() -> Description:
            async with self._describing:  # one description in flight per camera
                return await self.describer.describe(request)

        media = [str(paths[0])]
        data: dict[str, Any] = {"camera": self.camera.name, "event_id": event.id}
        key = f"camera-event:{event.id}"
        if event.quiet:
            self.events.mark_notified(event.id, f"no: {event.quiet}")
            self._notice(event.id, "quiet")
            return
        task = asyncio.create_task(describe())
        done, _ = await asyncio.wait({task}, timeout=self.vision.notify_wait)
        photo_sent = False
        if not done:
            early = self.notifier.decide(
                self.camera, None, prefs, where=str(event.facts()["where"])
            )
            if early.send and not self.notifier.can_filter(self.camera, prefs):
                text = f"{self.camera.name[:1].upper()}{self.camera.name[1:]}: motion — looking…"
                photo_sent = await self.notifier.send(text, media, key, data)
                self.notifier.sent(self.camera.name, None)
                self.events.mark_notified(event.id, "photo first")
        description = await task
        self.events.describe(event.id, description)
        self._notice(event.id, "described")
        decision = self.notifier.decide(
            self.camera, description, prefs, quiet=event.quiet, where=str(event.facts()["where"])
        )
        if photo_sent:
            if description.backend != "none" and description.notable:
                await self.notifier.send(
                    message_text(self.camera.name, description), [], f"{key}:description", data
                )
                self.events.mark_notified(event.id, "photo, then description")
            return
        if decision.send:
            text = message_text(self.camera.name, description)
            queued = await self.notifier.send(text, media, key, data)
            self.notifier.sent(self.camera.name, description)
            self.events.mark_notified(event.id, "yes" if queued else "no: no channel to the owner")
        else:
            self.events.mark_notified(event.id, f"no: {decision.reason}")
        log.info(
            "camera %s: event %s — %s (%s)",
            self.camera.name,
            event.id,
            description.title,
            decision.reason,
        )
        with contextlib.suppress(Exception):
            self._notice(event.id, "notified")

    def health(self) -> dict[str, Any]:
        """Source health plus detection counters."""
        return {
            **self.source.health(),
            "frames_analysed": self.frames,
            "event_in_progress": self.tracker.current is not None,
            "last_event": self.last_event,
        }
