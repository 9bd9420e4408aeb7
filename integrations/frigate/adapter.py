"""Frigate's cameras as homeclaw cameras: events from its MQTT messages, pictures from its API.

Frigate decodes the streams and runs object detection (often on a Coral or a
GPU, for many cameras); homeclaw listens. Each configured Frigate camera is
registered with the vision component as a camera whose events arrive
detected and labelled: a tracked object's first `new` message (in a wanted
zone) becomes a homeclaw event, its snapshot comes from
`/api/events/<id>/snapshot.jpg`, and from there the owner's notifier rules,
preferences, outbox, memory and dashboard treat it like any other camera's.
A GenAI description that arrives later (`tracked_object_update`, or a review
summary) is added to the event. Nothing here decodes video.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
import aiomqtt

from integrations.frigate.config import FrigateCamera, FrigateConfig
from integrations.frigate.messages import TrackedObject, label_of, review_summary
from vision.config import CameraConfig
from vision.relay import EventRelay

if TYPE_CHECKING:
    from agent.runtime import Runtime

log = logging.getLogger(__name__)
NODELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
MAX_BACKOFF = 8.0


def create(rt: Runtime) -> FrigateSource:
    """Component factory for `agent.daemon.COMPONENTS` (idle without a `frigate` section)."""
    return FrigateSource(rt)


class FrigateFeed:
    """One Frigate camera as the vision component sees it: pictures and health."""

    def __init__(self, source: FrigateSource, camera: FrigateCamera) -> None:
        self.source = source
        self.camera = camera
        self.events = 0
        self.last_event: str | None = None

    async def photo(self) -> bytes | None:
        """The camera's latest frame from Frigate's API."""
        return await self.source.fetch(f"/api/{quote(self.camera.name)}/latest.jpg")

    def health(self) -> dict[str, Any]:
        """Frigate's availability and this camera's counters."""
        return {
            "status": "ok" if self.source.online else "unavailable",
            "source": "frigate",
            "frigate_camera": self.camera.name,
            "events": self.events,
            "last_event": self.last_event,
            "error": self.source.error,
        }


class FrigateSource:
    """Listens to Frigate on MQTT and relays its cameras' events (a daemon component)."""

    name = "frigate"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.config: FrigateConfig | None = getattr(rt.config, "frigate", None)
        self.feeds: dict[str, FrigateFeed] = {}  # by Frigate camera name
        self.cameras: dict[str, CameraConfig] = {}
        self.relay: EventRelay | None = None
        self.http: aiohttp.ClientSession | None = None
        self.online = False
        self.error: str | None = None
        self.version: str | None = None
        self._starting: dict[str, asyncio.Task[None]] = {}  # Frigate event id → its start
        self._tasks: set[asyncio.Task[None]] = set()
        self._described: dict[str, str] = {}  # GenAI text that came before the event started

    # -- lifecycle ------------------------------------------------------------------

    def setup(self, rt: Runtime) -> None:
        """Register each Frigate camera with the vision component (no I/O)."""
        if self.config is None or not self.config.cameras:
            return
        vision = rt.service("vision")
        if vision is None:
            raise RuntimeError("Frigate cameras need the vision component")
        for camera in self.config.cameras:
            config = CameraConfig(
                name=camera.display,
                snapshot_url=f"{self.config.url}/api/{quote(camera.name)}/latest.jpg",
                area=camera.area,
                notify=camera.notify,
                active_hours=camera.active_hours,
                cooldown=camera.cooldown,
            )
            feed = FrigateFeed(self, camera)
            self.relay = vision.add_camera(config, feed)
            self.feeds[camera.name] = feed
            self.cameras[camera.name] = config
        rt.services["frigate"] = self

    async def start(self) -> None:
        """Open the HTTP session and the supervised MQTT listener."""
        if not self.feeds:
            return
        assert self.config is not None
        self.http = aiohttp.ClientSession(
            base_url=self.config.url + "/",
            timeout=aiohttp.ClientTimeout(total=self.config.timeout),
        )
        self.rt.supervisor.spawn("frigate", self.run)

    async def stop(self) -> None:
        """Close the HTTP session (the supervisor cancels the listener)."""
        for task in list(self._tasks):
            task.cancel()
        if self.http is not None:
            await self.http.close()

    # -- HTTP ----------------------------------------------------------------------

    async def fetch(self, path: str) -> bytes | None:
        """GET one of Frigate's images; None when it has none (or cannot be reached)."""
        if self.http is None:
            return None
        try:
            async with self.http.get(path.lstrip("/")) as resp:
                if resp.status != 200:
                    log.debug("frigate: GET %s → HTTP %d", path, resp.status)
                    return None
                return await resp.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            log.warning("frigate: GET %s failed: %s", path, err)
            return None

    async def _version(self) -> None:
        if self.http is None:
            return
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with self.http.get("api/version") as resp:
                if resp.status == 200:
                    self.version = (await resp.text()).strip()

    # -- MQTT ----------------------------------------------------------------------

    async def run(self) -> None:
        """Stay subscribed to Frigate's topics, forever (reconnecting with backoff)."""
        assert self.config is not None
        broker = self.config.mqtt
        prefix = broker.topic_prefix
        delay = 0.5
        await self._version()
        while True:
            try:
                async with aiomqtt.Client(
                    hostname=broker.host,
                    port=broker.port,
                    username=broker.username,
                    password=broker.password,
                    keepalive=15,
                    socket_options=NODELAY,
                    timeout=5,
                ) as client:
                    for topic in ("events", "tracked_object_update", "reviews", "available"):
                        await client.subscribe(f"{prefix}/{topic}", qos=1)
                    delay = 0.5
                    self.error = None
                    log.info("frigate: listening on %s:%s (%s/#)", broker.host, broker.port, prefix)
                    self.rt.supervisor.set_status("frigate", "running", f"subscribed to {prefix}/#")
                    async for message in client.messages:
                        self._dispatch(str(message.topic), message.payload)
            except aiomqtt.MqttError as err:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from err
                self.error = f"broker unreachable: {err}"
            self.online = False
            self.rt.supervisor.set_status("frigate", "retrying", self.error or "")
            log.warning("frigate: %s (retrying)", self.error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    def _dispatch(self, topic: str, payload: Any) -> None:
        """Route one message (never raises: one bad payload must not stop the listener)."""
        assert self.config is not None
        kind = topic.removeprefix(self.config.mqtt.topic_prefix + "/")
        raw = payload if isinstance(payload, bytes | bytearray) else str(payload or "").encode()
        try:
            if kind == "available":
                self.online = raw.decode(errors="replace").strip() == "online"
                return
            data = json.loads(raw)
            if kind == "events":
                self._on_event(data)
            elif kind == "tracked_object_update":
                if data.get("type") == "description" and data.get("description"):
                    self._on_description(str(data["id"]), str(data["description"]))
            elif kind == "reviews":
                summary = review_summary(data.get("after") or {})
                if summary is not None:
                    for detection in summary[0]:
                        self._on_description(detection, summary[1])
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            log.warning("frigate: ignoring a malformed %s message: %s", kind, err)

    def _on_event(self, data: dict[str, Any]) -> None:
        obj = TrackedObject.parse(data["after"])
        feed = self.feeds.get(obj.camera)
        if feed is None or obj.false_positive:
            return
        self.online = True  # it talks, so it is up (even if `available` was missed)
        event_id = f"frigate-{obj.id}"
        if data.get("type") == "end" or obj.end_time is not None:
            self._spawn(self._end(event_id, obj.end_time or time.time()))
            return
        if event_id in self._starting or not self._wanted(feed.camera, obj):
            return
        task = self._spawn(self._start(feed, obj, event_id))
        self._starting[event_id] = task

    def _wanted(self, camera: FrigateCamera, obj: TrackedObject) -> bool:
        """Whether an object makes an event: a known kind, its score, its zones."""
        if obj.score < camera.min_score:
            return False
        if label_of(obj.label) == "motion" and "motion" not in camera.notify:
            return False
        return not camera.zones or bool(set(camera.zones) & set(obj.zones))

    async def _start(self, feed: FrigateFeed, obj: TrackedObject, event_id: str) -> None:
        assert self.relay is not None
        camera = self.cameras[obj.camera]
        feed.events += 1
        feed.last_event = event_id

        async def photo() -> bytes | None:
            # The tracked object's best frame so far; the camera's latest if it has none yet.
            image = await self.fetch(f"/api/events/{quote(obj.id)}/snapshot.jpg")
            return image if image is not None else await feed.photo()

        description = obj.description(camera.name, self._described.pop(event_id, None))
        facts = {
            "frigate_id": obj.id,
            "label": obj.label,
            "zone": obj.zones[-1] if obj.zones else None,
        }
        await self.relay.started(camera, event_id, obj.start_time, description, photo, facts)

    def _on_description(self, frigate_id: str, text: str) -> None:
        event_id = f"frigate-{frigate_id}"
        text = text[:2000]
        starting = self._starting.get(event_id)
        if starting is None and self.relay is not None and self.relay.described(event_id, text):
            return  # an event that already ended (the usual case for GenAI text)
        if starting is None:
            # Not (yet) an event here: kept a while in case its start is on the way.
            self._described[event_id] = text
            while len(self._described) > 200:
                self._described.pop(next(iter(self._described)))
            return

        async def describe() -> None:
            with contextlib.suppress(Exception):
                await starting
            if self.relay is not None:
                self.relay.described(event_id, text)

        self._spawn(describe())

    async def _end(self, event_id: str, ended: float) -> None:
        starting = self._starting.pop(event_id, None)
        if starting is not None:
            with contextlib.suppress(Exception):
                await starting
        if self.relay is not None:
            self.relay.ended(event_id, ended)

    def _spawn(self, work: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("frigate: handling an event failed", exc_info=task.exception())
