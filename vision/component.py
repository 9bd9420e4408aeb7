"""The vision component: cameras watched, events kept, owner told (`rt.services["vision"]`)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from agent.bus import Notice
from vision import api, feedback, tools
from vision.config import CameraConfig
from vision.describers import create_describer
from vision.eventlog import EventLog, encode_jpeg, slug
from vision.notify import Notifier, Preferences
from vision.relay import EventRelay
from vision.service import CameraFeed
from vision.sources import CameraUnavailable, decode_jpeg
from vision.watcher import CameraWatcher

if TYPE_CHECKING:
    from agent.runtime import Runtime

log = logging.getLogger(__name__)
GLOBAL = "global"


def create(rt: Runtime) -> Vision:
    """Component factory for `agent.daemon.COMPONENTS`."""
    return Vision(rt)


class Vision:
    """Runs one watcher per camera, the describer and the notifier."""

    name = "vision"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.config = rt.config.vision
        self.cameras: dict[str, CameraConfig] = {c.name: c for c in rt.config.cameras}
        self.watchers: dict[str, CameraWatcher] = {}
        self.feeds: dict[str, CameraFeed] = {}  # cameras whose events come from elsewhere
        self.events: EventLog | None = None
        self.relay: EventRelay | None = None

    # -- lifecycle ------------------------------------------------------------------

    def setup(self, rt: Runtime) -> None:
        """Create tables, build the watchers, register routes and tools (no I/O)."""
        self.events = EventLog(rt.store, rt.paths.snapshots)
        self.describer = create_describer(self.config)
        self.notifier = Notifier(
            rt.bus,
            lambda: rt.service("outbox"),
            timezone=rt.config.home.timezone,
            quiet_hours=self.config.quiet_hours,
        )
        for camera in self.cameras.values():
            if not camera.enabled:
                continue
            masks = self.events.preferences().get(f"masks:{camera.name}")
            self.watchers[camera.name] = CameraWatcher(
                camera,
                self.config,
                bus=rt.bus,
                events=self.events,
                describer=self.describer,
                notifier=self.notifier,
                preferences=self.preferences_for,
                masks=masks,
            )
        self.relay = EventRelay(
            bus=rt.bus, events=self.events, notifier=self.notifier, preferences=self.preferences_for
        )
        api.add_routes(rt.app, self)
        tools.register(rt.tools, self)
        rt.services["vision"] = self

    def add_camera(self, camera: CameraConfig, feed: CameraFeed) -> EventRelay:
        """A camera another system watches: listed, asked for pictures, its events relayed."""
        assert self.relay is not None
        if camera.name in self.cameras and camera.name not in self.feeds:
            raise ValueError(f"camera {camera.name!r} is configured twice")
        self.cameras[camera.name] = camera
        self.feeds[camera.name] = feed
        return self.relay

    async def start(self) -> None:
        """Start a supervised task per camera, retention, and the model preload."""
        for name, watcher in self.watchers.items():
            self.rt.supervisor.spawn(f"camera:{name}", watcher.run)
        self.rt.supervisor.spawn("vision:retention", self._retention)
        brain = self.rt.service("brain")
        if brain is not None and hasattr(brain, "register_phrases"):
            # Answered locally, from the owner's own words (never a model's paraphrase).
            brain.register_phrases("camera:feedback", feedback.PHRASES, self._feedback_phrase)
        load = getattr(self.describer.backend, "load", None)
        if self.watchers and load is not None:
            # Load (or download) the model now, not when the first truck arrives.
            self.rt.supervisor.spawn(
                "vision:model", functools.partial(self._preload, load), restart_on_return=False
            )

    async def stop(self) -> None:
        """Release the cameras (the supervisor cancels the tasks)."""
        await asyncio.gather(
            *(asyncio.to_thread(w.close) for w in self.watchers.values()), return_exceptions=True
        )

    async def _preload(self, load: Callable[[], Awaitable[None]]) -> None:
        try:
            await load()
        except Exception as err:  # reported in health; events fall back to motion facts
            log.error("vision model unavailable: %s", err)

    async def _retention(self) -> None:
        assert self.events is not None
        while True:
            await asyncio.to_thread(
                self.events.prune, self.config.retention_days, self.config.retention_mb
            )
            await asyncio.sleep(3600)

    # -- what other parts use ---------------------------------------------------------

    def preferences_for(self, camera: str | None) -> Preferences:
        """The owner's preferences for a camera (its own override the global ones)."""
        assert self.events is not None
        stored = self.events.preferences()
        merged = dict(stored.get(GLOBAL) or {})
        if camera:
            own = stored.get(f"camera:{camera}") or {}
            hush = [*merged.get("hush", []), *own.get("hush", [])]  # both apply
            merged.update(own)
            if hush:
                merged["hush"] = hush
        try:
            return Preferences.model_validate(merged)
        except ValueError:
            log.warning("ignoring invalid stored camera preferences: %s", merged)
            return Preferences()

    def set_preferences(self, camera: str | None, changes: dict[str, Any]) -> Preferences:
        """Merge changes into the global or one camera's preferences; returns the result."""
        assert self.events is not None
        if camera is not None:
            self.camera(camera)
        key = f"camera:{camera}" if camera else GLOBAL
        current = dict(self.events.preferences().get(key) or {})
        current.update({k: v for k, v in changes.items() if v is not None})
        validated = Preferences.model_validate(current)
        self.events.set_preference(key, validated.model_dump(exclude_defaults=True))
        return self.preferences_for(camera)

    # -- alert feedback (vision/feedback.py) ----------------------------------------

    def feedback(self, text: str, event_id: str | None = None) -> str:
        """The owner's answer to an alert ("not useful"): hush similar ones; the reply.

        `text` is the owner's own message (or the dashboard button's words);
        `event_id` the alert it answers, else the latest alert sent.
        """
        assert self.events is not None
        ask = feedback.parse(text)
        if ask is None:
            ask = feedback.Ask((), text) if event_id else None
        if ask is None:
            return "I could not tell which alerts you mean; say “not useful” right after one."
        event = self.events.event(event_id) if event_id else self._last_alert()
        if event is None:
            return "There is no recent camera alert to stop; nothing changed."
        rule = feedback.rule_for(event, ask)
        key = f"camera:{event['camera']}"
        current = dict(self.events.preferences().get(key) or {})
        current["hush"] = [*current.get("hush", []), rule.model_dump()]
        self.events.set_preference(
            key, Preferences.model_validate(current).model_dump(exclude_defaults=True)
        )
        log.info("camera %s: hushed %s (%s)", event["camera"], rule.summary(), rule.id)
        self.rt.bus.publish(Notice(topic="camera_preferences", data={"camera": event["camera"]}))
        return (
            f"OK, no more alerts like that from the {event['camera']} camera "
            f"({rule.summary()}). They are still logged. Undo: the Cameras panel, or "
            f"`homeclaw cameras --unhush {rule.id}`."
        )

    async def _feedback_phrase(self, msg: Any, ctx: Any) -> Any:
        from agent.brain.reply import Reply

        if ctx.role != "owner" or ctx.untrusted:
            return Reply("Only the owner can change camera alerts.", "local")
        return Reply(self.feedback(msg.text), "local")

    def _last_alert(self) -> dict[str, Any] | None:
        assert self.events is not None
        since = time.time() - feedback.RECENT
        for row in self.events.events(since=since, limit=50):
            if (row.get("notified") or "").startswith(("yes", "photo")):
                return row
        return None

    def hush_rules(self) -> list[dict[str, Any]]:
        """What the owner asked not to be told about, per camera."""
        assert self.events is not None
        rules = []
        for key, value in self.events.preferences().items():
            if key == GLOBAL or key.startswith("camera:"):
                camera = None if key == GLOBAL else key.removeprefix("camera:")
                for rule in (value or {}).get("hush", []):
                    parsed = feedback.HushRule.model_validate(rule)
                    rules.append(
                        {"camera": camera, "summary": parsed.summary(), **parsed.model_dump()}
                    )
        return sorted(rules, key=lambda r: r["created"])

    def unhush(self, rule_id: str) -> bool:
        """Forget one hush rule; whether it existed."""
        assert self.events is not None
        for key, value in self.events.preferences().items():
            rules = (value or {}).get("hush") if isinstance(value, dict) else None
            if not rules or not any(r.get("id") == rule_id for r in rules):
                continue
            kept = {**value, "hush": [r for r in rules if r.get("id") != rule_id]}
            if not kept["hush"]:
                del kept["hush"]
            self.events.set_preference(key, kept or None)
            self.rt.bus.publish(Notice(topic="camera_preferences", data={"rule": rule_id}))
            return True
        return False

    def camera(self, name: str) -> CameraConfig:
        """A camera by name (case-insensitive); raise NoSuchDevice."""
        from agent.errors import NoSuchDevice

        for camera in self.cameras.values():
            if camera.name.lower() == name.strip().lower():
                return camera
        known = ", ".join(self.cameras) or "none configured"
        raise NoSuchDevice(f"There is no camera called {name!r} (cameras: {known}).")

    def set_masks(self, name: str, masks: list[list[tuple[float, float]]]) -> None:
        """Store masks drawn on the dashboard and apply them at once."""
        assert self.events is not None
        camera = self.camera(name)
        self.events.set_preference(f"masks:{camera.name}", masks or None)
        watcher = self.watchers.get(camera.name)
        if watcher is not None:
            watcher.set_masks(masks)

    async def snapshot(self, name: str) -> Path:
        """A fresh picture from a camera, saved as a JPEG file; raise CameraUnavailable."""
        camera = self.camera(name)
        watcher = self.watchers.get(camera.name)
        feed = self.feeds.get(camera.name)
        if watcher is None and feed is not None:
            data = await feed.photo()
            if data is None:
                raise CameraUnavailable(f"camera {camera.name} has no picture")
            return await self._save_snapshot(
                camera.name, await asyncio.to_thread(decode_jpeg, data)
            )
        if watcher is None:
            raise CameraUnavailable(f"camera {camera.name} is disabled")
        photo = await watcher._photo()
        if photo is None:
            frame = watcher.source.latest()
            if frame is None or time.time() - frame.ts > 30:
                raise CameraUnavailable(f"camera {camera.name} has no recent picture")
            photo = frame.image
        return await self._save_snapshot(camera.name, photo)

    async def _save_snapshot(self, camera: str, image: Any) -> Path:
        folder = self.rt.paths.snapshots / slug(camera)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"snapshot-{int(time.time() * 1000)}.jpg"
        data = await asyncio.to_thread(encode_jpeg, image)
        await asyncio.to_thread(path.write_bytes, data)
        return path

    def health_report(self) -> dict[str, Any]:
        """Each camera's stream health and the describer's state (shown on /api/health)."""
        return {
            "cameras": {
                **{name: w.health() for name, w in self.watchers.items()},
                **{name: f.health() for name, f in self.feeds.items()},
            },
            "describer": self.describer.status(),
        }

    def camera_list(self) -> list[dict[str, Any]]:
        """Cameras with health and their latest event, for the API and the CLI."""
        assert self.events is not None
        result = []
        for name, camera in self.cameras.items():
            watcher = self.watchers.get(name)
            feed = self.feeds.get(name)
            latest = self.events.events(name, limit=1)
            health = (
                watcher.health() if watcher else feed.health() if feed else {"status": "disabled"}
            )
            result.append(
                {
                    "name": name,
                    "area": camera.area,
                    "enabled": watcher is not None or feed is not None,
                    "health": health,
                    "notify": camera.notify,
                    "masks": (self.events.preferences().get(f"masks:{name}") or camera.masks),
                    "hushed": [r for r in self.hush_rules() if r["camera"] in (None, name)],
                    "latest_event": latest[0] if latest else None,
                    "snapshot": f"/api/cameras/{quote(name)}/snapshot.jpg",
                }
            )
        return result
