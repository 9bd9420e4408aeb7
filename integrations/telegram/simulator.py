"""A Telegram Bot API fake: long-polled getUpdates, sendMessage, sendPhoto, files.

Users "write" to the bot with `user_says(...)`; what the bot sent is in
`sent`. Updates are forgotten once a later offset acknowledges them, like the
real API; `fail_next` makes the next calls answer 500.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from agent.demo.simulation import DemoContext, DemoPart, free_port


@dataclass
class BotMessage:
    """Something the bot sent."""

    chat_id: str
    text: str
    photos: list[bytes] = field(default_factory=list)
    message_id: int = 0
    ts: float = field(default_factory=time.time)


def _error(status: int, description: str, **extra: Any) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description, **extra}, status=status
    )


class TelegramFake:
    """The Bot API of one bot on 127.0.0.1."""

    def __init__(
        self, token: str = "123456:TEST-fake-token-abc", *, host: str = "127.0.0.1"
    ) -> None:
        self.token = token
        self.host = host
        self.port = 0
        self.updates: list[dict[str, Any]] = []
        self.sent: list[BotMessage] = []
        self.files: dict[str, bytes] = {}
        self.calls: list[str] = []
        self.fail_next = 0
        self.acknowledged = 0  # highest offset a client confirmed
        self._update_ids = itertools.count(100)
        self._message_ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False

    async def start(self) -> TelegramFake:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port(self.host)
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        """Stop serving (and wake long polls so they end)."""
        self._closing = True
        self._arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """What the daemon's `telegram.api_base_url` should be."""
        return f"http://{self.host}:{self.port}"

    def user_says(
        self,
        user_id: int,
        text: str = "",
        *,
        photo: bytes | None = None,
        chat_type: str = "private",
        first_name: str = "Owner",
    ) -> int:
        """A user writes to the bot; returns the update id."""
        update_id = next(self._update_ids)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "chat": {
                "id": user_id if chat_type == "private" else -1000 - user_id,
                "type": chat_type,
            },
            "date": int(time.time()),
        }
        if photo is not None:
            file_id = secrets.token_hex(8)
            self.files[file_id] = photo
            message["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "width": 640,
                    "height": 480,
                    "file_size": len(photo),
                }
            ]
            if text:
                message["caption"] = text
        else:
            message["text"] = text
        self.updates.append({"update_id": update_id, "message": message})
        self._arrived.set()
        return update_id

    def sent_to(self, chat_id: int | str) -> list[BotMessage]:
        """What the bot sent to a chat."""
        return [m for m in self.sent if m.chat_id == str(chat_id)]

    # -- API -----------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.json()
            return (body if isinstance(body, dict) else {}), files
        params: dict[str, Any] = dict(request.query)
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if getattr(part, "filename", None):
                    files[part.name] = bytes(await part.read())
                else:
                    params[part.name] = await part.text()
        elif request.can_read_body:
            params.update(await request.post())
        return params, files

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        if self.fail_next > 0 and method != "getUpdates":
            self.fail_next -= 1
            return _error(500, "Internal Server Error")
        params, files = await self._params(request)
        if method == "getMe":
            return self._ok(
                {"id": 999, "is_bot": True, "first_name": "homeclaw", "username": "homeclaw_bot"}
            )
        if method == "getUpdates":
            return self._ok(await self._get_updates(params))
        if method == "sendMessage":
            if not str(params.get("text") or ""):
                return _error(400, "Bad Request: message text is empty")
            return self._ok(self._record(params, str(params["text"]), []))
        if method == "sendPhoto":
            if "photo" not in files:
                return _error(400, "Bad Request: there is no photo in the request")
            return self._ok(self._record(params, str(params.get("caption", "")), [files["photo"]]))
        if method == "sendMediaGroup":
            media = json.loads(str(params.get("media", "[]")))
            photos = [files[m["media"].removeprefix("attach://")] for m in media]
            caption = str(media[0].get("caption", "")) if media else ""
            first = self._record(params, caption, photos)
            return self._ok([first])
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            if file_id not in self.files:
                return _error(400, "Bad Request: invalid file_id")
            return self._ok(
                {
                    "file_id": file_id,
                    "file_size": len(self.files[file_id]),
                    "file_path": f"photos/{file_id}.jpg",
                }
            )
        return _error(404, "Not Found")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 50.0)
        if offset:
            self.acknowledged = max(self.acknowledged, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.updates and not self._closing and time.monotonic() < deadline:
            self._arrived.clear()
            try:
                async with asyncio.timeout(deadline - time.monotonic()):
                    await self._arrived.wait()
            except TimeoutError:
                break
        return list(self.updates[:100])

    def _record(self, params: dict[str, Any], text: str, photos: list[bytes]) -> dict[str, Any]:
        chat_id = str(params.get("chat_id", ""))
        message = BotMessage(chat_id, text, photos, next(self._message_ids))
        self.sent.append(message)
        return {
            "message_id": message.message_id,
            "chat": {
                "id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id,
                "type": "private",
            },
            "date": int(message.ts),
            "text": text,
        }

    def _ok(self, result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].removeprefix("photos/").removesuffix(".jpg")
        data = self.files.get(file_id)
        return (
            web.Response(body=data, content_type="image/jpeg") if data else web.Response(status=404)
        )


async def demo(ctx: DemoContext) -> DemoPart:
    """A fake Telegram bot the demo owner (user id 1001) can write to."""
    fake = await TelegramFake().start()
    config = {
        "telegram": {"bot_token": fake.token, "api_base_url": fake.base_url, "poll_timeout": 10}
    }
    return DemoPart(name="telegram", config=config, stop=fake.stop, handle=fake)
