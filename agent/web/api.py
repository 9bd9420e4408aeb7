"""Core JSON API: health, devices, commands."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from agent.devices import Command
from agent.errors import ConfirmationRequired, HomeError, NoSuchDevice

ERROR_STATUS = {
    "no_such_device": 404,
    "unsupported": 422,
    "confirmation_required": 409,
    "not_allowed": 403,
    "unavailable": 503,
    "timeout": 504,
    "not_confirmed": 502,
}


def error_response(err: HomeError) -> web.Response:
    """A HomeError as a JSON error with a fitting status."""
    return web.json_response(
        {"error": err.kind, "detail": str(err)}, status=ERROR_STATUS.get(err.kind, 400)
    )


async def health(request: web.Request) -> web.Response:
    """Overall and per-task health."""
    from agent.web.context import runtime

    rt = runtime(request)
    parts = {name: h.to_json() for name, h in sorted(rt.supervisor.health.items())}
    extra: dict[str, Any] = {}
    for name, service in rt.services.items():
        report = getattr(service, "health_report", None)
        if callable(report):
            extra[name] = report()
    return web.json_response(
        {
            "status": rt.supervisor.overall(),
            "time": time.time(),
            "devices": len(rt.home.devices()),
            "unavailable": sum(1 for d in rt.home.devices() if not d.available),
            "tasks": parts,
            "components": extra,
        }
    )


async def devices(request: web.Request) -> web.Response:
    """Every device with its live state, plus the areas."""
    from agent.web.context import runtime

    rt = runtime(request)
    return web.json_response(
        {
            "home": rt.config.home.name,
            "units": rt.config.home.units,
            "areas": {a.id: {"name": a.name, "floor": a.floor} for a in rt.home.areas.values()},
            "devices": [d.to_json() for d in rt.home.devices()],
        }
    )


async def device(request: web.Request) -> web.Response:
    """One device."""
    from agent.web.context import runtime

    try:
        return web.json_response(runtime(request).home.get(request.match_info["id"]).to_json())
    except NoSuchDevice as err:
        return error_response(err)


async def command(request: web.Request) -> web.Response:
    """Send a command to a device (high-risk ones go through the confirmation flow)."""
    from agent.web.context import runtime

    rt = runtime(request)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response(
            {"error": "bad_request", "detail": "body must be JSON"}, status=400
        )
    if not isinstance(body, dict):
        return web.json_response(
            {"error": "bad_request", "detail": "body must be an object"}, status=400
        )
    try:
        cmd = Command.model_validate(body)
    except ValidationError as err:
        detail = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'command'}: {e['msg']}" for e in err.errors()
        )
        return web.json_response({"error": "bad_command", "detail": detail}, status=422)
    device_id = request.match_info["id"]
    try:
        updated = await rt.home.execute(device_id, cmd, requested_by="web:dashboard")
    except ConfirmationRequired as err:
        policy = rt.service("policy")
        if policy is not None:
            challenge = policy.challenge_for_command("web", "owner", device_id, cmd)
            return web.json_response(
                {"error": err.kind, "detail": str(err), "confirmation": challenge}, status=409
            )
        return error_response(err)
    except HomeError as err:
        return error_response(err)
    return web.json_response(updated.to_json())


def add_routes(app: web.Application) -> None:
    """Register the core API routes."""
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/devices", devices)
    app.router.add_get("/api/devices/{id}", device)
    app.router.add_post("/api/devices/{id}/commands", command)
