"""JSON API for routines, schedules and the heartbeat (dashboard panel and CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from agent.errors import HomeError

if TYPE_CHECKING:
    from agent.routines.service import RoutinesService

ROUTINES: web.AppKey[Any] = web.AppKey("routines")


def _routines(request: web.Request) -> RoutinesService:
    routines: RoutinesService = request.app[ROUTINES]
    return routines


async def list_routines(request: web.Request) -> web.Response:
    """Every routine with its phrases, steps, times, triggers and last result."""
    from agent.routines.tools import routines_listing

    routines = _routines(request)
    return web.json_response(
        {
            "routines": [routines_listing(routines, r) for r in routines.routines.values()],
            "problems": routines.problems,
        }
    )


async def run_routine(request: web.Request) -> web.Response:
    """Run a routine now (the dashboard's run button, `homeclaw routines run`)."""
    routines = _routines(request)
    try:
        result = await routines.run(request.match_info["name"], requested_by="web:dashboard")
    except HomeError as err:
        return web.json_response({"error": err.kind, "detail": str(err)}, status=404)
    return web.json_response(result.to_json())


async def change_routine(request: web.Request) -> web.Response:
    """PATCH {"visible_to": "guest"}: who may hear a routine's words (the owner decides)."""
    from agent.roles import ROLES

    routines = _routines(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    role = body.get("visible_to") if isinstance(body, dict) else None
    if role not in ROLES:
        return web.json_response(
            {"error": "bad_request", "detail": f"visible_to must be one of {', '.join(ROLES)}"},
            status=400,
        )
    routine = routines.find(request.match_info["name"])
    if routine is None:
        return web.json_response(
            {"error": "no_such_routine", "detail": "no routine with that name"}, status=404
        )
    try:
        saved = routines.save_routine(routine.model_copy(update={"visible_to": role}))
    except HomeError as err:
        return web.json_response({"error": err.kind, "detail": str(err)}, status=422)
    from agent.routines.tools import routines_listing

    return web.json_response(routines_listing(routines, saved))


async def list_schedules(request: web.Request) -> web.Response:
    """Every schedule with its next run time."""
    routines = _routines(request)
    return web.json_response({"schedules": routines.schedules.list()})


async def cancel_schedule(request: web.Request) -> web.Response:
    """Cancel one schedule."""
    routines = _routines(request)
    if not routines.cancel(request.match_info["id"]):
        return web.json_response(
            {"error": "no_such_schedule", "detail": "no schedule with that id"}, status=404
        )
    return web.json_response({"cancelled": request.match_info["id"]})


async def reload(request: web.Request) -> web.Response:
    """Re-read routines.yaml (and config.yaml) after a hand edit."""
    from agent.config import ConfigError

    routines = _routines(request)
    try:
        routines.reload()
    except ConfigError as err:
        return web.json_response(
            {"error": "invalid", "detail": "; ".join(err.problems), "problems": err.problems},
            status=422,
        )
    return web.json_response({"routines": len(routines.routines), "problems": routines.problems})


async def heartbeat(request: web.Request) -> web.Response:
    """The heartbeat's concerns (rule or judgement) and its last report."""
    routines = _routines(request)
    hb = routines.heartbeat
    return web.json_response(
        {
            "enabled": routines.heartbeat_enabled,
            "how_to_enable": routines.heartbeat_how_to_enable,
            "every_minutes": hb.config.every_minutes,
            "concerns": [
                {"text": c.text, "checked_by": "rule" if c.rule else "llm"} for c in hb.concerns()
            ],
            "last": hb.last.to_json() if hb.last else None,
        }
    )


async def beat(request: web.Request) -> web.Response:
    """Run one heartbeat now."""
    report = await _routines(request).heartbeat.beat()
    return web.json_response(report.to_json())


def add_routes(app: web.Application, routines: RoutinesService) -> None:
    """Register the routes (called at setup)."""
    app[ROUTINES] = routines
    app.router.add_get("/api/routines", list_routines)
    app.router.add_post("/api/routines/reload", reload)
    app.router.add_post("/api/routines/{name}/run", run_routine)
    app.router.add_patch("/api/routines/{name}", change_routine)
    app.router.add_get("/api/schedules", list_schedules)
    app.router.add_delete("/api/schedules/{id}", cancel_schedule)
    app.router.add_get("/api/heartbeat", heartbeat)
    app.router.add_post("/api/heartbeat/beat", beat)
