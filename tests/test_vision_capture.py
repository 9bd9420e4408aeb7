"""Capture from the MJPEG simulator: open, read, stall → timeout → reconnect, snapshots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from agent.demo.simulation import free_port
from tests.util import eventually
from vision.simulator import SimulatedCamera
from vision.sources import CameraUnavailable, SnapshotSource, StreamSource, fetch_snapshot


@pytest.fixture
async def camera() -> AsyncIterator[SimulatedCamera]:
    cam = SimulatedCamera("test", width=160, height=90, frames_per_scene=20)
    await cam.start()
    try:
        yield cam
    finally:
        await cam.stop()


async def test_stream_reads_frames_at_the_camera_rate(camera: SimulatedCamera) -> None:
    source = StreamSource("test", camera.mjpeg_url, open_timeout=2, read_timeout=1)
    source.start()
    try:
        first = await eventually(source.latest, timeout=10)
        assert first.image.shape == (90, 160, 3)
        await eventually(lambda: (f := source.latest()) is not None and f.seq >= first.seq + 5)
        health = source.health()
        assert health["status"] == "ok" and health["reconnects"] == 0
    finally:
        source.stop()


async def test_stall_times_out_and_reconnects(camera: SimulatedCamera) -> None:
    source = StreamSource("test", camera.mjpeg_url, open_timeout=2, read_timeout=1)
    source.start()
    try:
        await eventually(source.latest, timeout=10)
        camera.stall(True)
        # The read timeout (1 s) fails the blocked read; the grabber reconnects.
        await eventually(lambda: source.reconnects >= 1, timeout=8)
        camera.stall(False)
        seq = source.latest().seq  # type: ignore[union-attr]
        await eventually(lambda: source.latest().seq > seq + 3, timeout=8)  # type: ignore[union-attr]
        assert source.health()["status"] == "ok"
    finally:
        source.stop()


async def test_dropped_connection_reconnects(camera: SimulatedCamera) -> None:
    source = StreamSource("test", camera.mjpeg_url, open_timeout=2, read_timeout=1)
    source.start()
    try:
        await eventually(source.latest, timeout=10)
        await camera.drop_connections()
        await eventually(lambda: source.reconnects >= 1, timeout=8)
        seq = source.latest().seq  # type: ignore[union-attr]
        await eventually(lambda: source.latest().seq > seq, timeout=8)  # type: ignore[union-attr]
    finally:
        source.stop()


async def test_unreachable_camera_reports_it() -> None:
    url = f"http://127.0.0.1:{free_port()}/video.mjpg"
    source = StreamSource("gone", url, open_timeout=1, read_timeout=1, max_backoff=0.5)
    source.start()
    try:
        await eventually(lambda: source.health()["status"] == "unreachable", timeout=8)
        assert source.latest() is None
    finally:
        source.stop()


async def test_snapshot_source_polls(camera: SimulatedCamera) -> None:
    source = SnapshotSource("test", camera.snapshot_url, interval=0.1, timeout=2)
    source.start()
    try:
        await eventually(lambda: (f := source.latest()) is not None and f.seq >= 3, timeout=8)
        assert source.latest().image.shape == (90, 160, 3)  # type: ignore[union-attr]
    finally:
        source.stop()


async def test_snapshot_that_is_not_an_image_is_a_clear_error() -> None:
    async def not_jpeg(request: web.Request) -> web.Response:
        return web.Response(text="<html>login required</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/snap", not_jpeg)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        import asyncio

        with pytest.raises(CameraUnavailable, match="not an image"):
            await asyncio.to_thread(fetch_snapshot, f"http://127.0.0.1:{port}/snap", 2)
        with pytest.raises(CameraUnavailable, match="http"):
            fetch_snapshot("file:///etc/passwd")
    finally:
        await runner.cleanup()


def test_a_camera_with_a_view_shows_its_own_part_of_the_scene() -> None:
    """The demo's front-door camera is not a copy of the driveway: it sees the house close up."""
    import cv2
    import numpy as np

    from vision.simulator import SimulatedCamera

    door = SimulatedCamera("front door", width=320, height=180, view=(0.5, 0.0, 1.0, 0.5625))
    driveway = SimulatedCamera("driveway", width=320, height=180)
    a = cv2.imdecode(np.frombuffer(door.clip("foliage")[0], np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(driveway.clip("foliage")[0], np.uint8), cv2.IMREAD_COLOR)
    assert a.shape == b.shape == (180, 320, 3)
    assert float(np.abs(a.astype(int) - b.astype(int)).mean()) > 20
