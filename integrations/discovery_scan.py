"""Finding devices on the LAN: zeroconf (mDNS) browsing and an SSDP search.

Both run only on the interfaces they are given (tests and the demo pass
["127.0.0.1"]); nothing here scans subnets. Each advertisement is turned into a
typed `DiscoveredDevice` keyed by the vendor's stable unique id (Sonos RINCON
uid, Hue bridge id, MAC, HA uuid), with the config that would add it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse
from xml.etree import ElementTree

import aiohttp

log = logging.getLogger(__name__)

SSDP_GROUP = ("239.255.255.250", 1900)
SONOS_ST = "urn:schemas-upnp-org:device:ZonePlayer:1"
HUE_ST = "urn:schemas-upnp-org:device:basic:1"


@dataclass(frozen=True)
class DiscoveredDevice:
    """Something found on the LAN, with the exact config that adds it."""

    kind: str
    name: str
    host: str
    port: int
    unique_id: str
    properties: dict[str, str] = field(default_factory=dict)
    config_snippet: dict[str, Any] = field(default_factory=dict)
    needs_pairing: bool = False
    source: str = "mdns"

    @property
    def address(self) -> str:
        """host, or host:port when the port is not the vendor's default."""
        default = {"sonos": 1400, "wled": 80, "shelly": 80}.get(self.kind)
        return self.host if self.port == default else f"{self.host}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `homeclaw discover --json`."""
        return {
            "kind": self.kind,
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "unique_id": self.unique_id,
            "properties": self.properties,
            "config": self.config_snippet,
            "needs_pairing": self.needs_pairing,
            "source": self.source,
        }


# -- what each advertisement means -------------------------------------------------


@dataclass(frozen=True)
class Advert:
    """One resolved mDNS service: instance name, addresses, port, TXT properties."""

    service_type: str
    name: str
    host: str
    port: int
    properties: dict[str, str]
    server: str = ""

    @property
    def instance(self) -> str:
        """The instance label (the service name without its type)."""
        return self.name.removesuffix("." + self.service_type).removesuffix(self.service_type)


def _sonos(ad: Advert) -> DiscoveredDevice | None:
    # Instance names look like "RINCON_000E58A0123401400@Study".
    uid, _, room = ad.instance.partition("@")
    uid = ad.properties.get("uid") or uid
    return DiscoveredDevice(
        "sonos",
        room or ad.properties.get("room", uid),
        ad.host,
        ad.port,
        uid,
        ad.properties,
        {"sonos": {"hosts": [ad.host]}},
    )


def _hue(ad: Advert) -> DiscoveredDevice | None:
    bridge_id = ad.properties.get("bridgeid", ad.instance).lower()
    host = f"{ad.host}:{ad.port}" if ad.port not in (80, 443) else ad.host
    snippet = {
        "hue": {"bridges": [{"host": host, "bridge_id": bridge_id, "app_key": "PAIR_FIRST"}]}
    }
    return DiscoveredDevice(
        "hue", ad.instance, ad.host, ad.port, bridge_id, ad.properties, snippet, needs_pairing=True
    )


def _wled(ad: Advert) -> DiscoveredDevice | None:
    mac = ad.properties.get("mac", ad.instance).lower().replace(":", "")
    return DiscoveredDevice(
        "wled", ad.instance, ad.host, ad.port, mac, ad.properties, {"wled": {"hosts": [ad.host]}}
    )


def _shelly(ad: Advert) -> DiscoveredDevice | None:
    # "shellyplusplugs-a8032ab12345": the suffix is the MAC.
    mac = ad.properties.get("mac") or ad.instance.rsplit("-", 1)[-1]
    host = ad.host if ad.port == 80 else f"{ad.host}:{ad.port}"
    return DiscoveredDevice(
        "shelly",
        ad.properties.get("name") or ad.instance,
        ad.host,
        ad.port,
        mac.lower(),
        ad.properties,
        {"shelly": {"hosts": [host]}},
    )


def ha_urls(properties: dict[str, str]) -> list[str]:
    """The URLs a Home Assistant advertises (internal first), unusable ones left out."""
    found = []
    for key in ("internal_url", "base_url", "external_url"):
        url = urlparse(properties.get(key) or "")
        if url.scheme in ("http", "https") and url.hostname not in (None, "", "0.0.0.0", "::"):
            found.append(url.geturl().rstrip("/"))
    return found


