"""A Frigate NVR on loopback: its MQTT topics on a real broker and its HTTP API.

What it speaks follows Frigate's docs: `<prefix>/available` (retained
"online"), `<prefix>/events` (new → update → end for a tracked object, with
`before`/`after`), `<prefix>/tracked_object_update` (a GenAI description after
the object ends), `<prefix>/reviews` (the review item grouping it), and over
HTTP `/api/version`, `/api/config`, `/api/events`, `/api/<camera>/latest.jpg`,
`/api/events/<id>/snapshot.jpg`, `/thumbnail.jpg` and `/clip.mp4` (a clip the
simulator does not record: 404 as Frigate answers for an event without one).
The pictures are the simulator's own rendered scenes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import string
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import aiomqtt
import cv2
from aiohttp import web

from agent.demo.simulation import DemoPart, free_port, serve
from vision import scenes

if TYPE_CHECKING:
    from agent.demo.simulation import DemoContext

log = logging.getLogger(__name__)
VERSION = "0.16.0-homeclaw-sim"


@lru_cache(maxsize=8)
def _picture(scene: str, width: int = 640, height: int = 360) -> bytes:
    """A JPEG of a moment of a rendered scene (the person at the door, an empty yard)."""
    clip = scenes.render(scene, width, height, 24)
    frame = clip.frames[len(clip.frames) * 2 // 3]
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return bytes(data.tobytes())


def _frigate_id(ts: float) -> str:
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    return f"{ts:.6f}-{suffix}"


@dataclass
class FakeFrigate:
    """Frigate's MQTT messages and HTTP API for a few cameras."""

    mqtt: tuple[str, int]
    cameras: tuple[str, ...] = ("front_door",)
    topic_prefix: str = "frigate"
    host: str = "127.0.0.1"
    port: int = 0
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    published: list[tuple[str, float]] = field(default_factory=list)  # (topic, time sent)
    _runner: web.AppRunner | None = None
    _client: aiomqtt.Client | None = None
    _stack: contextlib.AsyncExitStack | None = None

    @property
    def url(self) -> str:
        """The API's base URL (what `frigate.url` is set to)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FakeFrigate:
        """Serve the API and connect to the broker; announce "online"."""
        self.port = self.port or free_port(self.host)
        app = web.Application()
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/config", self._config)
        app.router.add_get("/api/events", self._list)
        app.router.add_get("/api/events/{id}/snapshot.jpg", self._snapshot)
        app.router.add_get("/api/events/{id}/thumbnail.jpg", self._snapshot)
        app.router.add_get("/api/events/{id}/clip.mp4", self._clip)
        app.router.add_get("/api/{camera}/latest.jpg", self._latest)
        self._runner = await serve(app, self.host, self.port)
        self._stack = contextlib.AsyncExitStack()
        self._client = await self._stack.enter_async_context(
            aiomqtt.Client(
                hostname=self.mqtt[0],
                port=self.mqtt[1],
                identifier=f"frigate-sim-{self.port}",
                will=aiomqtt.Will(f"{self.topic_prefix}/available", "offline", retain=True),
            )
        )
        await self._publish("available", "online", retain=True)
        return self

    async def stop(self) -> None:
        """Say "stopped", disconnect, stop serving."""
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._publish("available", "stopped", retain=True)
        if self._stack is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._stack.aclose()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _publish(self, topic: str, payload: Any, *, retain: bool = False) -> None:
        assert self._client is not None
        body = payload if isinstance(payload, str) else json.dumps(payload)
        self.published.append((topic, time.time()))
        await self._client.publish(f"{self.topic_prefix}/{topic}", body, qos=1, retain=retain)

    # -- a tracked object, as Frigate reports one ------------------------------------

    async def detect(
        self,
        camera: str = "front_door",
        label: str = "person",
        *,
        zones: tuple[str, ...] = (),
        sub_label: str | None = None,
        attributes: tuple[str, ...] = (),
        description: str | None = None,
        score: float = 0.86,
        duration: float = 1.0,
        steps: int = 2,
    ) -> str:
        """One object from first sight to its end (then its GenAI description); returns its id."""
        now = time.time()
        object_id = _frigate_id(now)
        obj: dict[str, Any] = {
            "id": object_id,
            "camera": camera,
            "frame_time": now,
            "label": label,
            "sub_label": [sub_label, 0.8] if sub_label else None,
            "top_score": score,
            "score": score,
            "false_positive": False,
            "start_time": now,
            "end_time": None,
            "box": [415, 489, 528, 700],
            "area": 23744,
            "region": [264, 450, 667, 853],
            "current_zones": list(zones[:1]),
            "entered_zones": list(zones[:1]),
            "thumbnail": None,
            "has_snapshot": False,
            "has_clip": False,
            "active": True,
            "stationary": False,
            "attributes": {a: 0.8 for a in attributes},
        }
        self.events[object_id] = obj
        review = {
            "id": _frigate_id(now),
            "camera": camera,
            "start_time": now,
            "end_time": None,
            "severity": "alert" if label == "person" else "detection",
            "thumb_path": f"/media/frigate/clips/review/thumb-{camera}-{object_id}.webp",
            "data": {
                "detections": [object_id],
                "objects": [label],
                "sub_labels": [sub_label] if sub_label else [],
                "zones": list(zones[:1]),
                "audio": [],
            },
        }
        await self._publish("events", {"type": "new", "before": dict(obj), "after": obj})
        await self._publish("reviews", {"type": "new", "before": review, "after": review})
        for step in range(steps):
            await asyncio.sleep(duration / (steps + 1))
            before = dict(obj)
            obj = {**obj, "frame_time": time.time(), "has_snapshot": True}
            if step + 1 < len(zones) + 1 and zones:
                obj["current_zones"] = list(zones[: step + 2][-1:])
                obj["entered_zones"] = list(zones[: step + 2])
            self.events[object_id] = obj
            await self._publish("events", {"type": "update", "before": before, "after": obj})
        await asyncio.sleep(duration / (steps + 1))
        ended = {**obj, "end_time": time.time(), "active": False, "has_clip": False}
        self.events[object_id] = ended
        await self._publish("events", {"type": "end", "before": obj, "after": ended})
        await self._publish(
            "reviews",
            {"type": "end", "before": review, "after": {**review, "end_time": time.time()}},
        )
        if description:
            await self._publish(
                "tracked_object_update",
                {"type": "description", "id": object_id, "description": description},
            )
        return object_id

    # -- HTTP API ------------------------------------------------------------------

    async def _version(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.Response(text=VERSION)

    async def _config(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {
                "mqtt": {
                    "enabled": True,
                    "host": self.mqtt[0],
                    "port": self.mqtt[1],
                    "topic_prefix": self.topic_prefix,
                },
                "cameras": {
                    name: {"name": name, "enabled": True, "detect": {"width": 640, "height": 360}}
                    for name in self.cameras
                },
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        camera = request.query.get("cameras") or request.query.get("camera")
        found = [e for e in self.events.values() if camera in (None, "all", e["camera"])]
        return web.json_response(sorted(found, key=lambda e: -e["start_time"]))

    async def _snapshot(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        event = self.events.get(request.match_info["id"])
        if event is None:
            return web.json_response({"success": False, "message": "Event not found"}, status=404)
        scene = "person" if event["label"] == "person" else "truck"
        body = await asyncio.to_thread(_picture, scene)
        return web.Response(body=body, content_type="image/jpeg")

    async def _clip(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {"success": False, "message": "No recordings found for the specified time range"},
            status=404,
        )

    async def _latest(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if request.match_info["camera"] not in self.cameras:
            return web.json_response({"success": False, "message": "Camera not found"}, status=404)
        body = await asyncio.to_thread(_picture, "foliage")
        return web.Response(body=body, content_type="image/jpeg")


async def _story(frigate: FakeFrigate, every: float) -> None:
    """The demo's backyard: a visitor now and then, a GenAI line after each."""
    visitors = [
        ("person", ("garden",), None, "A person in a green jacket walks along the garden path."),
        ("dog", ("lawn",), None, "A brown dog trots across the lawn and sniffs the flower bed."),
        ("person", ("garden", "patio"), "Alex", "Alex carries a watering can to the patio."),
    ]
    await asyncio.sleep(min(every, 20.0))
    for turn in range(10_000):
        label, zones, sub, text = visitors[turn % len(visitors)]
        try:
            await frigate.detect(
                "backyard", label, zones=zones, sub_label=sub, description=text, duration=4.0
            )
        except aiomqtt.MqttError as err:  # the broker went away: the demo is stopping
            log.debug("frigate simulator: %s", err)
            return
        await asyncio.sleep(every)


async def demo(ctx: DemoContext) -> DemoPart:
    """A Frigate with one backyard camera, on the demo's broker."""
    if ctx.mqtt is None:
        raise RuntimeError("the Frigate simulator needs the demo's MQTT broker")
    frigate = await FakeFrigate(ctx.mqtt, cameras=("backyard",)).start()
    story = (
        asyncio.create_task(_story(frigate, float(ctx.extras.get("frigate_every", 60.0))))
        if ctx.story
        else None
    )
    config = {
        "frigate": {
            "mqtt": {"host": ctx.mqtt[0], "port": ctx.mqtt[1]},
            "url": frigate.url,
            "cameras": [{"name": "backyard", "area": "garden", "notify": ["person", "animal"]}],
        }
    }

    async def stop() -> None:
        if story is not None:
            story.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await story
        await frigate.stop()

    return DemoPart("frigate", config, stop, {"frigate": frigate})
