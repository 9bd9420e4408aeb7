"""The Home Assistant bridge: imports HA entities with their areas, keeps them live
through `state_changed`, and acts through `call_service`.

On every (re)connect it subscribes first and then re-fetches registries and all
states, so changes made while the websocket was down are not lost; events that
raced the snapshot are applied only when newer (by `last_updated`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
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
        self._areas: dict[str, str] = {}  # area_id → name
        self._entity_areas: dict[str, str] = {}  # entity_id → area_id
        self._hidden: set[str] = set()  # entities the owner hid in HA
        self._updated: dict[str, str] = {}  # entity_id → last_updated of the applied state
        self._importing = False
        self._raced: list[dict[str, Any]] = []
        self._stopping = False
        self.connects = 0
        self.url = config.url
        self.instance_id: str | None = None  # HA's uuid, learned from discovery
        # `todo` entities are the owner's lists, not devices.
        self.todo = TodoLists(lists or (lambda: None), lambda: self._conn)

    # -- lifecycle ------------------------------------------------------------

    async def run(self, home: Home) -> None:
        """Connect, import, follow events; reconnect with backoff when the socket drops."""
        self._home = home
        delay = 0.5
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
                    delay = 0.5
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
                log.warning("homeassistant: %s; reconnecting in %.1fs", reason, delay)
                self._set_status("retrying", f"{reason}; reconnecting in {delay:.0f}s")
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.config.reconnect_max_seconds)

    async def stop(self) -> None:
        """Close the websocket."""
        self._stopping = True
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
            await conn.subscribe_state_changes()
            await self._load_registries(conn)
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

    async def _load_registries(self, conn: Connection) -> None:
        """Areas come from the entity, else from its device (as HA assigns them)."""
        try:
            areas = await conn.command("config/area_registry/list")
            devices = await conn.command("config/device_registry/list")
            entities = await conn.command("config/entity_registry/list")
        except HomeAssistantError as err:
            log.warning("homeassistant: registries unavailable (%s); importing without areas", err)
            return
        self._areas = {a["area_id"]: a.get("name") or a["area_id"] for a in areas}
        device_areas = {d["id"]: d.get("area_id") for d in devices}
        self._entity_areas = {}
        self._hidden = {e["entity_id"] for e in entities if e.get("hidden_by")}
        for entry in entities:
            area = entry.get("area_id") or device_areas.get(entry.get("device_id"))
            if area:
                self._entity_areas[entry["entity_id"]] = area

    def _import(self, home: Home, states: list[dict[str, Any]]) -> None:
        seen: set[str] = set()
        for state in states:
            device = self._device(state)
            if device is None:
                continue
            seen.add(device.id)
            self._updated[state["entity_id"]] = str(state.get("last_updated", ""))
            home.add(device)
        # Entities that vanished from HA while we were away stay, but unavailable.
        for device in home.devices(integration=self.name):
            if device.id not in seen:
                home.update(device.id, available=False)

    def _device(self, state: dict[str, Any]) -> Device | None:
        entity_id = str(state.get("entity_id", ""))
        area_id = self._entity_areas.get(entity_id)
        if not self.wanted(entity_id, area_id):
            return None
        if domain_of(entity_id) == "todo":
            self.todo.track(state)
            return None
        area = self._areas.get(area_id, area_id) if area_id else None
        return to_device(state, area, self.temp_unit)

    def wanted(self, entity_id: str, area_id: str | None) -> bool:
        """Whether the config's filters (and HA's "hidden") let this entity in."""
        c = self.config
        if entity_id in c.exclude_entities:
            return False
        if entity_id in c.include_entities:
            return True
        if entity_id in self._hidden:
            return False
        domain = domain_of(entity_id)
        areas = {area_id, self._areas.get(area_id or "", "").lower()} - {None, ""}
        if c.include_domains and domain not in c.include_domains:
            return False
        if c.include_areas and not areas & {a.lower() for a in c.include_areas}:
            return False
        if c.include_entities and not (c.include_domains or c.include_areas):
            return False
        if domain in c.exclude_domains:
            return False
        return not areas & {a.lower() for a in c.exclude_areas}

    # -- live updates -----------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("event_type") != "state_changed" or self._home is None:
            return
        if self._importing:
            self._raced.append(event)  # applied after the snapshot, if newer
            return
        data = event.get("data") or {}
        entity_id = str(data.get("entity_id", ""))
        new = data.get("new_state")
        device_id = f"{self.name}:{entity_id}"
        if new is None:  # entity removed in HA
            self.todo.forget(entity_id)
            self._home.update(device_id, available=False)
            return
        stamp = str(new.get("last_updated", ""))
        if stamp < self._updated.get(entity_id, ""):
            return
        device = self._device(new)
        if device is None:
            return
        self._updated[entity_id] = stamp
        if self._home.find(device_id) is None:
            self._home.add(device)
        else:
            self._home.update(device_id, device.state, available=device.available)

    def _set_status(self, status: str, detail: str) -> None:
        if self._status is not None:
            self._status(f"integration:{self.name}", status, detail)


def create(section: HomeAssistantConfig, rt: Runtime) -> HomeAssistantBridge:
    """Build the bridge from its config section (no I/O)."""
    return HomeAssistantBridge(
        section, status=rt.supervisor.set_status, lists=lambda: rt.service("lists")
    )
