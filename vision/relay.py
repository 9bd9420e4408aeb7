"""Events that arrive already detected and labelled (Frigate): the rest of a camera's path.

A camera watched here goes frames → motion → events → describer → notifier. A
camera another system watches (Frigate, with its object detector) hands over
events with labels, zones and sometimes a description of its own; this module
takes them from there through the same event log, the same notifier rules and
owner preferences, the same outbox and the same dashboard notices — nothing
decodes the stream a second time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.bus import Bus, Notice
from vision.config import CameraConfig
from vision.describe import Description
from vision.eventlog import EventLog
from vision.events import CameraEvent
from vision.notify import Notifier, Preferences, message_text
from vision.sources import decode_jpeg

log = logging.getLogger(__name__)

Photo = Callable[[], Awaitable[bytes | None]]  # the event's snapshot (JPEG), if any


@dataclass
class RelayedEvent:
    """One event reported from outside, as it stands."""

    event: CameraEvent
    description: Description
    notified: bool = False
    facts: dict[str, Any] = field(default_factory=dict)


class EventRelay:
    """Logs, keyframes, decides and notifies for events detected elsewhere."""

    def __init__(
        self,
        *,
        bus: Bus,
        events: EventLog,
        notifier: Notifier,
        preferences: Callable[[str], Preferences],
    ) -> None:
        self.bus = bus
        self.events = events
        self.notifier = notifier
        self.preferences = preferences
        self.open: dict[str, RelayedEvent] = {}

    def _notice(self, event_id: str, stage: str) -> None:
        row = self.events.event(event_id)
        if row is not None:
            self.bus.publish(Notice(topic="camera_event", data={**row, "stage": stage}))

    async def started(
        self,
        camera: CameraConfig,
        event_id: str,
        started: float,
        description: Description,
        photo: Photo,
        facts: dict[str, Any] | None = None,
    ) -> RelayedEvent:
        """A new event: log it, keep its snapshot, and tell the owner if the rules say so."""
        event = CameraEvent(camera.name, started=started, id=event_id, extra=dict(facts or {}))
        event.last_motion = time.time()
        relayed = self.open[event_id] = RelayedEvent(event, description, facts=dict(facts or {}))
        while len(self.open) > 500:  # ends that never came (the other system restarted)
            self.open.pop(next(iter(self.open)))
        self.events.record(event)
        self.events.describe(event.id, description)
        self._notice(event.id, "started")
        image = await photo()
        media: list[str] = []
        if image is not None:
            try:
                frame = await asyncio.to_thread(decode_jpeg, image)
                paths = await asyncio.to_thread(self.events.save_keyframes, event, [frame])
                media = [str(paths[0])]
                self._notice(event.id, "keyframes")
            except Exception as err:  # a broken snapshot still leaves the text
                log.warning("camera %s: snapshot of %s unusable: %s", camera.name, event_id, err)
        where = (facts or {}).get("zone")
        decision = self.notifier.decide(
            camera, description, self.preferences(camera.name), where=where
        )
        if decision.send:
            data = {"camera": camera.name, "event_id": event.id}
            text = message_text(camera.name, description)
            queued = await self.notifier.send(text, media, f"camera-event:{event.id}", data)
            self.notifier.sent(camera.name, description)
            relayed.notified = queued
            self.events.mark_notified(event.id, "yes" if queued else "no: no channel to the owner")
        else:
            self.events.mark_notified(event.id, f"no: {decision.reason}")
        log.info(
            "camera %s: event %s — %s (%s)",
            camera.name,
            event_id,
            description.title,
            decision.reason,
        )
        self._notice(event.id, "notified")
        return relayed

    def described(self, event_id: str, text: str) -> bool:
        """A later description (Frigate's GenAI), kept and shown, not sent again.

        It usually comes after the event ended; the title and labels stay.
        Returns whether the event is known.
        """
        row = self.events.event(event_id)
        if row is None:
            return False
        relayed = self.open.get(event_id)
        base = relayed.description if relayed is not None else None
        description = Description(
            title=base.title if base else row["title"] or "",
            description=text,
            notable=base.notable if base else row["notable"] is not False,
            labels=base.labels if base else tuple(row["labels"] or ()),
            carrier=base.carrier if base else row["carrier"],
            backend=base.backend if base else row["backend"] or "none",
        )
        if relayed is not None:
            relayed.description = description
        self.events.describe(event_id, description)
        self._notice(event_id, "described")
        return True

    def ended(self, event_id: str, ended: float) -> None:
        """The event is over."""
        relayed = self.open.pop(event_id, None)
        if relayed is None:
            return
        relayed.event.ended = ended
        relayed.event.last_motion = ended
        self.events.record(relayed.event)
        self._notice(event_id, "ended")
