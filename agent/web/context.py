"""What every route handler may ask of the app serving it: the daemon's Runtime.

Kept apart from `agent.web.app` so that route modules (this package's api and live, and
the components' own) import it without importing the app that includes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from agent.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")


def runtime(request: web.Request) -> Runtime:
    """The Runtime of the app serving a request."""
    return request.app[RUNTIME]
