"""The demo's phone, and the brain contract over the channels: lights, confirmation codes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.demo.simulation import DemoContext
from integrations.telegram import simulator as telegram_simulator
from integrations.telegram.simulator import TelegramFake
from integrations.twilio import simulator as twilio_simulator
from integrations.twilio.simulator import Phone, TwilioFake
from tests.conftest import RunningDaemon
from tests.messaging_helpers import COMPONENTS, OWNER, OWNER_TELEGRAM, people
from tests.util import eventually

pytestmark = pytest.mark.timeout(60)
StartDaemon = Callable[..., Awaitable[RunningDaemon]]

DEVICES = {
    "devices": [
        {"id": "kitchen", "name": "Kitchen ceiling", "kind": "light", "area": "kitchen"},
        {"id": "lamp", "name": "Living room lamp", "kind": "light", "area": "living_room"},
        {"id": "door", "name": "Front door", "kind": "lock", "area": "hallway"},
    ]
}


@pytest.fixture(autouse=True)
def _components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agent.daemon.COMPONENTS", COMPONENTS)


@pytest.fixture
async def demo_parts(tmp_path: Path) -> AsyncIterator[tuple[DemoContext, Any, Any]]:
    ctx = DemoContext(home=tmp_path / "demo")
    twilio = await twilio_simulator.demo(ctx)
    telegram = await telegram_simulator.demo(ctx)
    try:
        yield ctx, twilio, telegram
    finally:
        await telegram.stop()
        await twilio.stop()


async def start_demo_daemon(
    start_daemon: StartDaemon, ctx: DemoContext, twilio: Any, telegram: Any
) -> RunningDaemon:
    config: dict[str, Any] = {
        "people": people(),
        "brain": {"provider": "none"},  # the local fast path only
        "virtual": DEVICES,
        **twilio.config,
        **telegram.config,
    }
    daemon = await start_daemon(config)
    ctx.web_url = daemon.url  # what the lead's demo sets once the daemon runs
    daemon.rt.demo = True
    return daemon


def state(daemon: RunningDaemon, device_id: str) -> dict[str, Any]:
    return daemon.rt.home.get(device_id).to_json()["state"]  # type: ignore[no-any-return]


async def turn_on_lights(daemon: RunningDaemon) -> None:
    for device_id in ("virtual:kitchen", "virtual:lamp"):
        status, _ = await daemon.api(
            "POST", f"/api/devices/{device_id}/commands", {"action": "turn_on"}
        )
        assert status == 200


async def test_demo_phone_turns_off_all_the_lights(
    demo_parts: tuple[DemoContext, Any, Any], start_daemon: StartDaemon
) -> None:
    ctx, twilio, telegram = demo_parts
    daemon = await start_demo_daemon(start_daemon, ctx, twilio, telegram)
    await turn_on_lights(daemon)
    fake: TwilioFake = twilio.handle
    phone: Phone = fake.phones[OWNER]
    # The phone learnt the daemon's URL lazily (from ctx.web_url) and signs like Twilio.
    assert await phone.send("turn off all the lights") == 200
    reply = (await eventually(phone.replies, timeout=10))[0]
    assert reply.to == f"whatsapp:{OWNER}"
    assert state(daemon, "virtual:kitchen")["on"] is False
    assert state(daemon, "virtual:lamp")["on"] is False
    assert reply.body


async def test_dashboard_phone_panel_api(
    demo_parts: tuple[DemoContext, Any, Any], start_daemon: StartDaemon
) -> None:
    ctx, twilio, telegram = demo_parts
    daemon = await start_demo_daemon(start_daemon, ctx, twilio, telegram)
    await turn_on_lights(daemon)
    status, body = await daemon.api(
        "POST", "/api/messaging/phone", {"text": "turn off the kitchen lights"}
    )
    assert (status, body) == (200, {"status": 200})
    thread = await eventually(lambda: _thread_with_reply(daemon), timeout=10)
    assert thread[0]["direction"] == "in" and thread[0]["text"] == "turn off the kitchen lights"
    assert thread[1]["direction"] == "out" and thread[1]["channel"] == "whatsapp"
    assert state(daemon, "virtual:kitchen")["on"] is False
    assert state(daemon, "virtual:lamp")["on"] is True
    # Without the API token the proxy is closed like every /api route.
    async with daemon.http.__class__() as anonymous:
        async with anonymous.post(daemon.url + "api/messaging/phone", json={"text": "x"}) as resp:
            assert resp.status == 401


async def _thread_with_reply(daemon: RunningDaemon) -> list[dict[str, Any]] | None:
    status, body = await daemon.api("GET", "/api/messaging/phone")
    messages = body.get("messages", []) if status == 200 else []
    return messages if len(messages) >= 2 else None


async def test_demo_telegram_round_trip(
    demo_parts: tuple[DemoContext, Any, Any], start_daemon: StartDaemon
) -> None:
    ctx, twilio, telegram = demo_parts
    daemon = await start_demo_daemon(start_daemon, ctx, twilio, telegram)
    await turn_on_lights(daemon)
    bot: TelegramFake = telegram.handle
    bot.user_says(OWNER_TELEGRAM, "turn off the living room lamp")
    await eventually(lambda: bot.sent_to(OWNER_TELEGRAM), timeout=10)
    assert state(daemon, "virtual:lamp")["on"] is False


async def test_confirmation_code_is_bound_to_sender_and_channel(
    demo_parts: tuple[DemoContext, Any, Any], start_daemon: StartDaemon
) -> None:
    ctx, twilio, telegram = demo_parts
    daemon = await start_demo_daemon(start_daemon, ctx, twilio, telegram)
    fake: TwilioFake = twilio.handle
    owner_whatsapp: Phone = fake.phones[OWNER]
    owner_sms = fake.phone(OWNER, channel="sms")
    owner_sms.webhook_url_fn = owner_whatsapp.webhook_url_fn
    guest = fake.phone("+15550155", channel="whatsapp")
    guest.webhook_url_fn = owner_whatsapp.webhook_url_fn
    bot: TelegramFake = telegram.handle

    assert await owner_whatsapp.send("unlock the front door") == 200
    challenge = (await eventually(owner_whatsapp.replies, timeout=10))[0].body
    code = re.search(r"\b(\d{7})\b", challenge)
    assert code is not None, challenge
    assert state(daemon, "virtual:door")["locked"] is not False

    # The right code from the wrong channel (same number over SMS), another person, Telegram.
    assert await owner_sms.send(f"YES {code.group(1)}") == 200
    assert await guest.send(f"YES {code.group(1)}") == 200
    bot.user_says(OWNER_TELEGRAM, f"YES {code.group(1)}")
    await eventually(
        lambda: len(owner_sms.replies()) >= 2 and guest.replies() and bot.sent_to(OWNER_TELEGRAM),
        timeout=10,
    )
    assert state(daemon, "virtual:door")["locked"] is not False

    # The same code from the sender and channel that asked: unlocked.
    assert await owner_whatsapp.send(f"YES {code.group(1)}") == 200
    await eventually(lambda: state(daemon, "virtual:door")["locked"] is False, timeout=10)


async def test_in_the_demo_story_the_owner_has_written_so_alerts_go_by_whatsapp(
    tmp_path: Path, start_daemon: StartDaemon
) -> None:
    """The demo's owner texts the house at start: the 24-hour window is open, as in life."""
    ctx = DemoContext(home=tmp_path / "demo", story=True)
    twilio = await twilio_simulator.demo(ctx)
    try:
        daemon = await start_daemon(
            {"people": people(), "brain": {"provider": "none"}, "virtual": DEVICES, **twilio.config}
        )
        ctx.web_url = daemon.url
        phone = twilio.handle.phone(OWNER, channel="whatsapp")
        await eventually(lambda: phone.replies(), timeout=20)
        assert phone.replies()[0].body == "Yes, Front door is locked."
        outbox = daemon.rt.services["outbox"]
        message_id = outbox.notify_owner("Driveway: FedEx truck just pulled up")
        await eventually(lambda: outbox.get(message_id)["status"] == "delivered", timeout=10)
        assert outbox.get(message_id)["channel"] == "whatsapp"
        assert "window closed" not in (outbox.get(message_id).get("note") or "")
    finally:
        await twilio.stop()


async def test_in_the_demo_an_unlock_from_the_cli_says_where_the_code_is(
    demo_parts: tuple[DemoContext, Any, Any], start_daemon: StartDaemon
) -> None:
    """The code goes to the owner's (simulated) WhatsApp: the demo says where to look."""
    ctx, twilio, telegram = demo_parts
    daemon = await start_demo_daemon(start_daemon, ctx, twilio, telegram)
    status, body = await daemon.api(
        "POST", "/api/chat", {"text": "unlock the front door", "channel": "cli"}
    )
    assert status == 200 and "Phone panel on the dashboard" in body["reply"], body
    assert not re.search(r"\d{7}", body["reply"])  # the code itself never in the answer
