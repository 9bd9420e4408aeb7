"""Whether a camera event is worth a message, and sending it through the outbox.

Rules, in order: quiet events (a parked car) and "No activity" are never sent;
the event's labels, minus what the owner said to ignore, must meet what the
camera (or the owner's "only ...") asks for; then the camera's active hours,
the owner's quiet hours and a cooldown per camera and label. Without a
describer the labels are unknown ("motion"), so label rules cannot filter and
the photo is sent with the motion facts.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

from agent.bus import Bus, Notice
from vision.config import LABELS, CameraConfig, check_hours
from vision.describe import Description
from vision.feedback import HushRule

log = logging.getLogger(__name__)
# What owners say, mapped onto labels ("deliveries" are packages or branded carriers).
SYNONYMS = {
    "people": "person",
    "persons": "person",
    "someone": "person",
    "visitors": "person",
    "cars": "vehicle",
    "car": "vehicle",
    "vehicles": "vehicle",
    "trucks": "vehicle",
    "truck": "vehicle",
    "packages": "package",
    "parcels": "package",
    "deliveries": "delivery",
    "animals": "animal",
    "pets": "animal",
    "cats": "animal",
    "dogs": "animal",
    "cat": "animal",
    "dog": "animal",
    "anything": "motion",
    "everything": "motion",
}
KNOWN = (*LABELS, "delivery")


def normalise_labels(values: list[str] | None) -> list[str]:
    """Owner words ("cars", "deliveries") as labels; raise ValueError on unknown ones."""
    result: list[str] = []
    for value in values or []:
        word = value.strip().lower()
        label = SYNONYMS.get(word, word)
        if label not in KNOWN:
            raise ValueError(f"unknown camera label {value!r} (known: {', '.join(KNOWN)})")
        if label not in result:
            result.append(label)
    return result


class Preferences(BaseModel):
    """The owner's wishes for camera messages (global, or for one camera)."""

    model_config = ConfigDict(extra="forbid")

    ignore: list[str] = []
    only: list[str] = []
    quiet_hours: str | None = None
    muted: bool = False
    hush: list[HushRule] = []  # alerts the owner answered "not useful" (vision/feedback.py)

    @field_validator("ignore", "only")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        return normalise_labels(value)

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        return check_hours(value) if value else None


def in_span(span: str, moment: datetime) -> bool:
    """Whether a local time falls inside "HH:MM-HH:MM" (spans may wrap midnight)."""
    start_s, end_s = (part.strip() for part in span.split("-"))
    start = int(start_s[:-3]) * 60 + int(start_s[-2:])
    end = int(end_s[:-3]) * 60 + int(end_s[-2:])
    now = moment.hour * 60 + moment.minute
    return start <= now < end if start <= end else now >= start or now < end


def effective_labels(description: Description) -> set[str]:
    """The description's labels plus "delivery" when a package or a carrier is seen."""
    labels = set(description.labels)
    if description.carrier or "package" in labels:
        labels.add("delivery")
    return labels


@dataclass
class Decision:
    """Whether to send, and why (kept in the event log)."""

    send: bool
    reason: str


@dataclass
class Notifier:
    """Applies the rules and sends through the outbox (or only the dashboard without one)."""

    bus: Bus
    # Looked up at send time: the messaging component may start after cameras.
    outbox: Callable[[], Any]
    timezone: str = "UTC"
    quiet_hours: str | None = None
    _last: dict[tuple[str, str], float] = field(default_factory=dict)

    def can_filter(self, camera: CameraConfig, prefs: Preferences) -> bool:
        """Whether a description could still stop this camera's message."""
        return "motion" not in camera.notify or bool(prefs.only or prefs.ignore or prefs.hush)

    def decide(
        self,
        camera: CameraConfig,
        description: Description | None,
        prefs: Preferences,
        *,
        quiet: str | None = None,
        now: float | None = None,
        where: str | None = None,
    ) -> Decision:
        """Apply the rules to one event (description None: not described yet)."""
        now = now or time.time()
        if quiet:
            return Decision(False, quiet)
        if prefs.muted:
            return Decision(False, "muted")
        if description is not None and not description.notable:
            return Decision(False, "not notable")
        labels = effective_labels(description) if description else {"motion"}
        if "motion" not in labels:
            wanted = set(prefs.only or camera.notify)
            if "package" in wanted:
                wanted.add("delivery")
            remaining = labels - set(prefs.ignore)
            if "motion" not in wanted and not remaining & wanted:
                return Decision(False, f"labels {sorted(labels)} not wanted")
            if not remaining:
                return Decision(False, "ignored by preference")
        text = f"{description.title}. {description.description}" if description else ""
        for rule in prefs.hush:
            if rule.matches(labels, text, where):
                return Decision(False, f"you said “{rule.said}” ({rule.id})")
        local = datetime.fromtimestamp(now, ZoneInfo(self.timezone))
        if camera.active_hours and not in_span(camera.active_hours, local):
            return Decision(False, "outside active hours")
        quiet_hours = prefs.quiet_hours or self.quiet_hours
        if quiet_hours and in_span(quiet_hours, local):
            return Decision(False, "quiet hours")
        for label in sorted(labels):
            last = self._last.get((camera.name, label))
            if last is not None and now - last < camera.cooldown:
                return Decision(False, "cooldown")
        return Decision(True, "ok")

    def sent(self, camera: str, description: Description | None, now: float | None = None) -> None:
        """Start the cooldowns of what was just sent."""
        labels = effective_labels(description) if description else {"motion"}
        for label in labels:
            self._last[(camera, label)] = now or time.time()

    async def send(
        self, text: str, media: list[str], dedupe_key: str, data: dict[str, Any]
    ) -> bool:
        """Hand a message to the outbox; always tell the dashboard. Returns whether queued."""
        self.bus.publish(
            Notice(topic="camera_message", data={**data, "text": text, "media": media})
        )
        outbox = self.outbox()
        if outbox is None:
            log.info("camera message (no outbox running): %s", text)
            return False
        try:
            result = outbox.notify_owner(text, media=media, dedupe_key=dedupe_key)
            if inspect.isawaitable(result):
                result = await result
        except Exception as err:  # the outbox's own failure must not kill the camera
            log.warning("outbox refused the camera message %s: %s", dedupe_key, err)
            return False
        return result is not None


def message_text(camera: str, description: Description) -> str:
    """One line for the owner: "Driveway: FedEx truck just pulled up — a delivery"."""
    title = description.title.rstrip(".")
    text = f"{camera[:1].upper()}{camera[1:]}: {title}"
    body = description.description.rstrip(".")
    if body and body.lower() != title.lower() and len(text) + len(body) < 220:
        text += f" — {body[:1].lower()}{body[1:]}"
    return text
