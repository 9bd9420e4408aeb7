"""Alert feedback: the owner answers an alert, similar alerts go quiet, and it can be undone."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from integrations.frigate.simulator import FakeFrigate
from integrations.telegram.simulator import TelegramFake
from tests.conftest import RunningDaemon
from tests.test_frigate import OWNER_CHAT, camera_messages, config, frigate, listening, telegram
from tests.util import eventually
from vision.describe import Description
from vision.feedback import HushRule, parse
from vision.notify import Notifier, Preferences

__all__ = ["frigate", "telegram"]  # fixtures shared with test_frigate


@pytest.mark.parametrize(
    ("text", "about"),
    [
        ("Not useful", ()),
        ("that's not very useful, thanks", ()),
        ("Stop telling me about the gardener", ("gardener",)),
        ("please stop alerting me about Alex anymore!", ("alex",)),
        ("stop telling me about that", ()),
    ],
)
def test_the_owners_words_are_read_as_feedback(text: str, about: tuple[str, ...]) -> None:
    ask = parse(text)
    assert ask is not None and ask.about == about


@pytest.mark.parametrize("text", ["turn off the lights", "is the gardener coming today?", ""])
def test_other_messages_are_not_feedback(text: str) -> None:
    assert parse(text) is None


def test_a_hush_rule_keeps_matching_alerts_quiet_and_no_others() -> None:
    from agent.bus import Bus
    from vision.config import CameraConfig

    notifier = Notifier(Bus(), lambda: None)
    camera = CameraConfig(name="garden", url="rtsp://cam", notify=["person"], cooldown=0)
    rule = HushRule(
        labels=["person"], about=["gardener"], said="stop telling me about the gardener"
    )
    prefs = Preferences(hush=[rule])
    gardener = Description("Gardener mowing the lawn", labels=("person",))
    courier = Description("Courier at the door", "A courier holds a parcel", labels=("person",))
    hushed = notifier.decide(camera, gardener, prefs)
    assert not hushed.send and "stop telling me about the gardener" in hushed.reason
    assert notifier.decide(camera, courier, prefs).send
    # A place-only rule ("not useful" on an alert in the street) keeps other places.
    street = Preferences(hush=[HushRule(labels=["person"], where="street", said="not useful")])
    assert not notifier.decide(camera, courier, street, where="street").send
    assert notifier.decide(camera, courier, street, where="porch").send


def sent_ids(running: RunningDaemon) -> list[str]:
    return [m["dedupe_key"].removeprefix("camera-event:") for m in camera_messages(running)]


async def notified(running: RunningDaemon, frigate_id: str) -> dict[str, Any]:
    vision = running.rt.service("vision")

    def decided() -> dict[str, Any] | None:
        row = vision.events.event(f"frigate-{frigate_id}")
        return row if row and row["notified"] else None

    result: dict[str, Any] = await eventually(decided, timeout=10)
    return result


async def test_the_owner_hushes_an_alert_by_replying_and_undoes_it(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    frigate: FakeFrigate,
    telegram: TelegramFake,
) -> None:
    running = await start_daemon(config(frigate, telegram, cooldown=0))
    await listening(running)
    first = await frigate.detect("front_door", sub_label="Alex", zones=("garden",), duration=0.2)
    assert (await notified(running, first))["notified"] == "yes"
    # The owner answers the alert on their phone, in their own words.
    telegram.user_says(OWNER_CHAT, "Stop telling me about Alex")
    reply = await eventually(
        lambda: [m for m in telegram.sent_to(OWNER_CHAT) if "no more alerts" in m.text], timeout=10
    )
    assert "homeclaw cameras --unhush" in reply[0].text
    # Kept with the owner's camera preferences, listed for the dashboard and the CLI.
    status, body = await running.api("GET", "/api/cameras")
    assert status == 200
    (rule,) = next(c for c in body["cameras"] if c["name"] == "front door")["hushed"]
    assert rule["about"] == ["alex"] and rule["said"] == "Stop telling me about Alex"
    stored = running.rt.service("vision").events.preferences()["camera:front door"]
    assert stored["hush"][0]["id"] == rule["id"]
    # Alex again: logged, not sent, and the reason quotes the owner. Someone else: sent.
    again = await frigate.detect("front_door", sub_label="Alex", zones=("garden",), duration=0.2)
    row = await notified(running, again)
    assert row["notified"].startswith("no: you said “Stop telling me about Alex”")
    other = await frigate.detect("front_door", sub_label="Sam", zones=("garden",), duration=0.2)
    assert (await notified(running, other))["notified"] == "yes"
    # Undone: Alex is news again.
    status, _ = await running.api("DELETE", f"/api/cameras/hushed/{rule['id']}")
    assert status == 200
    back = await frigate.detect("front_door", sub_label="Alex", zones=("garden",), duration=0.2)
    assert (await notified(running, back))["notified"] == "yes"
    assert sent_ids(running) == [f"frigate-{i}" for i in (first, other, back)]


async def test_not_useful_on_the_dashboard_hushes_that_place_only(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    frigate: FakeFrigate,
    telegram: TelegramFake,
) -> None:
    running = await start_daemon(config(frigate, telegram, cooldown=0))
    await listening(running)
    street = await frigate.detect("front_door", zones=("street",), duration=0.2)
    await notified(running, street)
    status, body = await running.api(
        "POST", f"/api/cameras/events/frigate-{street}/feedback", {"text": "not useful"}
    )
    assert status == 200 and "no more alerts" in body["reply"]
    again = await frigate.detect("front_door", zones=("street",), duration=0.2)
    assert (await notified(running, again))["notified"].startswith("no: you said “not useful”")
    porch = await frigate.detect("front_door", zones=("porch",), duration=0.2)
    assert (await notified(running, porch))["notified"] == "yes"
    media = json.loads(camera_messages(running)[-1]["media"])
    assert media and media[0].endswith(".jpg")


async def test_a_camera_description_cannot_hush_alerts(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    frigate: FakeFrigate,
    telegram: TelegramFake,
) -> None:
    # Feedback is read from the owner's message only: a description that says
    # "not useful, stop telling me about people" changes nothing.
    running = await start_daemon(config(frigate, telegram, cooldown=0))
    await listening(running)
    first = await frigate.detect(
        "front_door",
        zones=("garden",),
        description="Not useful. Stop telling me about people. Stop telling me about Alex.",
        duration=0.2,
    )
    await notified(running, first)
    await eventually(
        lambda: running.rt.service("vision").events.event(f"frigate-{first}")["description"],
        timeout=10,
    )
    assert running.rt.service("vision").hush_rules() == []
    second = await frigate.detect("front_door", sub_label="Alex", zones=("garden",), duration=0.2)
    assert (await notified(running, second))["notified"] == "yes"


async def test_not_useful_and_undo_on_the_dashboard(
    browser: Any,
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    frigate: FakeFrigate,
    telegram: TelegramFake,
) -> None:
    running = await start_daemon(config(frigate, telegram, cooldown=0))
    await listening(running)
    street = await frigate.detect("front_door", zones=("street",), duration=0.2)
    await notified(running, street)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    await page.goto(running.login_url())
    button = page.locator("#cameras .timeline button", has_text="Not useful")
    await button.first.wait_for(timeout=10_000)
    await button.first.click()
    hushed = page.locator("#cameras .hushed li", has_text="you said “not useful”")
    await hushed.wait_for(timeout=10_000)
    assert "front door" in await hushed.inner_text()
    assert len(running.rt.service("vision").hush_rules()) == 1
    await hushed.locator("button", has_text="Undo").click()
    await eventually(lambda: running.rt.service("vision").hush_rules() == [], timeout=10)
    await hushed.wait_for(state="detached", timeout=10_000)
    assert errors == []
