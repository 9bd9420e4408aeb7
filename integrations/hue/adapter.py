"""Hue bridges through aiohue: lights and rooms, scenes, live state.

A bridge that speaks CLIP v2 (every bridge since 2021) is followed through its
event stream (`v2.py`), so changes made in the Hue app arrive by push. One that
only speaks v1 (old firmware, emulators) has no events: it is polled every
`poll_interval` seconds and only changed devices reach the Home. A bridge that
stops answering marks its devices unavailable and is retried with capped
exponential backoff; devices keep their ids (`hue:<bridgeid>:<light uniqueid>`)
whatever the IP or the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohue import HueBridgeV1
from aiohue.errors import AiohueException, LinkButtonNotPressed, Unauthorized

from agent.devices import Action, Command, Device, DeviceState
from agent.errors import (
    AuthenticationFailed,
    DeviceUnavailable,
    HomeError,
    IntegrationError,
    UnsupportedCommand,
)
from integrations.hue.config import HueBridgeConfig, HueConfig
from integrations.hue.emulated import TolerantHueBridgeV1
from integrations.hue.mapping import (
    ROOM_TYPES,
    command_to_hue,
    light_device,
    light_id,
    room_device,
    room_id,
)
from integrations.hue.pairing import pair
from integrations.hue.v2 import HueV2Session, has_v2, v1_unique_ids
from integrations.watchers import DeviceWatchers

if TYPE_CHECKING:
    from agent.home import Home
    from agent.runtime import Runtime
    from agent.supervise import Supervisor
    from integrations.discovery_scan import DiscoveredDevice

log = logging.getLogger(__name__)

__all__ = ["HueIntegration", "create", "pair"]


@contextlib.asynccontextmanager
async def translate_errors(host: str, timeout: float) -> AsyncIterator[None]:
    """The one place aiohue/aiohttp errors become homeclaw errors (with a timeout)."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except HomeError:
        raise
    except Unauthorized as err:
        raise AuthenticationFailed(
            f"The Hue bridge at {host} refused the app key; run `homeclaw hue-pair {host}`."
        ) from err
    except LinkButtonNotPressed as err:
        raise AuthenticationFailed("Press the link button on the Hue bridge first.") from err
    except aiohttp.ClientResponseError as err:
        # The bridge answered: say what it said, not that it is unreachable.
        path = err.request_info.url.path if err.request_info else "?"
        for secret in (key for key in path.split("/") if len(key) >= 20):
            path = path.replace(secret, "<app key>")
        raise IntegrationError(
            f"The Hue bridge at {host} answered HTTP {err.status} ({err.message}) for {path}."
        ) from err
    except (TimeoutError, aiohttp.ClientError, OSError) as err:
        raise DeviceUnavailable(f"The Hue bridge at {host} is not reachable.") from err
    except (AiohueException, KeyError, ValueError, TypeError) as err:
        raise IntegrationError(f"The Hue bridge at {host} answered oddly: {err}") from err


