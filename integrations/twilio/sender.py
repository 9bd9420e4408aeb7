"""Outbound SMS and WhatsApp through Twilio's REST API (the outbox's sender for both).

Twilio errors are translated into the outbox's SendError kinds here, at one
boundary. WhatsApp only allows free-form messages within 24 hours of the
person's last message: outside it the configured template is used, or the
message falls back to SMS, and the outbox row says so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from agent.messaging.outbox import (
    AmbiguousSendError,
    Outgoing,
    PermanentSendError,
    Sent,
    TransientSendError,
)

if TYPE_CHECKING:
    from integrations.twilio.config import TwilioConfig
    from integrations.twilio.media import MediaLinks

log = logging.getLogger(__name__)
WHATSAPP_WINDOW = 24 * 3600.0
MAX_MEDIA = 10


def _quiet_basic_auth_warning() -> None:
    # twilio 9.x passes aiohttp's deprecated `auth=BasicAuth(...)`; silence only that one.
    warnings.filterwarnings(
        "ignore", message="The 'auth' parameter is deprecated", category=DeprecationWarning
    )


class TwilioSender:
    """Sends outbox messages of the `sms` and `whatsapp` channels."""

    channels: tuple[str, ...] = ("sms", "whatsapp")
    max_length = 1600

    def __init__(
        self,
        config: TwilioConfig,
        *,
        media: MediaLinks | None,
        public_url: Callable[[], str | None],
        last_inbound: Callable[[str, str], float | None],
        is_known_sid: Callable[[str], bool],
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.rate_per_minute = config.rate_per_minute
        # The twilio SDK's async client ignores its own timeout: it is applied here.
        self.timeout = config.timeout
        self.resend_after = config.resend_after
        self.daily_budget = config.daily_budget
        self.media = media
        self.public_url = public_url
        self.last_inbound = last_inbound
        self.is_known_sid = is_known_sid
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC).timestamp())
        self._client: Any = None

    def _twilio(self) -> Any:
        if self._client is None:
            _quiet_basic_auth_warning()
            from twilio.http.async_http_client import AsyncTwilioHttpClient
            from twilio.rest import Client

            http = AsyncTwilioHttpClient(timeout=self.config.timeout)
            client = Client(self.config.account_sid, self.config.auth_token, http_client=http)
            if self.config.api_base_url:
                client.api.base_url = self.config.api_base_url
            self._client = client
        return self._client

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._client is not None:
            session = getattr(self._client.http_client, "session", None)
            if session is not None:
                await session.close()
            self._client = None

    # -- addressing ----------------------------------------------------------

    def _route(self, message: Outgoing) -> tuple[str, str, str, dict[str, Any], str]:
        """(channel actually used, from, to, extra params, note) for a message."""
        if message.channel == "whatsapp":
            if not self.config.whatsapp_from:
                raise PermanentSendError("no whatsapp_from number is configured")
            last = self.last_inbound("whatsapp", message.to)
            if last is not None and self.clock() - last < WHATSAPP_WINDOW:
                return (
                    "whatsapp",
                    f"whatsapp:{self.config.whatsapp_from}",
                    f"whatsapp:{message.to}",
                    {},
                    "",
                )
            if self.config.whatsapp_template_sid:
                extra = {
                    "content_sid": self.config.whatsapp_template_sid,
                    "content_variables": json.dumps({"1": message.text[:1000]}),
                }
                note = "WhatsApp 24-hour window closed: sent with the approved template"
                return (
                    "whatsapp",
                    f"whatsapp:{self.config.whatsapp_from}",
                    f"whatsapp:{message.to}",
                    extra,
                    note,
                )
            if self.config.sms_from:
                note = "WhatsApp 24-hour window closed: sent by SMS instead"
                return "sms", self.config.sms_from, message.to, {}, note
            raise PermanentSendError(
                "WhatsApp 24-hour window closed and neither a template nor SMS is configured"
            )
        if not self.config.sms_from:
            raise PermanentSendError("no sms_from number is configured")
        return "sms", self.config.sms_from, message.to, {}, ""

    def _media_urls(self, message: Outgoing) -> tuple[list[str], str]:
        if not message.media:
            return [], ""
        base = self.public_url()
        if self.media is None or not base:
            return [], "images dropped: Twilio needs public_url to fetch them"
        urls = []
        for path in message.media[:MAX_MEDIA]:
            try:
                urls.append(self.media.link(path, base))
            except FileNotFoundError:
                log.warning("twilio: media %s is gone; sending without it", path)
        return urls, ""

    # -- ChannelSender ---------------------------------------------------------

    async def send(self, message: Outgoing) -> Sent:
        """Create the message at Twilio; the SID is the provider id."""
        channel, from_, to, extra, note = self._route(message)
        params: dict[str, Any] = {"to": to, "from_": from_, **extra}
        if "content_sid" not in extra:
            params["body"] = message.text
        urls, media_note = self._media_urls(message)
        if urls:
            params["media_url"] = urls
        base = self.public_url()
        if base:
            params["status_callback"] = f"{base}/webhooks/twilio/status"
        try:
            async with asyncio.timeout(self.timeout):
                created = await self._twilio().messages.create_async(**params)
        except TimeoutError:
            raise AmbiguousSendError(f"Twilio did not answer within {self.timeout:g} s") from None
        except Exception as err:
            raise _translate(err) from err
        if note:
            log.info("twilio: message %d: %s", message.id, note)
        return Sent(
            provider_id=str(created.sid),
            channel=channel,
            note="; ".join(n for n in (note, media_note) if n),
        )

    async def reconcile(self, message: Outgoing, since: float) -> Sent | bool:
        """Look for a message Twilio accepted for this row (after a crash or a timeout).

        A WhatsApp row may have gone out as WhatsApp (text or template) or as the
        SMS fallback, and the 24-hour window may have changed since: look at both.
        """
        routes: list[tuple[str, str, str]] = []
        if message.channel == "whatsapp" and self.config.whatsapp_from:
            routes.append(
                ("whatsapp", f"whatsapp:{self.config.whatsapp_from}", f"whatsapp:{message.to}")
            )
        if self.config.sms_from:
            routes.append(("sms", self.config.sms_from, message.to))
        candidates = []
        for channel, from_, to in routes:
            try:
                async with asyncio.timeout(self.timeout):
                    recent = await self._twilio().messages.list_async(to=to, from_=from_, limit=50)
            except Exception as err:
                raise _translate(err) from err
            for item in recent:
                created = item.date_created
                if created is not None and created.timestamp() < since:
                    continue
                # A template message's body is Twilio's rendering, not our text.
                templated = channel == "whatsapp" and bool(self.config.whatsapp_template_sid)
                if item.body != message.text and not templated:
                    continue
                if self.is_known_sid(str(item.sid)):
                    continue
                candidates.append((channel, item))
        if not candidates:
            return False
        channel, oldest = min(candidates, key=lambda c: c[1].date_created or dt.datetime.max)
        note = "" if channel == message.channel else "sent by SMS (WhatsApp window closed)"
        return Sent(provider_id=str(oldest.sid), channel=channel, note=note)


def _translate(err: Exception) -> Exception:
    """Twilio and transport errors → the outbox's retry semantics (the one boundary)."""
    from twilio.base.exceptions import TwilioRestException

    if isinstance(err, TwilioRestException):
        detail = f"Twilio {err.status} error {err.code}: {err.msg}"
        if err.status == 429 or err.status >= 500 or err.status in (401, 403):
            return TransientSendError(detail)
        return PermanentSendError(detail)
    if isinstance(err, aiohttp.ClientConnectorError):
        # Never connected: Twilio cannot have accepted it.
        return TransientSendError(f"Twilio unreachable: {err}")
    if isinstance(err, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError):
        return AmbiguousSendError(f"Twilio request interrupted: {err}")
    return AmbiguousSendError(f"{type(err).__name__}: {err}")
