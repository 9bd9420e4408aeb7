"""The lists component: the registry as a service, the model's tools, and the API
under /api/lists (the dashboard's panel and `homeclaw lists` use it)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from agent.bus import Notice
from agent.errors import HomeError
from agent.lists.registry import Lists, NoSuchList, TodoList
from agent.lists.tools import register_list_tools
from agent.runtime import Runtime

log = logging.getLogger(__name__)

LISTS: web.AppKey[Lists] = web.AppKey("lists")


def _error(status: int, kind: str, detail: str) -> web.Response:
    return web.json_response({"error": kind, "detail": detail}, status=status)


async def list_lists(request: web.Request) -> web.Response:
    """GET /api/lists: every list with its pending count."""
    return web.json_response({"lists": await request.app[LISTS].summary()})


async def show_list(request: web.Request) -> web.Response:
    """GET /api/lists/{name}: one list's items."""
    lists = request.app[LISTS]
    try:
        todo = lists.find(request.match_info["name"])
        items = await todo.items()
    except NoSuchList as err:
        return _error(404, err.kind, str(err))
    except HomeError as err:
        return _error(502, err.kind, str(err))
    return web.json_response(
        {
            "id": todo.id,
            "name": todo.name,
            "source": todo.source,
            "items": [i.to_json() for i in items],
        }
    )


async def edit_list(request: web.Request) -> web.Response:
    """POST /api/lists/{name} {"add": [...], "remove": [...], "complete": [...]}."""
    lists = request.app[LISTS]
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "bad_request", "body must be an object")
    wanted: dict[str, list[str]] = {}
    for key in ("add", "remove", "complete"):
        value = body.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _error(400, "bad_request", f"{key} must be a list of strings")
        wanted[key] = [v for v in value if v.strip()]
    name = request.match_info["name"]
    result: dict[str, Any] = {}
    try:
        if wanted["add"]:
            edit = await lists.add(name, wanted["add"], create=bool(body.get("create")))
            result["added"] = edit.to_json()
        if wanted["remove"]:
            result["removed"] = (await lists.remove(name, wanted["remove"])).to_json()
        if wanted["complete"]:
            result["completed"] = (await lists.complete(name, wanted["complete"])).to_json()
    except NoSuchList as err:
        return _error(404, err.kind, str(err))
    except HomeError as err:
        return _error(502, err.kind, str(err))
    return web.json_response(result)


class ListsComponent:
    """The owner's lists, wherever they are kept."""

    name = "lists"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.lists = Lists(rt.paths.lists, list(rt.config.lists.defaults), self._changed)

    def _changed(self, todo: TodoList) -> None:
        self.rt.bus.publish(Notice(topic="lists", data={"id": todo.id, "name": todo.name}))

    def setup(self, rt: Runtime) -> None:
        """Publish the service, register tools and routes (no I/O)."""
        if not rt.config.lists.enabled:
            return
        rt.services["lists"] = self.lists
        register_list_tools(rt.tools, self.lists)
        rt.app[LISTS] = self.lists
        rt.app.router.add_get("/api/lists", list_lists)
        rt.app.router.add_get("/api/lists/{name}", show_list)
        rt.app.router.add_post("/api/lists/{name}", edit_list)

    async def start(self) -> None:
        """Nothing runs in the background: files are read on use."""

    async def stop(self) -> None:
        """Nothing to close."""


def create(rt: Runtime) -> ListsComponent:
    """Build the component."""
    return ListsComponent(rt)
