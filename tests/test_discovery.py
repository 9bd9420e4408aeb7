"""Discovery on loopback: mDNS services registered here and an SSDP responder.

mDNS tests share one zeroconf registration (probing costs ~1 s per service)
and run in this one module, serially.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from zeroconf import ServiceInfo, Zeroconf

from agent.brain.tools import ToolContext
from agent.bus import Bus, Notice
from agent.config import Config
from agent.demo.simulation import free_port
from agent.home import Home
from agent.store import Store
from integrations.discovery import MIGRATIONS, DiscoveredDevice, Discovery, describe, is_configured
from integrations.discovery_scan import SONOS_ST, parse_headers, scan, scan_mdns, scan_ssdp
from tests.conftest import RunningDaemon

pytestmark = pytest.mark.timeout(40)
LOOPBACK = ["127.0.0.1"]
# Other test runs on this machine may advertise on loopback too: our ids are unique.
TAG = secrets.token_hex(3).upper()


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
        "_sonos._tcp.local.", f"RINCON_000E58{TAG}01400@Study", "127.0.0.5", 1400, {"bootseq": "3"}
    ),
    _info(
        "_hue._tcp.local.",
        f"Hue Bridge - {TAG}",
        "127.0.0.6",
        8080,
        {"bridgeid": f"001788fffe{TAG}"},
    ),
    _info("_wled._tcp.local.", f"tv-backlight-{TAG}", "127.0.0.7", 80, {"mac": f"aabbcc{TAG}"}),
    _info("_shelly._tcp.local.", f"shellyplugs-a803{TAG}", "127.0.0.8", 8081, {"gen": "2"}),
    _info(
        "_home-assistant._tcp.local.",
        f"Demo Home {TAG}",
        "127.0.0.1",
        8123,
        {"uuid": TAG, "location_name": "Demo Home", "internal_url": "http://127.0.0.1:8123"},
    ),
    _info("_mqtt._tcp.local.", f"mosquitto-{TAG}", "127.0.0.1", 1883, {}),
]


async def scan_for(
    wanted: Callable[[list[DiscoveredDevice]], bool], tries: int = 3, *, ssdp: bool = False
) -> list[DiscoveredDevice]:
    """mDNS scans until `wanted` holds (kept across tries).

    mDNS is best effort and every test run on this machine shares loopback: a
    responder may stay silent for a second after answering someone else, so one
    short scan can miss a service that the next one finds.
    """
    found: dict[tuple[str, str, str, int], DiscoveredDevice] = {}
    for _ in range(tries):
        for d in await (scan(LOOPBACK, 2.0) if ssdp else scan_mdns(LOOPBACK, 2.0)):
            found[(d.kind, d.unique_id, d.host, d.port)] = d
        if wanted(list(found.values())):
            break
    return list(found.values())


@pytest.fixture(scope="module")
def advertised() -> Iterator[None]:
    """The services above, registered on loopback for the whole module."""
    # The sync API runs zeroconf on its own thread, so it keeps answering
    # while each test runs its own event loop.
    zc = Zeroconf(interfaces=LOOPBACK)
    try:
        with ThreadPoolExecutor(len(ADVERTS)) as pool:  # probe concurrently (~1 s each)
            list(pool.map(lambda i: zc.register_service(i, allow_name_change=True), ADVERTS))
        # A responder may not multicast a record again within 1 s of announcing it
        # (RFC 6762 §6): a browser asking right away would get no answer yet.
        time.sleep(1.1)
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
    tag = TAG.lower()
    kinds = {"sonos", "hue", "wled", "shelly", "homeassistant"}
    ours = await scan_for(lambda f: {d.kind for d in f if tag in d.unique_id.lower()} >= kinds)
    found = {d.kind: d for d in ours if tag in d.unique_id.lower()}
    assert set(found) == {"sonos", "hue", "wled", "shelly", "homeassistant"}
    sonos = found["sonos"]
    assert (sonos.name, sonos.host) == ("Study", "127.0.0.5")
    assert sonos.unique_id == f"RINCON_000E58{TAG}01400"
    assert sonos.config_snippet == {"sonos": {"hosts": ["127.0.0.5"]}}
    hue = found["hue"]
    assert hue.unique_id == f"001788fffe{tag}" and hue.needs_pairing
    assert hue.config_snippet["hue"]["bridges"][0]["host"] == "127.0.0.6:8080"
    assert found["wled"].config_snippet == {"wled": {"hosts": ["127.0.0.7"]}}
    assert found["shelly"].unique_id == f"a803{tag}"
    assert found["shelly"].config_snippet == {"shelly": {"hosts": ["127.0.0.8:8081"]}}
    assert found["homeassistant"].config_snippet["homeassistant"]["url"] == "http://127.0.0.1:8123"


async def test_ssdp_finds_a_zoneplayer_and_its_room(ssdp_speaker: None) -> None:
    """An M-SEARCH on loopback reaches the responder; the room comes from its description."""
    found = await scan_ssdp(LOOPBACK, 1.0)
    # Other Sonos simulators may be answering on loopback too (parallel test runs).
    sonos = [d for d in found if d.kind == "sonos" and d.host == "127.0.0.9"]
    assert [(d.name, d.unique_id, d.source) for d in sonos] == [
        ("Kitchen", "RINCON_000E58BBBB0201400", "ssdp")
    ]


async def test_scan_merges_mdns_and_ssdp(advertised: None, ssdp_speaker: None) -> None:
    """Both sources in one scan; one entry per unique id."""
    study, kitchen = f"RINCON_000E58{TAG}01400", "RINCON_000E58BBBB0201400"
    found = await scan_for(lambda f: {d.unique_id for d in f} >= {study, kitchen}, ssdp=True)
    sonos = {d.unique_id: d.name for d in found if d.kind == "sonos"}
    assert sonos[f"RINCON_000E58{TAG}01400"] == "Study"
    assert sonos["RINCON_000E58BBBB0201400"] == "Kitchen"


def test_configured_matching_by_address_and_unique_id() -> None:
    """Configured by host, by Hue bridge id, or by a Home device carrying the unique id."""
    config = Config.model_validate(
        {
            "sonos": {"hosts": ["127.0.0.5"]},
            "hue": {
                "bridges": [{"host": "127.0.0.9", "bridge_id": "001788fffe4a1b2c", "app_key": "k"}]
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
        {"discovery": {"interfaces": LOOPBACK, "auto_add": True, "scan_seconds": 1.5}}
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
    study = f"RINCON_000E58{TAG}01400"
    for _ in range(3):  # mDNS is best effort on a shared loopback (see scan_for)
        await component.scan_once()
        if ("127.0.0.5", True) in sonos.told:
            break
    assert ("127.0.0.5", True) in sonos.told
    store.execute("UPDATE discovered SET host = '127.0.0.99' WHERE unique_id = ?", (study,))
    moved: list[Notice] = []
    for _ in range(3):
        await component.scan_once()
        while not notices.queue.empty():
            event = notices.queue.get_nowait()
            if isinstance(event, Notice) and event.data["event"] == "moved":
                moved += [event] if event.data["unique_id"] == study else []
        if moved:
            break
    assert moved and moved[0].data["old_host"] == "127.0.0.99"
    assert moved[0].data["host"] == "127.0.0.5"
    store.close()


async def test_demo_home_is_discoverable(tmp_path: Path) -> None:
    """The demo's simulators, advertised on loopback, are all found with their config."""
    from agent.demo.simulation import DemoContext, DemoPart
    from integrations.demo_advertise import advertise
    from integrations.homeassistant.simulator import demo as ha_demo
    from integrations.hue.simulator import demo as hue_demo
    from integrations.shelly.simulator import demo as shelly_demo
    from integrations.wled.simulator import demo as wled_demo

    ctx = DemoContext(home=tmp_path)
    parts = [await d(ctx) for d in (ha_demo, hue_demo, shelly_demo, wled_demo)]
    speaker = SimpleNamespace(uid="RINCON_000E58CCCC0301400", room="Living Room", ip="127.0.0.30")
    parts.append(DemoPart("sonos", {}, handle=SimpleNamespace(speakers={"Living Room": speaker})))
    parts.append(DemoPart("mqtt", {"mqtt": {"host": "127.0.0.1", "port": 18830}}))
    advertiser = await advertise(parts, ["127.0.0.1"])
    await asyncio.sleep(1.1)  # see `advertised`
    try:
        expected = {
            ("homeassistant", parts[0].handle.host, parts[0].handle.port),
            ("hue", parts[1].handle.host, parts[1].handle.port),
            ("shelly", parts[2].handle.host, parts[2].handle.port),
            ("wled", parts[3].handle.host, 80),
            ("sonos", "127.0.0.30", 1400),
            ("mqtt", "127.0.0.1", 18830),
        }
        found = await scan_for(lambda f: {(d.kind, d.host, d.port) for d in f} >= expected)
        # Other demos on this machine may advertise too: look for ours.
        addresses = {(d.kind, d.host, d.port) for d in found}
        ha, hue, shelly, wled = (p.handle for p in parts[:4])
        assert ("homeassistant", ha.host, ha.port) in addresses
        assert ("hue", hue.host, hue.port) in addresses
        assert ("shelly", shelly.host, shelly.port) in addresses
        assert ("wled", wled.host, 80) in addresses
        assert ("sonos", "127.0.0.30", 1400) in addresses
        assert ("mqtt", "127.0.0.1", 18830) in addresses
        ours = next(d for d in found if d.kind == "homeassistant" and d.port == ha.port)
        assert ours.config_snippet["homeassistant"]["url"] == ha.url
    finally:
        await advertiser.close()
        for part in parts:
            await part.stop()


