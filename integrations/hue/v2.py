"""Hue bridges through aiohue's v2 client (CLIP v2: HTTPS and its event stream).

Changes made in the Hue app, by a wall switch or by another system arrive as
events within milliseconds; nothing is polled. Devices keep the ids of the v1
integration (`hue:<bridgeid>:<light uniqueid>`, `hue:<bridgeid>:group:<id>`):
the v1 id of each resource (`id_v1`) leads to the light's Zigbee unique id, read
once from the v1 API, so switching API changes no names, areas or history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohue.v2 import HueBridgeV2
from aiohue.v2.controllers.events import EventType

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import AuthenticationFailed, IntegrationError, UnsupportedCommand
from integrations.hue.color import mired_to_kelvin, xy_to_rgb
from integrations.hue.mapping import command_to_hue, light_id, room_id

if TYPE_CHECKING:
    from aiohue.v2.models.light import Light
    from aiohue.v2.models.room import Room

    from agent.home import Home

log = logging.getLogger(__name__)


async def has_v2(session: aiohttp.ClientSession, host: str, app_key: str, timeout: float) -> bool:
    """Whether the bridge at `host` speaks CLIP v2 (HTTPS); False for v1-only ones.

    A bridge that answers v2 but refuses the key is an authentication problem,
    not a reason to fall back.
    """
    url = f"https://{host}/clip/v2/resource/bridge"
    try:
        async with session.get(
            url,
            headers={"hue-application-key": app_key},
            ssl=False,  # bridges present a certificate for their id, not their address
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            if resp.status == 403:
                raise AuthenticationFailed(
                    f"The Hue bridge at {host} refused the app key; run `homeclaw hue-pair {host}`."
                )
            if resp.status != 200:
                return False
            body = await resp.json(content_type=None)
            return isinstance(body, dict) and isinstance(body.get("data"), list)
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError):
        return False


async def v1_unique_ids(
    session: aiohttp.ClientSession, host: str, app_key: str, timeout: float
) -> dict[str, str]:
    """v1 light id → Zigbee unique id (empty when the v1 API does not answer)."""
    try:
        async with session.get(
            f"http://{host}/api/{app_key}/lights", timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            body = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError):
        return {}
    if not isinstance(body, dict):
        return {}
    return {
        k: str(v["uniqueid"]) for k, v in body.items() if isinstance(v, dict) and "uniqueid" in v
    }


def _v1_number(id_v1: str | None) -> str | None:
    return id_v1.rsplit("/", 1)[-1] if id_v1 else None


def light_state_v2(light: Light) -> DeviceState:
    """A v2 light (or grouped light) in normalised units."""
    fields: dict[str, Any] = {"on": bool(light.on.on) if light.on else False}
    if getattr(light, "dimming", None) is not None:
        fields["brightness"] = max(1, min(100, round(light.dimming.brightness)))
    ct = getattr(light, "color_temperature", None)
    color = getattr(light, "color", None)
    if ct is not None and ct.mirek_valid and ct.mirek:
        fields["color_temp_k"] = mired_to_kelvin(ct.mirek)
    elif color is not None:
        fields["color"] = xy_to_rgb(color.xy.x, color.xy.y)
    return DeviceState(**fields)


def light_features_v2(light: Light) -> frozenset[Feature]:
    """What a v2 light can do, from the features its resource carries."""
    features = {Feature.ON_OFF}
    if light.dimming is not None:
        features.add(Feature.BRIGHTNESS)
    if light.color is not None:
        features.add(Feature.COLOR)
    if light.color_temperature is not None:
        features.add(Feature.COLOR_TEMP)
    return frozenset(features)


def v2_change(command: Command, change: dict[str, Any]) -> dict[str, Any]:
    """The v1 state change for a command as aiohue v2 `set_state` arguments."""
    out: dict[str, Any] = {}
    if "on" in change:
        out["on"] = bool(change["on"])
    if "bri" in change:
        percent = command.brightness if command.action is Action.SET_BRIGHTNESS else None
        out["brightness"] = float(percent or round(change["bri"] * 100 / 254, 1))
    if "xy" in change:
        out["color_xy"] = (float(change["xy"][0]), float(change["xy"][1]))
    if "ct" in change:
        out["color_temp"] = int(change["ct"])
    return out


class HueV2Session:
    """One bridge over CLIP v2: its devices, their targets, and the live event stream."""

    def __init__(self, host: str, app_key: str, bridge_id: str, unique_ids: dict[str, str]):
        self.host = host
        self.api = HueBridgeV2(host, app_key)
        self.bridge_id = bridge_id
        self.unique_ids = unique_ids
        # device id → ("light" | "group", v2 id of the light / grouped_light)
        self.targets: dict[str, tuple[str, str]] = {}
        self.scenes: dict[str, dict[str, str]] = {}  # room v2 id → {scene name: scene v2 id}
        self.presets: dict[str, str] = {}  # room v2 id → the scene we last recalled
        self.lost = asyncio.Event()
        self.changed = asyncio.Event()
        self._home: Home | None = None
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self, home: Home) -> None:
        """Fetch everything, open the event stream, register the devices."""
        self._home = home
        await self.api.initialize()
        found = (self.api.bridge_id or "").lower()
        if found and self.bridge_id and found != self.bridge_id:
            raise IntegrationError(
                f"{self.host} is now Hue bridge {found}, not {self.bridge_id}; update the config."
            )
        self.bridge_id = found or self.bridge_id
        self._unsubscribe = [
            self.api.subscribe(self._on_resource),
            self.api.events.subscribe(self._on_connection, (EventType.DISCONNECTED,)),
        ]
        self.publish(register=True)

    async def close(self) -> None:
        """Stop the event stream and close aiohue's session."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        await self.api.close()

    # -- devices ---------------------------------------------------------------

    def _light_device_id(self, light: Light) -> str:
        number = _v1_number(light.id_v1)
        unique = self.unique_ids.get(number or "")
        return light_id(self.bridge_id, unique or light.id)

    def _room_device_id(self, room: Room) -> str:
        return room_id(self.bridge_id, _v1_number(room.id_v1) or room.id)

    def devices(self) -> list[Device]:
        """Every light and room as homeclaw devices, from aiohue's current model."""
        api, out = self.api, []
        rooms = list(api.groups.room)
        room_of: dict[str, str] = {}  # device v2 id → room name
        for room in rooms:
            for child in room.children:
                room_of[child.rid] = room.metadata.name
        for light in api.lights:
            device = api.devices.get(light.owner.rid)
            reachable = True
            for zigbee in api.sensors.zigbee_connectivity if device else []:
                if zigbee.owner.rid == light.owner.rid:
                    reachable = zigbee.status.value == "connected"
            product = device.product_data if device else None
            plug = product is not None and "plug" in product.product_archetype.value
            out.append(
                Device(
                    id=self._light_device_id(light),
                    name=device.metadata.name if device else light.metadata.name,
                    kind=Kind.SWITCH if plug else Kind.LIGHT,
                    integration="hue",
                    area=room_of.get(light.owner.rid),
                    features=light_features_v2(light),
                    state=light_state_v2(light),
                    available=reachable,
                    info={
                        "host": self.host,
                        "bridge_id": self.bridge_id,
                        "api": "v2",
                        "model": product.model_id if product else None,
                        "product": product.product_name if product else None,
                    },
                )
            )
            self.targets[out[-1].id] = ("light", light.id)
        for room in rooms:
            out.append(self._room(room))
        return out

    def _room(self, room: Room) -> Device:
        api = self.api
        members = api.groups.room.get_lights(room.id)
        features: set[Feature] = {Feature.ON_OFF}
        for member in members:
            features |= light_features_v2(member)
        self.scenes[room.id] = {s.metadata.name: s.id for s in api.groups.room.get_scenes(room.id)}
        if self.scenes[room.id]:
            features.add(Feature.PRESET)
        grouped = next((api.groups.grouped_light.get(s.rid) for s in room.services
                        if s.rtype.value == "grouped_light"), None)  # fmt: skip
        state = light_state_v2(grouped) if grouped is not None else DeviceState(on=False)
        preset = self.presets.get(room.id) if state.on else None
        device = Device(
            id=self._room_device_id(room),
            name=room.metadata.name,
            kind=Kind.LIGHT,
            integration="hue",
            area=room.metadata.name,
            device_class="group",
            features=frozenset(features),
            state=state.merged(preset=preset),
            available=True,
            info={
                "host": self.host,
                "bridge_id": self.bridge_id,
                "api": "v2",
                "group": "Room",
                "members": [self._light_device_id(m) for m in members],
                "presets": sorted(self.scenes[room.id]),
            },
        )
        if grouped is not None:
            self.targets[device.id] = ("group", grouped.id)
        return device

    def publish(self, *, register: bool = False) -> None:
        """Push every device's current state into the Home (registering them if asked)."""
        home = self._home
        if home is None:
            return
        for device in self.devices():
            if register or home.find(device.id) is None:
                home.add(device)
            else:
                home.update(device.id, device.state, available=device.available)

    # -- events ----------------------------------------------------------------

    def _on_resource(self, event_type: EventType, item: Any) -> None:
        """aiohue applied an event to its model: pass what changed on to the Home."""
        if item is None:
            return
        rtype = getattr(getattr(item, "type", None), "value", None)
        if rtype in ("light", "grouped_light", "zigbee_connectivity", "room", "scene", "device"):
            self.publish(register=event_type is not EventType.RESOURCE_UPDATED)
            self.changed.set()

    def _on_connection(self, event_type: EventType, item: Any = None) -> None:
        log.info("hue bridge %s: event stream %s", self.bridge_id, event_type.value)
        self.lost.set()

    # -- commands --------------------------------------------------------------

    async def execute(self, device: Device, command: Command, timeout: float) -> DeviceState:
        """Send one command; return the state the bridge then reports (by push)."""
        kind, target = self.targets[device.id]
        room = next(
            (r.id for r in self.api.groups.room if self._room_device_id(r) == device.id), ""
        )
        if command.action is Action.ACTIVATE_PRESET:
            if kind != "group":
                raise UnsupportedCommand(f"{device.name} has no scenes; its room does.")
            scene_id = self._scene_id(device, room, command.preset or "")
            await self.api.scenes.recall(scene_id)
            self.presets[room] = next(n for n, i in self.scenes[room].items() if i == scene_id)
        else:
            change = v2_change(command, command_to_hue(device, command))
            if kind == "light":
                await self.api.lights.set_state(target, **change)
            else:
                await self.api.groups.grouped_light.set_state(target, **change)
                self.presets.pop(room, None)
        # Wait for the push within part of the command's time, so a lost event costs
        # a slower answer, never a timeout.
        await self._confirmed(device.id, command, timeout / 2)
        self.publish()
        assert self._home is not None
        return self._home.get(device.id).state

    async def _confirmed(self, device_id: str, command: Command, timeout: float) -> None:
        """Wait for the event that shows the command took effect (or give up quietly)."""
        assert self._home is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self.publish()
            if self._home.get(device_id).state.satisfies(command):
                return
            self.changed.clear()
            try:
                async with asyncio.timeout(max(0.0, deadline - loop.time())):
                    await self.changed.wait()
            except TimeoutError:
                return

    def _scene_id(self, device: Device, room: str, name: str) -> str:
        scenes = self.scenes.get(room, {})
        for scene_name, scene_id in scenes.items():
            if scene_name.lower() == name.strip().lower() or scene_id == name:
                return scene_id
        known = ", ".join(sorted(scenes)) or "none"
        raise UnsupportedCommand(f"{device.name} has no scene called {name!r} (it has: {known}).")
