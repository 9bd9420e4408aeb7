"""Twilio's inbound webhooks: `/webhooks/twilio` (messages) and `/webhooks/twilio/status`.

These paths are open in the auth middleware, so every request proves itself
here: X-Twilio-Signature over the *public* URL Twilio called (configured, not
taken from the request, which a proxy rewrites) plus every form field. Only
then is anything parsed further. A message is acknowledged with an empty
TwiML response at once; the brain's turn runs in a background task, and its
reply goes out through the outbox (a turn may outlast Twilio's timeout).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from multidict import MultiDict

from agent.messaging.people import normalise_address

if TYPE_CHECKING:
    from integrations.twilio.config import TwilioConfig

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_FORM_BYTES = 64 * 1024
MAX_MEDIA_BYTES = 5 * 1024 * 1024
SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class TwilioInbound:
    """A verified inbound message, before media download."""

    channel: str  # "sms" or "whatsapp"
    sender: str  # normalised E.164
    text: str
    msg_id: str
    media_urls: tuple[tuple[str, str], ...]  # (url, content type)
    profile_name: str


# (channel, msg_id) → True if new (recorded), False if already seen.
AcceptOnce = Callable[[str, str], bool]
Deliver = Callable[[str, str, str, str, tuple[str, ...], str], Awaitable[None]]
StatusUpdate = Callable[[str, str, str | None], bool]


class TwilioWebhook:
    """Verifies, deduplicates and hands over Twilio's inbound requests."""

    def __init__(
        self,
        config: TwilioConfig,
        *,
        public_url: Callable[[], str | None],
        accept_once: AcceptOnce,
        deliver: Deliver,
        status_update: StatusUpdate,
        media_dir: Path,
    ) -> None:
        from twilio.request_validator import RequestValidator

        self.config = config
        self.public_url = public_url
        self.accept_once = accept_once
        self.deliver = deliver
        self.status_update = status_update
        self.media_dir = media_dir
        self.validator = RequestValidator(config.auth_token)
        self.tasks: set[asyncio.Task[None]] = set()
        self.rejected = 0

    def add_routes(self, app: web.Application) -> None:
        """Register the two webhook routes."""
        app.router.add_post("/webhooks/twilio", self.inbound)
        app.router.add_post("/webhooks/twilio/status", self.status)

    async def stop(self) -> None:
        """Cancel turns still running."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    # -- verification ----------------------------------------------------------

    async def _verified_form(self, request: web.Request) -> MultiDict[str] | web.Response:
        """The form when the signature is right; otherwise the response to send."""
        if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
            return web.Response(status=413, text="too large")
        raw = bytearray()
        while len(raw) <= MAX_FORM_BYTES:
            chunk = await request.content.read(MAX_FORM_BYTES + 1 - len(raw))
            if not chunk:
                break
            raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            return web.Response(status=413, text="too large")
        signature = request.headers.get("X-Twilio-Signature", "")
        base = self.public_url()
        if not signature or not signature.isascii() or not base:
            return self._reject(request, "missing signature" if base else "no public URL known")
        try:
            text = bytes(raw).decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=200, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return self._reject(request, "malformed form", status=400)
        form: MultiDict[str] = MultiDict(pairs)
        # The URL Twilio signed is the public one, plus the path and query it called.
        url = base + request.path_qs
        if not self.validator.validate(url, form, signature):
            return self._reject(request, "bad signature")
        if form.get("AccountSid") != self.config.account_sid:
            return self._reject(request, "wrong account")
        return form

    def _reject(self, request: web.Request, why: str, status: int = 403) -> web.Response:
        self.rejected += 1
        log.warning("twilio webhook %s rejected: %s", request.path, why)
        return web.Response(status=status, text="rejected")

    # -- handlers ----------------------------------------------------------------

    async def inbound(self, request: web.Request) -> web.Response:
        """An SMS/WhatsApp message: verify, dedupe, acknowledge, then think in the background."""
        form = await self._verified_form(request)
        if isinstance(form, web.Response):
            return form
        message = parse_inbound(form)
        if message is None:
            return web.Response(status=400, text="not a message")
        if not self.accept_once("twilio", message.msg_id):
            log.info("twilio: replayed message %s ignored", message.msg_id)
        else:
            task = asyncio.create_task(self._handle(message), name=f"twilio:{message.msg_id}")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def status(self, request: web.Request) -> web.Response:
        """A delivery report for a message the house sent."""
        form = await self._verified_form(request)
        if isinstance(form, web.Response):
            return form
        sid = form.get("MessageSid", "")
        state = form.get("MessageStatus", "").lower()
        if not SID.fullmatch(sid) or not re.fullmatch(r"[a-z_]{1,20}", state):
            return web.Response(status=400, text="not a status report")
        code = form.get("ErrorCode")
        error = f"Twilio error {code}" if code else None
        if not self.status_update(sid, state, error):
            log.info("twilio: status %s for unknown message %s", state, sid)
        return web.Response(status=204)

    async def _handle(self, message: TwilioInbound) -> None:
        try:
            media = await self._download(message)
            await self.deliver(
                message.channel,
                message.sender,
                message.text,
                message.msg_id,
                media,
                message.profile_name,
            )
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad message must not take the channel down
            log.exception("twilio: handling message %s failed", message.msg_id)

    async def _download(self, message: TwilioInbound) -> tuple[str, ...]:
        """Save inbound media (Twilio media URLs need the account's Basic auth)."""
        saved: list[str] = []
        if not message.media_urls:
            return ()
        self.media_dir.mkdir(parents=True, exist_ok=True)
        token = f"{self.config.account_sid}:{self.config.auth_token}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(token).decode()}
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for index, (url, content_type) in enumerate(message.media_urls):
                ext = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
                target = self.media_dir / f"{message.msg_id}-{index}{ext}"
                try:
                    async with session.get(url, headers=headers) as resp:
                        resp.raise_for_status()
                        data = await resp.content.read(MAX_MEDIA_BYTES + 1)
                    if len(data) > MAX_MEDIA_BYTES:
                        log.warning("twilio: media %d of %s is too large", index, message.msg_id)
                        continue
                    await asyncio.to_thread(target.write_bytes, data)
                    saved.append(str(target))
                except (aiohttp.ClientError, TimeoutError, OSError) as err:
                    log.warning("twilio: media %d of %s not saved: %s", index, message.msg_id, err)
        return tuple(saved)


def parse_inbound(form: MultiDict[str]) -> TwilioInbound | None:
    """The message in a verified webhook form, or None when it is not one."""
    sid = form.get("MessageSid", "")
    sender = form.get("From", "")
    if not SID.fullmatch(sid) or not sender:
        return None
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    try:
        count = max(0, min(int(form.get("NumMedia", "0") or 0), 10))
    except ValueError:
        count = 0
    media = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}", "")
        if url.startswith(("https://", "http://")):
            media.append((url, form.get(f"MediaContentType{index}", "application/octet-stream")))
    return TwilioInbound(
        channel=channel,
        sender=normalise_address(channel, sender),
        text=form.get("Body", "")[:5000],
        msg_id=sid,
        media_urls=tuple(media),
        profile_name=form.get("ProfileName", "")[:100],
    )
