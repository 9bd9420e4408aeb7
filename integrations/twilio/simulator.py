"""A Twilio REST API fake and a "phone" that texts the house exactly as Twilio would.

`TwilioFake` serves the Messages resource of API 2010-04-01 (Basic auth,
create, list, fetch) on loopback, so the real `twilio` SDK is exercised; it
fetches media links like Twilio does and posts signed status callbacks.
Faults are scriptable (`fail_next`, `latency`). `Phone` signs and posts inbound
webhooks (X-Twilio-Signature over URL + sorted form fields) to the daemon.

For the demo's phone panel the fake also answers `POST /_phone/send` and
`GET /_phone/thread` (loopback only, demo only; the daemon proxies them).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import aiohttp
from aiohttp import web

from agent.demo.simulation import DemoContext, DemoPart, free_port

log = logging.getLogger(__name__)
API = "/2010-04-01/Accounts/{account}"


def _sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def _twilio_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


@dataclass
class FakeMessage:
    """A message as the fake Twilio account holds it."""

    sid: str
    to: str
    from_: str
    body: str
    direction: str
    created: float
    status: str = "queued"
    media_url: list[str] = field(default_factory=list)
    media_fetched: list[int] = field(default_factory=list)  # HTTP status per fetched link
    content_sid: str | None = None
    content_variables: str | None = None
    status_callback: str | None = None

    def to_json(self, account: str) -> dict[str, Any]:
        """The Message resource JSON."""
        return {
            "sid": self.sid,
            "account_sid": account,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "direction": self.direction,
            "num_media": str(len(self.media_url)),
            "num_segments": "1",
            "date_created": formatdate(self.created, usegmt=True),
            "date_updated": formatdate(time.time(), usegmt=True),
            "date_sent": formatdate(self.created, usegmt=True) if self.status != "queued" else None,
            "api_version": "2010-04-01",
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "messaging_service_sid": None,
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{self.sid}.json",
            "subresource_uris": {},
        }


class TwilioFake:
    """The Twilio Messages API on 127.0.0.1 (one account)."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 31 + "1",
        auth_token: str = "fake-auth-token",
        *,
        numbers: tuple[str, ...] = ("+15550199",),
        host: str = "127.0.0.1",
        deliver: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = numbers
        self.host = host
        self.port = 0
        self.deliver = deliver
        self.messages: list[FakeMessage] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.fail_next = 0  # this many creates answer 500
        self.latency = 0.0  # delay before a create is recorded
        self.accept_latency = 0.0  # delay after it is recorded: "accepted, no answer yet"
        # After `latency`: keep nothing and answer 503 (a request lost inside Twilio).
        self.drop_slow_creates = False
        self.pending_creates = 0  # creates still being worked on (a client may have left)
        self.phone_media: dict[str, bytes] = {}
        self.phones: dict[str, Phone] = {}
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> TwilioFake:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=1024 * 1024)
        base = API.format(account="{account}")
        app.router.add_post(base + "/Messages.json", self._create)
        app.router.add_get(base + "/Messages.json", self._list)
        app.router.add_get(base + "/Messages/{sid}.json", self._fetch)
        app.router.add_get(base + ".json", self._account)
        app.router.add_get("/media/{key}", self._media)
        app.router.add_post("/_phone/send", self._phone_send)
        app.router.add_get("/_phone/thread", self._phone_thread)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port(self.host)
        await web.TCPSite(self._runner, self.host, self.port).start()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def stop(self) -> None:
        """Stop serving and cancel pending callbacks."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """What the daemon's `twilio.api_base_url` should be."""
        return f"http://{self.host}:{self.port}"

    def sent_to(self, number: str) -> list[FakeMessage]:
        """Messages the house sent to a number (SMS or WhatsApp)."""
        return [
            m
            for m in self.messages
            if m.direction == "outbound-api" and m.to.removeprefix("whatsapp:") == number
        ]

    def phone(self, number: str, *, channel: str = "whatsapp", to: str | None = None) -> Phone:
        """A phone with that number, texting the house's first number."""
        phone = Phone(self, number, channel=channel, to=to or self.numbers[0])
        self.phones[number] = phone
        return phone

    # -- API handlers ------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        return (
            request.headers.get("Authorization") == expected
            and request.match_info.get("account") == self.account_sid
        )

    async def _create(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.path))
        if not self._authorised(request):
            return _twilio_error(401, 20003, "Authenticate")
        self.pending_creates += 1
        try:
            return await self._create_late(request)
        finally:
            self.pending_creates -= 1

    async def _create_late(self, request: web.Request) -> web.Response:
        """Create a message after `latency`, even when the client stopped waiting (as Twilio)."""
        # Read first: Twilio has the whole request before it takes its time to accept it.
        form = await request.post()
        if self.latency:
            await asyncio.sleep(self.latency)
            if self.drop_slow_creates:
                return _twilio_error(503, 20503, "Service Unavailable")
        if self.fail_next > 0:
            self.fail_next -= 1
            return _twilio_error(500, 20500, "Internal Server Error")
        to, from_ = str(form.get("To", "")), str(form.get("From", ""))
        body = str(form.get("Body", ""))
        if not to:
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        if from_.removeprefix("whatsapp:") not in self.numbers:
            return _twilio_error(400, 21606, "The 'From' phone number is not a valid number.")
        if to.startswith("whatsapp:") != from_.startswith("whatsapp:"):
            return _twilio_error(400, 21910, "Invalid From and To pair.")
        if not body and "MediaUrl" not in form and "ContentSid" not in form:
            return _twilio_error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _twilio_error(400, 21617, "The concatenated message body exceeds 1600 chars.")
        message = FakeMessage(
            sid=_sid(),
            to=to,
            from_=from_,
            body=body,
            direction="outbound-api",
            created=time.time(),
            media_url=[str(u) for u in form.getall("MediaUrl", [])],
            content_sid=str(form["ContentSid"]) if "ContentSid" in form else None,
            content_variables=str(form.get("ContentVariables", "")) or None,
            status_callback=str(form["StatusCallback"]) if "StatusCallback" in form else None,
        )
        self.messages.append(message)
        if self.accept_latency:
            await asyncio.sleep(self.accept_latency)
        if self.deliver:
            task = asyncio.create_task(self._progress(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.json_response(message.to_json(self.account_sid), status=201)

    async def _list(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path))
        if not self._authorised(request):
            return _twilio_error(401, 20003, "Authenticate")
        to, from_ = request.query.get("To"), request.query.get("From")
        size = int(request.query.get("PageSize", "50"))
        found = [
            m
            for m in reversed(self.messages)
            if (to is None or m.to == to) and (from_ is None or m.from_ == from_)
        ][:size]
        return web.json_response(
            {
                "messages": [m.to_json(self.account_sid) for m in found],
                "first_page_uri": request.path_qs,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": size,
                "uri": request.path_qs,
            }
        )

    async def _account(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _twilio_error(401, 20003, "Authenticate")
        return web.json_response(
            {
                "sid": self.account_sid,
                "friendly_name": "Fake account",
                "status": "active",
                "type": "Full",
            }
        )

    async def _fetch(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _twilio_error(401, 20003, "Authenticate")
        for message in self.messages:
            if message.sid == request.match_info["sid"]:
                return web.json_response(message.to_json(self.account_sid))
        return _twilio_error(404, 20404, "The requested resource was not found")

    async def _media(self, request: web.Request) -> web.Response:
        """Media of messages the phones sent (Twilio serves these with Basic auth)."""
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.Response(status=401)
        data = self.phone_media.get(request.match_info["key"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    async def _progress(self, message: FakeMessage) -> None:
        """Fetch media like Twilio, then report sent and delivered to the status callback."""
        assert self._http is not None
        for url in message.media_url:
            try:
                async with self._http.get(url) as resp:
                    await resp.read()
                    message.media_fetched.append(resp.status)
            except (aiohttp.ClientError, TimeoutError):
                message.media_fetched.append(0)
        for status in ("sent", "delivered"):
            await asyncio.sleep(0.02)
            message.status = status
            if message.status_callback:
                params = {
                    "AccountSid": self.account_sid,
                    "MessageSid": message.sid,
                    "MessageStatus": status,
                    "SmsSid": message.sid,
                    "SmsStatus": status,
                    "To": message.to,
                    "From": message.from_,
                    "ApiVersion": "2010-04-01",
                }
                try:
                    await signed_post(self._http, message.status_callback, params, self.auth_token)
                except (aiohttp.ClientError, TimeoutError) as err:
                    log.info("fake twilio: status callback failed: %s", err)

    # -- the demo phone ------------------------------------------------------------

    async def _phone_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        number = str(body.get("from") or next(iter(self.phones), ""))
        phone = self.phones.get(number)
        if phone is None:
            return web.json_response({"error": "no such phone"}, status=404)
        if body.get("webhook_url"):
            phone.webhook_url = str(body["webhook_url"])
        status = await phone.send(str(body.get("text", ""))[:1600])
        return web.json_response({"status": status})

    async def _phone_thread(self, request: web.Request) -> web.Response:
        number = request.query.get("number") or next(iter(self.phones), "")
        thread = [
            {
                "direction": "in" if m.direction == "inbound" else "out",
                "text": m.body or (m.content_variables or ""),
                "media": m.media_url,
                "channel": "whatsapp" if m.to.startswith("whatsapp:") else "sms",
                "status": m.status,
                "ts": m.created,
            }
            for m in self.messages
            if number
            and number in (m.to.removeprefix("whatsapp:"), m.from_.removeprefix("whatsapp:"))
        ]
        return web.json_response({"number": number, "messages": thread[-100:]})


async def signed_post(
    http: aiohttp.ClientSession, url: str, params: dict[str, str], auth_token: str
) -> int:
    """POST a form the way Twilio does, with X-Twilio-Signature; returns the HTTP status."""
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(auth_token).compute_signature(url, params)
    async with http.post(url, data=params, headers={"X-Twilio-Signature": signature}) as resp:
        await resp.read()
        return resp.status


class Phone:
    """Someone's phone texting the house through the fake Twilio account."""

    _counter = itertools.count(1)

    def __init__(
        self, fake: TwilioFake, number: str, *, channel: str = "whatsapp", to: str
    ) -> None:
        self.fake = fake
        self.number = number
        self.channel = channel
        self.to = to
        self.webhook_url: str | None = None
        self.webhook_url_fn: Callable[[], str | None] | None = None
        self.last_form: dict[str, str] | None = None

    def _address(self, number: str) -> str:
        return f"whatsapp:{number}" if self.channel == "whatsapp" else number

    def form(self, text: str, *, images: tuple[bytes, ...] = ()) -> dict[str, str]:
        """The webhook form Twilio would post for this message."""
        sid = _sid("MM" if images else "SM")
        form = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.fake.account_sid,
            "From": self._address(self.number),
            "To": self._address(self.to),
            "Body": text,
            "NumMedia": str(len(images)),
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        if self.channel == "whatsapp":
            form["ProfileName"] = "Owner"
            form["WaId"] = self.number.lstrip("+")
        for index, image in enumerate(images):
            key = f"{sid}-{index}"
            self.fake.phone_media[key] = image
            form[f"MediaUrl{index}"] = f"{self.fake.base_url}/media/{key}"
            form[f"MediaContentType{index}"] = "image/jpeg"
        return form

    def url(self) -> str:
        """The daemon's webhook URL (set, or learnt lazily once the daemon has started)."""
        url = self.webhook_url or (self.webhook_url_fn() if self.webhook_url_fn else None)
        if not url:
            raise RuntimeError("the phone does not know the daemon's webhook URL yet")
        return url

    async def send(self, text: str, *, images: tuple[bytes, ...] = ()) -> int:
        """Text the house; returns the webhook's HTTP status."""
        form = self.form(text, images=images)
        self.fake.messages.append(
            FakeMessage(
                sid=form["MessageSid"],
                to=form["To"],
                from_=form["From"],
                body=text,
                direction="inbound",
                created=time.time(),
                status="received",
            )
        )
        return await self.post(form)

    async def post(
        self, form: dict[str, str], *, token: str | None = None, url: str | None = None
    ) -> int:
        """Post a form signed with `token` for `url` (defaults: the account's, the real URL)."""
        self.last_form = form
        assert self.fake._http is not None
        target = self.url()
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(token or self.fake.auth_token).compute_signature(
            url or target, form
        )
        async with self.fake._http.post(
            target, data=form, headers={"X-Twilio-Signature": signature}
        ) as resp:
            await resp.read()
            return resp.status

    def replies(self) -> list[FakeMessage]:
        """What the house sent to this phone."""
        return self.fake.sent_to(self.number)


async def demo(ctx: DemoContext) -> DemoPart:
    """A fake Twilio account and the owner's phone (+15550100, WhatsApp) for `homeclaw demo`."""
    house = "+15550199"
    fake = await TwilioFake(numbers=(house,)).start()
    phone = fake.phone("+15550100", channel="whatsapp", to=house)

    def webhook_url() -> str | None:
        return ctx.web_url.rstrip("/") + "/webhooks/twilio" if ctx.web_url else None

    # The daemon's URL is known only after it starts: learn it lazily (the
    # daemon's phone panel also passes it along with every message).
    phone.webhook_url_fn = webhook_url
    # As in life, the owner has written to the house today, so its WhatsApp
    # 24-hour window is open and camera alerts arrive on WhatsApp, not SMS.
    greeting = (
        asyncio.create_task(_owner_writes_first(phone), name="demo-owner-greeting")
        if ctx.story
        else None
    )

    async def stop() -> None:
        if greeting is not None:
            greeting.cancel()
        await fake.stop()

    config = {
        "twilio": {
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
            "sms_from": house,
            "whatsapp_from": house,
            "api_base_url": fake.base_url,
        }
    }
    return DemoPart(name="twilio", config=config, stop=stop, handle=fake)


async def _owner_writes_first(phone: Phone, text: str = "is the front door locked?") -> None:
    """Text the house once its web server answers (it starts after the simulators)."""
    assert phone.fake._http is not None
    for _ in range(120):
        try:
            async with phone.fake._http.get(phone.url(), timeout=aiohttp.ClientTimeout(2)):
                break  # any answer (405 to a GET) means the daemon listens
        except (RuntimeError, aiohttp.ClientError, TimeoutError):
            await asyncio.sleep(0.5)  # not listening yet
    else:
        log.warning("demo: the owner's phone could not reach the house's webhook")
        return
    # Ask once the home is up too (whole home ≈3 s after the server: bench/startup.py).
    await asyncio.sleep(6)
    status = await phone.send(text)
    if status != 200:
        log.warning("demo: the house answered the owner's first text with HTTP %s", status)
