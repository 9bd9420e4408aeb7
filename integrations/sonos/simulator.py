"""A fake Sonos household that the real SoCo discovers (SSDP) and drives (UPnP + GENA).

Players (see `sim_player.py`) each live on their own loopback address; the
household holds what they share: the topology (groups), the favourites, the
subscription policy and one SSDP responder bound to loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import secrets
import socket
import struct
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import ClientSession, ClientTimeout

from integrations.sonos import sim_xml as X
from integrations.sonos.sim_player import PORT, FakeSpeaker
from integrations.sonos.sim_state import FAVOURITES

if TYPE_CHECKING:
    from agent.demo.simulation import DemoContext, DemoPart

log = logging.getLogger(__name__)

SSDP_GROUP = "239.255.255.250"
SSDP_PORT = 1900
ROOMS = ("Study", "Kitchen", "Living Room")


class SonosHousehold:
    """A household of fake players sharing one topology, favourites and SSDP responder."""

    def __init__(self, household_id: str | None = None, max_timeout: int = 86400) -> None:
        self.household_id = household_id or f"Sonos_{secrets.token_urlsafe(16)}"
        self.max_timeout = max_timeout
        self.speakers: dict[str, FakeSpeaker] = {}
        self.playlists = {fav.uri: fav for fav in FAVOURITES if fav.kind == "playlist"}
        self.favourites_update_id = 1
        self.http = ClientSession(timeout=ClientTimeout(total=3))
        self._tasks: set[asyncio.Task[None]] = set()
        self._ssdp_in: asyncio.DatagramTransport | None = None
        self._group_ids = itertools.count(1)

    def speaker(self, room: str) -> FakeSpeaker:
        """The player of a room (case-insensitive)."""
        for name, speaker in self.speakers.items():
            if name.lower() == room.lower():
                return speaker
        raise KeyError(room)

    def by_uid(self, uid: str) -> FakeSpeaker | None:
        """The player with this RINCON uid."""
        return next((s for s in self.speakers.values() if s.uid == uid), None)

    async def add(self, room: str, ip: str, *, volume: int = 25) -> FakeSpeaker:
        """Create and power on a player in a room."""
        speaker = FakeSpeaker(self, room, ip, _uid_for(self.household_id, room))
        speaker.state.volume = volume
        self.speakers[room] = speaker
        await speaker.start()
        return speaker

    async def start_ssdp(self) -> None:
        """Answer M-SEARCH for ZonePlayers arriving on loopback (never another interface)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((SSDP_GROUP, SSDP_PORT))
        membership = socket.inet_aton(SSDP_GROUP) + socket.inet_aton("127.0.0.1")
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, struct.pack("B", 1))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        self._ssdp_in, _ = await loop.create_datagram_endpoint(
            lambda: _SsdpProtocol(self), sock=sock
        )

    def answer_search(self, data: bytes, addr: tuple[str, int]) -> None:
        """Reply to an M-SEARCH from every running player's own address."""
        text = data.decode("latin-1")
        if not text.startswith("M-SEARCH"):
            return
        st = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in text.splitlines()
                if ln.upper().startswith("ST:")
            ),
            "",
        )
        if st not in (X.ZONE_PLAYER, "ssdp:all", "upnp:rootdevice"):
            return
        for speaker in self.speakers.values():
            if speaker.running and speaker._ssdp_out is not None:
                reply = (
                    "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age = 1800\r\nEXT:\r\n"
                    f"LOCATION: http://{speaker.ip}:{PORT}/xml/device_description.xml\r\n"
                    f"SERVER: Linux UPnP/1.0 Sonos/{X.SOFTWARE_VERSION} (ZPS18)\r\n"
                    f"ST: {X.ZONE_PLAYER}\r\nUSN: uuid:{speaker.uid}::{X.ZONE_PLAYER}\r\n"
                    f"X-RINCON-HOUSEHOLD: {self.household_id}\r\nX-RINCON-BOOTSEQ: 7\r\n\r\n"
                )
                speaker._ssdp_out.sendto(reply.encode(), addr)

    def grant_timeout(self, header: str | None) -> int:
        """The subscription lifetime granted for a requested `TIMEOUT: Second-N`."""
        requested = self.max_timeout
        if header and header.lower().startswith("second-"):
            with contextlib.suppress(ValueError):
                requested = int(header[7:])
        return max(1, min(requested, self.max_timeout))

    def forget_subscriptions(self) -> None:
        """Drop every subscription (as a firmware update would): renewals now fail with 412."""
        for speaker in self.speakers.values():
            speaker.subscriptions.clear()

    def topology_changed(self) -> None:
        """Tell every ZoneGroupTopology subscriber about the new groups."""
        for speaker in self.speakers.values():
            speaker.notify("ZoneGroupTopology")

    def zone_group_state(self) -> str:
        """The ZoneGroupState document: one ZoneGroup per running coordinator."""
        groups = []
        for leader in self.speakers.values():
            if not leader.running or leader.coordinator() is not leader:
                continue
            members = "".join(
                f'<ZoneGroupMember UUID="{m.uid}" '
                f'Location="http://{m.ip}:{PORT}/xml/device_description.xml" '
                f'ZoneName="{X.attr(m.room)}" Icon="x-rincon-roomicon:living" '
                f'Configuration="1" SoftwareVersion="{X.SOFTWARE_VERSION}" SWGen="2" '
                'MinCompatibleVersion="79.0-00000" BootSeq="7" '
                'ChannelMapSet="" HTSatChanMapSet="" MicEnabled="0" VoiceConfigState="0"/>'
                for m in leader.members()
            )
            groups.append(
                f'<ZoneGroup Coordinator="{leader.uid}" ID="{leader.uid}:{next(self._group_ids)}">'
                f"{members}</ZoneGroup>"
            )
        zone_groups = "".join(groups)
        return (
            f"<ZoneGroupState><ZoneGroups>{zone_groups}</ZoneGroups>"
            "<VanishedDevices/></ZoneGroupState>"
        )

    def favourites_didl(self) -> str:
        """The household's favourites as the FV:2 container."""
        return X.didl_favourites([fav.entry() for fav in FAVOURITES])

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a fire-and-forget coroutine, kept referenced until done."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Power everything off and release sockets."""
        for speaker in self.speakers.values():
            await speaker.stop()
        if self._ssdp_in is not None:
            self._ssdp_in.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.close()


