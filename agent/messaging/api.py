"""JSON API of the messaging bridge: messages, people and pairing, the demo phone.

Every route here is under /api/, so the auth middleware requires the token.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from aiohttp import web

from agent.messaging.people import Identity, normalise_address, valid_address
from agent.roles import ROLES

if TYPE_CHECKING:
    from agent.messaging.outbox import Outbox
    from agent.paths import HomePaths
    from agent.runtime import Runtime

CHANNELS = ("sms", "whatsapp", "telegram")


class Messaging(Protocol):
    """What these routes ask of the messaging bridge (`rt.services["messaging"]`, the
    component in `agent.messaging.bridge`, which adds these routes and is not imported back)."""

    rt: Runtime
    outbox: Outbox | None

    def public_url(self) -> str | None:
        """The base URL Twilio calls."""
        ...

    def recent_inbound(self, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
        """Latest inbound messages (optionally one status, e.g. strangers), newest first."""
        ...


def _messaging(request: web.Request) -> Messaging:
    from agent.web.context import runtime

    service = runtime(request).service("messaging")
    if service is None:
        raise web.HTTPServiceUnavailable(text="messaging is not running")
    return service  # type: ignore[no-any-return]


def house_made(paths: HomePaths, media: str) -> bool:
    """Whether a file lies in the house's own snapshot or media folder (links resolved)."""
    try:
        resolved = Path(media).resolve()
    except (OSError, RuntimeError):
        return False
    folders = (paths.snapshots, paths.media)
    return any(resolved.is_relative_to(folder.resolve()) for folder in folders)


def _bad(detail: str, status: int = 400) -> web.Response:
    return web.json_response({"error": "bad_request", "detail": detail}, status=status)


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _bad("body must be JSON")
    return body if isinstance(body, dict) else _bad("body must be an object")


def _limit(request: web.Request) -> int:
    try:
        return max(1, min(int(request.query.get("limit", "50")), 500))
    except ValueError:
        return 50


async def list_messages(request: web.Request) -> web.Response:
    """Recent outbound and inbound messages, counts, and strangers."""
    messaging = _messaging(request)
    assert messaging.outbox is not None
    limit = _limit(request)
    status = request.query.get("status") or None
    return web.json_response(
        {
            "channels": messaging.outbox.channels,
            "owner_channel": messaging.outbox.owner_target(),
            "counts": messaging.outbox.counts(),
            "outbound": messaging.outbox.recent(limit, status),
            "inbound": messaging.recent_inbound(limit),
            "strangers": messaging.recent_inbound(limit, "stranger"),
        }
    )


async def send_message(request: web.Request) -> web.Response:
    """Queue a message: {text, channel?, to?, media?, dedupe_key?}; no channel = the owner."""
    messaging = _messaging(request)
    assert messaging.outbox is not None
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    text, media = body.get("text", ""), body.get("media", [])
    if not isinstance(text, str) or not isinstance(media, list) or not (text or media):
        return _bad("`text` (string) or `media` (list of file paths) is required")
    rt = messaging.rt
    if not all(isinstance(m, str) for m in media):
        return _bad("`media` must be a list of file paths")
    strays = [m for m in media if not house_made(rt.paths, m)]
    if strays:
        return _bad(
            f"only files the house made can be attached (under {rt.paths.snapshots} or "
            f"{rt.paths.media}): {', '.join(strays)}",
            403,
        )
    key = body.get("dedupe_key")
    key = str(key) if key is not None else None
    channel, to = body.get("channel"), body.get("to")
    if channel is None and to is None:
        message_id = messaging.outbox.notify_owner(text, media, dedupe_key=key)
        if message_id is None:
            return _bad("no configured channel reaches the owner", 409)
    else:
        if channel not in CHANNELS or not isinstance(to, str):
            return _bad(f"`channel` must be one of {', '.join(CHANNELS)} and `to` a string")
        address = normalise_address(channel, to)
        if not valid_address(channel, address):
            return _bad(f"{to!r} is not a valid {channel} address")
        if rt.people.identify(channel, address) is None:
            return _bad(
                f"{to} is not someone the house knows on {channel}; add them to `people` "
                "in config.yaml or pair them first (`homeclaw pair`)",
                403,
            )
        message_id = messaging.outbox.enqueue(channel, address, text, media, dedupe_key=key)
    return web.json_response({"id": message_id, "message": messaging.outbox.get(message_id)})


