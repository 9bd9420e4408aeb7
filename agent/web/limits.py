"""Limits that keep slow or hostile clients from taking the server down.

- A client gets `request_timeout` seconds to send a request's headers (aiohttp's
  keep-alive timer, armed when the connection opens and after every response,
  closes a connection still waiting for a complete request), and as long again
  to send its body once the headers are in (`body_deadline`).
- At most `max_connections` connections are open. At the cap, a new connection
  takes the place of the one that has waited longest without a request in
  progress (a half-sent request, an idle keep-alive), so a flood of half-open
  connections cannot lock real clients out; only when every connection is busy
  is the newcomer turned away.
- The process's open-file limit is raised (up to its hard limit) to fit the cap
  plus everything else the daemon opens; if it cannot be, the cap shrinks to fit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

# Files the daemon holds besides HTTP clients: SQLite, cameras, MQTT, device
# sockets, logs, the event loop's own descriptors.
RESERVED_FILES = 512

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_deadline(timeout: float) -> Any:
    """Middleware: a request whose body is not all in within `timeout` s loses its connection.

    The body is not read here (handlers stream it with their own size limits);
    a timer checks that the payload reached its end in time.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        guard = request.app.get(CONNECTIONS)
        if guard is not None:
            guard.busy(request.protocol, True)
        timer = None
        if request.body_exists and "upgrade" not in request.headers.get("Connection", "").lower():
            timer = asyncio.get_running_loop().call_later(timeout, _cut_if_unfinished, request)
        try:
            return await handler(request)
        finally:
            if timer is not None:
                timer.cancel()
            if guard is not None:
                guard.busy(request.protocol, False)

    return middleware


def _cut_if_unfinished(request: web.Request) -> None:
    if not request.content.is_eof() and request.transport is not None:
        log.info("web: closed a request whose body was still arriving (%s)", request.remote)
        request.transport.close()


class ConnectionGuard:
    """Caps open connections of one aiohttp server, evicting the longest-idle one at the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._opened: dict[RequestHandler, tuple[float, asyncio.Transport]] = {}
        self._busy: set[Any] = set()
        self.evicted = 0
        self.refused = 0

    def install(self, server: web.Server) -> None:
        """Wrap the server's connection bookkeeping (the only hook aiohttp offers for it)."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
            made(handler, transport)
            self._admit(handler, transport)

        def connection_lost(handler: RequestHandler, exc: BaseException | None = None) -> None:
            self._opened.pop(handler, None)
            self._busy.discard(handler)
            lost(handler, exc)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def busy(self, protocol: Any, flag: bool) -> None:
        """Mark a connection as serving a request (never evicted) or idle again."""
        if flag:
            self._busy.add(protocol)
        else:
            self._busy.discard(protocol)

    @property
    def open(self) -> int:
        """Connections currently open."""
        return len(self._opened)

    def _admit(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        while len(self._opened) >= self.cap:
            idle = [(t, h) for h, (t, _) in self._opened.items() if h not in self._busy]
            if not idle:
                self.refused += 1
                if self.refused in (1, 10, 100) or self.refused % 1000 == 0:
                    log.warning("web: %d connections busy; turned a new one away", self.cap)
                transport.abort()
                return
            _, oldest = min(idle, key=lambda pair: pair[0])
            _, old_transport = self._opened.pop(oldest)
            self.evicted += 1
            if self.evicted in (1, 10, 100) or self.evicted % 1000 == 0:
                log.warning("web: at %d connections; closed the longest-idle one", self.cap)
            old_transport.abort()
        self._opened[handler] = (time.monotonic(), transport)

    def health_report(self) -> dict[str, int]:
        """Figures for /api/health (published as the "connections" service)."""
        return {
            "open": self.open,
            "cap": self.cap,
            "evicted": self.evicted,
            "refused": self.refused,
        }


CONNECTIONS: web.AppKey[ConnectionGuard] = web.AppKey("connections")


def fit_file_limit(cap: int) -> int:
    """Raise the soft open-file limit towards cap + RESERVED_FILES; returns the cap that fits."""
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to raise
        return cap
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = cap + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as err:
            log.warning("web: cannot raise the open-file limit from %d: %s", soft, err)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        fitted = max(16, soft - RESERVED_FILES)
        log.warning(
            "web: open-file limit %d leaves room for %d connections, not %d "
            "(raise LimitNOFILE / ulimit -n to %d)",
            soft,
            fitted,
            cap,
            wanted,
        )
        return fitted
    return cap
