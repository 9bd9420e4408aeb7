"""LAN discovery as a daemon component: periodic re-scan, matching to what is configured.

A found device is matched to the configured ones by its stable unique id (and,
failing that, by address). When a known unique id shows up at a new address
(DHCP gave it another IP) the owning integration is told so it can reconnect;
the device keeps its id — and with it its name, area and history. With
`discovery.auto_add`, new devices are handed to the running integration of
their kind. Integrations opt in by implementing `DiscoveryAware`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlparse

from aiohttp import web

from agent.bus import Notice
from integrations.discovery_scan import DiscoveredDevice, ha_urls, scan
from integrations.frigate import discovery as frigate_discovery

if TYPE_CHECKING:
    from agent.brain.tools import ToolContext
    from agent.config import Config
    from agent.home import Home
    from agent.runtime import Runtime

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE discovered (
        kind TEXT NOT NULL,
        unique_id TEXT NOT NULL,
        name TEXT NOT NULL,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        properties TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        PRIMARY KEY (kind, unique_id)
    );
    """
]


@runtime_checkable
class DiscoveryAware(Protocol):
    """An integration that wants to hear about devices of its kind found on the LAN."""

    async def discovered(self, device: DiscoveredDevice, *, add: bool) -> bool:
        """Update the host of a matching device (IP change); add it when `add`; True if used."""
        ...


def configured_addresses(config: Config, kind: str) -> set[str]:
    """The addresses (host or host:port) the config already points at for a kind."""
    out: set[str] = set()
    if kind == "sonos" and config.sonos:
        out |= _hosts(config.sonos.hosts)
    elif kind == "hue" and config.hue:
        out |= _hosts(config.hue.bridges)
    elif kind == "wled" and config.wled:
        out |= _hosts(config.wled.hosts)
    elif kind == "shelly" and config.shelly:
        out |= _hosts(config.shelly.hosts)
    elif kind == "homeassistant" and config.homeassistant:
        url = urlparse(config.homeassistant.url)
        out |= {f"{url.hostname}:{url.port or 8123}"}
    elif kind == "mqtt" and config.mqtt:
        out |= {f"{config.mqtt.host}:{config.mqtt.port}"}
    elif kind == "frigate" and config.frigate:
        url = urlparse(config.frigate.url)
        out |= {f"{url.hostname}:{url.port or 5000}"}
    return out


def _hosts(items: Any) -> set[str]:
    """Hosts from a list of strings or of sections with a `host` field."""
    return {str(getattr(item, "host", item)) for item in items}


def is_configured(
    device: DiscoveredDevice,
    config: Config,
    home: Home | None = None,
    device_ids: Iterable[str] = (),
) -> bool:
    """Whether the config (or the running home, or these device ids) already has it."""
    if {device.host, device.address, f"{device.host}:{device.port}"} & configured_addresses(
        config, device.kind
    ):
        return True
    if device.kind == "hue" and config.hue:
        if any((b.bridge_id or "").lower() == device.unique_id for b in config.hue.bridges):
            return True
    if device.kind == "homeassistant" and config.homeassistant:
        if _same_home_assistant(device, config.homeassistant.url, home):
            return True
    uid = device.unique_id.lower()
    if any(i.lower().startswith(f"{device.kind}:") and uid in i.lower() for i in device_ids):
        return True
    if home is not None:
        for known in home.devices(integration=device.kind):
            if uid in known.id.lower() or uid == str(known.info.get("unique_id", "")).lower():
                return True
    return False


def _same_home_assistant(device: DiscoveredDevice, configured_url: str, home: Home | None) -> bool:
    """Whether an advertised HA is the configured one: by the URLs it advertises, by the
    uuid the running bridge learned, or by being this machine when the config says loopback."""
    configured = urlparse(configured_url)
    where = (configured.hostname, configured.port or 8123)
    for url in ha_urls(device.properties):
        parsed = urlparse(url)
        if (parsed.hostname, parsed.port or 8123) == where:
            return True
    bridge = home.integrations.get("homeassistant") if home is not None else None
    if getattr(bridge, "instance_id", None) == device.unique_id:
        return True
    loopback = configured.hostname in ("localhost", "::1") or str(configured.hostname).startswith(
        "127."
    )
    return loopback and device.port == where[1] and device.host in _own_addresses()


def _own_addresses() -> set[str]:
    """This machine's IP addresses (an HA on it advertises them, not loopback)."""
    import ifaddr

    return {
        str(ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip)
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
    }


def needs_pairing(device: DiscoveredDevice, config: Config) -> bool:
    """Hue bridges need an app key, Home Assistant a token, unless configured with one."""
    if device.kind == "hue" and config.hue:
        for bridge in config.hue.bridges:
            if bridge.host in (device.address, device.host, f"{device.host}:{device.port}") or (
                (bridge.bridge_id or "").lower() == device.unique_id
            ):
                return bridge.app_key is None
    if device.kind == "homeassistant":
        return not is_configured(device, config)
    return device.needs_pairing


