"""The Twilio channel end to end: a real daemon, the real twilio SDK, the Twilio fake, a phone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agent.brain.simulator import FakeLLM
from agent.bus import InboundMessage, Notice
from integrations.twilio.simulator import Phone, TwilioFake
from tests.conftest import RunningDaemon
from tests.messaging_helpers import COMPONENTS, HOUSE, OWNER, brain_config, ensure_brain, people
from tests.util import eventually

pytestmark = pytest.mark.timeout(60)
StartDaemon = Callable[..., Awaitable[RunningDaemon]]


@pytest.fixture(autouse=True)
def _components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agent.daemon.COMPONENTS", COMPONENTS)


@pytest.fixture
async def fake() -> AsyncIterator[TwilioFake]:
    fake = await TwilioFake(numbers=(HOUSE,)).start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(default="At your service!") as llm:
        yield llm


def config(fake: TwilioFake, llm: FakeLLM, **twilio: Any) -> dict[str, Any]:
    return {
        "people": people(),
        "brain": brain_config(llm.base_url),
        "twilio": {
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
            "sms_from": HOUSE,
            "whatsapp_from": HOUSE,
            "api_base_url": fake.base_url,
            **twilio,
        },
    }


async def start(
    start_daemon: StartDaemon,
    fake: TwilioFake,
    llm: FakeLLM,
    *,
    home: Path | None = None,
    **twilio: Any,
) -> RunningDaemon:
    daemon = await start_daemon(config(fake, llm, **twilio), home=home)
    ensure_brain(daemon.rt, llm.base_url)
    return daemon


def phone_for(
    fake: TwilioFake, daemon: RunningDaemon, number: str = OWNER, channel: str = "whatsapp"
) -> Phone:
    phone = fake.phone(number, channel=channel, to=HOUSE)
    phone.webhook_url = daemon.url.rstrip("/") + "/webhooks/twilio"
    return phone


async def test_round_trip_over_whatsapp(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    llm.script("Good evening! The house is calm.")
    daemon = await start(start_daemon, fake, llm)
    inbound = daemon.rt.bus.subscribe(InboundMessage)
    phone = phone_for(fake, daemon)
    assert await phone.send("how is the house?") == 200
    reply = (await eventually(phone.replies))[0]
    assert reply.body == "Good evening! The house is calm."
    assert reply.to == f"whatsapp:{OWNER}" and reply.from_ == f"whatsapp:{HOUSE}"
    event = inbound.queue.get_nowait()
    assert isinstance(event, InboundMessage)
    assert (event.channel, event.sender, event.text) == ("whatsapp", OWNER, "how is the house?")
    assert len(llm.requests) == 1
    # The fake reports sent, then delivered, through the signed status callback.
    outbox = daemon.rt.services["outbox"]
    await eventually(lambda: outbox.recent(1)[0]["status"] == "delivered")


async def test_round_trip_over_sms(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    # Not "Done.": a claim with no command behind it would be corrected (honest replies).
    llm.script("Which lights do you mean?")
    daemon = await start(start_daemon, fake, llm)
    phone = phone_for(fake, daemon, channel="sms")
    assert await phone.send("lights off please") == 200
    reply = (await eventually(phone.replies))[0]
    assert (reply.body, reply.to, reply.from_) == ("Which lights do you mean?", OWNER, HOUSE)


async def test_empty_twiml_answer(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    phone = phone_for(fake, daemon)
    form = phone.form("hi")
    async with aiohttp.ClientSession() as http:
        from twilio.request_validator import RequestValidator

        sig = RequestValidator(fake.auth_token).compute_signature(phone.url(), form)
        async with http.post(phone.url(), data=form, headers={"X-Twilio-Signature": sig}) as resp:
            assert resp.status == 200
            assert resp.content_type == "text/xml"
            assert (await resp.text()).endswith("<Response></Response>")


async def test_bad_signatures_are_rejected(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    phone = phone_for(fake, daemon)
    assert await phone.post(phone.form("wrong token"), token="not-the-token") == 403
    assert (
        await phone.post(phone.form("wrong url"), url="https://evil.example/webhooks/twilio") == 403
    )
    # Signed for one body, sent with another.
    form = phone.form("turn off the lights")
    from twilio.request_validator import RequestValidator

    sig = RequestValidator(fake.auth_token).compute_signature(phone.url(), form)
    tampered = {**form, "Body": "unlock the front door"}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            phone.url(), data=tampered, headers={"X-Twilio-Signature": sig}
        ) as resp:
            assert resp.status == 403
        async with http.post(phone.url(), data=form) as resp:  # no signature at all
            assert resp.status == 403
        status_url = daemon.url.rstrip("/") + "/webhooks/twilio/status"
        async with http.post(
            status_url, data={"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed"}
        ) as resp:
            assert resp.status == 403
    assert llm.requests == []
    assert daemon.rt.services["messaging"].recent_inbound() == []
    assert daemon.rt.services["messaging"].twilio_webhook.rejected == 5


async def test_signature_uses_configured_public_url(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    """Behind a tunnel Twilio signs the public URL; the request URL is the local one."""
    public = "https://home.example.net/hc"
    daemon = await start(start_daemon, fake, llm, public_url=public)
    phone = phone_for(fake, daemon)
    assert await phone.send("signed for the local URL") == 403
    assert await phone.post(phone.form("hello"), url=public + "/webhooks/twilio") == 200
    await eventually(lambda: len(llm.requests) == 1)


async def test_replayed_message_sid_is_ignored_across_restart(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = await start(start_daemon, fake, llm, home=home)
    phone = phone_for(fake, first)
    assert await phone.send("what's the temperature?") == 200
    await eventually(phone.replies)
    form = phone.last_form
    assert form is not None
    assert await phone.post(form) == 200  # Twilio retry, same daemon
    await first.http.close()
    await first.daemon.stop()
    second = await start(start_daemon, fake, llm, home=home)
    phone.webhook_url = second.url.rstrip("/") + "/webhooks/twilio"
    assert await phone.post(form) == 200  # a replay after the restart
    assert await phone.send("and now?") == 200
    await eventually(lambda: len(phone.replies()) == 2)
    assert len(llm.requests) == 2


async def test_stranger_gets_no_llm_call_and_no_reply(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    notices = daemon.rt.bus.subscribe(Notice)
    stranger = phone_for(fake, daemon, number="+15550777")
    assert await stranger.send("hi, who is this? unlock the door") == 200
    status, body = await eventually(lambda: _strangers(daemon), timeout=5)
    assert status == 200 and body["strangers"][0]["sender"] == "+15550777"
    assert body["strangers"][0]["text"].startswith("hi, who is this")
    assert llm.requests == []
    assert stranger.replies() == []
    assert fake.requests == []  # not even a paid API call
    topics = [e.data.get("event") for e in _drain(notices) if isinstance(e, Notice)]
    assert "stranger" in topics


async def _strangers(daemon: RunningDaemon) -> tuple[int, Any] | None:
    status, body = await daemon.api("GET", "/api/messages")
    return (status, body) if body.get("strangers") else None


def _drain(sub: Any) -> list[Any]:
    items = []
    while not sub.queue.empty():
        items.append(sub.queue.get_nowait())
    return items


async def test_pairing_code_lets_a_new_person_in(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    status, pairing = await daemon.api(
        "POST", "/api/people/pairing", {"name": "Bea", "role": "guest"}
    )
    assert status == 200 and len(pairing["code"]) == 8
    bea = phone_for(fake, daemon, number="+15550123")
    assert await bea.send("PAIR 00000000") == 200  # a wrong code: still a stranger
    assert await bea.send(f"pair {pairing['code']}") == 200
    welcome = (await eventually(bea.replies))[0]
    assert "Welcome, Bea" in welcome.body
    assert llm.requests == []
    identity = daemon.rt.people.identify("whatsapp", "+15550123")
    assert identity is not None and identity.role == "guest"
    llm.script("Hello Bea!")
    assert await bea.send("hello") == 200
    await eventually(lambda: len(bea.replies()) == 2)
    assert bea.replies()[1].body == "Hello Bea!"
    # The code is used up.
    eve = phone_for(fake, daemon, number="+15550124")
    assert await eve.send(f"PAIR {pairing['code']}") == 200
    await eventually(lambda: len(llm.requests) == 1)
    assert daemon.rt.people.identify("whatsapp", "+15550124") is None


async def test_whatsapp_window_closed_falls_back_to_sms(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    outbox = daemon.rt.services["outbox"]
    message_id = outbox.notify_owner("The garage door has been open for an hour")
    row = await eventually(lambda: (m := outbox.get(message_id))["provider_id"] and m)
    sent = fake.sent_to(OWNER)[0]
    assert sent.to == OWNER and sent.from_ == HOUSE  # SMS, not WhatsApp
    assert row["sent_channel"] == "sms" and "24-hour window" in row["note"]
    # After the owner writes on WhatsApp, the window is open again.
    phone = phone_for(fake, daemon)
    await phone.send("thanks")
    await eventually(lambda: len(fake.sent_to(OWNER)) == 2)
    assert fake.sent_to(OWNER)[1].to == f"whatsapp:{OWNER}"


async def test_whatsapp_window_closed_uses_template(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm, whatsapp_template_sid="HX" + "a" * 32)
    outbox = daemon.rt.services["outbox"]
    message_id = outbox.notify_owner("Motion in the garden")
    row = await eventually(lambda: (m := outbox.get(message_id))["provider_id"] and m)
    sent = fake.sent_to(OWNER)[0]
    assert sent.to == f"whatsapp:{OWNER}" and sent.content_sid == "HX" + "a" * 32
    assert "Motion in the garden" in (sent.content_variables or "")
    assert "template" in row["note"]


async def test_media_links_are_signed_and_expire(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon, tmp_path: Path
) -> None:
    daemon = await start(start_daemon, fake, llm)
    image = tmp_path / "driveway.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    phone = phone_for(fake, daemon)
    await phone.send("hi")  # open the WhatsApp window
    await eventually(phone.replies)
    outbox = daemon.rt.services["outbox"]
    outbox.notify_owner("FedEx truck just pulled up", [image])
    sent = await eventually(lambda: [m for m in phone.replies() if m.media_url])
    assert sent[0].body == "FedEx truck just pulled up"
    # The fake fetched the signed link like Twilio does.
    await eventually(lambda: sent[0].media_fetched == [200])
    url = sent[0].media_url[0]
    assert url.startswith(daemon.url.rstrip("/") + "/media/")
    links = daemon.rt.services["messaging"].media_links
    expired = links.link(image, daemon.url, ttl=-5)
    wrong = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    async with aiohttp.ClientSession() as http:  # no API token: /media is open
        async with http.get(url) as resp:
            assert resp.status == 200 and await resp.read() == image.read_bytes()
        for bad in (expired, wrong, url.split("?")[0], url.replace("exp=", "exp=1")):
            async with http.get(bad) as resp:
                assert resp.status == 404, bad


async def test_inbound_media_is_saved(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    inbound = daemon.rt.bus.subscribe(InboundMessage)
    phone = phone_for(fake, daemon)
    assert await phone.send("look at this", images=(b"\xff\xd8jpeg-bytes",)) == 200
    event = await eventually(lambda: not inbound.queue.empty() and inbound.queue.get_nowait())
    assert len(event.media) == 1
    saved = await asyncio.to_thread(Path(event.media[0]).read_bytes)
    assert saved == b"\xff\xd8jpeg-bytes"


async def test_configured_guest_reaches_the_brain_as_guest(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    guest = phone_for(fake, daemon, number="+15550155", channel="sms")
    await guest.send("music in the kitchen")
    await eventually(guest.replies)
    row = daemon.rt.services["messaging"].recent_inbound(1)[0]
    assert (row["name"], row["channel"], row["status"]) == ("Gus", "sms", "answered")


async def test_doctor_channel_checks(fake: TwilioFake, llm: FakeLLM) -> None:
    from agent.cli.messaging import channel_checks
    from agent.config import Config

    def build(token: str, **twilio: Any) -> Config:
        return Config.model_validate(
            {
                "people": people(),
                "twilio": {
                    "account_sid": fake.account_sid,
                    "auth_token": token,
                    "whatsapp_from": HOUSE,
                    "api_base_url": fake.base_url,
                    **twilio,
                },
            }
        )

    good = {name: (ok, detail) for name, ok, detail in await channel_checks(build(fake.auth_token))}
    assert good["twilio credentials"][0] is True
    assert good["twilio webhook"][0] is False  # no public_url
    assert good["whatsapp 24-hour window"][0] is False  # neither template nor SMS fallback
    assert good["owner reachable"][0] is True
    bad = {name: ok for name, ok, _ in await channel_checks(build("wrong"))}
    assert bad["twilio credentials"] is False
    local = {
        name: (ok, detail)
        for name, ok, detail in await channel_checks(
            build(fake.auth_token, public_url="http://127.0.0.1:9", sms_from=HOUSE)
        )
    }
    assert (
        local["twilio public url"][0] is False and "local address" in local["twilio public url"][1]
    )
    assert local["whatsapp 24-hour window"][0] is True


async def test_cli_pair_messages_and_notify(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon, tmp_path: Path
) -> None:
    from agent.cli import main

    home = tmp_path / "home"
    daemon = await start(start_daemon, fake, llm, home=home)
    (home / "url").write_text(daemon.url)  # where the CLI finds the daemon (port 0 in config)

    def cli(*args: str) -> int:
        return main(["--home", str(home), *args])

    assert await asyncio.to_thread(cli, "pair", "new", "Sam", "--role", "guest") == 0
    assert daemon.rt.people.pending_pairings()[0]["name"] == "Sam"
    assert (
        await asyncio.to_thread(cli, "pair", "add", "whatsapp", "+1 555 0123", "--name", "Sam") == 0
    )
    assert daemon.rt.people.identify("sms", "+15550123") is not None
    assert await asyncio.to_thread(cli, "notify", "Back at 6") == 0
    await eventually(lambda: fake.sent_to(OWNER))
    assert await asyncio.to_thread(cli, "messages", "--json") == 0
    assert await asyncio.to_thread(cli, "pair", "remove", "whatsapp", "+15550123") == 0
    assert daemon.rt.people.identify("sms", "+15550123") is None
    with pytest.raises(SystemExit):  # the daemon refuses a malformed number; the CLI exits 1
        await asyncio.to_thread(cli, "pair", "add", "whatsapp", "nonsense", "--name", "X")


async def test_pairing_guesses_are_limited(
    fake: TwilioFake, llm: FakeLLM, start_daemon: StartDaemon
) -> None:
    daemon = await start(start_daemon, fake, llm)
    status, pairing = await daemon.api("POST", "/api/people/pairing", {"name": "Mal"})
    assert status == 200
    guesser = phone_for(fake, daemon, number="+15550666")
    for guess in range(5):
        assert await guesser.send(f"PAIR {guess:08d}") == 200
    assert await guesser.send(f"PAIR {pairing['code']}") == 200
    messaging = daemon.rt.services["messaging"]
    await eventually(lambda: len(messaging.recent_inbound(10, "stranger")) == 6)
    assert daemon.rt.people.identify("whatsapp", "+15550666") is None
    assert guesser.replies() == [] and llm.requests == []
    # Many strangers guessing (7 x 5 wrong codes, more than 30 in the hour) block only
    # themselves: the invited person still pairs, and the owner hears about the guessing.
    for n in range(7):
        other = phone_for(fake, daemon, number=f"+1555070{n}")
        for guess in range(5):
            assert await other.send(f"PAIR {n * 10 + guess + 10:08d}") == 200
    await eventually(lambda: len(messaging.recent_inbound(100, "stranger")) == 41)
    invited = phone_for(fake, daemon, number="+15550777")
    assert await invited.send(f"PAIR {pairing['code']}") == 200
    welcome = (await eventually(invited.replies))[0]
    assert "Welcome, Mal" in welcome.body
    assert daemon.rt.people.identify("whatsapp", "+15550777") is not None
    warnings = daemon.rt.store.query(
        "SELECT text FROM outbox WHERE text LIKE 'Security: 30 wrong pairing codes%'"
    )
    assert len(warnings) == 1 and "from 6 senders" in warnings[0]["text"]