class _SsdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, household: SonosHousehold) -> None:
        self.household = household

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.household.answer_search(data, addr)


def _uid_for(household_id: str, room: str) -> str:
    """A RINCON uid per household and room: unique like a real one, stable for a household."""
    digest = hashlib.sha1(f"{household_id}/{room}".encode()).hexdigest()[:12].upper()
    return f"RINCON_{digest}01400"


async def start_household(
    addresses: list[str],
    *,
    rooms: tuple[str, ...] = ROOMS,
    household_id: str | None = None,
    ssdp: bool = True,
    max_timeout: int = 86400,
) -> SonosHousehold:
    """Start a household with one player per room on the given loopback addresses."""
    household = SonosHousehold(household_id, max_timeout)
    try:
        for room, ip, volume in zip(rooms, addresses, (20, 30, 25, 35, 40), strict=False):
            await household.add(room, ip, volume=volume)
        if ssdp:
            try:
                await household.start_ssdp()
            except OSError as err:  # port 1900 taken without SO_REUSEADDR: hosts still work
                log.warning("sonos simulator: SSDP responder unavailable: %s", err)
    except BaseException:
        await household.close()
        raise
    return household


async def demo(ctx: DemoContext) -> DemoPart:
    """Three players (Study, Kitchen, Living Room) for `homeclaw demo`."""
    from agent.demo.simulation import DemoPart

    addresses = [ctx.addresses.allocate() for _ in ROOMS]
    # One household per demo home: device ids stay the same from run to run,
    # while tests (random households) never share a uid with the demo.
    household_id = "Sonos_" + hashlib.sha1(str(ctx.home).encode()).hexdigest()[:22]
    household = await start_household(addresses, household_id=household_id)
    config = {
        "hosts": addresses,
        "interface_addr": "127.0.0.1",
        "household_id": household.household_id,
    }
    return DemoPart(name="sonos", config=config, stop=household.close, handle=household)
