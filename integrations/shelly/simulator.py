"""A Shelly Gen2+ device on loopback that aioshelly's RpcDevice drives like the real thing.

JSON-RPC 2.0 three ways, as the firmware offers it: `GET /rpc/<Method>?k=v`,
`POST /rpc` with a frame, and the websocket `/rpc` (aioshelly's transport),
which also carries `NotifyStatus` to every client whenever a component
changes. Components: `switch:<n>` (relay with power metering) and `light:<n>`
(dimmer with brightness).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from agent.demo.simulation import (
    DemoContext,
    DemoPart,
    advertise,
    free_port,
    loopback_service,
    serve,
)

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger(__name__)

SERVICE_TYPE = "_shelly._tcp.local."


class RpcError(Exception):
    """A JSON-RPC error as the firmware reports it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class ShellySimulator:
    """A fake Shelly: device info, config, component status, and the RPC endpoints."""

    host: str = "127.0.0.1"
    port: int = 0
    name: str = "Coffee machine"
    mac: str = "A0B1C2D3E4F5"
    model: str = "SNPL-00116US"
    app: str = "PlugUS"
    # With a password, every method but Shelly.GetDeviceInfo needs SHA-256 digest auth
    # (user "admin", realm = the device id), as on a real device.
    password: str | None = None
    # Watts drawn by what is plugged into each switch while it is on.
    loads: dict[int, float] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    requests: int = 0
    _sockets: dict[web.WebSocketResponse, str] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _nonce: int = field(default_factory=lambda: secrets.randbelow(2**31))

    @property
    def device_id(self) -> str:
        """The id the device reports (and uses as `src`)."""
        return f"shelly{self.app.lower()}-{self.mac.lower()}"

    @property
    def address(self) -> str:
        """`ip:port` as the config takes it."""
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the device is up."""
        return self._runner is not None

    def add_switch(self, index: int, *, load_w: float = 0.0, name: str | None = None) -> None:
        """Add a metered relay (`switch:<index>`)."""
        self.loads[index] = load_w
        self.config[f"switch:{index}"] = {"id": index, "name": name, "initial_state": "off"}
        self.status[f"switch:{index}"] = {
            "id": index,
            "source": "init",
            "output": False,
            "apower": 0.0,
            "voltage": 120.1,
            "current": 0.0,
            "aenergy": {"total": 0.0, "by_minute": [0.0, 0.0, 0.0], "minute_ts": int(time.time())},
            "temperature": {"tC": 31.2, "tF": 88.2},
        }

    def add_light(self, index: int, *, name: str | None = None) -> None:
        """Add a dimmer (`light:<index>`)."""
        self.config[f"light:{index}"] = {"id": index, "name": name, "initial_state": "off"}
        self.status[f"light:{index}"] = {
            "id": index,
            "source": "init",
            "output": False,
            "brightness": 50,
            "temperature": {"tC": 35.0, "tF": 95.0},
        }

    # -- what happens at the device --------------------------------------------------

    async def press_button(self, index: int = 0) -> None:
        """Toggle switch `index` with the device's own button (pushed as NotifyStatus)."""
        key = f"switch:{index}"
        await self._change(key, self._switch(index, not self.status[key]["output"], "button"))

    async def set_load(self, index: int, watts: float) -> None:
        """Change what the appliance draws (the coffee machine starts heating)."""
        self.loads[index] = watts
        key = f"switch:{index}"
        if self.status[key]["output"]:
            await self._change(key, {"apower": watts, "current": round(watts / 120.1, 3)})

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on host:port (a free port is chosen once and kept across restarts)."""
        if self._runner is not None:
            return
        if self.port == 0:
            self.port = free_port(self.host)
        app = web.Application()
        app.router.add_get("/shelly", self._shelly)
        app.router.add_get("/rpc", self._websocket)
        app.router.add_post("/rpc", self._post_rpc)
        app.router.add_route("*", "/rpc/{method}", self._get_rpc)
        self._runner = await serve(app, self.host, self.port)
        log.info("shelly simulator %s on %s", self.device_id, self.address)

    async def stop(self) -> None:
        """Kill the device (websockets drop; state is kept for a restart)."""
        runner, self._runner = self._runner, None
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        self._sockets.clear()
        if runner is not None:
            await runner.cleanup()

    def service_info(self) -> AsyncServiceInfo:
        """The mDNS advertisement a Gen2+ device makes (`_shelly._tcp`, gen and app)."""
        properties = {"gen": "2", "app": self.app, "ver": "1.4.4", "id": self.device_id}
        return loopback_service(
            SERVICE_TYPE, self.device_id, self.host, self.port, properties, self.device_id
        )

    async def advertise(self, zeroconf: AsyncZeroconf) -> AsyncServiceInfo:
        """Register the device's mDNS service on `zeroconf`; returns it for unregistering."""
        return await advertise(zeroconf, self.service_info())

    # -- RPC --------------------------------------------------------------------------------

    def device_info(self) -> dict[str, Any]:
        """`Shelly.GetDeviceInfo` (also served at `/shelly`)."""
        return {
            "name": self.name,
            "id": self.device_id,
            "mac": self.mac,
            "slot": 0,
            "model": self.model,
            "gen": 2,
            "fw_id": "20241011-114455/1.4.4-g6d2a586",
            "ver": "1.4.4",
            "app": self.app,
            "auth_en": self.password is not None,
            "auth_domain": self.device_id if self.password is not None else None,
        }

    def full_status(self) -> dict[str, Any]:
        """`Shelly.GetStatus`."""
        return {
            "sys": {
                "mac": self.mac,
                "restart_required": False,
                "time": time.strftime("%H:%M"),
                "unixtime": int(time.time()),
                "uptime": 1000,
                "available_updates": {},
            },
            "wifi": {"sta_ip": self.host, "status": "got ip", "ssid": "home", "rssi": -55},
            "cloud": {"connected": False},
            "mqtt": {"connected": False},
            **self.status,
        }

    def full_config(self) -> dict[str, Any]:
        """`Shelly.GetConfig`."""
        return {
            "sys": {
                "device": {"name": self.name, "mac": self.mac, "fw_id": "20241011-114455/1.4.4"},
                "location": {"tz": "UTC", "lat": None, "lon": None},
            },
            "wifi": {"sta": {"ssid": "home", "enable": True}},
            **self.config,
        }

    def _switch(self, index: int, on: bool, source: str) -> dict[str, Any]:
        watts = self.loads.get(index, 0.0) if on else 0.0
        return {
            "output": on,
            "source": source,
            "apower": watts,
            "current": round(watts / 120.1, 3),
        }

    def _component(self, kind: str, params: dict[str, Any]) -> tuple[str, int]:
        index = params.get("id")
        if not isinstance(index, int) or f"{kind}:{index}" not in self.status:
            raise RpcError(-105, f"Argument 'id', value {index!r} not found!")
        return f"{kind}:{index}", index

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one RPC method (what every transport ends up doing)."""
        handlers: dict[str, Callable[[], Any]] = {
            "shelly.getdeviceinfo": self.device_info,
            "shelly.getstatus": self.full_status,
            "shelly.getconfig": self.full_config,
            "shelly.listmethods": lambda: {"methods": sorted(METHODS)},
            "shelly.getcomponents": lambda: {
                "components": [],
                "cfg_rev": 1,
                "offset": 0,
                "total": 0,
            },
            "sys.getstatus": lambda: self.full_status()["sys"],
        }
        name = method.lower()
        if name in handlers:
            return handlers[name]()
        if name in ("switch.getstatus", "light.getstatus"):
            key, _ = self._component(name.split(".")[0], params)
            return dict(self.status[key])
        if name in ("switch.set", "switch.toggle"):
            key, index = self._component("switch", params)
            was_on = self.status[key]["output"]
            if name == "switch.set":
                if not isinstance(params.get("on"), bool):
                    raise RpcError(-103, "Missing required argument 'on'!")
                on = params["on"]
            else:
                on = not was_on
            await self._change(key, self._switch(index, on, "WS_in"))
            return {"was_on": was_on}
        if name in ("light.set", "light.toggle"):
            key, _ = self._component("light", params)
            change: dict[str, Any] = {"source": "WS_in"}
            if name == "light.toggle":
                change["output"] = not self.status[key]["output"]
            if isinstance(params.get("on"), bool):
                change["output"] = params["on"]
            if "brightness" in params:
                level = params["brightness"]
                if not isinstance(level, int | float) or not 0 <= level <= 100:
                    raise RpcError(-103, "Argument 'brightness' must be 0-100!")
                change["brightness"] = int(level)
            await self._change(key, change)
            return None
        raise RpcError(404, f"No handler for {method}")

    async def _change(self, key: str, change: dict[str, Any]) -> None:
        self.status[key].update(change)
        params = {"ts": round(time.time(), 2), key: {"id": self.status[key]["id"], **change}}
        for ws, peer in list(self._sockets.items()):
            frame = {"src": self.device_id, "dst": peer, "method": "NotifyStatus"}
            with contextlib.suppress(Exception):
                await ws.send_str(json.dumps(frame | {"params": params}))

    async def _answer(self, frame: Any) -> dict[str, Any]:
        if not isinstance(frame, dict) or not isinstance(frame.get("method"), str):
            return {"id": None, "src": self.device_id, "error": {"code": -32600, "message": "bad"}}
        reply: dict[str, Any] = {"id": frame.get("id"), "src": self.device_id}
        if frame.get("src"):
            reply["dst"] = frame["src"]
        raw = frame.get("params")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        try:
            if frame["method"].lower() != "shelly.getdeviceinfo":
                self._check_auth(frame.get("auth"))
            reply["result"] = await self.call(frame["method"], params)
        except RpcError as err:
            reply["error"] = {"code": err.code, "message": err.message}
        return reply

    def _check_auth(self, auth: Any) -> None:
        """Refuse (401 with a digest challenge) unless the frame carries a valid response."""
        if self.password is None:
            return
        realm = self.device_id
        if isinstance(auth, dict) and auth.get("nonce") == self._nonce:
            ha1 = _sha256(f"admin:{realm}:{self.password}")
            ha2 = _sha256("dummy_method:dummy_uri")
            expected = _sha256(
                f"{ha1}:{self._nonce}:{auth.get('nc')}:{auth.get('cnonce')}:auth:{ha2}"
            )
            if auth.get("username") == "admin" and secrets.compare_digest(
                str(auth.get("response", "")), expected
            ):
                return
        challenge = {
            "auth_type": "digest",
            "nonce": self._nonce,
            "nc": 1,
            "realm": realm,
            "algorithm": "SHA-256",
        }
        raise RpcError(401, json.dumps(challenge))

    async def _shelly(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(self.device_info())

    async def _get_rpc(self, request: web.Request) -> web.Response:
        self.requests += 1
        params: dict[str, Any] = {}
        for key, value in request.query.items():
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        method = request.match_info["method"]
        if self.password is not None and method.lower() != "shelly.getdeviceinfo":
            # HTTP digest auth is not simulated; say so rather than act unauthenticated.
            return web.json_response({"code": 401, "message": "Unauthorized"}, status=401)
        try:
            return web.json_response(await self.call(method, params))
        except RpcError as err:
            return web.json_response({"code": err.code, "message": err.message}, status=400)

    async def _post_rpc(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            frame = json.loads(await request.text())
        except ValueError:
            frame = None
        return web.json_response(await self._answer(frame))

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"code": -32600, "message": "use POST /rpc"}, status=400)
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self._sockets[ws] = ""
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                self.requests += 1
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(frame, dict) and isinstance(frame.get("src"), str):
                    self._sockets[ws] = frame["src"]
                await ws.send_str(json.dumps(await self._answer(frame)))
        finally:
            self._sockets.pop(ws, None)
        return ws


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


METHODS = (
    "Shelly.GetDeviceInfo",
    "Shelly.GetStatus",
    "Shelly.GetConfig",
    "Shelly.GetComponents",
    "Shelly.ListMethods",
    "Sys.GetStatus",
    "Switch.Set",
    "Switch.Toggle",
    "Switch.GetStatus",
    "Light.Set",
    "Light.Toggle",
    "Light.GetStatus",
)


def demo_plug(host: str = "127.0.0.1", port: int = 0) -> ShellySimulator:
    """The demo home's plug: "Coffee machine" (a Plug US, 1.2 kW while heating)."""
    plug = ShellySimulator(host=host, port=port)
    plug.add_switch(0, load_w=1200.0)
    return plug


def demo_dimmer(host: str = "127.0.0.1", port: int = 0) -> ShellySimulator:
    """A Shelly Dimmer Gen3 with one channel, for tests of the light path."""
    dimmer = ShellySimulator(
        host=host,
        port=port,
        name="Hall dimmer",
        mac="B0C1D2E3F405",
        model="S3DM-0010WW",
        app="DimmerG3",
    )
    dimmer.add_light(0)
    return dimmer


async def demo(ctx: DemoContext) -> DemoPart:
    """Start the demo plug on its own loopback address and point the adapter at it."""
    plug = demo_plug(ctx.addresses.allocate())
    await plug.start()

    async def stop() -> None:
        with contextlib.suppress(Exception):
            await plug.stop()

    config = {"shelly": {"hosts": [{"host": plug.address, "area": "kitchen"}]}}
    return DemoPart(name="shelly", config=config, stop=stop, handle=plug)
