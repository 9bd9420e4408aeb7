"""Discovery on loopback: mDNS services registered here and an SSDP responder.

mDNS tests share one zeroconf registration (probing costs ~1 s per service)
and run in this one module, serially.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from zeroconf import ServiceInfo, Zeroconf

from agent.bus import Bus, Notice
from agent.config import Config
from agent.home import Home
from agent.simulation import free_port
from agent.store import Store
from integrations.discovery import MIGRATIONS, DiscoveredDevice, Discovery, describe, is_configured
from integrations.discovery_scan import SONOS_ST, parse_headers, scan, scan_mdns, scan_ssdp

pytestmark = pytest.mark.timeout(40)
LOOPBACK = ["127.0.0.1"]


def _info(type_: str, instance: str, host: str, port: int, props: dict[str, str]) -> ServiceInfo:
    return ServiceInfo(
        type_,
        f"{instance}.{type_}",
        addresses=[socket.inet_aton(host)],
        port=port,
        properties=props,
        server=f"{instance.split('@')[0].lower().replace(' ', '-')}.local.",
    )


ADVERTS = [
    _info(
        "_sonos._tcp.local.", "RINCON_000E58AAAA0101400@Study", "127.0.0.5", 1400, {"bootseq": "3"}
    ),
    _info(
        "_hue._tcp.local.",
        "Hue Bridge - 4A1B2C",
        "127.0.0.6",
        8080,
        {"bridgeid": "001788fffe4a1b2c"},
    ),
    _info("_wled._tcp.local.", "tv-backlight", "127.0.0.7", 80, {"mac": "aabbccddeeff"}),
    _info("_shelly._tcp.local.", "shellyplugs-a8032ab12345", "127.0.0.8", 8081, {"gen": "2"}),
    _info(
        "_home-assistant._tcp.local.",
        "Demo Home",
        "127.0.0.1",
        8123,
        {"uuid": "abc123", "location_name": "Demo Home", "internal_url": "http://127.0.0.1:8123"},
    ),
    _info("_mqtt._tcp.local.", "mosquitto", "127.0.0.1", 1883, {}),
]


@pytest.fixture(scope="module")
def advertised() -> Iterator[None]:
    """The services above, registered on loopback for the whole module."""
    # The sync API runs zeroconf on its own thread, so it keeps answering
    # while each test runs its own event loop.
    zc = Zeroconf(interfaces=LOOPBACK)
    try:
        with ThreadPoolExecutor(len(ADVERTS)) as pool:  # probe concurrently (~1 s each)
            list(pool.map(zc.register_service, ADVERTS))
        yield
    finally:
        zc.unregister_all_services()
        zc.close()


class SsdpResponder(asyncio.DatagramProtocol):
    """Answers M-SEARCH for a Sonos ZonePlayer like a speaker at 127.0.0.9 does."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        headers = parse_headers(data)
        if not data.startswith(b"M-SEARCH") or headers.get("ST") not in (SONOS_ST, "ssdp:all"):
            return
        reply = (
            "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age = 1800\r\nEXT:\r\n"
            f"LOCATION: {self.location}\r\nSERVER: Linux UPnP/1.0 Sonos/70.3\r\n"
            f"ST: {SONOS_ST}\r\nUSN: uuid:RINCON_000E58BBBB0201400::{SONOS_ST}\r\n"
            "X-RINCON-HOUSEHOLD: Sonos_demo\r\n\r\n"
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.9", 0))
        sock.sendto(reply.encode(), addr)
        sock.close()


@pytest.fixture
async def ssdp_speaker() -> AsyncIterator[None]:
    """An SSDP responder plus the device description naming its room."""
    port = free_port("127.0.0.9")
    app = web.Application()
    description = (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>'
        "<roomName>Kitchen</roomName><UDN>uuid:RINCON_000E58BBBB0201400</UDN></device></root>"
    )

    async def describe_speaker(request: web.Request) -> web.Response:
        return web.Response(text=description, content_type="text/xml")

    app.router.add_get("/xml/device_description.xml", describe_speaker)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.9", port).start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("239.255.255.250", 1900))
    membership = socket.inet_aton("239.255.255.250") + socket.inet_aton("127.0.0.1")
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    location = f"http://127.0.0.9:{port}/xml/device_description.xml"
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: SsdpResponder(location), sock=sock
    )
    try:
        yield
    finally:
        transport.close()
        await runner.cleanup()


