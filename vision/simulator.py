"""A simulated IP camera: MJPEG over HTTP on loopback, playing scripted scenes.

The camera serves `/video.mjpg` (multipart/x-mixed-replace, what most IP
cameras and OpenCV's FFmpeg backend speak) and `/snapshot.jpg`. Between
scripted scenes it shows the idle driveway (foliage swaying, sensor noise),
played back and forth so the loop has no seam. Tests can stall the stream or
drop connections to exercise timeouts and reconnects.

    cam = SimulatedCamera("driveway", width=320, height=180)
    await cam.start()
    cam.play("truck", hold=True)       # ground truth: cam.playing, cam.history
    ... StreamSource("driveway", cam.mjpeg_url) ...
    await cam.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from aiohttp import web

from agent.demo.simulation import DemoContext, DemoPart, free_port
from vision import scenes

log = logging.getLogger(__name__)
BOUNDARY = "homeclawframe"


@dataclass
class _Playing:
    name: str
    frames: list[bytes]
    hold: bool = False
    index: int = 0


@dataclass
class SimulatedCamera:
    """An MJPEG camera on 127.0.0.1 that plays rendered scenes in real time."""

    name: str = "driveway"
    width: int = 640
    height: int = 360
    fps: float = scenes.FPS
    frames_per_scene: int = 60
    host: str = "127.0.0.1"
    port: int = 0
    # Part of the shared scene this camera looks at (left, top, right, bottom as
    # fractions): the front-door camera sees the house close up, not the driveway.
    view: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    history: list[tuple[float, str]] = field(default_factory=list)
    _clips: dict[str, list[bytes]] = field(default_factory=dict)
    _queue: list[_Playing] = field(default_factory=list)
    _playing: _Playing | None = None
    _idle_index: int = 0
    _idle_step: int = 1
    _current: bytes = b""
    _seq: int = 0
    _stalled: bool = False
    _tick: asyncio.Condition | None = None
    _task: asyncio.Task[None] | None = None
    _runner: web.AppRunner | None = None
    _streams: dict[web.StreamResponse, web.Request] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Base URL of the camera."""
        return f"http://{self.host}:{self.port}"

    @property
    def mjpeg_url(self) -> str:
        """The MJPEG stream."""
        return f"{self.url}/video.mjpg"

    @property
    def snapshot_url(self) -> str:
        """A single JPEG of the current frame."""
        return f"{self.url}/snapshot.jpg"

    @property
    def playing(self) -> str:
        """The scene on screen now ("idle" between scenes)."""
        return self._playing.name if self._playing else "idle"

    def clip(self, scene: str) -> list[bytes]:
        """The JPEG frames of a scene (rendered once, then cached)."""
        if scene not in self._clips:
            clip = scenes.render(scene, self.width, self.height, self.frames_per_scene)
            params = [cv2.IMWRITE_JPEG_QUALITY, 85]
            self._clips[scene] = [
                cv2.imencode(".jpg", self._framed(f), params)[1].tobytes() for f in clip.frames
            ]
        return self._clips[scene]

    def _framed(self, frame: np.ndarray) -> np.ndarray:
        """The camera's view of a rendered frame, at the camera's own size."""
        if self.view == (0.0, 0.0, 1.0, 1.0):
            return frame
        h, w = frame.shape[:2]
        left, top, right, bottom = self.view
        crop = frame[int(h * top) : int(h * bottom), int(w * left) : int(w * right)]
        return cv2.resize(crop, (self.width, self.height), interpolation=cv2.INTER_LINEAR)

    async def prepare(self, *names: str) -> None:
        """Render scenes ahead of time in a thread (the first render takes a moment)."""
        for scene in names:
            await asyncio.to_thread(self.clip, scene)

    def play(self, scene: str, *, hold: bool = False) -> None:
        """Queue a scripted scene; with `hold` the last frame stays on screen afterwards."""
        self._queue.append(_Playing(scene, self.clip(scene), hold))

    def stall(self, stalled: bool = True) -> None:
        """Stop (or resume) sending frames while keeping connections open."""
        self._stalled = stalled

    async def drop_connections(self) -> None:
        """Close every open stream, as a camera rebooting would."""
        for request in list(self._streams.values()):
            if request.transport is not None:
                request.transport.close()
        self._streams.clear()
        if self._tick is not None:
            async with self._tick:
                self._tick.notify_all()

    async def start(self) -> None:
        """Render the idle scene and serve on loopback."""
        await self.prepare("foliage")
        self._current = self.clip("foliage")[0]
        self._tick = asyncio.Condition()
        app = web.Application()
        app.router.add_get("/video.mjpg", self._stream)
        app.router.add_get("/snapshot.jpg", self._snapshot)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        self.port = self.port or free_port(self.host)
        await web.TCPSite(self._runner, self.host, self.port).start()
        self._task = asyncio.create_task(self._play_loop(), name=f"simcam:{self.name}")

    async def stop(self) -> None:
        """Stop playing and serving."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()

    def _advance(self) -> bytes:
        # All scenes share the driveway and the tree, and the foliage of frame k
        # is the same in every clip: cutting at equal k leaves no seam.
        if self._playing is None and self._queue:
            if self._idle_index == 0:
                self._playing = self._queue.pop(0)
                self.history.append((time.time(), self._playing.name))
                log.info("simulated camera %s plays %s", self.name, self._playing.name)
            else:
                self._idle_step = -1  # head back to the idle clip's first frame
        playing = self._playing
        if playing is not None:
            if playing.index < len(playing.frames):
                frame = playing.frames[playing.index]
                playing.index += 1
                return frame
            if playing.hold and not self._queue:
                return playing.frames[-1]
            self._playing = None
            # Resume idle where the scene left the foliage, going back.
            self._idle_index, self._idle_step = len(playing.frames), -1
        idle = self.clip("foliage")
        # Back and forth through the idle clip: the foliage never jumps.
        if not 0 <= self._idle_index + self._idle_step < len(idle):
            self._idle_step = -self._idle_step
        self._idle_index += self._idle_step
        return idle[self._idle_index]

    async def _play_loop(self) -> None:
        assert self._tick is not None
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while True:
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if self._stalled:
                continue
            self._current = self._advance()
            self._seq += 1
            async with self._tick:
                self._tick.notify_all()

    async def _snapshot(self, request: web.Request) -> web.Response:
        return web.Response(body=self._current, content_type="image/jpeg")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        assert self._tick is not None
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
        )
        await response.prepare(request)
        self._streams[response] = request
        seen = -1
        try:
            while response in self._streams:
                async with self._tick:
                    await self._tick.wait_for(
                        lambda seen=seen: self._seq != seen or response not in self._streams  # type: ignore[misc]
                    )
                if response not in self._streams:
                    break
                seen, jpeg = self._seq, self._current
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n"
                ).encode()
                await response.write(head + jpeg + b"\r\n")
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass  # the client went away (or we dropped it)
        finally:
            self._streams.pop(response, None)
        return response


class FakeVisionModel:
    """An Ollama-style /api/chat that "sees" what the simulated cameras are playing.

    It answers from the scenes' ground truth, so the demo and the end-to-end
    tests show the real describer path (request, parsing, notifier) without a
    model. Every request body is kept in `requests`.
    """

    def __init__(self, cameras: dict[str, SimulatedCamera], host: str = "127.0.0.1") -> None:
        self.cameras = cameras
        self.host = host
        self.port = 0
        self.requests: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """Where to point `vision.base_url`."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FakeVisionModel:
        """Serve on loopback."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/api/chat", self._chat)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        self.port = free_port(self.host)
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    def seen(self, prompt: str) -> dict[str, object]:
        """The truth of the scene the named camera played last (within a minute)."""
        camera = next((c for n, c in self.cameras.items() if n in prompt), None)
        if camera is None or not camera.history:
            return scenes.NOTHING
        started, scene = camera.history[-1]
        if time.time() - started > 60:
            return scenes.NOTHING
        return scenes.SCENE_TRUTH.get(scene, scenes.NOTHING)

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        if not any(m.get("images") for m in body.get("messages", [])):
            return web.json_response({"error": "no image in the request"}, status=400)
        answer = json.dumps(self.seen(prompt))
        return web.json_response(
            {
                "model": body.get("model"),
                "message": {"role": "assistant", "content": answer},
                "done": True,
            }
        )


async def _demo_playlist(camera: SimulatedCamera, every: float) -> None:
    """Play a scene now and then so the dashboard has events to show."""
    order = ["truck", "foliage", "person", "cloud_shadow", "rain", "truck", "headlights"]
    await camera.prepare(*set(order))
    await asyncio.sleep(min(every, 15.0))  # a newcomer should not wait long for the truck
    index = 0
    while True:
        camera.play(order[index % len(order)])
        index += 1
        await asyncio.sleep(every)


def _model_available() -> bool:
    """Whether the default local vision model is already on this machine (never downloads)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    from vision.describe_local import DEFAULT_MODEL

    found = try_to_load_from_cache(DEFAULT_MODEL, "config.json")
    return isinstance(found, str)