def _home_assistant(ad: Advert) -> DiscoveredDevice | None:
    # An HA without an internal URL set advertises 0.0.0.0 (where it listens):
    # then the address the advert came from is where to reach it.
    urls = ha_urls(ad.properties)
    url = urls[0] if urls else f"http://{ad.host}:{ad.port}"
    return DiscoveredDevice(
        "homeassistant",
        ad.properties.get("location_name") or ad.instance,
        ad.host,
        ad.port,
        ad.properties.get("uuid") or url,
        ad.properties,
        {"homeassistant": {"url": url, "token": "${HA_TOKEN}"}},
        needs_pairing=True,  # needs a long-lived token from the HA profile page
    )


def _mqtt(ad: Advert) -> DiscoveredDevice | None:
    return DiscoveredDevice(
        "mqtt",
        ad.instance,
        ad.host,
        ad.port,
        f"{ad.host}:{ad.port}",
        ad.properties,
        {"mqtt": {"host": ad.host, "port": ad.port}},
    )


def _unsupported(kind: str) -> Callable[[Advert], DiscoveredDevice | None]:
    def parse(ad: Advert) -> DiscoveredDevice | None:
        uid = ad.properties.get("id") or ad.properties.get("md") or ad.instance
        return DiscoveredDevice(
            kind, ad.properties.get("fn") or ad.instance, ad.host, ad.port, uid, ad.properties
        )

    return parse


PARSERS: dict[str, Callable[[Advert], DiscoveredDevice | None]] = {
    "_sonos._tcp.local.": _sonos,
    "_hue._tcp.local.": _hue,
    "_wled._tcp.local.": _wled,
    "_shelly._tcp.local.": _shelly,
    "_home-assistant._tcp.local.": _home_assistant,
    "_mqtt._tcp.local.": _mqtt,
    "_googlecast._tcp.local.": _unsupported("googlecast"),
    "_hap._tcp.local.": _unsupported("homekit"),
}


# The `kind` each service type yields.
SERVICE_KINDS = {
    "_sonos._tcp.local.": "sonos",
    "_hue._tcp.local.": "hue",
    "_wled._tcp.local.": "wled",
    "_shelly._tcp.local.": "shelly",
    "_home-assistant._tcp.local.": "homeassistant",
    "_mqtt._tcp.local.": "mqtt",
    "_googlecast._tcp.local.": "googlecast",
    "_hap._tcp.local.": "homekit",
}


def _decode(props: dict[bytes, bytes | None]) -> dict[str, str]:
    return {
        k.decode(errors="replace"): (v or b"").decode(errors="replace") for k, v in props.items()
    }


async def scan_mdns(
    interfaces: list[str] | None,
    duration: float = 3.0,
    on_found: Callable[[DiscoveredDevice], None] | None = None,
) -> list[DiscoveredDevice]:
    """Browse the service types of interest for `duration` seconds and resolve each.

    `on_found` is called as each device resolves (for progress and timing).
    """
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    if interfaces:
        azc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
    else:
        azc = AsyncZeroconf(ip_version=IPVersion.V4Only)
    # Keyed by address too: a clash of unique ids must not hide a device.
    found: dict[tuple[str, str, str, int], DiscoveredDevice] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def resolve(service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(azc.zeroconf, 2000):
            return
        addresses = info.parsed_addresses(IPVersion.V4Only)
        if not addresses or info.port is None:
            return
        ad = Advert(
            service_type, name, addresses[0], info.port, _decode(info.properties), info.server or ""
        )
        device = PARSERS[service_type](ad)
        if device is not None:
            found[(device.kind, device.unique_id, device.host, device.port)] = device
            if on_found is not None:
                on_found(device)

    def on_change(
        zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed:
            tasks.add(asyncio.create_task(resolve(service_type, name)))

    browser = AsyncServiceBrowser(azc.zeroconf, list(PARSERS), handlers=[on_change])
    try:
        await asyncio.sleep(duration)
        if tasks:  # stragglers found late; on a LAN resolving takes well under a second
            await asyncio.wait(tasks, timeout=1.0)
    finally:
        for task in tasks:
            task.cancel()
        await browser.async_cancel()
        await azc.async_close()
    return sorted(found.values(), key=lambda d: (d.kind, d.name))


# -- SSDP ---------------------------------------------------------------------------


def msearch(st: str, mx: int = 1) -> bytes:
    """An SSDP M-SEARCH request for one search target."""
    return (
        "M-SEARCH * HTTP/1.1\r\n"
        f"HOST: {SSDP_GROUP[0]}:{SSDP_GROUP[1]}\r\n"
        'MAN: "ssdp:discover"\r\n'
        f"MX: {mx}\r\n"
        f"ST: {st}\r\n\r\n"
    ).encode()


def parse_headers(data: bytes) -> dict[str, str]:
    """The headers of an SSDP message, keys upper-cased."""
    lines = data.decode(errors="replace").split("\r\n")
    headers = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().upper()] = value.strip()
    return headers


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, replies: list[tuple[dict[str, str], str]]) -> None:
        self.replies = replies

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if data.startswith(b"HTTP/1.1 200"):
            self.replies.append((parse_headers(data), str(addr[0])))


