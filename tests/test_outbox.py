"""The durable outbox over the real twilio SDK and the Twilio fake: retries, crashes, limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.bus import Bus
from agent.config import Person
from agent.messaging.outbox import Outbox, split_text
from agent.messaging.people import People
from agent.store import Store
from agent.supervise import Supervisor
from integrations.twilio.config import TwilioConfig
from integrations.twilio.sender import TwilioSender
from integrations.twilio.simulator import TwilioFake
from tests.util import eventually

OWNER = "+15550100"
HOUSE = "+15550199"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def fake() -> AsyncIterator[TwilioFake]:
    fake = await TwilioFake(numbers=(HOUSE,)).start()
    try:
        yield fake
    finally:
        await fake.stop()


def twilio_config(fake: TwilioFake, **extra: object) -> TwilioConfig:
    return TwilioConfig.model_validate(
        {
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
            "sms_from": HOUSE,
            "whatsapp_from": HOUSE,
            "api_base_url": fake.base_url,
            **extra,
        }
    )


def row_of(outbox: Outbox, message_id: int) -> dict[str, Any]:
    """A message row that must exist."""
    row = outbox.get(message_id)
    assert row is not None
    return row


class Running:
    """An outbox with a Twilio sender and its delivery loop (one 'daemon life')."""

    def __init__(self, db: Path, fake: TwilioFake, **config: object) -> None:
        self.store = Store(db)
        self.bus = Bus()
        people = People([Person(name="Ann", role="owner", phone=OWNER)])
        self.outbox = Outbox(self.store, self.bus, people, base_delay=0.05, max_delay=0.2)
        self.sender = TwilioSender(
            twilio_config(fake, **config),
            media=None,
            public_url=lambda: None,
            last_inbound=lambda channel, address: time.time(),
            is_known_sid=lambda sid: (
                self.store.one("SELECT 1 FROM outbox WHERE provider_id = ?", (sid,)) is not None
            ),
        )
        self.outbox.register(self.sender)
        self.supervisor = Supervisor(self.bus, initial_delay=0.05)

    def start(self) -> None:
        self.outbox.spawn(self.supervisor)

    async def stop(self) -> None:
        await self.supervisor.stop()
        await self.sender.close()
        self.store.close()


async def test_retry_after_500s_then_delivered_once(tmp_path: Path, fake: TwilioFake) -> None:
    run = Running(tmp_path / "db", fake)
    fake.fail_next = 3
    try:
        run.start()
        message_id = run.outbox.enqueue("sms", OWNER, "Porch light left on")
        row = await eventually(
            lambda: (
                (m := row_of(run.outbox, message_id)) and m["status"] in ("sent", "delivered") and m
            )
        )
        assert row["attempts"] == 4
        assert len(fake.sent_to(OWNER)) == 1
        assert fake.sent_to(OWNER)[0].sid == row["provider_id"]
    finally:
        await run.stop()


async def test_crash_between_enqueue_and_send_delivers_exactly_once(
    tmp_path: Path, fake: TwilioFake
) -> None:
    first = Running(tmp_path / "db", fake)
    ids = [first.outbox.enqueue("sms", OWNER, f"message {i}") for i in range(5)]
    await first.stop()  # "crash": nothing was ever sent
    assert fake.sent_to(OWNER) == []
    second = Running(tmp_path / "db", fake)
    try:
        second.start()
        # "sending" is committed before the provider is called: wait for the outcome.
        await eventually(
            lambda: all(
                row_of(second.outbox, i)["status"] not in ("queued", "sending") for i in ids
            )
        )
        assert sorted(m.body for m in fake.sent_to(OWNER)) == [f"message {i}" for i in range(5)]
    finally:
        await second.stop()


async def test_crash_after_provider_accepted_is_reconciled_not_resent(
    tmp_path: Path, fake: TwilioFake
) -> None:
    """Twilio accepted the message but the daemon died before recording the SID."""
    first = Running(tmp_path / "db", fake)
    message_id = first.outbox.enqueue("sms", OWNER, "Garage door is open")
    started = time.time()
    first.outbox._set(message_id, status="sending", attempts=1, attempt_started=started)
    created = await first.sender._twilio().messages.create_async(
        to=OWNER, from_=HOUSE, body="Garage door is open"
    )
    await first.stop()
    second = Running(tmp_path / "db", fake)
    try:
        second.start()
        row = await eventually(
            lambda: (m := row_of(second.outbox, message_id))["status"] != "sending" and m
        )
        assert row["provider_id"] == created.sid
        assert "recovered after an interruption" in row["note"]
        assert len(fake.sent_to(OWNER)) == 1
    finally:
        await second.stop()


async def test_unknown_outcome_is_resent_when_provider_has_nothing(
    tmp_path: Path, fake: TwilioFake
) -> None:
    run = Running(tmp_path / "db", fake)
    message_id = run.outbox.enqueue("sms", OWNER, "hello")
    # Long enough ago that Twilio can no longer accept that attempt late (resend_after).
    started = time.time() - 121
    run.outbox._set(message_id, status="sending", attempts=1, attempt_started=started)
    try:
        run.start()
        await eventually(lambda: row_of(run.outbox, message_id)["status"] in ("sent", "delivered"))
        assert [m.body for m in fake.sent_to(OWNER)] == ["hello"]
    finally:
        await run.stop()


async def test_long_text_is_split_below_twilio_limit(tmp_path: Path, fake: TwilioFake) -> None:
    run = Running(tmp_path / "db", fake)
    try:
        run.start()
        run.outbox.enqueue("sms", OWNER, "x" * 1500 + " " + "y" * 1500)
        await eventually(lambda: len(fake.sent_to(OWNER)) == 2)
        assert [len(m.body) for m in fake.sent_to(OWNER)] == [1500, 1500]
    finally:
        await run.stop()


async def test_permanent_error_fails_without_retry(tmp_path: Path, fake: TwilioFake) -> None:
    # A From number the account does not own: Twilio answers 400 (error 21606).
    run = Running(tmp_path / "db", fake, sms_from="+15559999999")
    try:
        run.start()
        bad = run.outbox.enqueue("sms", OWNER, "from a number we do not own")
        row = await eventually(lambda: (m := row_of(run.outbox, bad))["status"] == "failed" and m)
        assert row["attempts"] == 1 and "21606" in row["error"]
        assert fake.sent_to(OWNER) == []
    finally:
        await run.stop()


async def test_dedupe_key_queues_once(tmp_path: Path, fake: TwilioFake) -> None:
    run = Running(tmp_path / "db", fake)
    try:
        a = run.outbox.enqueue("sms", OWNER, "Truck in the driveway", dedupe_key="cam:42")
        b = run.outbox.enqueue("sms", OWNER, "Truck in the driveway", dedupe_key="cam:42")
        assert a == b
        assert run.outbox.counts() == {"queued": 1}
    finally:
        await run.stop()


async def test_daily_budget_holds_messages(tmp_path: Path, fake: TwilioFake) -> None:
    run = Running(tmp_path / "db", fake, daily_budget=2)
    try:
        run.start()
        ids = [run.outbox.enqueue("sms", OWNER, f"alert {i}") for i in range(4)]
        await eventually(lambda: len(fake.sent_to(OWNER)) == 2)
        held = await eventually(lambda: (m := row_of(run.outbox, ids[2]))["error"] and m)
        assert held["status"] == "queued" and "budget" in held["error"]
        await asyncio.sleep(0.2)
        assert len(fake.sent_to(OWNER)) == 2  # still held
    finally:
        await run.stop()


async def test_rate_limit_spaces_messages(tmp_path: Path, fake: TwilioFake) -> None:
    run = Running(tmp_path / "db", fake, rate_per_minute=3)
    try:
        run.start()
        for i in range(5):
            run.outbox.enqueue("sms", OWNER, f"n{i}")
        await eventually(lambda: len(fake.sent_to(OWNER)) == 3)
        await asyncio.sleep(0.3)
        assert len(fake.sent_to(OWNER)) == 3  # the other two wait for the minute to pass
    finally:
        await run.stop()


async def test_notify_owner_uses_owner_channel(tmp_path: Path, fake: TwilioFake) -> None:
    run = Running(tmp_path / "db", fake)
    try:
        run.start()
        message_id = run.outbox.notify_owner("FedEx truck just pulled up")
        assert message_id is not None
        assert row_of(run.outbox, message_id)["channel"] == "whatsapp"
        await eventually(lambda: fake.sent_to(OWNER))
        assert fake.sent_to(OWNER)[0].to == f"whatsapp:{OWNER}"
    finally:
        await run.stop()


def test_split_text_keeps_words() -> None:
    parts = split_text("word " * 1000, 1600)
    assert all(len(p) <= 1600 for p in parts)
    assert " ".join(parts).split() == ["word"] * 1000


async def test_reconcile_finds_the_sms_fallback_of_a_whatsapp_row(
    tmp_path: Path, fake: TwilioFake
) -> None:
    """The window closed, the row went out by SMS, and the daemon died before recording it."""
    run = Running(tmp_path / "db", fake)
    run.sender.last_inbound = lambda channel, address: None  # no WhatsApp window
    message_id = run.outbox.enqueue("whatsapp", OWNER, "Water leak in the basement")
    run.outbox._set(message_id, status="sending", attempts=1, attempt_started=time.time())
    created = await run.sender._twilio().messages.create_async(
        to=OWNER, from_=HOUSE, body="Water leak in the basement"
    )
    try:
        run.start()
        row = await eventually(
            lambda: (m := row_of(run.outbox, message_id))["status"] != "sending" and m
        )
        assert (row["provider_id"], row["sent_channel"]) == (created.sid, "sms")
        assert len(fake.sent_to(OWNER)) == 1
    finally:
        await run.stop()
