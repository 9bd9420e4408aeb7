"""A provider that accepts late: Twilio answering after the house stopped waiting must not
make a message go twice (issue 17). Timings are the real ones scaled by 1/10: twilio.timeout
15 s → 1.5 s, the outbox's old 30 s limit → 3 s, resend_after 120 s → 12 s, and the fake
accepts after 1, 5, 31 and 60 s → 0.1, 0.5, 3.1, 6 s. bench/outbox_late.py runs the real
figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrations.twilio.simulator import TwilioFake
from tests.test_outbox import HOUSE, OWNER, Running, row_of
from tests.util import eventually

pytestmark = pytest.mark.timeout(60)
SCALE = 0.1


@pytest.fixture
async def fake() -> AsyncIterator[TwilioFake]:
    fake = await TwilioFake(numbers=(HOUSE,)).start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.mark.parametrize("accepts_after", [1, 5, 31, 60])
async def test_late_acceptance_is_sent_once(
    tmp_path: Path, fake: TwilioFake, accepts_after: float
) -> None:
    """Whenever within the window the provider accepts, the owner gets the message once."""
    run = Running(tmp_path / "db", fake, timeout=15 * SCALE, resend_after=120 * SCALE)
    run.outbox.send_timeout = 30 * SCALE  # the limit that used to cut sends short
    fake.latency = accepts_after * SCALE
    try:
        run.start()
        message_id = run.outbox.enqueue("sms", OWNER, f"accepted after {accepts_after} s")
        row = await eventually(
            lambda: (m := row_of(run.outbox, message_id))["status"] in ("sent", "delivered") and m,
            timeout=30,
        )
        # Let the provider finish whatever it was still doing with every request.
        await eventually(lambda: not fake.pending_creates, timeout=30)
        sent = fake.sent_to(OWNER)
        assert len(sent) == 1, [m.body for m in sent]
        assert sent[0].sid == row["provider_id"]
        if accepts_after * SCALE > run.sender.timeout:
            # twilio.timeout was honoured: the house stopped waiting and found it at Twilio.
            assert "recovered after an interruption" in (row["note"] or "")
            assert row["attempts"] == 1
    finally:
        await run.stop()


async def test_nothing_accepted_is_resent_after_the_window(
    tmp_path: Path, fake: TwilioFake
) -> None:
    """A request Twilio never took (it answered nothing and kept nothing) goes again once the
    window has passed, and only then."""
    run = Running(tmp_path / "db", fake, timeout=0.3, resend_after=1.5)
    fake.latency = 0.6
    fake.drop_slow_creates = True  # answers nothing, keeps nothing
    try:
        run.start()
        message_id = run.outbox.enqueue("sms", OWNER, "dropped on the floor")
        await eventually(lambda: row_of(run.outbox, message_id)["status"] == "sending")
        await eventually(lambda: len(fake.requests) >= 2)  # it looked at Twilio first
        assert all(method == "GET" for method, _ in fake.requests[1:])
        fake.latency = 0.0
        row = await eventually(
            lambda: (m := row_of(run.outbox, message_id))["status"] in ("sent", "delivered") and m,
            timeout=30,
        )
        assert row["attempts"] == 2 and len(fake.sent_to(OWNER)) == 1
    finally:
        await run.stop()
