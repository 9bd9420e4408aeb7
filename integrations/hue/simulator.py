"""A Hue bridge on loopback that aiohue drives like the real thing.

The v1 REST API on `port`: `/api/config` (unauthenticated, with `bridgeid`), the
pairing flow (`POST /api` answers error 101 until the link button is pressed),
lights, groups/rooms and scenes, `PUT .../lights/<id>/state` and
`.../groups/<id>/action`. With `v2_port` set, the CLIP v2 API too, over HTTPS
with its event stream (`sim_v2.py`), on the same datastore. `strict_slash`
answers `/api/<key>/` with 404, as Home Assistant's emulated_hue does. The
handle lets tests and the demo press the link button, change a light as the
Hue app would, and kill and restart the bridge.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

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

    from integrations.hue.sim_v2 import HueV2Api

log = logging.getLogger(__name__)

SERVICE_TYPE = "_hue._tcp.local."
LIGHT_KEYS = {"on", "bri", "hue", "sat", "xy", "ct", "alert", "effect"}
# How long a pressed link button lets apps pair (the real bridge: 30 s).
LINK_WINDOW = 30.0


def _light(name: str, uniqueid: str, *, color: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"on": False, "bri": 254, "alert": "none", "reachable": True}
    if color:
        state |= {
            "hue": 8418,
            "sat": 140,
            "xy": [0.4573, 0.41],
            "ct": 366,
            "effect": "none",
            "colormode": "ct",
        }
    return {
        "name": name,
        "type": "Extended color light" if color else "Dimmable light",
        "modelid": "LCA001" if color else "LWA001",
        "manufacturername": "Signify Netherlands B.V.",
        "productname": "Hue color lamp" if color else "Hue white lamp",
        "uniqueid": uniqueid,
        "swversion": "1.104.2",
        "state": state,
        "capabilities": {"control": {"ct": {"min": 153, "max": 500}}} if color else {},
    }


@dataclass
class HueBridgeSimulator:
    """A fake Hue bridge: datastore, pairing, and an HTTP server on host:port."""

    host: str = "127.0.0.1"
    port: int = 0
    bridge_id: str = "001788FFFE4A1B2C"
    name: str = "Hue Bridge"
    # Seconds after the first refused pairing attempt when the (simulated)
    # owner presses the link button; None waits for `press_link_button()`.
    auto_press_after: float | None = None
    lights: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenes: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: set[str] = field(default_factory=set)
    requests: int = 0
    # The CLIP v2 API (HTTPS + event stream) on this port of `host`; None: v1 only.
    v2_port: int | None = None
    # Answer `/api/<key>/` with 404 (emulated_hue's routes have no trailing slash).
    strict_slash: bool = False
    # v1 resource lists this bridge does not have (404), e.g. {"groups"} for emulated_hue.
    missing: set[str] = field(default_factory=set)
    # Called with (light id, changed v1 keys) after every change, whoever made it.
    on_change: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)
    v2: HueV2Api | None = None
    _pressed_at: float | None = None
    _first_refusal: float | None = None
    _runner: web.AppRunner | None = None

    @property
    def address(self) -> str:
        """`ip:port` as aiohue and the config take it (just `ip` on port 80, as a real bridge)."""
        return self.host if self.port == 80 else f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the HTTP server is up."""
        return self._runner is not None

    # -- what a person (or the Hue app) does ----------------------------------

    def press_link_button(self) -> None:
        """Open the pairing window, as pressing the round button on the bridge does."""
        self._pressed_at = time.monotonic()

    def add_user(self, app_key: str | None = None) -> str:
        """Whitelist an app key directly (a bridge that was paired earlier)."""
        key = app_key or secrets.token_hex(20)
        self.users.add(key)
        return key

    def light_id(self, name: str) -> str:
        """The bridge's id of the light with this name."""
        for light_id, light in self.lights.items():
            if light["name"].lower() == name.lower():
                return light_id
        raise KeyError(name)

    def set_light(self, name: str, **state: Any) -> None:
        """Change a light outside homeclaw (a wall switch, the Hue app)."""
        self.apply(self.light_id(name), state)

    def light_state(self, name: str) -> dict[str, Any]:
        """A copy of the named light's state."""
        return dict(self.lights[self.light_id(name)]["state"])

    # -- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Serve on host:port (a free port is chosen once and kept across restarts)."""
        if self._runner is not None:
            return
        if self.port == 0:
            self.port = free_port(self.host)
        app = web.Application()
        app.router.add_route("*", "/api", self._create_user)
        app.router.add_route("*", "/api/", self._create_user)
        app.router.add_get("/api/config", self._public_config)
        app.router.add_route("*", "/api/{key}", self._datastore)
        app.router.add_route("*", "/api/{key}/{path:.*}", self._resource)
        self._runner = await serve(app, self.host, self.port)
        if self.v2_port is not None:
            from integrations.hue.sim_v2 import HueV2Api

            if self.v2 is None:
                self.v2 = HueV2Api(self, self.v2_port)
            try:
                await self.v2.start()
            except BaseException:
                await self.stop()
                raise
        log.info("hue simulator %s on %s", self.bridge_id, self.address)

    async def stop(self) -> None:
        """Kill the bridge (connections drop; the datastore is kept for a restart)."""
        if self.v2 is not None:
            await self.v2.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def service_info(self) -> AsyncServiceInfo:
        """The mDNS advertisement a real bridge makes (`_hue._tcp`, with its id)."""
        return loopback_service(
            SERVICE_TYPE,
            f"{self.name} - {self.bridge_id[-6:]}",
            self.host,
            self.port,
            {"bridgeid": self.bridge_id.lower(), "modelid": "BSB002"},
            f"hue-{self.bridge_id[-6:].lower()}",
        )

    async def advertise(self, zeroconf: AsyncZeroconf) -> AsyncServiceInfo:
        """Register the bridge's mDNS service on `zeroconf`; returns it for unregistering."""
        return await advertise(zeroconf, self.service_info())

    # -- HTTP -------------------------------------------------------------------

    def _config(self, full: bool) -> dict[str, Any]:
        config: dict[str, Any] = {
            "name": self.name,
            "datastoreversion": "163",
            "swversion": "1967054020",
            "apiversion": "1.67.0",
            "mac": ":".join(self.bridge_id[i : i + 2].lower() for i in (0, 2, 4, 10, 12, 14)),
            "bridgeid": self.bridge_id,
            "factorynew": False,
            "replacesbridgeid": None,
            "modelid": "BSB002",
            "starterkitid": "",
        }
        if full:
            config |= {
                "ipaddress": self.host,
                "linkbutton": self._link_open(),
                "zigbeechannel": 25,
                "whitelist": {user: {"name": "app"} for user in self.users},
            }
        return config

    def _link_open(self) -> bool:
        now = time.monotonic()
        if (
            self.auto_press_after is not None
            and self._first_refusal is not None
            and now - self._first_refusal >= self.auto_press_after
            and self._pressed_at is None
        ):
            self._pressed_at = now
        return self._pressed_at is not None and now - self._pressed_at < LINK_WINDOW

    async def _public_config(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(self._config(full=False))

    async def _create_user(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.method != "POST":
            return _error(4, "/", "method, GET, not available for resource, /")
        try:
            body = await request.json()
        except ValueError:
            return _error(2, "/", "body contains invalid json")
        if not isinstance(body, dict) or not isinstance(body.get("devicetype"), str):
            return _error(5, "/", "invalid/missing parameters in body")
        if not self._link_open():
            if self._first_refusal is None:
                self._first_refusal = time.monotonic()
            return _error(101, "", "link button not pressed")
        return web.json_response([{"success": {"username": self.add_user()}}])

    def _authorised(self, request: web.Request) -> bool:
        return request.match_info["key"] in self.users

    async def _datastore(self, request: web.Request) -> web.Response:
        self.requests += 1
        if not self._authorised(request):
            return _error(1, "/", "unauthorized user")
        return web.json_response(
            {
                "config": self._config(full=True),
                "lights": self._lights_json(),
                "groups": self._groups_json(),
                "scenes": self._scenes_json(),
                "sensors": {},
                "schedules": {},
                "rules": {},
                "resourcelinks": {},
            }
        )

    async def _resource(self, request: web.Request) -> web.Response:
        if not request.match_info["path"].strip("/"):  # aiohue asks for `/api/<key>/`
            if self.strict_slash:
                self.requests += 1
                return web.Response(status=404, text="404: Not Found")
            return await self._datastore(request)
        self.requests += 1
        if not self._authorised(request):
            return _error(1, "/" + request.match_info["path"], "unauthorized user")
        parts = [p for p in request.match_info["path"].split("/") if p]
        if parts and parts[0] in self.missing:
            return web.Response(status=404, text="404: Not Found")
        if request.method == "GET":
            return self._get(parts)
        if request.method == "PUT":
            try:
                body = await request.json()
            except ValueError:
                return _error(2, "/" + "/".join(parts), "body contains invalid json")
            if not isinstance(body, dict):
                return _error(2, "/" + "/".join(parts), "body contains invalid json")
            return self._put(parts, body)
        return _error(4, "/" + "/".join(parts), f"method, {request.method}, not available")

    def _get(self, parts: list[str]) -> web.Response:
        tables: dict[str, dict[str, Any]] = {
            "lights": self._lights_json(),
            "groups": self._groups_json(),
            "scenes": self._scenes_json(),
            "sensors": {},
        }
        if parts == ["config"]:
            return web.json_response(self._config(full=True))
        if len(parts) == 1 and parts[0] in tables:
            return web.json_response(tables[parts[0]])
        if len(parts) == 2 and parts[0] in tables and parts[1] in tables[parts[0]]:
            return web.json_response(tables[parts[0]][parts[1]])
        return _error(3, "/" + "/".join(parts), f"resource, /{'/'.join(parts)}, not available")

    def _put(self, parts: list[str], body: dict[str, Any]) -> web.Response:
        where = "/" + "/".join(parts)
        if len(parts) == 3 and parts[0] == "lights" and parts[2] == "state":
            if parts[1] not in self.lights:
                return _error(3, where, f"resource, {where}, not available")
            changes = {k: v for k, v in body.items() if k in LIGHT_KEYS}
            self.apply(parts[1], changes)
            return _success(where, changes)
        if len(parts) == 3 and parts[0] == "groups" and parts[2] == "action":
            members = self._group_lights(parts[1])
            if members is None:
                return _error(3, where, f"resource, {where}, not available")
            if "scene" in body:
                scene = self.scenes.get(str(body["scene"]))
                if scene is None:
                    return _error(7, where + "/scene", "invalid value for parameter, scene")
                for light_id, state in scene["lightstates"].items():
                    self.apply(light_id, state)
                return _success(where, {"scene": body["scene"]})
            changes = {k: v for k, v in body.items() if k in LIGHT_KEYS}
            for light_id in members:
                self.apply(light_id, changes)
            if parts[1] in self.groups:
                self.groups[parts[1]]["action"].update(changes)
            return _success(where, changes)
        return _error(3, where, f"resource, {where}, not available")

    # -- the datastore ------------------------------------------------------------

    def apply(self, light_id: str, changes: dict[str, Any]) -> None:
        """Change a light's state (every API and the Hue app end here)."""
        state = self.lights[light_id]["state"]
        for key, value in changes.items():
            if key in ("xy", "ct", "hue", "sat") and key not in state:
                continue  # a white bulb ignores colour, as the real one does
            state[key] = value
        if "xy" in changes and "xy" in state:
            state["colormode"] = "xy"
        elif "ct" in changes and "ct" in state:
            state["colormode"] = "ct"
        elif ("hue" in changes or "sat" in changes) and "hue" in state:
            state["colormode"] = "hs"
        for callback in list(self.on_change):
            callback(light_id, changes)

    def _group_lights(self, group_id: str) -> list[str] | None:
        if group_id == "0":
            return list(self.lights)
        group = self.groups.get(group_id)
        return None if group is None else list(group["lights"])

    def _lights_json(self) -> dict[str, Any]:
        return copy.deepcopy(self.lights)

    def _groups_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for group_id, group in self.groups.items():
            states = [self.lights[i]["state"]["on"] for i in group["lights"]]
            out[group_id] = copy.deepcopy(group) | {
                "state": {"all_on": bool(states) and all(states), "any_on": any(states)}
            }
        return out

    def _scenes_json(self) -> dict[str, Any]:
        # The list view leaves lightstates out, like the real bridge.
        return {
            scene_id: {k: v for k, v in scene.items() if k != "lightstates"}
            for scene_id, scene in self.scenes.items()
        }


def _error(kind: int, address: str, description: str) -> web.Response:
    return web.json_response(
        [{"error": {"type": kind, "address": address, "description": description}}]
    )


def _success(where: str, changes: dict[str, Any]) -> web.Response:
    base = where.removesuffix("/state").removesuffix("/action")
    suffix = "state" if where.endswith("/state") else "action"
    return web.json_response(
        [{"success": {f"{base}/{suffix}/{key}": value}} for key, value in changes.items()]
    )


def _group(name: str, room_class: str, lights: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "lights": lights,
        "sensors": [],
        "type": "Room",
        "class": room_class,
        "recycle": False,
        "action": {"on": False, "bri": 254, "ct": 366, "colormode": "ct", "alert": "none"},
    }


def _scene(name: str, group: str, lightstates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "GroupScene",
        "group": group,
        "lights": list(lightstates),
        "owner": "homeclaw-demo",
        "recycle": False,
        "locked": False,
        "appdata": {},
        "picture": "",
        "lastupdated": "2026-01-01T00:00:00",
        "version": 2,
        "lightstates": lightstates,
    }


def demo_bridge(host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> HueBridgeSimulator:
    """The demo home's bridge: Dining room (two lights) and Study (desk lamp), with scenes."""
    bridge = HueBridgeSimulator(host=host, port=port, **kwargs)
    bridge.lights = {
        "1": _light("Dining table", "00:17:88:01:0a:00:00:01-0b"),
        "2": _light("Dining lamp", "00:17:88:01:0a:00:00:02-0b"),
        "3": _light("Desk lamp", "00:17:88:01:0a:00:00:03-0b", color=False),
    }
    bridge.groups = {
        "1": _group("Dining room", "Dining", ["1", "2"]),
        "2": _group("Study", "Office", ["3"]),
    }
    bridge.scenes = {
        "dinner0000000001": _scene(
            "Dinner",
            "1",
            {
                "1": {"on": True, "bri": 160, "xy": [0.5267, 0.4133]},
                "2": {"on": True, "bri": 90, "xy": [0.5267, 0.4133]},
            },
        ),
        "bright0000000002": _scene(
            "Bright",
            "1",
            {"1": {"on": True, "bri": 254, "ct": 233}, "2": {"on": True, "bri": 254, "ct": 233}},
        ),
        "reading000000003": _scene("Reading", "2", {"3": {"on": True, "bri": 220}}),
    }
    return bridge


async def demo(ctx: DemoContext) -> DemoPart:
    """Start the demo bridge, already paired with homeclaw, and point the adapter at it."""
    # The link button "gets pressed" 3 s after the first refused attempt, so the
    # guided `homeclaw hue-pair` flow can be tried in the demo too.
    # Its own loopback address with a real bridge's ports: v1 on 80, v2 (HTTPS) on 443.
    address = ctx.addresses.allocate((80, 443))
    bridge = demo_bridge(address, port=80, v2_port=443, auto_press_after=3.0)
    app_key = bridge.add_user()
    await bridge.start()

    async def stop() -> None:
        with contextlib.suppress(Exception):
            await bridge.stop()

    config = {
        "hue": {
            "bridges": [
                {"host": bridge.address, "app_key": app_key, "bridge_id": bridge.bridge_id.lower()}
            ]
        }
    }
    return DemoPart(name="hue", config=config, stop=stop, handle=bridge)
