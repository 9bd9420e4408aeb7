"""The memory API under /api/memory: browse, search, create, edit, approve and delete.

Everything here is the owner's own hand (the API needs the token), so what is
created or edited through it is an owner fact.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from memory.recall import Memory, MemoryRequestError
from memory.store import PINNED, PROFILE

MEMORY: web.AppKey[Memory] = web.AppKey("memory")


def _error(status: int, kind: str, detail: str) -> web.Response:
    return web.json_response({"error": kind, "detail": detail}, status=status)


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "bad_request", "body must be an object")
    return body


def _section(body: dict[str, Any]) -> str | None:
    if body.get("pinned"):
        return PINNED
    if body.get("about_owner"):
        return PROFILE
    section = body.get("section")
    return section.strip() if isinstance(section, str) and section.strip() else None


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value)))
    except (TypeError, ValueError):
        return default


async def list_or_search(request: web.Request) -> web.Response:
    """GET /api/memory?q=&kind=fact|note&limit=&offset= — search when q is given."""
    memory = request.app[MEMORY]
    query = request.query.get("q", "").strip()
    kind = request.query.get("kind") or None
    if kind not in (None, "fact", "note"):
        return _error(400, "bad_request", "kind must be fact or note")
    limit = _int(request.query.get("limit"), 200, 1, 1000)
    if query:
        hits = await memory.search(query, limit=limit, include_unverified=True)
        items = [
            {**h.entry.to_json(), "score": round(h.score, 4)}
            for h in hits
            if kind is None or h.entry.kind == kind
        ]
    else:
        offset = _int(request.query.get("offset"), 0, 0, 10**9)
        entries = await asyncio.to_thread(memory.entries, kind=kind, limit=limit, offset=offset)
        items = [e.to_json() for e in entries]
    return web.json_response(
        {"memories": items, "counts": memory.index.count(), "folder": str(memory.files.root)}
    )


async def get_one(request: web.Request) -> web.Response:
    """GET /api/memory/{id}."""
    try:
        entry = request.app[MEMORY].get(request.match_info["id"])
    except MemoryRequestError as err:
        return _error(404, "not_found", str(err))
    return web.json_response(entry.to_json())


async def create(request: web.Request) -> web.Response:
    """POST /api/memory {text, importance?, pinned?, about_owner?, section?} — an owner fact."""
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    text = body.get("text")
    if not isinstance(text, str):
        return _error(422, "bad_request", "text is required")
    memory = request.app[MEMORY]
    try:
        outcome = await asyncio.to_thread(
            memory.add,
            text,
            source="owner",
            importance=_int(body.get("importance"), 3, 1, 5),
            section=_section(body),
        )
    except MemoryRequestError as err:
        return _error(422, err.kind, str(err))
    return web.json_response(outcome.to_json(), status=201 if outcome.status == "added" else 200)


async def edit(request: web.Request) -> web.Response:
    """PUT/PATCH /api/memory/{id} {text?, importance?, pinned?, about_owner?, section?}."""
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        return _error(422, "bad_request", "text must be a string")
    memory = request.app[MEMORY]
    importance = body.get("importance")
    try:
        entry = await asyncio.to_thread(
            memory.edit,
            request.match_info["id"],
            text=text,
            importance=None if importance is None else _int(importance, 3, 1, 5),
            section=_section(body),
        )
    except MemoryRequestError as err:
        status = 404 if "no memory" in str(err) else 422
        return _error(status, err.kind, str(err))
    return web.json_response(entry.to_json())


async def approve(request: web.Request) -> web.Response:
    """POST /api/memory/{id}/approve — a note or inferred fact becomes the owner's fact."""
    memory = request.app[MEMORY]
    try:
        outcome = await asyncio.to_thread(memory.promote, request.match_info["id"])
    except MemoryRequestError as err:
        return _error(404, "not_found", str(err))
    return web.json_response(outcome.to_json())


async def delete(request: web.Request) -> web.Response:
    """DELETE /api/memory/{id} — forget it: files, index, transcripts."""
    memory = request.app[MEMORY]
    try:
        entry = await asyncio.to_thread(memory.forget, request.match_info["id"])
    except MemoryRequestError as err:
        return _error(404, "not_found", str(err))
    return web.json_response({"forgotten": entry.id})


def add_routes(app: web.Application, memory: Memory) -> None:
    """Register the memory routes (under the token-protected /api/)."""
    app[MEMORY] = memory
    app.router.add_get("/api/memory", list_or_search)
    app.router.add_post("/api/memory", create)
    app.router.add_get("/api/memory/{id}", get_one)
    app.router.add_put("/api/memory/{id}", edit)
    app.router.add_patch("/api/memory/{id}", edit)
    app.router.add_delete("/api/memory/{id}", delete)
    app.router.add_post("/api/memory/{id}/approve", approve)
