"""The websocket that streams live changes to the dashboard and other clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from agent.bus import (
    CommandExecuted,
    DeviceAdded,
    DeviceRemoved,
    Event,
    IntegrationStatus,
    Notice,
    StateChanged,
)


def event_message(rt: Any, event: Event) -> dict[str, Any] | None:
    """The JSON a websocket client receives for a bus event."""
    if isinstance(event, StateChanged | DeviceAdded):
        device = rt.home.find(event.device_id)
        return {"type": "device", "device": device.to_json()} if device else None
    if isinstance(event, DeviceRemoved):
        return {"type": "device_removed", "id": event.device_id}
    if isinstance(event, IntegrationStatus):
        return {
            "type": "health",
            "name": event.integration,
            "status": event.status,
            "detail": event.detail,
        }
    if isinstance(event, CommandExecuted):
        return {
            "type": "command",
            "device_id": event.device_id,
            "command": event.command,
            "requested_by": event.requested_by,
            "ok": event.ok,
            "error": event.error,
        }
    if isinstance(event, Notice):
        return {"type": "notice", "topic": event.topic, "data": event.data}
    return None


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Stream device, health and notice events as JSON messages."""
    from agent.web.context import runtime

    rt = runtime(request)
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    sub = rt.bus.subscribe(
        StateChanged, DeviceAdded, DeviceRemoved, IntegrationStatus, CommandExecuted, Notice
    )

    async def pump() -> None:
        while True:
            message = event_message(rt, await sub.get())
            if message is not None:
                await ws.send_str(json.dumps(message, default=str))

    sender = asyncio.create_task(pump())
    try:
        await ws.send_str(json.dumps({"type": "hello", "devices": len(rt.home.devices())}))
        async for msg in ws:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
        sub.close()
    return ws


def add_routes(app: web.Application) -> None:
    """Register the websocket route."""
    app.router.add_get("/api/ws", websocket)
