"""The watcher's describe-and-notify step: together, photo first, or nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.bus import Bus, Notice
from agent.store import Store
from vision.config import CameraConfig, VisionConfig
from vision.describe import Description, FallbackDescriber, Request
from vision.eventlog import EventLog
from vision.events import EventTracker
from vision.motion import MotionResult
from vision.notify import Notifier, Preferences
from vision.watcher import CameraWatcher


class Recorder:
    """Implements the outbox's notify_owner."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], str | None]] = []

    def notify_owner(
        self, text: str, media: Sequence[str] = (), *, dedupe_key: str | None = None
    ) -> int:
        self.calls.append((text, list(media), dedupe_key))
        return len(self.calls)


class ScriptedDescriber:
    """A backend that answers after a delay."""

    name = "scripted"

    def __init__(self, result: Description, delay: float) -> None:
        self.result = result
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0

    async def describe(self, request: Request) -> Description:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return self.result
        finally:
            self.in_flight -= 1

    def status(self) -> dict[str, Any]:
        return {"backend": self.name}


FEDEX = Description(
    "FedEx truck just pulled up",
    "A white box truck stopped.",
    True,
    ("vehicle",),
    "FedEx",
    "scripted",
)


def make_watcher(
    tmp_path: Path, describer: ScriptedDescriber, notify: list[str], wait: float
) -> tuple[CameraWatcher, Recorder, EventLog]:
    store = Store(tmp_path / "db.sqlite")
    log = EventLog(store, tmp_path / "snapshots")
    recorder = Recorder()
    bus = Bus()
    camera = CameraConfig(name="driveway", url="http://127.0.0.1:9/x", notify=notify)
    watcher = CameraWatcher(
        camera,
        VisionConfig(notify_wait=wait),
        bus=bus,
        events=log,
        describer=FallbackDescriber(describer, timeout=5),
        notifier=Notifier(bus, lambda: recorder),
        preferences=lambda name: Preferences(),
    )
    return watcher, recorder, log


def event_with_frames(log: EventLog) -> tuple[Any, list[np.ndarray], list[Path]]:
    tracker = EventTracker("driveway")
    event = None
    for i in range(4):
        event = (
            tracker.feed(1000 + i / 10, MotionResult(True, 0.05, ((0.4, 0.5, 0.2, 0.3),)))[0]
            or event
        )
    assert event is not None
    log.record(event)
    images = [np.full((90, 160, 3), 100, np.uint8)]
    return event, images, log.save_keyframes(event, images)


async def test_quick_description_goes_with_the_photo(tmp_path: Path) -> None:
    watcher, recorder, log = make_watcher(tmp_path, ScriptedDescriber(FEDEX, 0.01), ["vehicle"], 1)
    event, images, paths = event_with_frames(log)
    await watcher._describe_and_notify(event, images, paths)
    (call,) = recorder.calls
    assert call[0].startswith("Driveway: FedEx truck just pulled up")
    assert call[1] == [str(paths[0])] and call[2] == f"camera-event:{event.id}"
    assert log.event(event.id)["notified"] == "yes"  # type: ignore[index]


async def test_slow_description_waits_when_it_could_still_say_no(tmp_path: Path) -> None:
    watcher, recorder, log = make_watcher(
        tmp_path, ScriptedDescriber(FEDEX, 0.3), ["vehicle"], 0.05
    )
    event, images, paths = event_with_frames(log)
    await watcher._describe_and_notify(event, images, paths)
    assert len(recorder.calls) == 1 and recorder.calls[0][1]  # one message, with the photo


async def test_slow_description_follows_the_photo_when_anything_counts(tmp_path: Path) -> None:
    watcher, recorder, log = make_watcher(tmp_path, ScriptedDescriber(FEDEX, 0.3), ["motion"], 0.05)
    bus_notices = watcher.bus.subscribe(Notice)
    event, images, paths = event_with_frames(log)
    await watcher._describe_and_notify(event, images, paths)
    photo, follow_up = recorder.calls
    assert photo[1] == [str(paths[0])] and photo[0].endswith("looking…")
    assert follow_up[1] == [] and "FedEx truck just pulled up" in follow_up[0]
    assert follow_up[2] == f"camera-event:{event.id}:description"
    topics = []
    while not bus_notices.queue.empty():
        topics.append(bus_notices.queue.get_nowait().topic)  # type: ignore[attr-defined]
    assert topics.count("camera_message") == 2 and "camera_event" in topics


async def test_no_activity_is_logged_not_sent(tmp_path: Path) -> None:
    nothing = Description("No activity", "", False, (), None, "scripted")
    watcher, recorder, log = make_watcher(tmp_path, ScriptedDescriber(nothing, 0.01), ["motion"], 1)
    event, images, paths = event_with_frames(log)
    await watcher._describe_and_notify(event, images, paths)
    assert recorder.calls == []
    row = log.event(event.id)
    assert (
        row is not None and row["notified"] == "no: not notable" and row["title"] == "No activity"
    )


@pytest.mark.parametrize("count", [3])
async def test_one_description_in_flight_per_camera(tmp_path: Path, count: int) -> None:
    describer = ScriptedDescriber(FEDEX, 0.05)
    watcher, recorder, log = make_watcher(tmp_path, describer, ["vehicle"], 1)
    jobs = []
    for _ in range(count):
        event, images, paths = event_with_frames(log)
        jobs.append(watcher._describe_and_notify(event, images, paths))
    await asyncio.gather(*jobs)
    assert describer.most_in_flight == 1
    assert len(recorder.calls) == 1  # the same vehicle again is inside the cooldown


async def test_without_an_outbox_the_event_says_so(tmp_path: Path) -> None:
    watcher, _recorder, log = make_watcher(tmp_path, ScriptedDescriber(FEDEX, 0.01), ["vehicle"], 1)
    watcher.notifier.outbox = lambda: None
    notices = watcher.bus.subscribe(Notice)
    event, images, paths = event_with_frames(log)
    await watcher._describe_and_notify(event, images, paths)
    row = log.event(event.id)
    assert row is not None and row["notified"] == "no: no channel to the owner"
    topics = [notices.queue.get_nowait().topic for _ in range(notices.queue.qsize())]  # type: ignore[attr-defined]
    assert "camera_message" in topics  # the dashboard still hears of it
