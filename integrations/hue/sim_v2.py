"""The simulated Hue bridge's CLIP v2 API: HTTPS with a self-signed certificate made
at start, `/clip/v2/resource[/<type>[/<id>]]` and the server-sent event stream
`/eventstream/clip/v2`, over the same datastore as the v1 API (a change made
through either, or "in the Hue app", is one change, pushed to every stream).

Resources have the shape aiohue's v2 models parse: the bridge and its device,
one device + zigbee_connectivity + light per bulb, one room + grouped_light per
v1 room, and scenes. Ids are stable UUIDs derived from the bridge id and v1 ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import ssl
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from integrations.hue.color import bri_to_percent

log = logging.getLogger(__name__)


class Bridge(Protocol):
    """What the v2 view reads of its bridge (`simulator.HueBridgeSimulator`, which creates
    this view and hands itself over: typed here so this module does not import it back)."""

    name: str
    host: str
    bridge_id: str
    lights: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]
    scenes: dict[str, dict[str, Any]]
    users: set[str]
    on_change: list[Callable[[str, dict[str, Any]], None]]

    def apply(self, light_id: str, changes: dict[str, Any]) -> None:
        """Change a light's state (every API and the Hue app end here)."""
        ...


SOFTWARE_VERSION = "1.67.1967054020"
_ROOM_ARCHETYPES = {"Dining": "dining", "Office": "office", "Living room": "living_room"}


def self_signed_context(host: str) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate (as a bridge has)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "homeclaw hue simulator")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="hc-hue-tls-") as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(cert_path, key_path)
    return context


