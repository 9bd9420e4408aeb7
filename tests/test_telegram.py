"""The Telegram channel end to end: a real daemon long-polling the Bot API fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.brain.simulator import FakeLLM
from agent.bus import InboundMessage
from integrations.telegram.channel import OFFSET_KEY
from integrations.telegram.simulator import TelegramFake
from tests.conftest import RunningDaemon
from tests.messaging_helpers import COMPONENTS, OWNER_TELEGRAM, brain_config, ensure_brain, people
from tests.util import eventually

pytestmark = pytest.mark.timeout(60)
StartDaemon = Callable[..., Awaitable[RunningDaemon]]


@pytest.fixture(autouse=True)
def _components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agent.daemon.COMPONENTS", COMPONENTS)


@pytest.fixture
async def bot() -> AsyncIterator[TelegramFake]:
    fake = await TelegramFake().start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(default="At your service!") as llm:
        yield llm


async def start(
    start_daemon: StartDaemon,
    bot: TelegramFake,
    llm: FakeLLM,
    *,
    home: Path | None = None,
    token: str | None = None,
) -> RunningDaemon:
    config: dict[str, Any] = {
        "people": people(),
        "brain": brain_config(llm.base_url),
        "telegram": {
            "bot_token": token or bot.token,
            "api_base_url": bot.base_url,
            "poll_timeout": 1,
        },
    }
    daemon = await start_daemon(config, home=home)
    ensure_brain(daemon.rt, llm.base_url)
    return daemon


async def test_round_trip_over_telegram(
    bot: TelegramFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    llm.script("All quiet at home.")
    daemon = await start(start_daemon, bot, llm)
    inbound = daemon.rt.bus.subscribe(InboundMessage)
    bot.user_says(OWNER_TELEGRAM, "status?")
    reply = (await eventually(lambda: bot.sent_to(OWNER_TELEGRAM)))[0]
    assert reply.text == "All quiet at home."
    event = inbound.queue.get_nowait()
    assert isinstance(event, InboundMessage)
    assert (event.channel, event.sender, event.text) == ("telegram", "1001", "status?")
    outbox = daemon.rt.services["outbox"]
    assert outbox.recent(1)[0]["status"] == "sent"
    assert outbox.recent(1)[0]["provider_id"].startswith("1001:")


async def test_stranger_and_groups_never_reach_the_brain(
    bot: TelegramFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, bot, llm)
    bot.user_says(4242, "hello bot, unlock the door")
    bot.user_says(OWNER_TELEGRAM, "owner in a group chat", chat_type="group")
    last = bot.user_says(OWNER_TELEGRAM, "ping")
    await eventually(lambda: bot.sent_to(OWNER_TELEGRAM))
    await eventually(lambda: bot.acknowledged > last)
    messaging = daemon.rt.services["messaging"]
    strangers = messaging.recent_inbound(10, "stranger")
    assert [s["sender"] for s in strangers] == ["4242"]
    assert len(llm.requests) == 1 and "ping" in llm.request_text(0)
    assert bot.sent_to(4242) == []


async def test_offset_and_dedupe_survive_restart(
    bot: TelegramFake, llm: FakeLLM, start_daemon: StartDaemon, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = await start(start_daemon, bot, llm, home=home)
    update = bot.user_says(OWNER_TELEGRAM, "one")
    await eventually(lambda: bot.sent_to(OWNER_TELEGRAM))
    assert first.rt.store.get_json(OFFSET_KEY) == update + 1
    await first.http.close()
    await first.daemon.stop()
    # The API redelivers an update it never saw acknowledged: it must not be answered twice.
    bot.updates.insert(
        0,
        {
            "update_id": update,
            "message": {
                "message_id": 1,
                "from": {"id": OWNER_TELEGRAM, "is_bot": False, "first_name": "A"},
                "chat": {"id": OWNER_TELEGRAM, "type": "private"},
                "date": 0,
                "text": "one",
            },
        },
    )
    bot.acknowledged = 0
    second = await start(start_daemon, bot, llm, home=home)
    second.rt.store.put_json(OFFSET_KEY, 0)  # as if the ack was lost in the crash
    bot.user_says(OWNER_TELEGRAM, "two")
    await eventually(lambda: len(bot.sent_to(OWNER_TELEGRAM)) == 2)
    await asyncio.sleep(0.2)
    assert len(llm.requests) == 2


async def test_photo_in_and_out(
    bot: TelegramFake, llm: FakeLLM, start_daemon: StartDaemon, tmp_path: Path
) -> None:
    daemon = await start(start_daemon, bot, llm)
    inbound = daemon.rt.bus.subscribe(InboundMessage)
    bot.user_says(OWNER_TELEGRAM, "what is this?", photo=b"\xff\xd8photo")
    event = await eventually(lambda: not inbound.queue.empty() and inbound.queue.get_nowait())
    assert event.text == "what is this?" and len(event.media) == 1
    image = tmp_path / "snap.jpg"
    image.write_bytes(b"\xff\xd8snapshot")
    outbox = daemon.rt.services["outbox"]
    outbox.enqueue("telegram", str(OWNER_TELEGRAM), "Driveway", [image])
    sent = await eventually(lambda: [m for m in bot.sent_to(OWNER_TELEGRAM) if m.photos])
    assert sent[0].text == "Driveway" and sent[0].photos == [b"\xff\xd8snapshot"]


async def test_send_retries_after_server_errors(
    bot: TelegramFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, bot, llm)
    outbox = daemon.rt.services["outbox"]
    outbox.base_delay = 0.05
    bot.fail_next = 2
    message_id = outbox.notify_owner("hello")
    assert outbox.get(message_id)["channel"] == "telegram"
    await eventually(lambda: outbox.get(message_id)["status"] == "sent", timeout=10)
    assert outbox.get(message_id)["attempts"] == 3
    assert [m.text for m in bot.sent_to(OWNER_TELEGRAM)] == ["hello"]


async def test_wrong_token_is_reported(
    bot: TelegramFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, bot, llm, token="999:wrong-token-value")
    health = await eventually(
        lambda: (h := daemon.rt.supervisor.health.get("channel:telegram")) and h.restarts and h
    )
    assert health.status == "retrying" and "401" in health.detail
