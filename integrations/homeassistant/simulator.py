"""A fake Home Assistant speaking its REST API and websocket API on loopback.

REST (`/api/...`, Bearer token) and the websocket (`/api/websocket`:
auth_required → auth → auth_ok/auth_invalid, then id'd commands and result /
event frames) follow the real server closely enough that the bridge talks to
it unchanged. Tests use the handle to drop websockets, refuse reconnects and
change states behind the bridge's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from agent.demo.simulation import DemoContext, DemoPart, free_port
from integrations.homeassistant.sim_entities import FakeHass, ServiceError, State

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncServiceInfo

log = logging.getLogger(__name__)
HA_VERSION = "2025.1.0"
SERVICE_TYPE = "_home-assistant._tcp.local."


class HomeAssistantSimulator:
    """One fake HA server: `start()`, `.url`, `.token`, `.hass` (entities), `stop()`."""

    def __init__(
        self,
        hass: FakeHass | None = None,
        *,
        token: str = "demo-long-lived-token",
        host: str = "127.0.0.1",
        port: int | None = None,
        temperature_unit: str = "°F",
    ) -> None:
        self.hass = hass or FakeHass.demo()
        self.token = token
        self.host = host
        self.port = port or free_port(host)
        self.temperature_unit = temperature_unit
        self.uuid = uuid.uuid4().hex
        self.accepting = True
        self.sockets: set[web.WebSocketResponse] = set()
        self.connections = 0
        # Per socket: subscription id → the event type it wants (None: every event).
        self._subscribers: dict[web.WebSocketResponse, dict[int, str | None]] = {}
        self._outboxes: dict[web.WebSocketResponse, asyncio.Queue[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.hass.on_change.append(self._state_changed)
        self.hass.on_event.append(self._fire)

    @property
    def url(self) -> str:
        """Base URL of the fake (http://127.0.0.1:port)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> HomeAssistantSimulator:
        """Serve on host:port."""
        app = web.Application()
        app.router.add_get("/api/websocket", self._websocket)
        app.router.add_get("/api/", self._api_root)
        app.router.add_get("/api/config", self._api_config)
        app.router.add_get("/api/states", self._api_states)
        app.router.add_get("/api/states/{entity_id}", self._api_state)
        app.router.add_get("/api/services", self._api_services)
        app.router.add_post("/api/services/{domain}/{service}", self._api_call)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        """Close every websocket and stop serving."""
        for timer in self.hass.moving.values():
            timer.cancel()
        self.hass.moving.clear()
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def drop_connections(self) -> None:
        """Close every open websocket (as a restart or network blip would)."""
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"going away")
        self.sockets.clear()
        self._subscribers.clear()

    def service_info(self) -> AsyncServiceInfo:
        """The `_home-assistant._tcp` advertisement a real instance makes."""
        from zeroconf.asyncio import AsyncServiceInfo

        return AsyncServiceInfo(
            SERVICE_TYPE,
            f"Demo Home.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(self.host)],
            port=self.port,
            properties={
                "location_name": "Demo Home",
                "uuid": self.uuid,
                "version": HA_VERSION,
                "internal_url": self.url,
                "base_url": self.url,
                "requires_api_password": "True",
            },
            server="homeassistant.local.",
        )

    def config(self) -> dict[str, Any]:
        """What `/api/config` and `get_config` return."""
        imperial = self.temperature_unit == "°F"
        return {
            "location_name": "Demo Home",
            "latitude": 0.0,
            "longitude": 0.0,
            "elevation": 0,
            "time_zone": "UTC",
            "version": HA_VERSION,
            "state": "RUNNING",
            "components": sorted({e.split(".")[0] for e in self.hass.states}),
            "unit_system": {
                "length": "mi" if imperial else "km",
                "mass": "lb" if imperial else "g",
                "pressure": "psi" if imperial else "Pa",
                "temperature": self.temperature_unit,
                "volume": "gal" if imperial else "L",
                "wind_speed": "mph" if imperial else "m/s",
                "accumulated_precipitation": "in" if imperial else "mm",
            },
        }

    # -- REST -----------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {self.token}"

    @staticmethod
    def _unauthorised() -> web.Response:
        return web.json_response({"message": "401: Unauthorized"}, status=401)

    async def _api_root(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        return web.json_response({"message": "API running."})

    async def _api_config(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        return web.json_response(self.config())

    async def _api_states(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        return web.json_response(list(self.hass.states.values()))

    async def _api_state(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        state = self.hass.states.get(request.match_info["entity_id"])
        if state is None:
            return web.json_response({"message": "Entity not found."}, status=404)
        return web.json_response(state)

    async def _api_services(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        services = self.hass.services()
        return web.json_response([{"domain": d, "services": s} for d, s in services.items()])

    async def _api_call(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"message": "Data should be valid JSON."}, status=400)
        try:
            changed = self.hass.call(
                request.match_info["domain"], request.match_info["service"], data, None
            )
        except ServiceError as err:
            return web.json_response({"message": str(err)}, status=400)
        return web.json_response(changed)

    # -- websocket ------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.accepting:
            return web.Response(status=503, text="Home Assistant is restarting")
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        await ws.send_json({"type": "auth_required", "ha_version": HA_VERSION})
        try:
            auth = await ws.receive_json(timeout=10)
        except (TypeError, ValueError, TimeoutError):
            await ws.close()
            return ws
        if auth.get("type") != "auth" or auth.get("access_token") != self.token:
            await ws.send_json(
                {"type": "auth_invalid", "message": "Invalid access token or password"}
            )
            await ws.close()
            return ws
        await ws.send_json({"type": "auth_ok", "ha_version": HA_VERSION})
        self.sockets.add(ws)
        self._subscribers[ws] = {}
        # One ordered outbox per socket: events queued by a service call go out
        # before that call's result, as HA sends them.
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outboxes[ws] = outbox
        writer = asyncio.create_task(_write(ws, outbox))
        self.connections += 1
        last_id = 0
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    break
                try:
                    frame = json.loads(msg.data)
                    frames = frame if isinstance(frame, list) else [frame]
                except ValueError:
                    break
                for item in frames:
                    msg_id = item.get("id")
                    if not isinstance(msg_id, int) or msg_id <= last_id:
                        outbox.put_nowait(
                            _error(msg_id, "id_reuse", "Identifier values have to increase.")
                        )
                        continue
                    last_id = msg_id
                    outbox.put_nowait(self._command(ws, msg_id, item))
        finally:
            self.sockets.discard(ws)
            self._subscribers.pop(ws, None)
            self._outboxes.pop(ws, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    def _command(
        self, ws: web.WebSocketResponse, msg_id: int, msg: dict[str, Any]
    ) -> dict[str, Any]:
        kind = msg.get("type")
        hass = self.hass
        if kind == "ping":
            return {"id": msg_id, "type": "pong"}
        if kind == "get_states":
            return _result(msg_id, list(hass.states.values()))
        if kind == "get_config":
            return _result(msg_id, self.config())
        if kind == "get_services":
            return _result(msg_id, hass.services())
        if kind == "config/area_registry/list":
            return _result(msg_id, hass.area_registry())
        if kind == "config/device_registry/list":
            return _result(msg_id, hass.device_registry())
        if kind == "config/entity_registry/list":
            return _result(msg_id, hass.entity_registry())
        if kind == "subscribe_events":
            event_type = msg.get("event_type")
            self._subscribers.setdefault(ws, {})[msg_id] = str(event_type) if event_type else None
            return _result(msg_id, None)
        if kind == "unsubscribe_events":
            subs = self._subscribers.get(ws, {})
            if msg.get("subscription") not in subs:
                return _error(msg_id, "not_found", "Subscription not found.")
            subs.pop(msg["subscription"])
            return _result(msg_id, None)
        if kind == "call_service":
            response: dict[str, Any] | None = {} if msg.get("return_response") else None
            try:
                hass.call(
                    str(msg.get("domain")),
                    str(msg.get("service")),
                    dict(msg.get("service_data") or {}),
                    msg.get("target"),
                    response,
                )
            except ServiceError as err:
                return _error(msg_id, err.code, str(err))
            # Events were queued before this result, as in HA: state first, then result.
            result: dict[str, Any] = {"context": {"id": "sim", "parent_id": None, "user_id": None}}
            if response is not None:
                result["response"] = response
            return _result(msg_id, result)
        return _error(msg_id, "unknown_command", "Unknown command.")

    def _state_changed(self, entity_id: str, old: State | None, new: State | None) -> None:
        """state_changed (new_state None when the entity went away)."""
        data = {"entity_id": entity_id, "old_state": old, "new_state": new}
        self._fire("state_changed", data, (new or old or {}).get("context"))

    def _fire(
        self, event_type: str, data: dict[str, Any], context: dict[str, Any] | None = None
    ) -> None:
        """Send an event to every subscription that wants it, as HA frames it."""
        for ws, subs in list(self._subscribers.items()):
            for sub_id, wanted in subs.items():
                if wanted not in (None, event_type):
                    continue
                frame = {
                    "id": sub_id,
                    "type": "event",
                    "event": {
                        "event_type": event_type,
                        "data": data,
                        "origin": "LOCAL",
                        "time_fired": datetime.now(UTC).isoformat(),
                        "context": context
                        or {"id": uuid.uuid4().hex, "parent_id": None, "user_id": None},
                    },
                }
                outbox = self._outboxes.get(ws)
                if outbox is not None:
                    outbox.put_nowait(frame)


async def _write(ws: web.WebSocketResponse, outbox: asyncio.Queue[dict[str, Any]]) -> None:
    """Send queued frames in order until the socket closes."""
    while True:
        frame = await outbox.get()
        try:
            await ws.send_json(frame)
        except (ConnectionError, RuntimeError):
            return


def _result(msg_id: int, result: Any) -> dict[str, Any]:
    return {"id": msg_id, "type": "result", "success": True, "result": result}


def _error(msg_id: Any, code: str, message: str) -> dict[str, Any]:
    return {
        "id": msg_id,
        "type": "result",
        "success": False,
        "error": {"code": code, "message": message},
    }


async def demo(ctx: DemoContext) -> DemoPart:
    """Start the demo home's Home Assistant and point the bridge at it."""
    # The garage door takes a few seconds, as a real one does (opening → open); locks
    # a second and a half (the shed door then jams).
    sim = await HomeAssistantSimulator(FakeHass.demo(garage_travel=4.0, lock_travel=1.5)).start()
    return DemoPart(
        name="homeassistant",
        config={"homeassistant": {"url": sim.url, "token": sim.token}},
        stop=sim.stop,
        handle=sim,
    )