class HueV2Api:
    """The CLIP v2 view of one simulated bridge, served over HTTPS."""

    def __init__(self, bridge: Bridge, port: int = 443) -> None:
        self.bridge = bridge
        self.port = port
        self.streams: set[asyncio.Queue[list[dict[str, Any]] | None]] = set()
        self.geofence: dict[str, dict[str, Any]] = {}
        self.events_sent = 0
        self._runner: web.AppRunner | None = None
        bridge.on_change.append(self._changed)

    # -- ids -------------------------------------------------------------------

    def uid(self, kind: str, key: str = "") -> str:
        """The stable v2 id of a resource."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hue:{self.bridge.bridge_id}/{kind}/{key}"))

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Serve HTTPS on the bridge's host (port 443 like a real bridge, unless told)."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/clip/v2/resource", self._all)
        app.router.add_get("/clip/v2/resource/{rtype}", self._of_type)
        app.router.add_get("/clip/v2/resource/{rtype}/{rid}", self._one)
        app.router.add_put("/clip/v2/resource/{rtype}/{rid}", self._put)
        app.router.add_post("/clip/v2/resource/{rtype}", self._post)
        app.router.add_get("/eventstream/clip/v2", self._eventstream)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        context = await asyncio.to_thread(self_signed_context, self.bridge.host)
        try:
            site = web.TCPSite(
                runner, self.bridge.host, self.port, ssl_context=context, reuse_address=True
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        """Close every event stream and stop serving."""
        for queue in list(self.streams):
            queue.put_nowait(None)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- resources -------------------------------------------------------------

    def resources(self) -> list[dict[str, Any]]:
        """Every resource, as `GET /clip/v2/resource` lists them."""
        b = self.bridge
        bridge_rid, device_rid = self.uid("bridge"), self.uid("device", "bridge")
        out: list[dict[str, Any]] = [
            {
                "id": bridge_rid,
                "id_v1": "",
                "owner": {"rid": device_rid, "rtype": "device"},
                "bridge_id": b.bridge_id.lower(),
                "time_zone": {"time_zone": "Europe/Amsterdam"},
                "type": "bridge",
            },
            {
                "id": device_rid,
                "id_v1": "",
                "product_data": self._product("BSB002", "Hue Bridge", "bridge_v2"),
                "metadata": {"name": b.name, "archetype": "bridge_v2"},
                "services": [{"rid": bridge_rid, "rtype": "bridge"}],
                "type": "device",
            },
        ]
        for light_id, raw in b.lights.items():
            device = self.uid("device", light_id)
            archetype = "sultan_bulb" if "xy" in raw["state"] else "classic_bulb"
            out.append(
                {
                    "id": device,
                    "id_v1": f"/lights/{light_id}",
                    "product_data": self._product(
                        raw.get("modelid", ""), raw.get("productname", ""), archetype
                    ),
                    "metadata": {"name": raw["name"], "archetype": archetype},
                    "services": [
                        {"rid": self.uid("light", light_id), "rtype": "light"},
                        {"rid": self.uid("zigbee", light_id), "rtype": "zigbee_connectivity"},
                    ],
                    "type": "device",
                }
            )
            out.append(
                {
                    "id": self.uid("zigbee", light_id),
                    "id_v1": f"/lights/{light_id}",
                    "owner": {"rid": device, "rtype": "device"},
                    "status": "connected"
                    if raw["state"].get("reachable", True)
                    else "connectivity_issue",
                    "mac_address": str(raw.get("uniqueid", "")).split("-")[0],
                    "type": "zigbee_connectivity",
                }
            )
            out.append(self.light(light_id))
        for group_id, group in b.groups.items():
            out.append(
                {
                    "id": self.uid("room", group_id),
                    "id_v1": f"/groups/{group_id}",
                    "children": [
                        {"rid": self.uid("device", i), "rtype": "device"} for i in group["lights"]
                    ],
                    "services": [{"rid": self.uid("grouped", group_id), "rtype": "grouped_light"}],
                    "metadata": {
                        "name": group["name"],
                        "archetype": _ROOM_ARCHETYPES.get(group.get("class", ""), "other"),
                    },
                    "type": "room",
                }
            )
            out.append(self.grouped_light(group_id))
        for scene_id, scene in b.scenes.items():
            out.append(
                {
                    "id": self.uid("scene", scene_id),
                    "id_v1": f"/scenes/{scene_id}",
                    "metadata": {"name": scene["name"]},
                    "group": {"rid": self.uid("room", scene["group"]), "rtype": "room"},
                    "actions": [
                        {
                            "target": {"rid": self.uid("light", i), "rtype": "light"},
                            "action": self._light_fields(state, {}),
                        }
                        for i, state in scene["lightstates"].items()
                    ],
                    "speed": 0.6,
                    "status": {"active": "inactive"},
                    "type": "scene",
                }
            )
        out.extend(self.geofence.values())
        return out

    @staticmethod
    def _product(model: str, product: str, archetype: str) -> dict[str, Any]:
        return {
            "model_id": model,
            "manufacturer_name": "Signify Netherlands B.V.",
            "product_name": product,
            "product_archetype": archetype,
            "certified": True,
            "software_version": SOFTWARE_VERSION,
        }

    def light(self, light_id: str) -> dict[str, Any]:
        """One light resource (state in v2 units)."""
        raw = self.bridge.lights[light_id]
        return {
            "id": self.uid("light", light_id),
            "id_v1": f"/lights/{light_id}",
            "owner": {"rid": self.uid("device", light_id), "rtype": "device"},
            "metadata": {"name": raw["name"], "archetype": "sultan_bulb"},
            "mode": "normal",
            "type": "light",
            **self._light_fields(raw["state"], raw["state"]),
        }

    @staticmethod
    def _light_fields(state: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
        """v1 state keys as v2 features; `full` (the light's whole state) adds schemas."""
        out: dict[str, Any] = {}
        if "on" in state:
            out["on"] = {"on": bool(state["on"])}
        if "bri" in state:
            out["dimming"] = {"brightness": float(bri_to_percent(int(state["bri"])))}
            if full:
                out["dimming"]["min_dim_level"] = 0.2
        if "xy" in state:
            out["color"] = {"xy": {"x": state["xy"][0], "y": state["xy"][1]}}
            if full:
                out["color"]["gamut_type"] = "C"
        if "ct" in state:
            out["color_temperature"] = {"mirek": state["ct"]}
            if full:
                out["color_temperature"] |= {
                    "mirek_valid": full.get("colormode") == "ct",
                    "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 500},
                }
        return out

    def grouped_light(self, group_id: str) -> dict[str, Any]:
        """A room's grouped_light: on if any member is on, the members' mean brightness."""
        members = [self.bridge.lights[i]["state"] for i in self.bridge.groups[group_id]["lights"]]
        on = [m for m in members if m.get("on")]
        bri = [m["bri"] for m in on if "bri" in m]
        out: dict[str, Any] = {
            "id": self.uid("grouped", group_id),
            "id_v1": f"/groups/{group_id}",
            "owner": {"rid": self.uid("room", group_id), "rtype": "room"},
            "on": {"on": bool(on)},
            "type": "grouped_light",
        }
        if bri:
            out["dimming"] = {"brightness": float(bri_to_percent(round(sum(bri) / len(bri))))}
        return out

    # -- HTTP ------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("hue-application-key", "") in self.bridge.users

    @staticmethod
    def _errors(status: int, description: str) -> web.Response:
        return web.json_response(
            {"errors": [{"description": description}], "data": []}, status=status
        )

    async def _all(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._errors(403, "unauthorized user")
        return web.json_response({"errors": [], "data": self.resources()})

    async def _of_type(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._errors(403, "unauthorized user")
        rtype = request.match_info["rtype"]
        found = [r for r in self.resources() if r["type"] == rtype]
        return web.json_response({"errors": [], "data": found})

    async def _one(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._errors(403, "unauthorized user")
        rid = request.match_info["rid"]
        found = [r for r in self.resources() if r["id"] == rid]
        if not found:
            return self._errors(404, "Not Found")
        return web.json_response({"errors": [], "data": found})

    async def _post(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._errors(403, "unauthorized user")
        if request.match_info["rtype"] != "geofence_client":
            return self._errors(405, "method not available for resource")
        body = await request.json()
        rid = str(uuid.uuid4())
        self.geofence[rid] = {
            "id": rid,
            "name": str(body.get("name", "")),
            "type": "geofence_client",
        }
        self._publish("add", [self.geofence[rid]])
        return web.json_response({"errors": [], "data": [{"rid": rid, "rtype": "geofence_client"}]})

    async def _put(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._errors(403, "unauthorized user")
        rtype, rid = request.match_info["rtype"], request.match_info["rid"]
        try:
            body = await request.json()
        except ValueError:
            return self._errors(400, "body contains invalid json")
        if not isinstance(body, dict):
            return self._errors(400, "body contains invalid json")
        b = self.bridge
        changes = _v1_changes(body)
        if rtype == "light":
            light_id = next((i for i in b.lights if self.uid("light", i) == rid), None)
            if light_id is None:
                return self._errors(404, "Not Found")
            b.apply(light_id, changes)
        elif rtype == "grouped_light":
            group_id = next((g for g in b.groups if self.uid("grouped", g) == rid), None)
            if group_id is None:
                return self._errors(404, "Not Found")
            for light_id in b.groups[group_id]["lights"]:
                b.apply(light_id, changes)
        elif rtype == "scene":
            scene_id = next((s for s in b.scenes if self.uid("scene", s) == rid), None)
            if scene_id is None:
                return self._errors(404, "Not Found")
            if (body.get("recall") or {}).get("action") in ("active", "static"):
                for light_id, state in b.scenes[scene_id]["lightstates"].items():
                    b.apply(light_id, state)
        elif rtype == "geofence_client" and rid in self.geofence:
            self.geofence[rid]["name"] = str(body.get("name", self.geofence[rid]["name"]))
            self._publish("update", [{"id": rid, "name": self.geofence[rid]["name"],
                                      "type": "geofence_client"}])  # fmt: skip
        else:
            return self._errors(404, "Not Found")
        return web.json_response({"errors": [], "data": [{"rid": rid, "rtype": rtype}]})

    async def _eventstream(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return self._errors(403, "unauthorized user")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue()
        self.streams.add(queue)
        try:
            await response.write(b": hi\n\n")
            while True:
                events = await queue.get()
                if events is None:
                    break
                stamp = f"{int(time.time())}:{self.events_sent}"
                await response.write(f"id: {stamp}\ndata: {json.dumps(events)}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.streams.discard(queue)
        with contextlib.suppress(Exception):
            await response.write_eof()
        return response

    # -- events ----------------------------------------------------------------

    def _publish(self, kind: str, data: list[dict[str, Any]]) -> None:
        self.events_sent += 1
        event = {
            "creationtime": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": data,
            "id": str(uuid.uuid4()),
            "type": kind,
        }
        for queue in list(self.streams):
            queue.put_nowait([event])

    def _changed(self, light_id: str, changes: dict[str, Any]) -> None:
        """A light changed (any API, or the Hue app): push the light and its rooms."""
        if light_id not in self.bridge.lights:
            return
        raw = self.bridge.lights[light_id]["state"]
        data = [
            {
                "id": self.uid("light", light_id),
                "id_v1": f"/lights/{light_id}",
                "owner": {"rid": self.uid("device", light_id), "rtype": "device"},
                "type": "light",
                **self._light_fields({k: raw[k] for k in changes if k in raw}, {}),
            }
        ]
        if "ct" in changes and "ct" in raw:
            data[0]["color_temperature"]["mirek_valid"] = raw.get("colormode") == "ct"
        elif changes.keys() & {"xy", "hue", "sat"} and "ct" in raw:
            # Out of the white spectrum, as a real bridge reports it.
            data[0]["color_temperature"] = {"mirek": None, "mirek_valid": False}
        for group_id, group in self.bridge.groups.items():
            if light_id in group["lights"]:
                data.append(self.grouped_light(group_id))
        self._publish("update", data)


def _v1_changes(body: dict[str, Any]) -> dict[str, Any]:
    """A v2 PUT body as v1 state keys (the datastore's units)."""
    changes: dict[str, Any] = {}
    if isinstance(body.get("on"), dict) and "on" in body["on"]:
        changes["on"] = bool(body["on"]["on"])
    if isinstance(body.get("dimming"), dict) and "brightness" in body["dimming"]:
        changes["bri"] = max(1, min(254, round(float(body["dimming"]["brightness"]) * 254 / 100)))
    color = body.get("color")
    if isinstance(color, dict) and isinstance(color.get("xy"), dict):
        changes["xy"] = [float(color["xy"]["x"]), float(color["xy"]["y"])]
    ct = body.get("color_temperature")
    if isinstance(ct, dict) and ct.get("mirek") is not None:
        changes["ct"] = int(ct["mirek"])
    return changes
