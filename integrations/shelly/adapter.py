"""Shelly Gen2+ devices through aioshelly's RpcDevice: relays, dimmers, power, live by websocket.

Each configured device is one RPC websocket: `NotifyStatus` frames keep the
Home current, a closed socket marks its components unavailable, and the
device is reconnected with capped exponential backoff. Every component is a
homeclaw device with the stable id `shelly:<mac>:<component>` (e.g.
`shelly:a0b1c2d3e4f5:switch:0`), so a new IP keeps its name, area and history.
ShellyError and transport errors become homeclaw errors in `translate_errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
from aioshelly.common import ConnectionOptions, process_ip_or_options
from aioshelly.exceptions import (
    DeviceConnectionError,
    InvalidAuthError,
    NotInitialized,
    RpcCallError,
    ShellyError,
)
from aioshelly.rpc_device import RpcDevice, RpcUpdateType

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import (
    AuthenticationFailed,
    DeviceUnavailable,
    HomeError,
    IntegrationError,
    UnsupportedCommand,
)
from integrations.shelly.config import ShellyConfig, ShellyHost
from integrations.watchers import DeviceWatchers

if TYPE_CHECKING:
    from agent.home import Home
    from agent.runtime import Runtime
    from agent.supervise import Supervisor
    from integrations.discovery_scan import DiscoveredDevice

log = logging.getLogger(__name__)

COMPONENT = re.compile(r"^(switch|light):(\d+)$")


@contextlib.asynccontextmanager
async def translate_errors(host: str, timeout: float | None) -> AsyncIterator[None]:
    """The one place ShellyError and transport errors become homeclaw errors."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except HomeError:
        raise
    except InvalidAuthError as err:
        raise AuthenticationFailed(
            f"The Shelly at {host} refused the password (set `password:` for it in the config)."
        ) from err
    except (DeviceConnectionError, NotInitialized, aiohttp.ClientError, OSError) as err:
        raise DeviceUnavailable(f"The Shelly at {host} is not reachable.") from err
    except TimeoutError as err:
        raise DeviceUnavailable(f"The Shelly at {host} did not answer in time.") from err
    except RpcCallError as err:
        raise IntegrationError(f"The Shelly at {host} refused ({err.code}): {err.message}") from err
    except (ShellyError, KeyError, TypeError, ValueError) as err:
        raise IntegrationError(f"The Shelly at {host} answered oddly: {err!r}") from err


def split_host(host: str) -> tuple[str, int]:
    """`ip[:port]` as (ip, port); port 80 when none is given."""
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name, int(port)
    return host, 80


def component_state(kind: str, status: dict[str, Any]) -> DeviceState:
    """A switch or light component's status in normalised units."""
    fields: dict[str, Any] = {"on": bool(status.get("output", False))}
    if isinstance(status.get("apower"), int | float):
        fields["power_w"] = float(status["apower"])
    if kind == "light" and isinstance(status.get("brightness"), int | float):
        fields["brightness"] = int(status["brightness"])
    return DeviceState(**fields)


