"""The Home Assistant bridge: imports HA entities with their areas, keeps them live
through `state_changed`, and acts through `call_service`.

On every (re)connect it subscribes first and then re-fetches registries and all
states, so changes made while the websocket was down are not lost; events that
raced the snapshot are applied only when newer (by `last_updated`). Registry
events (renames, area moves, hidden/disabled/deleted entities) are applied while
connected. After a drop it probes HA cheaply and often, so it is back within a
probe interval of HA answering however long the outage was.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import aiohttp

from agent.devices import Command, Device, DeviceState
from agent.errors import AuthenticationFailed, DeviceUnavailable
from integrations.homeassistant.client import Connection, HomeAssistantError
from integrations.homeassistant.config import HomeAssistantConfig
from integrations.homeassistant.entities import (
    INTEGRATION,
    domain_of,
    service_call,
    to_device,
)
from integrations.homeassistant.registry import REGISTRY_EVENTS, Registries, describe_change
from integrations.homeassistant.todo import TodoLists

if TYPE_CHECKING:
    from agent.home import Home
    from agent.lists.registry import Lists
    from agent.runtime import Runtime
    from integrations.discovery_scan import DiscoveredDevice

log = logging.getLogger(__name__)
StatusFn = Callable[[str, str, str], None]


class HomeAssistantBridge:
    """An Integration reaching everything an owner's Home Assistant runs."""

    name = INTEGRATION

    def __init__(
        self,
        config: HomeAssistantConfig,
        status: StatusFn | None = None,
        lists: Callable[[], Lists | None] | None = None,
    ) -> None:
        self.config = config
        self._status = status
        self._home: Home | None = None
        self._conn: Connection | None = None
        self.temp_unit = "°C"
        self._registries = Registries()
        self._states: dict[str, dict[str, Any]] = {}  # entity_id → latest HA state object
        self._built: dict[str, tuple[Any, ...]] = {}  # device id → identity last given to Home
        self._registry_task: asyncio.Task[None] | None = None
        self._updated: dict[str, str] = {}  # entity_id → last_updated of the applied state
        self._importing = False
        self._raced: list[dict[str, Any]] = []
        self._stopping = False
        self.connects = 0
        self.url = config.url
        self.instance_id: str | None = None  # HA's uuid, learned from discovery
        # `todo` entities are the owner's lists, not devices.
        self.todo = TodoLists(lists or (lambda: None), lambda: self._conn)
        # Injected in tests (a fake clock); everything else waits through it.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    # -- lifecycle ------------------------------------------------------------

    async def run(self, home: Home) -> None:
        """Connect, import, follow events; reconnect with backoff when the socket drops."""
        self._home = home
        delay = 0.5
        last_reason = ""
        async with aiohttp.ClientSession() as session:
            while not self._stopping:
                conn = Connection(
                    session,
                    self.url,
                    self.config.token,
                    timeout=self.config.request_timeout,
                    on_event=self._on_event,
                )
                try:
                    await self._connect(conn, home)
                    delay, last_reason = 0.5, ""
                    await conn.wait_closed()
                    reason = "websocket closed"
                except AuthenticationFailed:
                    raise  # the supervisor reports it and backs off; retrying fast won't help
                except (DeviceUnavailable, HomeAssistantError) as err:
                    reason = str(err)
                finally:
                    self._conn = None
                    await conn.close()
                if self._stopping:
                    return
                home.set_available(self.name, False)
                if reason != last_reason:  # once per change, not once per retry
                    log.warning("homeassistant: %s; reconnecting", reason)
                    last_reason = reason
                self._set_status("retrying", f"{reason}; reconnecting as soon as it answers")
                await self._until_answering(session, delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.config.reconnect_max_seconds)

    async def _until_answering(self, session: aiohttp.ClientSession, delay: float) -> None:
        """Wait out the backoff `delay`, but return as soon as HA answers HTTP again.

        The probe (GET /api/, a few bytes) is cheap enough to repeat every
        `probe_interval` seconds; the expensive full reconnect keeps its backoff.
        """
        waited = 0.0
        while waited < delay and not self._stopping:
            step = min(self.config.probe_interval, delay - waited)
            await self.sleep(step)
            waited += step
            if await self._answers(session):
                return

    async def _answers(self, session: aiohttp.ClientSession) -> bool:
        """Whether HA's HTTP API answers at all (any status: 401 is an answer too)."""
        try:
            async with session.get(
                f"{self.url}/api/",
                headers={"Authorization": f"Bearer {self.config.token}"},
                timeout=aiohttp.ClientTimeout(total=min(2.0, self.config.request_timeout)),
            ) as resp:
                # HA answers 503/502 through a proxy while it starts: not yet.
                return resp.status < 500
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False

    async def stop(self) -> None:
        """Close the websocket."""
        self._stopping = True
        if self._registry_task is not None:
            self._registry_task.cancel()
        if self._conn is not None:
            await self._conn.close()

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Call the HA service for the command; the new state arrives by push."""
        conn = self._conn
        if conn is None or not conn.connected:
            raise DeviceUnavailable("Home Assistant is not connected right now.")
        domain, service, data = service_call(
            device, command, self.temp_unit, alarm_code=self.config.alarm_code
        )
        await conn.command(
            "call_service",
            domain=domain,
            service=service,
            service_data=data,
            target={"entity_id": device.info["entity_id"]},
        )
        # HA sends the state_changed events before the call's result, so the
        # Home already holds the confirmed state here.
        return None

    async def discovered(self, found: DiscoveredDevice, *, add: bool) -> bool:
        """Learn our HA's uuid at its address; follow it when it shows up at a new one."""
        if found.kind != "homeassistant":
            return False
        url = urlparse(self.url)
        if (found.host, found.port) == (url.hostname, url.port or 8123):
            self.instance_id = found.unique_id
            return True
        if self.instance_id is None or found.unique_id != self.instance_id:
            return False
        self.url = f"{url.scheme}://{found.host}:{found.port}"
        log.info("homeassistant: %s moved to %s; reconnecting", self.instance_id, self.url)
        if self._conn is not None:
            await self._conn.close()  # the run loop reconnects to the new address
        return True

    # -- import ---------------------------------------------------------------

    async def _connect(self, conn: Connection, home: Home) -> None:
        config = await conn.rest("GET", "/api/config")
        self.temp_unit = str((config.get("unit_system") or {}).get("temperature") or "°C")
        await conn.connect()
        self._importing, self._raced = True, []
        try:
            await conn.subscribe_events("state_changed")
            for event_type in REGISTRY_EVENTS:
                await conn.subscribe_events(event_type)
            self._registries = await self._fetch_registries(conn)
            states = await conn.command("get_states")
            self._import(home, states)
            raced, self._raced = self._raced, []
            self._importing = False
            for event in raced:
                self._on_event(event)
        finally:
            self._importing = False
        self._conn = conn
        self.connects += 1
        log.info("homeassistant: connected to %s (%d entities)", self.url, len(states))
        self._set_status("running", f"connected to {self.url}")

    async def _fetch_registries(self, conn: Connection) -> Registries:
        try:
            return await Registries.fetch(conn)
        except HomeAssistantError as err:
            log.warning("homeassistant: registries unavailable (%s); importing without areas", err)
            return Registries()

    def _import(self, home: Home, states: list[dict[str, Any]]) -> None:
        seen: set[str] = set()
        self._states = {}
        for state in states:
            entity_id = str(state.get("entity_id", ""))
            self._states[entity_id] = state
            self._updated[entity_id] = str(state.get("last_updated", ""))
            device = self._device(state)
            if device is not None:
                seen.add(device.id)
                self._apply(device)
        for device in home.devices(integration=self.name):
            if device.id in seen:
                continue
            entity_id = str(device.info.get("entity_id", ""))
            if self._registries.deleted(entity_id) or self._registries.hidden(entity_id):
                self._forget(device.id, "gone from Home Assistant while disconnected")
            else:  # still registered (its integration may be starting): wait for it
                home.update(device.id, available=False)

    def _device(self, state: dict[str, Any]) -> Device | None:
        entity_id = str(state.get("entity_id", ""))
        area_id = self._registries.area_of(entity_id)
        if not self.wanted(entity_id, area_id):
            return None
        if domain_of(entity_id) == "todo":
            self.todo.track(state)
            return None
        return to_device(state, self._registries.area_name(area_id), self.temp_unit)

    def wanted(self, entity_id: str, area_id: str | None) -> bool:
        """Whether the config's filters (and HA's "hidden") let this entity in."""
        c = self.config
        if entity_id in c.exclude_entities:
            return False
        if entity_id in c.include_entities:
            return True
        if self._registries.hidden(entity_id):
            return False
        domain = domain_of(entity_id)
        areas = {area_id, (self._registries.area_name(area_id) or "").lower()} - {None, ""}
        if c.include_domains and domain not in c.include_domains:
            return False
        if c.include_areas and not areas & {a.lower() for a in c.include_areas}:
            return False
        if c.include_entities and not (c.include_domains or c.include_areas):
            return False
        if domain in c.exclude_domains:
            return False
        return not areas & {a.lower() for a in c.exclude_areas}

    def _apply(self, device: Device) -> None:
        """Give the Home this device: its state, or all of it when its identity changed."""
        assert self._home is not None
        identity = (
            device.name,
            device.area,
            device.features,
            device.hvac_modes,
            device.device_class,
        )
        before = self._built.get(device.id)
        self._built[device.id] = identity
        if before == identity and self._home.find(device.id) is not None:
            self._home.update(device.id, device.state, available=device.available)
            return
        if before is not None:
            changed = [
                f"{label} {old!r} → {new!r}"
                for label, old, new in zip(("name", "area"), before, identity, strict=False)
                if old != new
            ]
            if changed:
                log.info("homeassistant: %s: %s", device.id, "; ".join(changed))
        self._home.add(device)

    def _forget(self, device_id: str, why: str) -> None:
        assert self._home is not None
        if self._home.find(device_id) is not None:
            log.info("homeassistant: %s removed (%s)", device_id, why)
            self._home.remove(device_id)
        self._built.pop(device_id, None)

    # -- live updates -----------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        event_type = event.get("event_type")
        if self._home is None:
            return
        if event_type in REGISTRY_EVENTS:
            self._on_registry_event(str(event_type), event.get("data") or {})
            return
        if event_type != "state_changed":
            return
        if self._importing:
            self._raced.append(event)  # applied after the snapshot, if newer
            return
        data = event.get("data") or {}
        entity_id = str(data.get("entity_id", ""))
        new = data.get("new_state")
        device_id = f"{self.name}:{entity_id}"
        if new is None:  # the entity left HA (deleted, disabled, or its integration unloaded)
            self.todo.forget(entity_id)
            self._states.pop(entity_id, None)
            self._forget(device_id, "removed in Home Assistant")
            return
        stamp = str(new.get("last_updated", ""))
        if stamp < self._updated.get(entity_id, ""):
            return
        self._states[entity_id] = new
        self._updated[entity_id] = stamp
        device = self._device(new)
        if device is not None:
            self._apply(device)

    def _on_registry_event(self, event_type: str, data: dict[str, Any]) -> None:
        """Log what the owner changed in HA and re-read the registries (coalesced)."""
        log.info("homeassistant: registry change: %s", describe_change(event_type, data))
        if event_type == "entity_registry_updated" and data.get("action") == "remove":
            self._forget(f"{self.name}:{data.get('entity_id')}", "deleted in Home Assistant")
        if self._importing:
            return  # the import reads the registries anyway
        if self._registry_task is None or self._registry_task.done():
            self._registry_task = asyncio.create_task(
                self._refresh_registries(), name="homeassistant-registries"
            )

    async def _refresh_registries(self) -> None:
        """Re-read the registries, then re-place, rename, hide or show every entity."""
        await asyncio.sleep(0.05)  # a rename fires several events at once: read once
        conn = self._conn
        if conn is None or self._home is None:
            return
        try:
            self._registries = await Registries.fetch(conn)
        except (HomeAssistantError, DeviceUnavailable) as err:
            log.warning("homeassistant: could not re-read the registries: %s", err)
            return
        for entity_id, state in list(self._states.items()):
            device = self._device(state)
            device_id = f"{self.name}:{entity_id}"
            if device is None:
                self._forget(device_id, "hidden, disabled or filtered out in Home Assistant")
            else:
                self._apply(device)

    def _set_status(self, status: str, detail: str) -> None:
        if self._status is not None:
            self._status(f"integration:{self.name}", status, detail)


def create(section: HomeAssistantConfig, rt: Runtime) -> HomeAssistantBridge:
    """Build the bridge from its config section (no I/O)."""
    return HomeAssistantBridge(
        section, status=rt.supervisor.set_status, lists=lambda: rt.service("lists")
    )