async def test_cli_discover_json_and_hue_pair(
    advertised: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`homeclaw discover --json` lists our services; `hue-pair` waits for the button."""
    from agent.cli import main
    from integrations.hue.simulator import demo_bridge

    home = ["--home", str(tmp_path / "home")]
    argv = [*home, "discover", "--interface", "127.0.0.1", "--seconds", "2", "--json"]
    for _ in range(3):  # best effort, as in scan_for
        assert await asyncio.to_thread(main, argv) == 0
        report = json.loads(capsys.readouterr().out)
        ours = [d for d in report["found"] if TAG.lower() in d["unique_id"].lower()]
        if len(ours) >= 5:
            break
    assert report["interfaces"] == ["127.0.0.1"]
    hue = next(d for d in ours if d["kind"] == "hue")
    assert hue["needs_pairing"] and not hue["configured"] and hue["supported"]

    bridge = demo_bridge("127.0.0.1", auto_press_after=0.5)
    await bridge.start()
    try:
        argv = [*home, "hue-pair", bridge.address, "--timeout", "5", "--json"]
        assert await asyncio.to_thread(main, argv) == 0
        paired = json.loads(capsys.readouterr().out)
        assert paired["app_key"] in bridge.users
        assert paired["config"]["hue"]["bridges"][0]["host"] == bridge.address
        argv = [*home, "hue-pair", "127.0.0.1:1", "--timeout", "1"]
        assert await asyncio.to_thread(main, argv) == 1
        assert "Not paired" in capsys.readouterr().out
    finally:
        await bridge.stop()


async def test_daemon_scan_api_and_tool(
    advertised: None, start_daemon: Callable[..., Awaitable[RunningDaemon]]
) -> None:
    """POST /api/discovery/scan scans now; GET lists what was seen; the tool is registered."""
    daemon = await start_daemon(
        {"discovery": {"interfaces": LOOPBACK, "scan_seconds": 2, "first_scan_delay_seconds": 600}}
    )
    result = await daemon.rt.tools.call(
        "discover_devices", {}, ToolContext(channel="test", sender="owner")
    )
    assert result.ok and result.value["count"] == len(result.value["found"])
    for _ in range(3):  # best effort, as in scan_for
        status, body = await daemon.api("POST", "/api/discovery/scan")
        assert status == 200
        if any(TAG.lower() in d["unique_id"].lower() for d in body["found"]):
            break
    mine = [d for d in body["found"] if TAG.lower() in d["unique_id"].lower()]
    assert mine and all(not d["configured"] for d in mine)
    status, listed = await daemon.api("GET", "/api/discovery")
    assert status == 200 and listed["last_scan"] is not None
    assert {d["unique_id"] for d in mine} <= {row["unique_id"] for row in listed["seen"]}


def test_home_assistant_advertising_0000_and_already_configured() -> None:
    """An HA advertising 0.0.0.0 is reached where the advert came from; the configured
    one is "configured" when its advert names its URL, or when it is this machine."""
    from integrations.discovery_scan import PARSERS, Advert

    props = {"location_name": "Home", "uuid": "abc", "base_url": "http://0.0.0.0:8123"}
    ad = Advert(
        "_home-assistant._tcp.local.", "Home._home-assistant._tcp.local.", "127.0.0.3", 8123, props
    )
    found = PARSERS["_home-assistant._tcp.local."](ad)
    assert found is not None
    assert found.config_snippet["homeassistant"]["url"] == "http://127.0.0.3:8123"

    config = Config.model_validate(
        {"homeassistant": {"url": "http://127.0.0.1:8123", "token": "t"}}
    )
    # Advertised from one of this machine's addresses while the config says loopback.
    assert is_configured(replace(found, host="127.0.0.1"), config)
    named = replace(
        found, host="127.0.0.44", properties={**props, "internal_url": "http://127.0.0.1:8123"}
    )
    assert is_configured(named, config)
    elsewhere = replace(found, host="127.0.0.44")
    assert not is_configured(elsewhere, config)
    assert describe(elsewhere, config)["needs_pairing"]
