"""End to end in a real daemon: a truck on the simulated camera → one photo in the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from agent.brain.tools import ToolContext
from agent.cli import main
from integrations.telegram.simulator import TelegramFake
from tests.conftest import RunningDaemon
from tests.util import eventually
from vision.simulator import FakeVisionModel, SimulatedCamera

OWNER_CHAT = 1001


@pytest.fixture
async def camera() -> AsyncIterator[SimulatedCamera]:
    cam = SimulatedCamera("driveway", width=320, height=180, frames_per_scene=50)
    await cam.start()
    await cam.prepare("truck")
    try:
        yield cam
    finally:
        await cam.stop()


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramFake]:
    fake = await TelegramFake().start()
    try:
        yield fake
    finally:
        await fake.stop()


def camera_messages(running: RunningDaemon) -> list[dict[str, Any]]:
    rows = running.rt.store.query(
        "SELECT * FROM outbox WHERE dedupe_key LIKE 'camera-event:%' ORDER BY id"
    )
    return [dict(r) for r in rows]


async def test_truck_scene_sends_exactly_one_photo(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    camera: SimulatedCamera,
    telegram: TelegramFake,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = await FakeVisionModel({"driveway": camera}).start()
    try:
        await truck_story(start_daemon, camera, telegram, model, capsys)
    finally:
        await model.stop()


async def truck_story(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    camera: SimulatedCamera,
    telegram: TelegramFake,
    model: FakeVisionModel,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The story of the design: a truck pulls up, the owner's phone shows it."""
    running = await start_daemon(
        {
            "people": [{"name": "Sam", "role": "owner", "telegram": OWNER_CHAT}],
            "telegram": {"bot_token": telegram.token, "api_base_url": telegram.base_url},
            "cameras": [
                {
                    "name": "driveway",
                    "url": camera.mjpeg_url,
                    "snapshot_url": camera.snapshot_url,
                    "detect_fps": 10,
                }
            ],
            "vision": {
                "describer": "ollama",
                "base_url": model.base_url,
                "model": "demo-vision",
                "settle": 0.3,
            },
        }
    )
    vision = running.rt.service("vision")
    watcher = vision.watchers["driveway"]
    # Let the detector learn the empty driveway first.
    await eventually(lambda: watcher.frames > 30, timeout=15)
    assert camera_messages(running) == []
    camera.play("truck", hold=True)
    await eventually(lambda: camera_messages(running), timeout=20)
    sent = camera_messages(running)[0]
    played_at = camera.history[-1][0]
    motion_start = played_at + 0.35 * 50 / camera.fps  # the truck enters at 35 % of the clip
    assert sent["created"] > motion_start  # not set off by the cut to the scene
    print(f"motion start → photo in outbox: {sent['created'] - motion_start:.2f} s")
    media = json.loads(sent["media"])
    assert len(media) == 1 and media[0].endswith(".jpg")
    assert sent["text"].startswith("Driveway: FedEx truck just pulled up — a white FedEx box")
    # One event, one description, with the keyframes.
    events = running.rt.store.query("SELECT * FROM camera_events")
    assert len(model.requests) == 1, (camera.history, [dict(e) for e in events])
    assert 1 <= len(model.requests[0]["messages"][0]["images"]) <= 3
    # The owner's phone (the Telegram fake) got the photo.
    await eventually(lambda: any(m.photos for m in telegram.sent), timeout=15)
    # The event ends (the truck parked, the picture holds) and nothing else is sent.
    await eventually(lambda: watcher.tracker.current is None, timeout=15)
    assert len(camera_messages(running)) == 1

    # The API shows the event with its keyframes.
    status, body = await running.api("GET", "/api/cameras/events?camera=driveway")
    assert status == 200
    (event,) = body["events"]
    assert event["notified"] == "yes" and event["ended"] and 1 <= len(event["keyframes"]) <= 3
    assert event["carrier"] == "FedEx" and event["labels"] == ["vehicle"]
    async with running.http.get(running.url + f"api/cameras/events/{event['id']}/0.jpg") as r:
        assert r.status == 200 and (await r.read())[:2] == b"\xff\xd8"
    status, body = await running.api("GET", "/api/cameras")
    assert body["cameras"][0]["health"]["status"] == "ok"
    assert body["cameras"][0]["latest_event"]["id"] == event["id"]
    status, health = await running.api("GET", "/api/health")
    assert health["components"]["vision"]["cameras"]["driveway"]["status"] == "ok"

    # The CLI reads the same API.
    (running.rt.paths.root / "url").write_text(running.url)
    home = str(running.rt.paths.root)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["--home", home, "events", "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["events"][0]["carrier"] == "FedEx"
    assert await asyncio.to_thread(main, ["--home", home, "events", "--since", "soon"]) == 2
    assert await asyncio.to_thread(main, ["--home", home, "cameras"]) == 0
    assert "driveway" in capsys.readouterr().out


async def test_camera_api_tools_and_preferences(
    start_daemon: Callable[..., Awaitable[RunningDaemon]], camera: SimulatedCamera
) -> None:
    running = await start_daemon(
        {"cameras": [{"name": "driveway", "url": camera.mjpeg_url, "area": "garage"}]}
    )
    vision = running.rt.service("vision")
    await eventually(lambda: vision.watchers["driveway"].source.latest(), timeout=15)
    # Snapshots are behind the token like the rest of /api/.
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(running.url + "api/cameras/driveway/snapshot.jpg") as r:
            assert r.status == 401
    async with running.http.get(running.url + "api/cameras/driveway/snapshot.jpg") as r:
        assert r.status == 200 and r.content_type == "image/jpeg"
    status, body = await running.api("GET", "/api/cameras/porch/snapshot.jpg")
    assert status == 404 and "driveway" in body["detail"]

    tools = running.rt.tools
    owner = ToolContext(channel="test", sender="owner")
    result = await tools.call("camera_snapshot", {"camera": "Driveway"}, owner)
    assert result.ok and result.value["media"][0].endswith(".jpg")
    # Guests get no pictures and no events (unless `guests.allow: [cameras]`).
    guest = ToolContext(channel="test", sender="gus", role="guest")
    for name, args in (("camera_snapshot", {"camera": "Driveway"}), ("camera_events", {})):
        denied = await tools.call(name, args, guest)
        assert not denied.ok and denied.error == "not_allowed", denied
    family = ToolContext(channel="test", sender="fay", role="family")
    assert (await tools.call("camera_snapshot", {"camera": "Driveway"}, family)).ok
    missing = await tools.call("camera_snapshot", {"camera": "garden"}, owner)
    assert not missing.ok and missing.error == "no_such_device"
    asked = "Don't tell me about cars, only people and deliveries, and quiet from 11pm to 7am"
    result = await tools.call(
        "set_camera_preferences",
        {"ignore": ["cars"], "only": ["people", "deliveries"], "quiet_hours": "23:00-07:00"},
        ToolContext(channel="test", sender="owner", said=(asked,)),
    )
    assert result.ok and "pending" not in result.value, result
    status, prefs = await running.api("GET", "/api/cameras/preferences")
    assert prefs["ignore"] == ["vehicle"] and prefs["only"] == ["person", "delivery"]
    assert prefs["quiet_hours"] == "23:00-07:00"
    # Camera-derived (untrusted) context may never change preferences.
    untrusted = ToolContext(channel="test", sender="owner", untrusted=True)
    denied = await tools.call("set_camera_preferences", {"muted": True}, untrusted)
    assert not denied.ok and denied.error == "not_allowed"
    # The owner's turn, but the owner's words did not ask: it waits for approval.
    chatty = ToolContext(channel="test", sender="owner", said=("what's up at the door?",))
    waiting = await tools.call("set_camera_preferences", {"muted": True}, chatty)
    assert waiting.ok and waiting.value["pending"], waiting
    status, prefs = await running.api("GET", "/api/cameras/preferences")
    assert prefs["muted"] is False
    status, body = await running.api("GET", "/api/approvals")
    assert [a["kind"] for a in body["approvals"]] == ["camera_preferences"]
    status, body = await running.api("POST", f"/api/approvals/{waiting.value['pending']}/approve")
    assert status == 200, body
    status, prefs = await running.api("GET", "/api/cameras/preferences")
    assert prefs["muted"] is True
    bad = await tools.call("set_camera_preferences", {"ignore": ["ufos"]}, owner)
    assert not bad.ok and "unknown camera label" in (bad.detail or "")
    events = await tools.call("camera_events", {"since": "today"}, owner)
    assert events.ok and events.value["count"] == 0 and "untrusted" not in events.value
    status, body = await running.api(
        "PUT", "/api/cameras/driveway/masks", {"masks": [[[0, 0], [0.5, 0], [0.5, 0.3]]]}
    )
    assert status == 200
    # Applied at once, and kept for the next start.
    assert vision.watchers["driveway"].detector.settings.masks == [[(0, 0), (0.5, 0), (0.5, 0.3)]]
    status, body = await running.api("GET", "/api/cameras")
    assert body["cameras"][0]["masks"] == [[[0, 0], [0.5, 0], [0.5, 0.3]]]
    status, body = await running.api("PUT", "/api/cameras/driveway/masks", {"masks": [[[0, 0]]]})
    assert status == 422
