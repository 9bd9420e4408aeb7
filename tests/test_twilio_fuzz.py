"""Fuzzing the open endpoints (/webhooks/twilio, its status route, /media) and Telegram updates.

Malformed forms, bad encodings, huge bodies, random and valid signatures: the
daemon must never answer 5xx, and only correctly signed messages may reach the
brain. The HTTP cases run in a worker thread with a blocking client, so the
daemon keeps serving on the test's event loop.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from agent.brain.simulator import FakeLLM
from agent.bus import InboundMessage
from integrations.telegram.channel import TelegramChannel
from integrations.telegram.config import TelegramConfig
from integrations.twilio.simulator import TwilioFake
from tests.conftest import RunningDaemon
from tests.messaging_helpers import COMPONENTS, HOUSE, OWNER, brain_config, people

pytestmark = pytest.mark.timeout(120)
StartDaemon = Callable[..., Awaitable[RunningDaemon]]
HTTP_CASES = 1200
TELEGRAM_CASES = 400


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


@dataclass
class Case:
    """One request: where, what body, which headers, and whether it is validly signed."""

    path: str
    body: bytes
    headers: dict[str, str]
    signed_sid: str | None = None


header_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
    max_size=80,
)
field_text = st.text(max_size=200)  # any Unicode, surrogates excluded below
form_fields = st.dictionaries(
    st.sampled_from(
        [
            "MessageSid",
            "AccountSid",
            "From",
            "To",
            "Body",
            "NumMedia",
            "MediaUrl0",
            "MediaContentType0",
            "MessageStatus",
            "ErrorCode",
            "ProfileName",
        ]
    )
    | field_text,
    field_text,
    max_size=12,
)
sids = st.from_regex(r"\A(SM|MM)[0-9a-f]{32}\Z") | field_text
paths = st.sampled_from(
    [
        "/webhooks/twilio",
        "/webhooks/twilio/status",
        "/webhooks/twilio?x=1",
        "/webhooks/twilio/status?y=%ff",
    ]
)


def _encode(fields: dict[str, str]) -> bytes:
    return urllib.parse.urlencode(fields, encoding="utf-8", errors="surrogatepass").encode(
        "utf-8", "surrogatepass"
    )


@st.composite
def cases(draw: st.DrawFn, fake: TwilioFake, base: str) -> Case:
    """Requests a hostile or broken client might send (and some correctly signed ones)."""
    kind = draw(st.sampled_from(["form", "bytes", "bad-percent", "huge", "signed", "media"]))
    path = draw(paths)
    headers = {
        "Content-Type": draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "application/x-www-form-urlencoded; charset=latin-1",
                    "multipart/form-data; boundary=xyz",
                    "application/json",
                    "text/plain",
                    "",
                    "garbage/;;",
                ]
            )
        )
    }
    signature = draw(st.none() | header_text | st.from_regex(r"\A[A-Za-z0-9+/]{27}=\Z"))
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    if kind == "form":
        return Case(path, _encode(draw(form_fields)), headers)
    if kind == "bytes":
        return Case(path, draw(st.binary(max_size=2000)), headers)
    if kind == "bad-percent":
        junk = draw(
            st.sampled_from(["%ff%fe", "Body=%c3%28", "%", "a=%zz&b", "&&==&", "Body=\xff"])
        )
        return Case(path, junk.encode("latin-1"), headers)
    if kind == "huge":
        size = draw(st.sampled_from([70_000, 300_000, 2_000_000]))
        return Case(path, b"Body=" + b"A" * size, headers)
    if kind == "media":
        media_id = draw(field_text.filter(lambda s: "/" not in s and "?" not in s and "#" not in s))
        query = urllib.parse.urlencode({"exp": draw(header_text), "sig": draw(header_text)})
        return Case(f"/media/{urllib.parse.quote(media_id, safe='')}x?{query}", b"", {})
    # Correctly signed by "Twilio": may legitimately reach the brain (owner) or not (stranger).
    sid = draw(sids)
    fields = {
        "MessageSid": sid,
        "AccountSid": draw(st.sampled_from([fake.account_sid, "AC" + "f" * 32])),
        "From": draw(st.sampled_from([f"whatsapp:{OWNER}", OWNER, "+15550777", "", "whatsapp:"])),
        "To": f"whatsapp:{HOUSE}",
        "Body": draw(field_text),
        "NumMedia": draw(st.sampled_from(["0", "1", "-3", "999", "x"])),
        **draw(form_fields),
    }
    fields = {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in fields.items()}
    fields = {k.encode("utf-8", "replace").decode("utf-8"): v for k, v in fields.items()}
    path = draw(st.sampled_from(["/webhooks/twilio", "/webhooks/twilio/status"]))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(fake.auth_token).compute_signature(
            base + path, fields
        ),
    }
    return Case(path, urllib.parse.urlencode(fields).encode(), headers, fields.get("MessageSid"))


def post(base: str, case: Case) -> int:
    method = "GET" if case.path.startswith("/media/") else "POST"
    request = urllib.request.Request(
        base + case.path,
        data=case.body if method == "POST" else None,
        method=method,
        headers=case.headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (ConnectionResetError, BrokenPipeError, urllib.error.URLError):
        return 0  # the connection was cut (only acceptable for a too-large upload)


async def test_fuzz_webhook_endpoints(fake: TwilioFake, start_daemon: StartDaemon) -> None:
    async with FakeLLM(default="ok") as llm:
        daemon = await start_daemon(
            {
                "people": people(),
                "brain": brain_config(llm.base_url),
                "twilio": {
                    "account_sid": fake.account_sid,
                    "auth_token": fake.auth_token,
                    "sms_from": HOUSE,
                    "whatsapp_from": HOUSE,
                    "api_base_url": fake.base_url,
                },
            }
        )
        base = daemon.url.rstrip("/")
        inbound = daemon.rt.bus.subscribe(InboundMessage, maxsize=100_000)
        signed: set[str] = set()
        statuses: dict[int, int] = {}

        def run() -> None:
            @settings(
                max_examples=HTTP_CASES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=cases(fake, base))
            def check(case: Case) -> None:
                if case.signed_sid is not None:
                    signed.add(case.signed_sid)
                status = post(base, case)
                statuses[status] = statuses.get(status, 0) + 1
                assert status < 500, (status, case)
                # A cut connection is fine only when the server refused a huge upload early.
                assert status != 0 or len(case.body) > 64 * 1024, case

            check()

        await asyncio.to_thread(run)
        await asyncio.sleep(0.5)  # let background turns that were accepted finish
        reached = []
        while not inbound.queue.empty():
            event = inbound.queue.get_nowait()
            assert isinstance(event, InboundMessage)
            reached.append(event.msg_id)
        total = sum(statuses.values())
        print(
            f"\nwebhook fuzz: {total} requests, statuses {dict(sorted(statuses.items()))}, "
            f"{len(reached)} reached the brain (all signed)"
        )
        assert total >= 1000
        assert set(reached) <= signed
        assert all(
            r.get("sender") in (OWNER, "+15550155")
            for r in daemon.rt.services["messaging"].recent_inbound(5000)
            if r["status"] != "stranger"
        )


telegram_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def telegram_updates(draw: st.DrawFn) -> Any:
    """Updates with the right shape, the wrong shape, and anything in between."""
    if draw(st.booleans()):
        return draw(telegram_values)
    message = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "from": st.fixed_dictionaries(
                    {},
                    optional={
                        "id": st.integers() | st.text(max_size=5),
                        "first_name": telegram_values,
                    },
                ),
                "chat": st.fixed_dictionaries(
                    {}, optional={"type": st.sampled_from(["private", "group"]) | telegram_values}
                ),
                "text": telegram_values,
                "caption": telegram_values,
                "photo": telegram_values,
            },
        )
    )
    return {"update_id": draw(st.integers(0, 10**9) | telegram_values), "message": message}


async def test_fuzz_telegram_updates(tmp_path: Any) -> None:
    from agent.store import Store

    store = Store(tmp_path / "db")
    delivered: list[tuple[str, str]] = []

    async def deliver(
        channel: str, sender: str, text: str, msg_id: str, media: tuple[str, ...], name: str
    ) -> None:
        assert isinstance(text, str) and sender.lstrip("-").isdigit()
        delivered.append((sender, text))

    channel = TelegramChannel(
        TelegramConfig(bot_token="1:abcdefghijkl", api_base_url="http://127.0.0.1:9"),
        store=store,
        accept_once=lambda source, msg_id: True,
        deliver=deliver,
        media_dir=tmp_path / "media",
    )
    cases_run = 0

    def run() -> None:
        nonlocal cases_run
        loop = asyncio.new_event_loop()
        try:

            @settings(max_examples=TELEGRAM_CASES, deadline=None, database=None)
            @given(update=telegram_updates())
            def check(update: Any) -> None:
                nonlocal cases_run
                cases_run += 1
                if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                    loop.run_until_complete(channel._handle(update))

            check()
        finally:
            loop.run_until_complete(channel.stop())
            loop.close()

    await asyncio.to_thread(run)
    store.close()
    print(f"\ntelegram fuzz: {cases_run} updates, {len(delivered)} delivered")
    assert cases_run >= TELEGRAM_CASES // 2
