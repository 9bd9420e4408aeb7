"""The aiohttp application: auth, dashboard shell, and the core API routes.

Components add their own routes at setup (`rt.app.router.add_*`). Dashboard
panels are files in `static/panels/`; the shell includes every one of them, so
a feature adds a panel without touching shared files.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from agent.web import api, live
from agent.web.context import RUNTIME, runtime
from agent.web.guard import SAFE_METHODS, SECURITY_HEADERS, Guard, Refused

if TYPE_CHECKING:
    from agent.runtime import Runtime

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
GUARD: web.AppKey[Guard] = web.AppKey("guard")
# Paths that authenticate themselves (signatures) or are the public shell.
OPEN_PREFIXES = ("/webhooks/", "/media/", "/static/")
# Signed paths reached from other hosts and sites (a provider, a phone's browser).
SIGNED_PREFIXES = ("/webhooks/", "/media/")


def _refused(request: web.Request, reason: Refused) -> web.Response:
    log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote, reason)
    return web.json_response({"error": "forbidden", "detail": str(reason)}, status=403)


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The API and the dashboard need the token, and a browser's request its own origin.

    Even on loopback: any local process could otherwise read the page and
    lift the token the CLI keeps in a mode-600 file. The guard module says
    why the cookie alone is not enough.
    """
    guard = request.app[GUARD]
    path = request.path
    try:
        if not path.startswith(SIGNED_PREFIXES):
            guard.check_host(request)
        if path.startswith(OPEN_PREFIXES):
            return await handler(request)
        if path == "/login":
            if request.method not in SAFE_METHODS:
                guard.check_origin(request)
            return await handler(request)
        if guard.bearer(request):
            # A browser cannot add this header for another origin without a preflight.
            return await handler(request)
        if guard.cookie(request):
            guard.check_origin(request)
            guard.check_write(request)
            return await handler(request)
    except Refused as reason:
        return _refused(request, reason)
    if path.startswith("/api/"):
        return web.json_response(
            {"error": "unauthorised", "detail": "send the token from the home folder"},
            status=401,
        )
    area = request.query.get("area") if path == "/" else None
    raise web.HTTPFound("/login" + (f"?area={quote(area)}" if area else ""))


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


async def index(request: web.Request) -> web.Response:
    """The dashboard shell, with every panel script."""
    rt = runtime(request)
    panels = sorted(p.name for p in (STATIC / "panels").glob("*.js"))
    scripts = "\n".join(
        f'<script type="module" src="/static/panels/{html.escape(p)}"></script>' for p in panels
    )
    page = (STATIC / "index.html").read_text()
    page = page.replace("{{title}}", html.escape(rt.config.home.name))
    page = page.replace("{{panels}}", scripts)
    page = page.replace("{{demo}}", "true" if rt.demo else "false")
    page = page.replace("{{timezone}}", html.escape(rt.config.home.timezone))
    return web.Response(text=page, content_type="text/html")


async def login(request: web.Request) -> web.Response:
    """Log a browser in: a one-time link (GET ?once=) or the pasted token (POST)."""
    rt = runtime(request)
    guard = request.app[GUARD]
    area = request.query.get("area", "")
    if request.method == "POST":
        form = await request.post()
        token = form.get("token")
        accepted = isinstance(token, str) and guard.matches(token.strip())
        area = str(form.get("area") or area)
    else:
        once = request.query.get("once")
        accepted = once is not None and guard.redeem(once)
        token = once
    # Only the room travels on (a wall tablet's ?area=): never a caller-chosen address.
    target = "/" + (f"?area={quote(area)}" if area else "")
    if accepted:
        response = web.HTTPFound(target)  # a clean address: nothing secret stays in the bar
        guard.set_cookie(request, response)
        raise response
    used = (
        "<p><strong>That link was already used or has expired.</strong> "
        "<code>homeclaw dashboard</code> prints a fresh one.</p>"
        if request.method == "GET" and token
        else ""
    )
    body = (
        "<!doctype html><title>homeclaw</title>"
        f"{used}<form method=post action=/login><p>Open the link that "
        "<code>homeclaw dashboard</code> prints, or paste the token from "
        f"<code>{html.escape(str(rt.paths.token_file))}</code>:</p>"
        f'<input type=hidden name=area value="{html.escape(area)}">'
        "<input name=token size=50 type=password autocomplete=off><button>Open</button></form>"
    )
    return web.Response(text=body, content_type="text/html", status=401 if token else 200)


async def new_login_link(request: web.Request) -> web.Response:
    """A fresh one-time dashboard link (for `homeclaw dashboard`)."""
    rt = runtime(request)
    base = rt.services.get("url") or f"{request.scheme}://{request.host}/"
    link = request.app[GUARD].login_link(str(base))
    body = await request.json() if request.can_read_body else {}
    area = body.get("area") if isinstance(body, dict) else None
    if isinstance(area, str) and area:
        link += f"&area={quote(area)}"  # a wall tablet's link opens in its room
    return web.json_response({"url": link})


def login_link(rt: Runtime) -> str:
    """A fresh one-time link to the running dashboard (for the start-up banner)."""
    return rt.app[GUARD].login_link(str(rt.services["url"]))


def create_app(rt: Runtime) -> web.Application:
    """The application with the core routes; components add theirs at setup."""
    app = web.Application(middlewares=[auth_middleware], client_max_size=8 * 1024 * 1024)
    app[RUNTIME] = rt
    web_config = rt.config.web
    app[GUARD] = Guard(rt.token, web_config.loopback_only, web_config.public_url)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/login", login)
    app.router.add_post("/login", login)
    app.router.add_post("/api/login-link", new_login_link)
    app.router.add_static("/static/", STATIC, show_index=False)
    api.add_routes(app)
    live.add_routes(app)
    return app
