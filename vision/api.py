"""JSON API and images under /api/cameras (token-protected like all of /api/)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from agent.errors import HomeError
from vision.eventlog import encode_jpeg
from vision.sources import CameraUnavailable

if TYPE_CHECKING:
    from vision.service import VisionService

JPEG_HEADERS = {"Cache-Control": "no-store"}


def _error(kind: str, detail: str, status: int) -> web.Response:
    return web.json_response({"error": kind, "detail": detail}, status=status)


def add_routes(app: web.Application, vision: VisionService) -> None:
    """Register the camera routes."""

    async def cameras(request: web.Request) -> web.Response:
        return web.json_response({"cameras": vision.camera_list()})

    async def snapshot(request: web.Request) -> web.Response:
        try:
            camera = vision.camera(request.match_info["name"])
        except HomeError as err:
            return _error(err.kind, str(err), 404)
        feed = vision.feeds.get(camera.name)
        if feed is not None:  # watched elsewhere (Frigate): its own latest picture
            data = await feed.photo()
            if data is None:
                return _error("unavailable", f"camera {camera.name} has no picture", 503)
            return web.Response(body=data, content_type="image/jpeg", headers=JPEG_HEADERS)
        watcher = vision.watchers.get(camera.name)
        frame = watcher.source.latest() if watcher else None
        if frame is None:
            return _error("unavailable", f"camera {camera.name} has no picture yet", 503)
        body = await asyncio.to_thread(encode_jpeg, frame.image, 80)
        return web.Response(body=body, content_type="image/jpeg", headers=JPEG_HEADERS)

    async def events(request: web.Request) -> web.Response:
        assert vision.events is not None
        query = request.query
        try:
            since = float(query["since"]) if "since" in query else None
            limit = int(query.get("limit", "50"))
        except ValueError:
            return _error("bad_request", "since is a Unix time, limit a number", 400)
        rows = vision.events.events(query.get("camera"), since, limit)
        return web.json_response({"events": rows})

    async def event(request: web.Request) -> web.Response:
        assert vision.events is not None
        row = vision.events.event(request.match_info["id"])
        if row is None:
            return _error("not_found", "no such camera event", 404)
        return web.json_response(row)

    async def keyframe(request: web.Request) -> web.StreamResponse:
        assert vision.events is not None
        try:
            index = int(request.match_info["index"])
        except ValueError:
            return _error("bad_request", "keyframe index must be a number", 400)
        path = vision.events.keyframe_path(request.match_info["id"], index)
        if path is None:
            return _error("not_found", "no such keyframe (it may have expired)", 404)
        return web.FileResponse(path, headers=JPEG_HEADERS)

    async def get_preferences(request: web.Request) -> web.Response:
        camera = request.query.get("camera")
        try:
            prefs = vision.preferences_for(vision.camera(camera).name if camera else None)
        except HomeError as err:
            return _error(err.kind, str(err), 404)
        return web.json_response(prefs.model_dump())

    async def put_preferences(request: web.Request) -> web.Response:
        body = await _json(request)
        if isinstance(body, web.Response):
            return body
        camera = body.pop("camera", None)
        try:
            prefs = vision.set_preferences(camera, body)
        except HomeError as err:
            return _error(err.kind, str(err), 404)
        except (ValidationError, ValueError) as err:
            return _error("bad_preferences", str(err), 422)
        return web.json_response(prefs.model_dump())

    async def put_masks(request: web.Request) -> web.Response:
        body = await _json(request)
        if isinstance(body, web.Response):
            return body
        masks = body.get("masks")
        try:
            if not isinstance(masks, list):
                raise ValueError("masks must be a list of polygons")
            polygons = [[(float(x), float(y)) for x, y in poly] for poly in masks]
            if any(len(p) < 3 or not all(0 <= v <= 1 for pt in p for v in pt) for p in polygons):
                raise ValueError("each polygon needs 3+ points with coordinates in 0..1")
            vision.set_masks(request.match_info["name"], polygons)
        except HomeError as err:
            return _error(err.kind, str(err), 404)
        except (TypeError, ValueError) as err:
            return _error("bad_masks", str(err), 422)
        return web.json_response({"masks": polygons})

    async def take_snapshot(request: web.Request) -> web.Response:
        try:
            path = await vision.snapshot(request.match_info["name"])
        except HomeError as err:
            return _error(err.kind, str(err), 404)
        except CameraUnavailable as err:
            return _error("unavailable", str(err), 503)
        return web.json_response({"path": str(path)})

    async def event_feedback(request: web.Request) -> web.Response:
        # The owner's own click or words on the dashboard (the API is the owner's).
        assert vision.events is not None
        event_id = request.match_info["id"]
        if vision.events.event(event_id) is None:
            return _error("not_found", f"no camera event {event_id}", 404)
        body = await _json(request) if request.can_read_body else {}
        if isinstance(body, web.Response):
            return body
        text = str(body.get("text") or "not useful")
        return web.json_response({"reply": vision.feedback(text, event_id)})

    async def hushed(request: web.Request) -> web.Response:
        return web.json_response({"hushed": vision.hush_rules()})

    async def unhush(request: web.Request) -> web.Response:
        rule = request.match_info["id"]
        if not vision.unhush(rule):
            return _error("not_found", f"no hushed alert {rule}", 404)
        return web.json_response({"removed": rule})

    app.router.add_post("/api/cameras/events/{id}/feedback", event_feedback)
    app.router.add_get("/api/cameras/hushed", hushed)
    app.router.add_delete("/api/cameras/hushed/{id}", unhush)
    app.router.add_get("/api/cameras", cameras)
    app.router.add_get("/api/cameras/events", events)
    app.router.add_get("/api/cameras/events/{id}", event)
    app.router.add_get("/api/cameras/events/{id}/{index}.jpg", keyframe)
    app.router.add_get("/api/cameras/preferences", get_preferences)
    app.router.add_put("/api/cameras/preferences", put_preferences)
    app.router.add_get("/api/cameras/{name}/snapshot.jpg", snapshot)
    app.router.add_post("/api/cameras/{name}/snapshot", take_snapshot)
    app.router.add_put("/api/cameras/{name}/masks", put_masks)


async def _json(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error("bad_request", "body must be JSON", 400)
    if not isinstance(body, dict):
        return _error("bad_request", "body must be an object", 400)
    return body
