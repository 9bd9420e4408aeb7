"""Telegram: long polling for inbound messages and the outbox's sender for replies.

Long polling (`getUpdates`) needs no public URL, so it works behind NAT. The
offset is acknowledged (update_id + 1) and persisted only after an update was
recorded, so a crash re-fetches it and the persistent dedupe drops it. Only
private chats are read; group chats are ignored like strangers. The Bot API
has no way to look up sent messages, so a send whose outcome is unknown is
sent again (at-least-once in that narrow window).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
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
    from agent.store import Store
    from integrations.telegram.config import TelegramConfig

log = logging.getLogger(__name__)
OFFSET_KEY = "telegram.offset"
MAX_PHOTO_BYTES = 5 * 1024 * 1024
CAPTION_LIMIT = 1024

AcceptOnce = Callable[[str, str], bool]
Deliver = Callable[[str, str, str, str, tuple[str, ...], str], Awaitable[None]]


class TelegramError(Exception):
    """The Bot API answered ok=false (or not JSON)."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"Telegram {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class BotApi:
    """A small Bot API client over one aiohttp session."""

    def __init__(self, config: TelegramConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session (created on first use, inside the loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()

    async def call(
        self,
        method: str,
        data: dict[str, Any] | aiohttp.FormData | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Call a method; return its `result` or raise TelegramError / aiohttp errors."""
        url = f"{self.config.api_base_url}/bot{self.config.bot_token}/{method}"
        limit = aiohttp.ClientTimeout(total=timeout or self.config.timeout)
        kwargs: dict[str, Any] = {"timeout": limit}
        if isinstance(data, aiohttp.FormData):
            kwargs["data"] = data
        elif data is not None:
            kwargs["json"] = data
        async with self.session.post(url, **kwargs) as resp:
            try:
                payload = await resp.json(content_type=None)
            except ValueError:
                raise TelegramError(resp.status, "response is not JSON") from None
        if not isinstance(payload, dict) or not payload.get("ok"):
            payload = payload if isinstance(payload, dict) else {}
            retry = (payload.get("parameters") or {}).get("retry_after")
            raise TelegramError(
                int(payload.get("error_code") or resp.status),
                str(payload.get("description") or "error"),
                float(retry) if retry is not None else None,
            )
        return payload.get("result")

    async def download(self, file_id: str, target: Path) -> bool:
        """Save a file the bot can see (photos); False when too large or gone."""
        info = await self.call("getFile", {"file_id": file_id})
        if not isinstance(info, dict) or not info.get("file_path"):
            return False
        if int(info.get("file_size") or 0) > MAX_PHOTO_BYTES:
            return False
        url = f"{self.config.api_base_url}/file/bot{self.config.bot_token}/{info['file_path']}"
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        async with self.session.get(url, timeout=timeout) as resp:
            if resp.status != 200:
                return False
            data = await resp.content.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            return False
        await asyncio.to_thread(target.write_bytes, data)
        return True


class TelegramSender:
    """The outbox's sender for the `telegram` channel (one Bot API call per message)."""

    channels: tuple[str, ...] = ("telegram",)
    max_length = 4096
    daily_budget: int | None = None  # Telegram is free

    def __init__(self, api: BotApi, rate_per_minute: int) -> None:
        self.api = api
        self.rate_per_minute = rate_per_minute

    async def send(self, message: Outgoing) -> Sent:
        """sendMessage, sendPhoto (with caption) or sendMediaGroup."""
        photos = await asyncio.to_thread(_existing, message.media)
        try:
            if not photos:
                result = await self.api.call(
                    "sendMessage", {"chat_id": message.to, "text": message.text}
                )
            else:
                form = await asyncio.to_thread(_photo_form, message.to, photos, message.text)
                result = await self.api.call(
                    "sendPhoto" if len(photos) == 1 else "sendMediaGroup",
                    form,
                    timeout=max(self.api.config.timeout, 60),
                )
        except Exception as err:
            raise _translate(err) from err
        first = result[0] if isinstance(result, list) and result else result
        message_id = first.get("message_id") if isinstance(first, dict) else None
        note = "caption shortened" if photos and len(message.text) > CAPTION_LIMIT else ""
        return Sent(provider_id=f"{message.to}:{message_id}", note=note)

    async def reconcile(self, message: Outgoing, since: float) -> None:
        """The Bot API cannot list sent messages: unknown, so the outbox sends again."""
        return None


def _existing(paths: tuple[str, ...]) -> list[Path]:
    return [Path(p) for p in paths if Path(p).is_file()]


def _photo_form(chat_id: str, photos: list[Path], text: str) -> aiohttp.FormData:
    caption = text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"
    form = aiohttp.FormData()
    form.add_field("chat_id", chat_id)
    if len(photos) == 1:
        if caption:
            form.add_field("caption", caption)
        form.add_field("photo", photos[0].read_bytes(), filename=photos[0].name)
        return form
    media = []
    for index, photo in enumerate(photos[:10]):
        item: dict[str, Any] = {"type": "photo", "media": f"attach://p{index}"}
        if index == 0 and caption:
            item["caption"] = caption
        media.append(item)
        form.add_field(f"p{index}", photo.read_bytes(), filename=photo.name)
    form.add_field("media", json.dumps(media))
    return form


def _translate(err: Exception) -> Exception:
    """Bot API and transport errors → the outbox's retry semantics (the one boundary)."""
    if isinstance(err, TelegramError):
        if err.status == 429 or err.status >= 500 or err.status == 401:
            return TransientSendError(str(err))
        return PermanentSendError(str(err))
    if isinstance(err, aiohttp.ClientConnectorError):
        return TransientSendError(f"Telegram unreachable: {err}")
    return AmbiguousSendError(f"{type(err).__name__}: {err}")


class TelegramChannel:
    """Polls for updates and hands private-chat messages to the messaging bridge."""

    def __init__(
        self,
        config: TelegramConfig,
        *,
        store: Store,
        accept_once: AcceptOnce,
        deliver: Deliver,
        media_dir: Path,
        set_status: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.accept_once = accept_once
        self.deliver = deliver
        self.media_dir = media_dir
        self.set_status = set_status or (lambda name, status, detail: None)
        self.api = BotApi(config)
        self.sender = TelegramSender(self.api, config.rate_per_minute)

    async def stop(self) -> None:
        """Close the HTTP session."""
        await self.api.close()

    async def run(self) -> None:
        """Poll forever; back off on errors; raise only when the token is refused."""
        delay = 1.0
        offset = int(self.store.get_json(OFFSET_KEY, 0) or 0)
        while True:
            try:
                updates = await self.api.call(
                    "getUpdates",
                    {
                        "offset": offset,
                        "timeout": self.config.poll_timeout,
                        "allowed_updates": ["message"],
                    },
                    timeout=self.config.poll_timeout + self.config.timeout,
                )
            except TelegramError as err:
                if err.status in (401, 404):
                    raise  # a wrong token: the supervisor reports it and retries slowly
                wait = err.retry_after or delay
                self.set_status("channel:telegram", "retrying", str(err))
                await asyncio.sleep(wait)
                delay = min(delay * 2, 60.0)
                continue
            except (aiohttp.ClientError, TimeoutError) as err:
                self.set_status("channel:telegram", "retrying", f"unreachable: {err}")
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 60.0)
                continue
            delay = 1.0
            self.set_status("channel:telegram", "running", "polling")
            for update in updates if isinstance(updates, list) else []:
                if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                    continue
                await self._handle(update)
                offset = update["update_id"] + 1
                self.store.put_json(OFFSET_KEY, offset)

    async def _handle(self, update: dict[str, Any]) -> None:
        message = update.get("message")
        if not isinstance(message, dict):
            return
        chat = message.get("chat") or {}
        user = message.get("from") or {}
        if chat.get("type") != "private" or not isinstance(user.get("id"), int):
            return
        if not self.accept_once("telegram", str(update["update_id"])):
            return
        text = str(message.get("text") or message.get("caption") or "")[:5000]
        media: tuple[str, ...] = ()
        photos = message.get("photo")
        if isinstance(photos, list) and photos:
            media = await self._save_photo(update["update_id"], photos)
        name = " ".join(str(user.get(k, "")) for k in ("first_name", "last_name")).strip()
        try:
            await self.deliver(
                "telegram", str(user["id"]), text, f"tg{update['update_id']}", media, name[:100]
            )
        except Exception:  # one bad message must not stop polling
            log.exception("telegram: handling update %s failed", update["update_id"])

    async def _save_photo(self, update_id: int, photos: list[Any]) -> tuple[str, ...]:
        sizes = [p for p in photos if isinstance(p, dict) and p.get("file_id")]
        fitting = [p for p in sizes if int(p.get("file_size") or 0) <= MAX_PHOTO_BYTES]
        if not fitting:
            return ()
        best = max(fitting, key=lambda p: int(p.get("width") or 0) * int(p.get("height") or 0))
        self.media_dir.mkdir(parents=True, exist_ok=True)
        target = self.media_dir / f"tg{update_id}.jpg"
        try:
            if await self.api.download(str(best["file_id"]), target):
                return (str(target),)
        except (TelegramError, aiohttp.ClientError, TimeoutError, OSError) as err:
            log.warning("telegram: photo of update %s not saved: %s", update_id, err)
        return ()