async def list_people(request: web.Request) -> web.Response:
    """Everyone the house knows, pending pairing codes, and recent strangers."""
    messaging = _messaging(request)
    people = messaging.rt.people
    return web.json_response(
        {
            "people": people.everyone(),
            "pending": people.pending_pairings(),
            "strangers": messaging.recent_inbound(_limit(request), "stranger"),
        }
    )


async def create_pairing(request: web.Request) -> web.Response:
    """A one-time pairing code for a new person: {name, role}."""
    messaging = _messaging(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    name, role = str(body.get("name") or ""), str(body.get("role") or "guest")
    try:
        code = messaging.rt.people.create_pairing(name, role)
    except ValueError as err:
        return _bad(str(err))
    pending = messaging.rt.people.pending_pairings()
    expires = max((p["expires"] for p in pending if p["name"] == name.strip()), default=time.time())
    return web.json_response(
        {
            "code": code,
            "name": name.strip(),
            "role": role,
            "expires": expires,
            "instructions": f"From their phone or Telegram, {name.strip()} sends: PAIR {code}",
        }
    )


async def add_person(request: web.Request) -> web.Response:
    """Approve someone directly (e.g. a stranger from the list): {channel, address, name, role}."""
    messaging = _messaging(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    channel, role = str(body.get("channel") or ""), str(body.get("role") or "guest")
    if channel not in CHANNELS:
        return _bad(f"`channel` must be one of {', '.join(CHANNELS)}")
    if role not in ROLES:
        return _bad(f"`role` must be one of {', '.join(ROLES)}")
    try:
        added = messaging.rt.people.add(
            Identity(
                str(body.get("name") or "").strip() or "guest",
                role,
                channel,
                str(body.get("address") or ""),
            ),
            added_by="owner",
        )
    except ValueError as err:
        return _bad(str(err))
    return web.json_response({"added": [vars(i) for i in added]})


async def remove_person(request: web.Request) -> web.Response:
    """Forget a paired person on a channel."""
    messaging = _messaging(request)
    channel, address = request.match_info["channel"], request.match_info["address"]
    removed = messaging.rt.people.remove(channel, address)
    if not removed:
        return web.json_response(
            {"error": "not_found", "detail": f"no paired person {address} on {channel}"},
            status=404,
        )
    return web.json_response({"removed": removed})


async def phone(request: web.Request) -> web.Response:
    """The demo's simulated phone: GET its thread, POST {text} to text the house."""
    messaging = _messaging(request)
    rt = messaging.rt
    twilio = rt.config.twilio
    if not rt.demo or twilio is None or not twilio.api_base_url:
        return web.json_response(
            {"error": "not_demo", "detail": "the simulated phone exists only in `homeclaw demo`"},
            status=404,
        )
    number = next(iter(p.phone for p in rt.config.people if p.role == "owner" and p.phone), None)
    base = twilio.api_base_url
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        if request.method == "POST":
            body = await _body(request)
            if isinstance(body, web.Response):
                return body
            own = messaging.public_url() or ""
            payload = {
                "text": str(body.get("text", ""))[:1600],
                "from": number,
                "webhook_url": own + "/webhooks/twilio",
            }
            async with http.post(base + "/_phone/send", json=payload) as resp:
                return web.json_response(await resp.json(), status=resp.status)
        async with http.get(base + "/_phone/thread", params={"number": number or ""}) as resp:
            return web.json_response(json.loads(await resp.text()), status=resp.status)


def add_routes(app: web.Application) -> None:
    """Register the messaging API routes."""
    app.router.add_get("/api/messages", list_messages)
    app.router.add_post("/api/messages", send_message)
    app.router.add_get("/api/people", list_people)
    app.router.add_post("/api/people", add_person)
    app.router.add_post("/api/people/pairing", create_pairing)
    app.router.add_delete("/api/people/{channel}/{address}", remove_person)
    app.router.add_get("/api/messaging/phone", phone)
    app.router.add_post("/api/messaging/phone", phone)
