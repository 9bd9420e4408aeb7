"""The aiohttp application: auth, dashboard shell, and the core API routes.

Components add their own routes at setup (`rt.app.router.add_*`). Dashboard
panels are files in `static/panels/`; the shell includes every one of them, so
a feature adds a panel without touching shared files.
"""

from __future__ import annotations

import hmac
import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from agent.web import api, live

if TYPE_CHECKING:
    from agent.runtime import Runtime

STATIC = Path(__file__).parent / "static"
RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")
# Paths that authenticate themselves (signatures) or are the public shell.
OPEN_PREFIXES = ("/webhooks/", "/media/", "/static/", "/login")


def runtime(request: web.Request) -> Runtime:
    """The Runtime of the app serving a request."""
    return request.app[RUNTIME]


def _presented_token(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip()
    return request.cookies.get("homeclaw_token") or request.query.get("token")


def authorised(request: web.Request) -> bool:
    """Whether the request carries the API token."""
    token = _presented_token(request)
    return token is not None and hmac.compare_digest(token, runtime(request).token)


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The API and the dashboard need the token (the printed URL carries it once).

    Even on loopback: any local process could otherwise read the page and
    lift the token the CLI keeps in a mode-600 file.
    """
    path = request.path
    if path.startswith(OPEN_PREFIXES):
        return await handler(request)
    if not authorised(request):
        if path.startswith("/api/"):
            return web.json_response(
                {"error": "unauthorised", "detail": "send the token from the home folder"},
                status=401,
            )
        raise web.HTTPFound("/login")
    return await handler(request)


async def index(request: web.Request) -> web.Response:
    """The dashboard shell, with every panel script and the token for API calls."""
    rt = runtime(request)
    panels = sorted(p.name for p in (STATIC / "panels").glob("*.js"))
    scripts = "\n".join(
        f'<script type="module" src="/static/panels/{html.escape(p)}"></script>' for p in panels
    )
    page = (STATIC / "index.html").read_text()
    page = page.replace("{{title}}", html.escape(rt.config.home.name))
    page = page.replace("{{panels}}", scripts)
    page = page.replace("{{demo}}", "true" if rt.demo else "false")
    response = web.Response(text=page, content_type="text/html")
    if request.query.get("token"):
        # The page's own fetches then carry the token as a same-site cookie.
        response.set_cookie("homeclaw_token", rt.token, httponly=True, samesite="Strict")
    return response


async def login(request: web.Request) -> web.Response:
    """A token form for dashboards served beyond loopback."""
    rt = runtime(request)
    token = request.query.get("token")
    if token and hmac.compare_digest(token, rt.token):
        response = web.HTTPFound("/")
        response.set_cookie("homeclaw_token", token, httponly=True, samesite="Strict")
        raise response
    body = (
        "<!doctype html><title>homeclaw</title><form><p>Open the link that "
        "<code>homeclaw run</code> printed, or paste the token from "
        f"<code>{html.escape(str(rt.paths.token_file))}</code>:</p>"
        "<input name=token size=50><button>Open</button></form>"
    )
    return web.Response(text=body, content_type="text/html", status=401 if token else 200)


def create_app(rt: Runtime) -> web.Application:
    """The application with the core routes; components add theirs at setup."""
    app = web.Application(middlewares=[auth_middleware], client_max_size=8 * 1024 * 1024)
    app[RUNTIME] = rt
    app.router.add_get("/", index)
    app.router.add_get("/login", login)
    app.router.add_static("/static/", STATIC, show_index=False)
    api.add_routes(app)
    live.add_routes(app)
    return app