async def test_mdns_finds_each_kind_with_its_unique_id_and_config(advertised: None) -> None:
    """Every advertised type becomes a typed result with the config that adds it."""
    found = {d.kind: d for d in await scan_mdns(LOOPBACK, 1.5)}
    assert set(found) >= {"sonos", "hue", "wled", "shelly", "homeassistant", "mqtt"}
    sonos = found["sonos"]
    assert (sonos.name, sonos.host, sonos.unique_id) == (
        "Study",
        "127.0.0.5",
        "RINCON_000E58AAAA0101400",
    )
    assert sonos.config_snippet == {"sonos": {"hosts": ["127.0.0.5"]}}
    hue = found["hue"]
    assert hue.unique_id == "001788fffe4a1b2c" and hue.needs_pairing
    assert hue.config_snippet["hue"]["bridges"][0]["host"] == "127.0.0.6:8080"
    assert found["wled"].unique_id == "aabbccddeeff"
    assert found["shelly"].config_snippet == {"shelly": {"hosts": ["127.0.0.8:8081"]}}
    assert found["homeassistant"].config_snippet["homeassistant"]["url"] == "http://127.0.0.1:8123"
    assert found["mqtt"].config_snippet == {"mqtt": {"host": "127.0.0.1", "port": 1883}}


async def test_ssdp_finds_a_zoneplayer_and_its_room(ssdp_speaker: None) -> None:
    """An M-SEARCH on loopback reaches the responder; the room comes from its description."""
    found = await scan_ssdp(LOOPBACK, 1.0)
    sonos = [d for d in found if d.kind == "sonos"]
    assert [(d.name, d.host, d.unique_id, d.source) for d in sonos] == [
        ("Kitchen", "127.0.0.9", "RINCON_000E58BBBB0201400", "ssdp")
    ]


async def test_scan_merges_mdns_and_ssdp(advertised: None, ssdp_speaker: None) -> None:
    """Both sources in one scan; one entry per unique id."""
    found = await scan(LOOPBACK, 1.5)
    sonos = sorted(d.name for d in found if d.kind == "sonos")
    assert sonos == ["Kitchen", "Study"]


def test_configured_matching_by_address_and_unique_id() -> None:
    """Configured by host, by Hue bridge id, or by a Home device carrying the unique id."""
    config = Config.model_validate(
        {
            "sonos": {"hosts": ["127.0.0.5"]},
            "hue": {
                "bridges": [{"host": "10.0.0.2", "bridge_id": "001788fffe4a1b2c", "app_key": "k"}]
            },
        }
    )
    study = DiscoveredDevice("sonos", "Study", "127.0.0.5", 1400, "RINCON_A")
    assert is_configured(study, config)
    assert not is_configured(replace(study, host="127.0.0.6"), config)
    hue = DiscoveredDevice("hue", "Hue", "127.0.0.6", 80, "001788fffe4a1b2c", needs_pairing=True)
    described = describe(hue, config)
    assert described["configured"] and not described["needs_pairing"]
    assert describe(replace(hue, unique_id="other"), config)["needs_pairing"]


class FakeSonos:
    """An integration that accepts discovery results."""

    name = "sonos"

    def __init__(self) -> None:
        self.told: list[tuple[str, bool]] = []

    async def discovered(self, device: DiscoveredDevice, *, add: bool) -> bool:
        """Record the call."""
        self.told.append((device.host, add))
        return True


async def test_component_detects_ip_change_and_auto_adds(advertised: None, tmp_path: Path) -> None:
    """A known unique id at a new address is reported as moved; auto_add hands new ones over."""
    config = Config.model_validate(
        {"discovery": {"interfaces": LOOPBACK, "auto_add": True, "scan_seconds": 1}}
    )
    bus = Bus()
    home = Home(bus=bus)
    sonos = FakeSonos()
    home.integrations["sonos"] = sonos  # type: ignore[assignment]
    store = Store(tmp_path / "db.sqlite")

    rt = SimpleNamespace(config=config, bus=bus, home=home, store=store)
    component = Discovery(rt)  # type: ignore[arg-type]
    store.migrate("discovery", MIGRATIONS)
    notices = bus.subscribe(Notice)
    await component.scan_once()
    assert ("127.0.0.5", True) in sonos.told
    store.execute("UPDATE discovered SET host = '127.0.0.99' WHERE kind = 'sonos'")
    await component.scan_once()
    events = []
    while not notices.queue.empty():
        events.append(notices.queue.get_nowait())
    moved = [e for e in events if isinstance(e, Notice) and e.data["event"] == "moved"]
    assert moved and moved[0].data["old_host"] == "127.0.0.99"
    assert moved[0].data["host"] == "127.0.0.5"
    store.close()