async def demo(ctx: DemoContext) -> DemoPart:
    """Start the driveway and front-door cameras; the driveway plays scenes periodically."""
    every = float(ctx.extras.get("camera_scene_every", 45.0))
    driveway = SimulatedCamera("driveway", host="127.0.0.1")
    door = SimulatedCamera(
        "front door", width=480, height=270, host="127.0.0.1", view=(0.5, 0.0, 1.0, 0.5625)
    )
    await driveway.start()
    await door.start()
    playlist = asyncio.create_task(_demo_playlist(driveway, every), name="simcam:playlist")
    # The real local model when it is on disk; otherwise a fake one that knows the scenes.
    model = (
        None
        if _model_available()
        else await FakeVisionModel({"driveway": driveway, "front door": door}).start()
    )
    config: dict[str, Any] = {
        "cameras": [
            {
                "name": "driveway",
                "url": driveway.mjpeg_url,
                "snapshot_url": driveway.snapshot_url,
                "area": "garage",
                "notify": ["person", "vehicle", "package"],
            },
            {"name": "front door", "url": door.mjpeg_url, "area": "porch"},
        ],
        "vision": (
            {"describer": "ollama", "base_url": model.base_url, "model": "demo-vision"}
            if model is not None
            else {"describer": "transformers"}
        ),
    }

    async def stop() -> None:
        playlist.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await playlist
        await driveway.stop()
        await door.stop()
        if model is not None:
            await model.stop()

    handle = {"driveway": driveway, "front door": door, "vision model": model}
    return DemoPart("cameras", config, stop, handle)
