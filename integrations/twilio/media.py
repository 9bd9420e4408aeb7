"""Signed, expiring `/media/<id>` links, so Twilio can fetch the images the house sends.

The path is open in the auth middleware (Twilio has no token), so this module
checks the link itself: an HMAC over the id and the expiry, with a secret kept
in the store (links survive a restart, and nobody can mint one without it).
Ids are random and map to files the daemon chose, never to a path from the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from agent.store import Store

MIGRATIONS = [
    """
    CREATE TABLE media_links (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL
    );
    """,
]
SECRET_KEY = "media_links.secret"


class MediaLinks:
    """Mints and checks signed media URLs; serves `/media/{id}`."""

    def __init__(self, store: Store, *, ttl: float = 3600.0) -> None:
        self.store = store
        self.ttl = ttl
        store.migrate("media_links", MIGRATIONS)
        secret = store.get_json(SECRET_KEY)
        if not isinstance(secret, str):
            secret = secrets.token_hex(32)
            store.put_json(SECRET_KEY, secret)
        self._secret = bytes.fromhex(secret)

    def _signature(self, media_id: str, expires: int) -> str:
        message = f"{media_id}.{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def link(self, path: Path | str, base_url: str, *, ttl: float | None = None) -> str:
        """A URL under base_url that serves the file until it expires."""
        file = Path(path).resolve()
        if not file.is_file():
            raise FileNotFoundError(f"no such media file: {file}")
        now = time.time()
        expires = int(now + (ttl if ttl is not None else self.ttl))
        media_id = secrets.token_urlsafe(16)
        self.store.execute("DELETE FROM media_links WHERE expires < ?", (now - 86400,))
        self.store.execute(
            "INSERT INTO media_links(id, path, created, expires) VALUES (?, ?, ?, ?)",
            (media_id, str(file), now, expires),
        )
        suffix = (
            file.suffix.lower() if file.suffix.lower() in (".jpg", ".jpeg", ".png", ".gif") else ""
        )
        sig = self._signature(media_id, expires)
        return f"{base_url.rstrip('/')}/media/{media_id}{suffix}?exp={expires}&sig={sig}"

    def resolve(self, media_id: str, expires: str, signature: str) -> Path | None:
        """The file behind a link when its signature is right and it has not expired."""
        media_id = media_id.split(".", 1)[0]
        if not expires.isdigit() or len(expires) > 12 or len(signature) != 64:
            return None
        if not hmac.compare_digest(self._signature(media_id, int(expires)), signature):
            return None
        if int(expires) < time.time():
            return None
        row = self.store.one("SELECT path, expires FROM media_links WHERE id = ?", (media_id,))
        if row is None or row["expires"] != int(expires):
            return None
        path = Path(row["path"])
        return path if path.is_file() else None

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """GET /media/{id}: the file, or 404 for anything wrong (no hint which part)."""
        path = self.resolve(
            request.match_info.get("id", ""),
            request.query.get("exp", ""),
            request.query.get("sig", ""),
        )
        if path is None:
            raise web.HTTPNotFound(text="no such media (or the link expired)")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return web.FileResponse(path, headers={"Content-Type": content_type})

    def add_routes(self, app: web.Application) -> None:
        """Register GET /media/{id}."""
        app.router.add_get("/media/{id}", self.serve)