class ShellyLink:
    """One Shelly: its RpcDevice while connected, and the device ids of its components."""

    def __init__(self, spec: ShellyHost, config: ShellyConfig) -> None:
        self.spec = spec
        self.config = config
        self.rpc: RpcDevice | None = None
        self.mac: str | None = None
        self.components: dict[str, str] = {}  # device id → component key ("switch:0")
        self.connected = False

    @property
    def host(self) -> str:
        """The device's address (host or host:port)."""
        return self.spec.host

    def errors(self, timeout: float | None = -1.0) -> contextlib.AbstractAsyncContextManager[None]:
        """Translate this device's errors (default timeout: the request timeout)."""
        limit = self.config.request_timeout if timeout == -1.0 else timeout
        return translate_errors(self.spec.host, limit)

    async def run(
        self,
        session: aiohttp.ClientSession,
        home: Home,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Connect, register the components, follow NotifyStatus until the socket closes."""
        ip, port = split_host(self.spec.host)
        async with self.errors():
            password = self.spec.password
            options = await process_ip_or_options(
                ConnectionOptions(
                    ip, username="admin" if password else None, password=password, port=port
                )
            )
            rpc = await RpcDevice.create(session, None, options)
        closed = asyncio.Event()

        def on_update(device: RpcDevice, update: RpcUpdateType) -> None:
            if update is RpcUpdateType.DISCONNECTED:
                self.connected = False
                closed.set()
            elif update is RpcUpdateType.STATUS and self.connected:
                self.publish(home)

        rpc.subscribe_updates(on_update)
        try:
            async with self.errors():
                await rpc.initialize()
                self.rpc, self.mac = rpc, str(rpc.shelly["mac"]).lower()
                self.connected = True
                self.publish(home, register=True)
            if on_connected is not None:
                on_connected()
            log.info("shelly %s connected at %s", rpc.hostname, self.spec.host)
            await closed.wait()
            raise DeviceUnavailable(f"The Shelly at {self.spec.host} closed its websocket.")
        finally:
            self.connected = False
            with contextlib.suppress(Exception):
                await rpc.shutdown()

    def publish(self, home: Home, *, register: bool = False) -> None:
        """Push every component's state into the Home (registering them if asked)."""
        rpc = self.rpc
        if rpc is None or self.mac is None:
            return
        status, config = rpc.status, rpc.config
        keys = sorted(k for k in status if COMPONENT.match(k))
        for key in keys:
            kind, index = key.split(":")
            device_id = f"shelly:{self.mac}:{key}"
            self.components[device_id] = key
            state = component_state(kind, status[key])
            if not register and home.find(device_id) is not None:
                home.update(device_id, state, available=True)
                continue
            own_name = (config.get(key) or {}).get("name")
            name = own_name or (rpc.name if len(keys) == 1 else f"{rpc.name} {int(index) + 1}")
            features = {Feature.ON_OFF} | ({Feature.BRIGHTNESS} if kind == "light" else set())
            device = Device(
                id=device_id,
                name=name,
                kind=Kind.LIGHT if kind == "light" else Kind.SWITCH,
                integration="shelly",
                area=self.spec.area,
                features=frozenset(features),
                state=state,
                info={"host": self.spec.host, "model": rpc.model, "firmware": rpc.version},
            )
            known = home.find(device_id)
            if device.area is None and known is not None:
                # Rediscovered at a new address without an area: keep the one it had.
                device = replace(device, area=known.area)
            home.add(device)

    async def execute(self, home: Home, device: Device, command: Command) -> DeviceState:
        """Send one command, read the component back, and return its confirmed state."""
        rpc = self.rpc
        if (
            not self.connected
            or rpc is None
            or not rpc.connected
            or device.id not in self.components
        ):
            raise DeviceUnavailable(f"{device.name} is not reachable right now.")
        key = self.components[device.id]
        kind, index = key.split(":")
        params: dict[str, Any] = {"id": int(index)}
        action = command.action
        if action in (Action.TURN_ON, Action.TURN_OFF, Action.TOGGLE):
            params["on"] = action is Action.TURN_ON or (
                action is Action.TOGGLE and not device.state.on
            )
        elif action is Action.SET_BRIGHTNESS and kind == "light" and command.brightness is not None:
            params["on"] = command.brightness > 0
            if command.brightness > 0:
                params["brightness"] = command.brightness
        else:
            raise UnsupportedCommand(f"{device.name} can't {action.value.replace('_', ' ')}.")
        method = "Switch" if kind == "switch" else "Light"
        async with self.errors():
            await rpc.call_rpc(f"{method}.Set", params)
            status = await rpc.call_rpc(f"{method}.GetStatus", {"id": int(index)})
        rpc.status[key].update(status)
        state = component_state(kind, rpc.status[key])
        home.update(device.id, state, available=True)
        return state

    def mark_unavailable(self, home: Home) -> None:
        """Every component is unreachable until the device answers again."""
        self.connected = False
        for device_id in self.components:
            home.update(device_id, available=False)


class ShellyIntegration:
    """Every configured Shelly, each watched on its own with backoff."""

    name = "shelly"

    def __init__(self, config: ShellyConfig, supervisor: Supervisor | None = None) -> None:
        self.config = config
        self.links = [ShellyLink(spec, config) for spec in config.devices()]
        self._session: aiohttp.ClientSession | None = None
        self._home: Home | None = None
        self._watchers = DeviceWatchers(self.name, self._attend, config, supervisor, log)

    async def run(self, home: Home) -> None:
        """Watch every device until stopped (one failing never stops the others)."""
        self._home = home
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        await self._watchers.run(home, self.links)

    async def _attend(self, link: ShellyLink, home: Home, on_connected: Callable[[], None]) -> None:
        assert self._session is not None
        await link.run(self._session, home, on_connected)

    async def discovered(self, found: DiscoveredDevice, *, add: bool) -> bool:
        """A Shelly seen on the LAN: follow it to a new address, or add it when asked."""
        if self._home is None or found.kind != "shelly":
            return False
        address = found.host if found.port == 80 else f"{found.host}:{found.port}"
        mac = found.unique_id.lower().replace(":", "")
        for link in self.links:
            if link.mac == mac or link.spec.host == address:
                if link.spec.host != address and self._watchers.may_move(link, address, mac):
                    log.info("shelly %s moved from %s to %s", mac, link.spec.host, address)
                    self._watchers.health(link.host, None)  # the old address is no concern now
                    link.spec = link.spec.model_copy(update={"host": address})
                    self._watchers.restart(link)
                return True
        if not add:
            return False
        link = ShellyLink(ShellyHost(host=address), self.config)
        self.links.append(link)
        self._watchers.add(link)
        return True

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Act on a relay or dimmer and return its confirmed state."""
        if self._home is None:
            raise DeviceUnavailable("The Shelly integration is not running.")
        for link in self.links:
            if device.id in link.components:
                return await link.execute(self._home, device, command)
        raise DeviceUnavailable(f"{device.name} is not connected.")

    async def stop(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def create(section: ShellyConfig, rt: Runtime | None = None) -> ShellyIntegration:
    """Build the Shelly integration from its config section (no I/O)."""
    return ShellyIntegration(section, rt.supervisor if rt is not None else None)
