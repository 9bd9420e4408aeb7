"""WLED strips through the `wled` client: on/off, brightness, colour, presets, live by websocket.

Each strip is watched on its own: a full update over HTTP, then the websocket
(`/ws`) pushes every change. A dropped websocket marks the strip unavailable
and it is reconnected with capped exponential backoff. The device id is
`wled:<mac>`, so a new IP keeps the strip's name, area and history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
from wled import WLED, WLEDConnectionError, WLEDError
from wled import Device as WledDevice

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import DeviceUnavailable, HomeError, IntegrationError, UnsupportedCommand
from integrations.watchers import DeviceWatchers
from integrations.wled.config import WledConfig, WledHost

if TYPE_CHECKING:
    from agent.home import Home
    from agent.runtime import Runtime
    from agent.supervise import Supervisor
    from integrations.discovery_scan import DiscoveredDevice

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def translate_errors(host: str, timeout: float | None) -> AsyncIterator[None]:
    """The one place `wled`/aiohttp errors become homeclaw errors (with an optional timeout)."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except HomeError:
        raise
    except (WLEDConnectionError, aiohttp.ClientError, OSError, TimeoutError) as err:
        raise DeviceUnavailable(f"The WLED strip at {host} is not reachable.") from err
    except WLEDError as err:
        raise IntegrationError(f"The WLED strip at {host} refused: {err}") from err


def percent_to_wled(percent: int) -> int:
    """Percent as WLED brightness (0-255)."""
    return max(0, min(255, round(percent * 255 / 100)))


def wled_to_percent(bri: int) -> int:
    """WLED brightness (0-255) as percent (a lit strip is never 0 %)."""
    return 0 if bri <= 0 else max(1, min(100, round(bri * 100 / 255)))


def strip_state(device: WledDevice) -> DeviceState:
    """A strip's state in normalised units (the main segment's primary colour)."""
    state = device.state
    fields: dict[str, Any] = {"on": state.on, "brightness": wled_to_percent(state.brightness)}
    segment = state.segments.get(state.main_segment_id)
    if segment is not None and segment.color is not None:
        r, g, b = segment.color.primary[:3]
        fields["color"] = (r, g, b)
    preset = device.presets.get(state.preset_id) if state.preset_id is not None else None
    fields["preset"] = preset.name if preset is not None else None
    return DeviceState(**fields)


def strip_device(device: WledDevice, strip: WledHost) -> Device:
    """A strip as a homeclaw light."""
    features = {Feature.ON_OFF, Feature.BRIGHTNESS, Feature.COLOR}
    presets = sorted(p.name for p in device.presets.values() if p.name)
    if presets:
        features.add(Feature.PRESET)
    return Device(
        id=f"wled:{device.info.mac_address.lower().replace(':', '')}",
        name=device.info.name,
        kind=Kind.LIGHT,
        integration="wled",
        area=strip.area,
        device_class="strip",
        features=frozenset(features),
        state=strip_state(device),
        info={
            "host": strip.host,
            "version": str(device.info.version),
            "leds": device.info.leds.count,
            "presets": presets,
        },
    )


