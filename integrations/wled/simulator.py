"""A WLED strip on loopback that the `wled` client library drives like the real thing.

Serves `/json`, `/json/si`, `/json/state` (GET and POST), `/json/info`, the
effect/palette lists, `/presets.json` and the websocket `/ws`, which pushes
`{"state", "info"}` to every client on every change, as WLED does. The client
hard-codes port 80, so each strip binds its own 127.0.0.x:80.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from agent.demo.simulation import DemoContext, DemoPart, advertise, loopback_service, serve

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger(__name__)

SERVICE_TYPE = "_wled._tcp.local."
PORT = 80
EFFECTS = ["Solid", "Blink", "Breathe", "Wipe", "Rainbow", "Fire 2012", "Candle"]
PALETTES = ["Default", "* Random Cycle", "* Color 1", "Party", "Ocean", "Sunset"]
LED_COUNT = 60


def _segment(color: list[int]) -> dict[str, Any]:
    return {
        "id": 0,
        "start": 0,
        "stop": LED_COUNT,
        "len": LED_COUNT,
        "grp": 1,
        "spc": 0,
        "of": 0,
        "on": True,
        "frz": False,
        "bri": 255,
        "cct": 127,
        "set": 0,
        "n": "",
        "col": [color, [0, 0, 0], [0, 0, 0]],
        "fx": 0,
        "sx": 128,
        "ix": 128,
        "pal": 0,
        "c1": 128,
        "c2": 128,
        "c3": 16,
        "sel": True,
        "rev": False,
        "mi": False,
        "o1": False,
        "o2": False,
        "o3": False,
        "si": 0,
        "m12": 0,
    }


@dataclass
class WledSimulator:
    """A fake WLED strip: state, presets, HTTP JSON API and websocket on host:80."""

    host: str
    name: str = "TV backlight"
    mac: str = "a8032a1b2c3d"
    port: int = PORT
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    requests: int = 0
    _started: float = field(default_factory=time.time)
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        if not self.state:
            self.state = {
                "on": False,
                "bri": 128,
                "transition": 7,
                "ps": -1,
                "pl": -1,
                "nl": {"on": False, "dur": 60, "mode": 1, "tbri": 0, "rem": -1},
                "udpn": {"send": False, "recv": True, "sgrp": 1, "rgrp": 1},
                "lor": 0,
                "mainseg": 0,
                "seg": [_segment([255, 160, 0])],
            }

    @property
    def running(self) -> bool:
        """Whether the strip is up."""
        return self._runner is not None

    @property
    def color(self) -> tuple[int, int, int]:
        """The main segment's primary colour."""
        r, g, b = self.state["seg"][0]["col"][0][:3]
        return r, g, b

    # -- what happens at the strip -------------------------------------------------

    async def press_button(self) -> None:
        """Toggle the strip with its hardware button (the change is pushed to clients)."""
        await self.apply({"on": not self.state["on"]})

    async def apply(self, change: dict[str, Any]) -> None:
        """Apply a JSON API state change and push the new state to websocket clients."""
        self._apply(change)
        await self._push()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on host:80."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/json", self._json)
        app.router.add_get("/json/", self._json)
        app.router.add_get("/json/si", self._state_info)
        app.router.add_get("/json/state", self._get_state)
        app.router.add_post("/json/state", self._post_state)
        app.router.add_post("/json", self._post_state)
        app.router.add_get("/json/info", self._info_route)
        app.router.add_get("/json/effects", self._list(EFFECTS))
        app.router.add_get("/json/palettes", self._list(PALETTES))
        app.router.add_get("/json/fxdata", self._list(["" for _ in EFFECTS]))
        app.router.add_get("/json/cfg", self._cfg)
        app.router.add_get("/presets.json", self._presets)
        app.router.add_get("/ws", self._websocket)
        self._runner = await serve(app, self.host, self.port)
        self._started = time.time()
        log.info("wled simulator %s on %s:%d", self.name, self.host, self.port)

    async def stop(self) -> None:
        """Kill the strip (websockets drop; state is kept for a restart)."""
        runner, self._runner = self._runner, None
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        self._sockets.clear()
        if runner is not None:
            await runner.cleanup()

    def service_info(self) -> AsyncServiceInfo:
        """The mDNS advertisement a real strip makes (`_wled._tcp`, with its MAC)."""
        label = self.name.lower().replace(" ", "-")
        return loopback_service(
            SERVICE_TYPE, label, self.host, self.port, {"mac": self.mac}, f"wled-{self.mac[-6:]}"
        )

    async def advertise(self, zeroconf: AsyncZeroconf) -> AsyncServiceInfo:
        """Register the strip's mDNS service on `zeroconf`; returns it for unregistering."""
        return await advertise(zeroconf, self.service_info())

    # -- the JSON API --------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """`/json/info` as WLED 0.15 reports it."""
        return {
            "ver": "0.15.0",
            "vid": 2412100,
            "leds": {
                "count": LED_COUNT,
                "pwr": 850 if self.state["on"] else 0,
                "fps": 42,
                "maxpwr": 850,
                "maxseg": 32,
                "lc": 1,
                "seglc": [1],
                "rgbw": False,
                "wv": 0,
                "cct": 0,
            },
            "str": False,
            "name": self.name,
            "udpport": 21324,
            "live": False,
            "lm": "",
            "lip": "",
            "ws": len(self._sockets),
            "fxcount": len(EFFECTS),
            "palcount": len(PALETTES),
            "cpalcount": 0,
            "wifi": {"bssid": "00:11:22:33:44:55", "rssi": -52, "signal": 96, "channel": 6},
            "fs": {"u": 12, "t": 983, "pmt": 1700000000},
            "ndc": 0,
            "arch": "esp32",
            "core": "v3.3.6-16-gcc5440f6a2",
            "freeheap": 180000,
            "uptime": int(time.time() - self._started),
            "opt": 79,
            "brand": "WLED",
            "product": "FOSS",
            "mac": self.mac,
            "ip": self.host,
        }

    async def _json(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(
            {"state": self.state, "info": self.info(), "effects": EFFECTS, "palettes": PALETTES}
        )

    async def _state_info(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response({"state": self.state, "info": self.info()})

    async def _get_state(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(self.state)

    async def _info_route(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(self.info())

    async def _post_state(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            change = json.loads(await request.text())
        except ValueError:
            return web.json_response({"error": 9}, status=400)
        if not isinstance(change, dict):
            return web.json_response({"error": 9}, status=400)
        self._apply(change)
        await self._push()
        if change.get("v"):
            return web.json_response(self.state)
        return web.json_response({"success": True})

    def _list(self, items: list[str]) -> Any:
        async def handler(request: web.Request) -> web.Response:
            self.requests += 1
            return web.json_response(items)

        return handler

    async def _cfg(self, request: web.Request) -> web.Response:
        self.requests += 1
        led = {"total": LED_COUNT, "maxpwr": 850, "cct": False, "cr": False, "cb": 0}
        return web.json_response({"hw": {"led": led}})

    async def _presets(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response({"0": {}, **self.presets})

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_json({"state": self.state, "info": self.info()})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    change = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(change, dict):
                    self._apply(change)
                    await self._push()
        finally:
            self._sockets.discard(ws)
        return ws

    async def _push(self) -> None:
        message = {"state": self.state, "info": self.info()}
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await ws.send_json(message)

    # -- state -------------------------------------------------------------------------

    def _apply(self, change: dict[str, Any]) -> None:
        state = self.state
        manual = False
        if "ps" in change:
            preset = self.presets.get(str(change["ps"]))
            if preset is not None:
                self._apply({k: v for k, v in preset.items() if k != "n"})
                state["ps"] = int(change["ps"])
        if "on" in change:
            state["on"] = (not state["on"]) if change["on"] == "t" else bool(change["on"])
            manual = True
        if isinstance(change.get("bri"), int):
            state["bri"] = max(0, min(255, change["bri"]))
            manual = True
        for seg_change in change.get("seg", []) if isinstance(change.get("seg"), list) else []:
            seg_id = seg_change.get("id", state["mainseg"])
            for seg in state["seg"]:
                if seg["id"] == seg_id:
                    self._apply_segment(seg, seg_change)
                    manual = True
        if manual and "ps" not in change:
            state["ps"] = -1  # a manual change leaves the preset, as on the device

    @staticmethod
    def _apply_segment(seg: dict[str, Any], change: dict[str, Any]) -> None:
        for key in ("on", "bri", "fx", "sx", "ix", "pal", "cct"):
            if key in change:
                seg[key] = change[key]
        colors = change.get("col")
        if isinstance(colors, list):
            for index, color in enumerate(colors[:3]):
                if isinstance(color, list) and len(color) >= 3:
                    seg["col"][index] = [int(c) for c in color[:3]]


def demo_strip(host: str, **kwargs: Any) -> WledSimulator:
    """The demo home's strip: "TV backlight" with two presets."""
    strip = WledSimulator(host=host, **kwargs)
    strip.presets = {
        "1": {
            "n": "Movie night",
            "on": True,
            "bri": 60,
            "seg": [{"id": 0, "col": [[80, 40, 200]]}],
        },
        "2": {
            "n": "Bright white",
            "on": True,
            "bri": 255,
            "seg": [{"id": 0, "col": [[255, 255, 255]]}],
        },
    }
    return strip


async def demo(ctx: DemoContext) -> DemoPart:
    """Start the demo strip on its own loopback address and point the adapter at it."""
    strip = demo_strip(ctx.addresses.allocate())
    await strip.start()

    async def stop() -> None:
        with contextlib.suppress(Exception):
            await strip.stop()

    config = {"wled": {"hosts": [{"host": strip.host, "area": "living_room"}]}}
    return DemoPart(name="wled", config=config, stop=stop, handle=strip)