def describe(
    device: DiscoveredDevice,
    config: Config,
    home: Home | None = None,
    device_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON shape shown by the CLI, the API and the brain's tool."""
    return {
        **device.to_json(),
        "configured": is_configured(device, config, home, device_ids),
        "needs_pairing": needs_pairing(device, config),
        "supported": bool(device.config_snippet),
    }


class Discovery:
    """The discovery component: scans now and every `rescan_minutes`, and remembers."""

    name = "discovery"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.config = rt.config.discovery
        self.last: list[DiscoveredDevice] = []
        self.last_scan: float | None = None
        self._lock = asyncio.Lock()

    def setup(self, rt: Runtime) -> None:
        """Tables, API routes and the brain's discover tool (no I/O)."""
        rt.store.migrate("discovery", MIGRATIONS)
        rt.app.router.add_get("/api/discovery", self._api_list)
        rt.app.router.add_post("/api/discovery/scan", self._api_scan)
        rt.tools.register(self.discover_devices, timeout=30)
        rt.services[self.name] = self

    async def start(self) -> None:
        """Start the periodic scan (first scan right away)."""
        if self.config.enabled:
            self.rt.supervisor.spawn("discovery", self._loop)

    async def stop(self) -> None:
        """Nothing to close: each scan opens and closes its own sockets."""

    async def _loop(self) -> None:
        await asyncio.sleep(self.config.first_scan_delay_seconds)
        while True:
            await self.scan_once()
            await asyncio.sleep(self.config.rescan_minutes * 60)

    async def scan_once(self) -> list[dict[str, Any]]:
        """Scan the LAN, record what was found, tell integrations; return descriptions."""
        async with self._lock:
            found = await scan(
                self.config.interfaces or None, self.config.scan_seconds, ssdp=self.config.ssdp
            )
            found = await frigate_discovery.beside(found, lan=not self.config.interfaces)
            self.last, self.last_scan = found, time.time()
            for device in found:
                await self._process(device)
        return [describe(d, self.rt.config, self.rt.home) for d in self.last]

    async def _process(self, device: DiscoveredDevice) -> None:
        store, now = self.rt.store, time.time()
        row = store.one(
            "SELECT host, port FROM discovered WHERE kind = ? AND unique_id = ?",
            (device.kind, device.unique_id),
        )
        store.execute(
            "INSERT INTO discovered(kind, unique_id, name, host, port, properties, first_seen, "
            "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, unique_id) DO UPDATE "
            "SET name = excluded.name, host = excluded.host, port = excluded.port, "
            "properties = excluded.properties, last_seen = excluded.last_seen",
            (
                device.kind,
                device.unique_id,
                device.name,
                device.host,
                device.port,
                json.dumps(device.properties),
                now,
                now,
            ),
        )
        moved = row is not None and (row["host"], row["port"]) != (device.host, device.port)
        known = is_configured(device, self.rt.config, self.rt.home)
        if moved:
            log.info(
                "discovery: %s %s moved %s → %s",
                device.kind,
                device.unique_id,
                row["host"] if row else "?",
                device.host,
            )
            self._notice("moved", device, old_host=row["host"] if row else None)
        elif row is None and not known:
            log.info("discovery: new %s %r at %s", device.kind, device.name, device.address)
            self._notice("found", device)
        integration = self.rt.home.integrations.get(device.kind)
        if not isinstance(integration, DiscoveryAware):
            return
        add = self.config.auto_add and not known
        if moved or add or known:
            try:
                async with asyncio.timeout(30):
                    await integration.discovered(device, add=add)
            except Exception as err:  # one integration's trouble must not stop the scan
                log.warning("discovery: %s did not take %s: %s", device.kind, device.name, err)

    def _notice(self, event: str, device: DiscoveredDevice, **extra: Any) -> None:
        self.rt.bus.publish(
            Notice(topic="discovery", data={"event": event, **device.to_json(), **extra})
        )

    async def discover_devices(self, ctx: ToolContext) -> dict[str, Any]:
        """Find smart devices on the LAN: which are set up, and how to add the others."""
        found = await self.scan_once()
        return {"found": found, "count": len(found)}

    async def _api_list(self, request: web.Request) -> web.Response:
        rows = self.rt.store.query("SELECT * FROM discovered ORDER BY kind, name")
        return web.json_response(
            {
                "last_scan": self.last_scan,
                "found": [describe(d, self.rt.config, self.rt.home) for d in self.last],
                "seen": [dict(r) | {"properties": json.loads(r["properties"])} for r in rows],
            }
        )

    async def _api_scan(self, request: web.Request) -> web.Response:
        return web.json_response({"found": await self.scan_once()})


def create(rt: Runtime) -> Discovery:
    """Factory for `agent.daemon.COMPONENTS`."""
    return Discovery(rt)


__all__ = ["DiscoveredDevice", "Discovery", "DiscoveryAware", "create", "describe", "scan"]