class StripLink:
    """One strip: its client, its library-side model and the device id it maps to."""

    def __init__(self, strip: WledHost, config: WledConfig) -> None:
        self.strip = strip
        self.config = config
        self.client: WLED | None = None
        self.model: WledDevice | None = None
        self.device_id: str | None = None
        self.connected = False

    @property
    def host(self) -> str:
        """The strip's address."""
        return self.strip.host

    def errors(self, timeout: float | None = -1.0) -> contextlib.AbstractAsyncContextManager[None]:
        """Translate this strip's errors (default timeout: the request timeout)."""
        limit = self.config.request_timeout if timeout == -1.0 else timeout
        return translate_errors(self.strip.host, limit)

    async def run(
        self,
        session: aiohttp.ClientSession,
        home: Home,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Fetch the strip, register it, then follow its websocket until it drops."""
        client = WLED(self.strip.host, request_timeout=self.config.request_timeout, session=session)
        try:
            # update() retries refused connections itself, so allow it a few tries.
            async with self.errors(self.config.request_timeout * 3):
                self.model = await client.update()
                await client.connect()
            device = strip_device(self.model, self.strip)
            known = home.find(device.id)
            if device.area is None and known is not None:
                # Rediscovered at a new address without an area: keep the one it had.
                device = replace(device, area=known.area)
            self.client, self.device_id, self.connected = client, device.id, True
            home.add(device)
            if on_connected is not None:
                on_connected()
            log.info("wled strip %s connected at %s", device.id, self.strip.host)

            def on_update(model: WledDevice) -> None:
                if self.device_id is not None:
                    home.update(self.device_id, strip_state(model), available=True)

            async with self.errors(None):
                await client.listen(on_update)
            raise DeviceUnavailable(f"The WLED strip at {self.strip.host} closed its websocket.")
        finally:
            self.connected = False
            with contextlib.suppress(Exception):
                await client.disconnect()

    async def execute(self, home: Home, device: Device, command: Command) -> DeviceState:
        """Send one command; the reply carries the strip's new state."""
        client, model = self.client, self.model
        if not self.connected or client is None or model is None:
            raise DeviceUnavailable(f"{device.name} is not reachable right now.")
        action = command.action
        async with self.errors():
            if action in (Action.TURN_ON, Action.TURN_OFF, Action.TOGGLE):
                on = action is Action.TURN_ON or (action is Action.TOGGLE and not model.state.on)
                await client.master(on=on)
            elif action is Action.SET_BRIGHTNESS and command.brightness is not None:
                if command.brightness == 0:
                    await client.master(on=False)
                else:
                    await client.master(on=True, brightness=percent_to_wled(command.brightness))
            elif action is Action.SET_COLOR and command.color is not None:
                await client.segment(
                    model.state.main_segment_id, color_primary=command.color, on=True
                )
                if not model.state.on:
                    await client.master(on=True)
            elif action is Action.ACTIVATE_PRESET and command.preset is not None:
                await client.preset(self._preset_id(device, model, command.preset))
            else:
                raise UnsupportedCommand(f"{device.name} can't {action.value.replace('_', ' ')}.")
        # The client folds each POST's reply (`"v": true`) into its model.
        state = strip_state(model)
        home.update(device.id, state, available=True)
        return state

    @staticmethod
    def _preset_id(device: Device, model: WledDevice, name: str) -> int:
        for preset in model.presets.values():
            if preset.name.lower() == name.strip().lower() or str(preset.preset_id) == name:
                return preset.preset_id
        known = ", ".join(sorted(p.name for p in model.presets.values())) or "none"
        raise UnsupportedCommand(f"{device.name} has no preset called {name!r} (it has: {known}).")

    def mark_unavailable(self, home: Home) -> None:
        """The strip cannot be reached until it answers again."""
        self.connected = False
        if self.device_id is not None:
            home.update(self.device_id, available=False)


class WledIntegration:
    """Every configured strip, each watched on its own with backoff."""

    name = "wled"

    def __init__(self, config: WledConfig, supervisor: Supervisor | None = None) -> None:
        self.config = config
        self.links = [StripLink(strip, config) for strip in config.strips()]
        self._session: aiohttp.ClientSession | None = None
        self._home: Home | None = None
        self._watchers = DeviceWatchers(self.name, self._attend, config, supervisor, log)

    async def run(self, home: Home) -> None:
        """Watch every strip until stopped (one strip failing never stops the others)."""
        self._home = home
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        await self._watchers.run(home, self.links)

    async def _attend(self, link: StripLink, home: Home, on_connected: Callable[[], None]) -> None:
        assert self._session is not None
        await link.run(self._session, home, on_connected)

    async def discovered(self, found: DiscoveredDevice, *, add: bool) -> bool:
        """A strip seen on the LAN: follow it to a new address, or add it when asked."""
        if self._home is None or found.kind != "wled" or found.port != 80:
            return False  # the wled client only ever speaks to port 80
        device_id = f"wled:{found.unique_id.lower().replace(':', '')}"
        for link in self.links:
            if link.device_id == device_id or link.strip.host == found.host:
                if link.strip.host != found.host and self._watchers.may_move(
                    link, found.host, device_id
                ):
                    log.info("wled %s moved from %s to %s", device_id, link.strip.host, found.host)
                    self._watchers.health(link.host, None)  # the old address is no concern now
                    link.strip = link.strip.model_copy(update={"host": found.host})
                    self._watchers.restart(link)
                return True
        if not add:
            return False
        link = StripLink(WledHost(host=found.host), self.config)
        self.links.append(link)
        self._watchers.add(link)
        return True

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Act on a strip and return its confirmed state."""
        if self._home is None:
            raise DeviceUnavailable("The WLED integration is not running.")
        for link in self.links:
            if link.device_id == device.id:
                return await link.execute(self._home, device, command)
        raise DeviceUnavailable(f"{device.name} is not connected.")

    async def stop(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def create(section: WledConfig, rt: Runtime | None = None) -> WledIntegration:
    """Build the WLED integration from its config section (no I/O)."""
    return WledIntegration(section, rt.supervisor if rt is not None else None)