class BridgeLink:
    """One bridge: its aiohue client, its devices, and the last state seen of each."""

    def __init__(self, config: HueBridgeConfig, settings: HueConfig) -> None:
        self.config = config
        self.settings = settings
        self.host = config.host
        self.api: HueBridgeV1 | None = None
        self.bridge_id: str | None = config.bridge_id.lower() if config.bridge_id else None
        # device id → ("light" | "group", id on the bridge)
        self.targets: dict[str, tuple[str, str]] = {}
        self.scenes: dict[str, dict[str, str]] = {}  # group id → {scene name: scene id}
        self.presets: dict[str, str] = {}  # group id → the scene we last recalled
        self.connected = False
        self.v2: HueV2Session | None = None  # while followed through CLIP v2

    def errors(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Translate this bridge's errors."""
        return translate_errors(self.host, self.settings.request_timeout)

    async def connect(self, session: aiohttp.ClientSession, home: Home) -> None:
        """Fetch the whole datastore and (re-)register every light and room."""
        if not self.config.app_key:
            raise AuthenticationFailed(
                f"The Hue bridge at {self.host} is not paired; run `homeclaw hue-pair {self.host}`."
            )
        api = TolerantHueBridgeV1(self.host, self.config.app_key, websession=session)
        async with self.errors():
            await api.initialize()
            assert api.config is not None
            found = api.config.bridge_id.lower()
        if self.bridge_id is not None and found != self.bridge_id:
            raise IntegrationError(
                f"{self.host} is now Hue bridge {found}, not {self.bridge_id}; update the config."
            )
        self.api, self.bridge_id, self.connected = api, found, True
        async with self.errors():  # a malformed light or room is the bridge's problem
            self.publish(home, register=True)
        log.info("hue bridge %s connected at %s", found, self.host)

    async def refresh(self, home: Home) -> None:
        """Poll lights and groups once and publish what changed."""
        api = self._api()
        async with self.errors():
            await api.lights.update()  # type: ignore[union-attr]
            await api.groups.update()  # type: ignore[union-attr]
            self.publish(home)

    def publish(self, home: Home, *, register: bool = False) -> None:
        """Push every device's current state into the Home (registering them if asked)."""
        api = self._api()
        assert self.bridge_id is not None and api.lights is not None and api.groups is not None
        lights = {light.id: light.raw for light in api.lights.values()}
        rooms = {g.id: g.raw for g in api.groups.values() if g.raw.get("type") in ROOM_TYPES}
        area_of: dict[str, str] = {}
        for raw in rooms.values():
            if raw.get("type") == "Room":
                area_of |= {member: raw["name"] for member in raw.get("lights", [])}
        if register:
            self.scenes = self._scenes(rooms)
        devices: list[Device] = []
        for bulb_id, raw in lights.items():
            devices.append(
                light_device(self.bridge_id, raw, area_of.get(bulb_id), self.host, self.connected)
            )
            self.targets[devices[-1].id] = ("light", bulb_id)
        for group_id, raw in rooms.items():
            scenes = sorted(self.scenes.get(group_id, {}))
            device = room_device(
                self.bridge_id,
                group_id,
                raw,
                lights,
                scenes,
                self.host,
                self.presets.get(group_id),
                self.connected,
            )
            devices.append(device)
            self.targets[device.id] = ("group", group_id)
        for device in devices:
            known = home.find(device.id)
            if register or known is None:
                home.add(device)
            else:
                home.update(device.id, device.state, available=device.available)

    def _scenes(self, rooms: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
        """Scenes by room: group scenes by their group, light scenes by their lights."""
        api = self._api()
        found: dict[str, dict[str, str]] = {}
        for scene in api.scenes.values() if api.scenes is not None else []:
            raw = scene.raw
            group = raw.get("group")
            if group is None:
                lights = set(raw.get("lights", []))
                group = next(
                    (g for g, r in rooms.items() if lights and lights <= set(r["lights"])), None
                )
            if group in rooms:
                found.setdefault(group, {})[raw["name"]] = scene.id
        return found

    async def speaks_v2(self, session: aiohttp.ClientSession) -> bool:
        """Whether to follow this bridge through CLIP v2 (config `api`, else a probe)."""
        if self.config.api != "auto" or not self.config.app_key:
            return self.config.api == "v2"
        return await has_v2(session, self.host, self.config.app_key, self.settings.request_timeout)

    async def connect_v2(self, session: aiohttp.ClientSession, home: Home) -> HueV2Session:
        """Open the v2 session (full state + event stream) and register every device."""
        assert self.config.app_key is not None
        timeout = self.settings.request_timeout
        unique_ids = await v1_unique_ids(session, self.host, self.config.app_key, timeout)
        v2 = HueV2Session(self.host, self.config.app_key, self.bridge_id or "", unique_ids)
        try:
            async with self.errors():
                await v2.start(home)
        except BaseException:
            await v2.close()
            raise
        self.v2, self.bridge_id, self.connected = v2, v2.bridge_id, True
        self.targets = v2.targets
        log.info("hue bridge %s connected at %s (v2, events)", v2.bridge_id, self.host)
        return v2

    async def close_v2(self) -> None:
        """Close the v2 session, if any."""
        v2, self.v2 = self.v2, None
        if v2 is not None:
            await v2.close()

    def mark_unavailable(self, home: Home) -> None:
        """Every device of this bridge is unreachable until the bridge answers again."""
        self.connected = False
        for device_id in self.targets:
            home.update(device_id, available=False)

    async def execute(self, home: Home, device: Device, command: Command) -> DeviceState:
        """Send one command, re-read the bridge, and return the device's confirmed state."""
        if not self.connected:
            raise DeviceUnavailable(f"{device.name}'s Hue bridge is not reachable right now.")
        if self.v2 is not None:
            async with self.errors():
                return await self.v2.execute(device, command, self.settings.request_timeout)
        kind, target = self.targets[device.id]
        api = self._api()
        assert api.lights is not None and api.groups is not None
        async with self.errors():
            if command.action is Action.ACTIVATE_PRESET:
                if kind != "group":
                    raise UnsupportedCommand(f"{device.name} has no scenes; its room does.")
                scene_id = self._scene_id(device, target, command.preset or "")
                await api.groups[target].set_action(scene=scene_id)
                self.presets[target] = next(
                    n for n, i in self.scenes[target].items() if i == scene_id
                )
            else:
                change = command_to_hue(device, command)
                if kind == "light":
                    await api.lights[target].set_state(**change)
                else:
                    await api.groups[target].set_action(**change)
                    self.presets.pop(target, None)
        await self.refresh(home)
        return home.get(device.id).state

    def _scene_id(self, device: Device, group_id: str, name: str) -> str:
        scenes = self.scenes.get(group_id, {})
        for scene_name, scene_id in scenes.items():
            if scene_name.lower() == name.strip().lower() or scene_id == name:
                return scene_id
        known = ", ".join(sorted(scenes)) or "none"
        raise UnsupportedCommand(f"{device.name} has no scene called {name!r} (it has: {known}).")

    def _api(self) -> HueBridgeV1:
        if self.api is None:
            raise DeviceUnavailable(f"The Hue bridge at {self.host} is not connected.")
        return self.api


class HueIntegration:
    """Every configured Hue bridge, each watched on its own with backoff."""

    name = "hue"

    def __init__(self, config: HueConfig, supervisor: Supervisor | None = None) -> None:
        self.config = config
        self.links = [BridgeLink(b, config) for b in config.bridges]
        self._session: aiohttp.ClientSession | None = None
        self._home: Home | None = None
        self._watchers = DeviceWatchers(
            self.name, self._attend, config, supervisor, log, label="hue bridge"
        )

    async def run(self, home: Home) -> None:
        """Watch every bridge until stopped (a bridge failing never stops the others)."""
        self._home = home
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.request_timeout)
            )
        await self._watchers.run(home, self.links)

    async def _attend(self, link: BridgeLink, home: Home, on_connected: Callable[[], None]) -> None:
        """Follow the bridge's v2 event stream, or poll its v1 API, until it stops answering."""
        assert self._session is not None
        if await link.speaks_v2(self._session):
            try:
                v2 = await link.connect_v2(self._session, home)
                on_connected()
                await v2.lost.wait()
            finally:
                await link.close_v2()
            raise DeviceUnavailable(f"The Hue bridge at {link.host} closed its event stream.")
        await link.connect(self._session, home)
        on_connected()
        while True:
            await asyncio.sleep(self.config.poll_interval)
            await link.refresh(home)

    async def discovered(self, found: DiscoveredDevice, *, add: bool) -> bool:
        """A bridge seen on the LAN: follow a known one to its new address.

        New bridges are never added here: they need the link button (`pair`).
        """
        if self._home is None or found.kind != "hue":
            return False
        address = found.host if found.port in (80, 443) else f"{found.host}:{found.port}"
        bridge_id = found.unique_id.lower()
        for link in self.links:
            if link.bridge_id == bridge_id or link.host == address:
                if link.host != address and self._watchers.may_move(link, address, bridge_id):
                    log.info("hue bridge %s moved from %s to %s", bridge_id, link.host, address)
                    self._watchers.health(link.host, None)  # the old address is no concern now
                    link.host = address
                    link.config = link.config.model_copy(update={"host": address})
                    self._watchers.restart(link)
                return True
        return False

    def link_for(self, device: Device) -> BridgeLink:
        """The bridge a device lives on."""
        for link in self.links:
            if device.id in link.targets:
                return link
        raise DeviceUnavailable(f"{device.name}'s Hue bridge is not connected.")

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Act on a light or room and return its confirmed state."""
        if self._home is None:
            raise DeviceUnavailable("The Hue integration is not running.")
        return await self.link_for(device).execute(self._home, device, command)

    async def stop(self) -> None:
        """Close the v2 sessions and the HTTP session."""
        for link in self.links:
            await link.close_v2()
        if self._session is not None:
            await self._session.close()
            self._session = None


def create(section: HueConfig, rt: Runtime | None = None) -> HueIntegration:
    """Build the Hue integration from its config section (no I/O)."""
    return HueIntegration(section, rt.supervisor if rt is not None else None)


# Re-exported for the CLI and discovery: ids are derived the same way everywhere.
light_device_id = light_id
room_device_id = room_id