async def scan_ssdp(
    interfaces: list[str] | None,
    duration: float = 2.0,
    targets: tuple[str, ...] = (SONOS_ST, HUE_ST),
) -> list[DiscoveredDevice]:
    """M-SEARCH for Sonos ZonePlayers and Hue bridges from each interface."""
    loop = asyncio.get_running_loop()
    replies: list[tuple[dict[str, str], str]] = []
    transports = []
    for iface in interfaces or [""]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        if iface:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
        sock.bind((iface, 0))
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(lambda: _Collector(replies), sock=sock)
        transports.append(transport)
    try:
        for _ in range(2):  # UDP may drop one; devices answer each search
            for transport in transports:
                for st in targets:
                    transport.sendto(msearch(st), SSDP_GROUP)
            await asyncio.sleep(duration / 2)
    finally:
        for transport in transports:
            transport.close()
    found: dict[tuple[str, str], DiscoveredDevice] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
        for headers, sender in replies:
            device = await _from_ssdp(session, headers, sender)
            if device is not None:
                found.setdefault((device.kind, device.unique_id), device)
    return sorted(found.values(), key=lambda d: (d.kind, d.name))


async def _from_ssdp(
    session: aiohttp.ClientSession, headers: dict[str, str], sender: str
) -> DiscoveredDevice | None:
    location = headers.get("LOCATION", "")
    match = re.match(r"https?://([^/:]+)(?::(\d+))?", location)
    host = match.group(1) if match else sender
    port = int(match.group(2)) if match and match.group(2) else 80
    usn = headers.get("USN", "")
    if headers.get("ST") == SONOS_ST or "X-RINCON-HOUSEHOLD" in headers:
        uid = usn.removeprefix("uuid:").split("::", 1)[0]
        room = await _sonos_room(session, location) or uid
        props = {"household": headers.get("X-RINCON-HOUSEHOLD", ""), "location": location}
        return DiscoveredDevice(
            "sonos", room, host, port, uid, props, {"sonos": {"hosts": [host]}}, source="ssdp"
        )
    bridge_id = headers.get("HUE-BRIDGEID")
    if bridge_id:
        ad = Advert("ssdp", f"Hue Bridge - {bridge_id[-6:]}", host, port, {"bridgeid": bridge_id})
        hue = _hue(ad)
        return None if hue is None else _with_source(hue, "ssdp")
    return None


def _with_source(device: DiscoveredDevice, source: str) -> DiscoveredDevice:
    from dataclasses import replace

    return replace(device, source=source)


async def _sonos_room(session: aiohttp.ClientSession, location: str) -> str | None:
    """The room name from a speaker's device description (SSDP replies do not carry it)."""
    if not location.startswith("http://"):
        return None
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, ElementTree.ParseError):
        async with session.get(location) as resp:
            root = ElementTree.fromstring(await resp.read())
        for element in root.iter():
            if element.tag.endswith("roomName") and element.text:
                return element.text
    return None


async def scan(
    interfaces: list[str] | None, duration: float = 3.0, *, ssdp: bool = True
) -> list[DiscoveredDevice]:
    """mDNS and SSDP together, merged by (kind, unique id, host); mDNS wins on conflicts."""
    started = time.monotonic()
    results = await asyncio.gather(
        scan_mdns(interfaces, duration),
        scan_ssdp(interfaces, min(duration, 2.0)) if ssdp else _nothing(),
    )
    merged: dict[tuple[str, str, str], DiscoveredDevice] = {}
    for device in results[1] + results[0]:
        merged[(device.kind, device.unique_id.lower(), device.host)] = device
    log.info("discovery: %d found in %.1fs", len(merged), time.monotonic() - started)
    return sorted(merged.values(), key=lambda d: (d.kind, d.name.lower()))


async def _nothing() -> list[DiscoveredDevice]:
    return []
