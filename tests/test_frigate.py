"""Frigate as a camera source: its MQTT events (real Mosquitto) and HTTP API into a real daemon."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.demo.simulation import free_port
from integrations.frigate.messages import TrackedObject, label_of
from integrations.frigate.simulator import FakeFrigate
from integrations.telegram.simulator import TelegramFake
from tests.conftest import Broker, RunningDaemon
from tests.util import eventually

OWNER_CHAT = 1001
PREFIXES = itertools.count()


@pytest.fixture
async def frigate(mqtt_broker: Broker) -> AsyncIterator[FakeFrigate]:
    # Its own topic prefix: the session's broker is shared with other tests.
    fake = FakeFrigate(
        (mqtt_broker.host, mqtt_broker.port),
        cameras=("front_door", "garage"),
        topic_prefix=f"frigate-{os.getpid()}-{next(PREFIXES)}",
    )
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramFake]:
    fake = await TelegramFake().start()
    try:
        yield fake
    finally:
        await fake.stop()


def config(frigate: FakeFrigate, telegram: TelegramFake, **camera: Any) -> dict[str, Any]:
    """A home whose only cameras are Frigate's, with the owner on Telegram."""
    return {
        "people": [{"name": "Sam", "role": "owner", "telegram": OWNER_CHAT}],
        "telegram": {"bot_token": telegram.token, "api_base_url": telegram.base_url},
        "frigate": {
            "mqtt": {
                "host": frigate.mqtt[0],
                "port": frigate.mqtt[1],
                "topic_prefix": frigate.topic_prefix,
            },
            "url": frigate.url,
            "cameras": [{"name": "front_door", "area": "porch", **camera}, "garage"],
        },
    }


def camera_messages(running: RunningDaemon) -> list[dict[str, Any]]:
    rows = running.rt.store.query(
        "SELECT * FROM outbox WHERE dedupe_key LIKE 'camera-event:frigate-%' ORDER BY id"
    )
    return [dict(r) for r in rows]


async def listening(running: RunningDaemon) -> None:
    """Wait until the daemon's Frigate listener is subscribed (it says so in its status)."""

    def subscribed() -> bool:
        health = running.rt.supervisor.health.get("frigate")
        return health is not None and health.detail.startswith("subscribed")

    await eventually(subscribed, timeout=10)


async def test_a_frigate_person_reaches_the_outbox_with_its_snapshot(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    frigate: FakeFrigate,
    telegram: TelegramFake,
) -> None:
    running = await start_daemon(config(frigate, telegram))
    await listening(running)
    object_id = await frigate.detect(
        "front_door",
        "person",
        zones=("driveway",),
        description="A courier in a brown uniform leaves a box by the door.",
        duration=0.3,
    )
    (sent,) = await eventually(lambda: camera_messages(running), timeout=10)
    assert sent["text"].startswith("Front door: Person in the driveway")
    media = json.loads(sent["media"])
    assert len(media) == 1 and media[0].endswith(".jpg")
    assert (await asyncio.to_thread(Path(media[0]).read_bytes))[:2] == b"\xff\xd8"
    assert f"/api/events/{object_id}/snapshot.jpg" in frigate.requests
    # The owner's phone got the photo.
    await eventually(lambda: any(m.photos for m in telegram.sent), timeout=10)
    # The event log holds it, ended, with Frigate's GenAI description added afterwards.
    event_id = f"frigate-{object_id}"

    def described() -> dict[str, Any] | None:
        row = running.rt.service("vision").events.event(event_id)
        return row if row and row["ended"] and row["description"] else None

    row = await eventually(described, timeout=10)
    assert row["camera"] == "front door" and row["labels"] == ["person"]
    assert row["description"].startswith("A courier in a brown uniform")
    assert row["notified"] == "yes" and row["backend"] == "frigate"
    assert len(camera_messages(running)) == 1  # the description is kept, not sent again
    # Listed as a camera, its picture from Frigate's API.
    status, body = await running.api("GET", "/api/cameras")
    assert status == 200
    listed = {c["name"]: c for c in body["cameras"]}
    assert listed["front door"]["health"]["source"] == "frigate"
    assert listed["front door"]["area"] == "porch" and "garage" in listed
    async with running.http.get(running.url.rstrip("/") + "/api/cameras/garage/snapshot.jpg") as r:
        assert r.status == 200 and r.content_type == "image/jpeg"
        assert (await r.read())[:2] == b"\xff\xd8"
    assert "/api/garage/latest.jpg" in frigate.requests


async def test_frigate_events_follow_the_owners_rules(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    frigate: FakeFrigate,
    telegram: TelegramFake,
) -> None:
    running = await start_daemon(config(frigate, telegram, zones=["porch"]))
    await listening(running)
    vision = running.rt.service("vision")
    # Outside the camera's zones: not an event at all.
    await frigate.detect("front_door", "person", zones=("street",), duration=0.2)
    # A car in the zone on a camera that notifies about people and vehicles: sent.
    car = await frigate.detect("front_door", "car", zones=("porch",), duration=0.2)
    await eventually(lambda: camera_messages(running), timeout=10)
    # The owner said not to tell them about cars: logged, not sent.
    vision.set_preferences("front door", {"ignore": ["vehicle"]})
    second = await frigate.detect("front_door", "car", zones=("porch",), duration=0.2)

    def decided() -> dict[str, Any] | None:
        row = vision.events.event(f"frigate-{second}")
        return row if row and row["notified"] else None

    row = await eventually(decided, timeout=10)
    assert row["notified"].startswith("no:")
    assert [m["dedupe_key"] for m in camera_messages(running)] == [f"camera-event:frigate-{car}"]
    cameras = {e["camera"] for e in vision.events.events()}
    assert cameras == {"front door"} and len(vision.events.events()) == 2


def test_tracked_objects_read_as_homeclaw_labels_and_titles() -> None:
    obj = TrackedObject.parse(
        {
            "id": "1.5-abc",
            "camera": "driveway",
            "label": "car",
            "sub_label": None,
            "top_score": 0.9,
            "start_time": 1.5,
            "end_time": None,
            "entered_zones": ["street", "driveway"],
            "attributes": {"fedex": 0.7},
        }
    )
    description = obj.description("driveway")
    assert description.labels == ("vehicle",) and description.carrier == "FedEx"
    assert description.title == "FedEx truck in the driveway — looks like a delivery"
    assert [label_of(x) for x in ("person", "dog", "bicycle", "umbrella")] == [
        "person",
        "animal",
        "vehicle",
        "motion",
    ]


async def test_discovery_finds_frigate_and_writes_its_config(frigate: FakeFrigate) -> None:
    from integrations.frigate.discovery import probe

    # Nothing answers on a free port; the simulator does, with its cameras and broker.
    closed = free_port()
    found = await probe([("127.0.0.1", closed), ("127.0.0.1", frigate.port)])
    (device,) = found
    assert device.kind == "frigate" and device.name.startswith("Frigate 0.16")
    snippet = device.config_snippet["frigate"]
    assert snippet["url"] == frigate.url and snippet["cameras"] == ["front_door", "garage"]
    assert snippet["mqtt"]["port"] == frigate.mqtt[1]
    assert snippet["mqtt"]["topic_prefix"] == frigate.topic_prefix
