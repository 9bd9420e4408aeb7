"""Sonos: the real SoCo against the fake household on 127.0.21.x (SSDP, SOAP, GENA)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from agent.bus import Bus
from agent.demo.simulation import LoopbackAddresses, free_port
from agent.devices import Action, Command, Device, Feature, Kind
from agent.errors import DeviceUnavailable, IntegrationError, NoSuchDevice, UnsupportedCommand
from agent.home import Home
from agent.supervise import Supervisor
from integrations.sonos.adapter import SonosIntegration
from integrations.sonos.config import SonosConfig
from integrations.sonos.sim_state import Transport
from integrations.sonos.simulator import SonosHousehold, start_household
from tests.util import eventually

pytestmark = pytest.mark.timeout(30)

# SoCo keeps one instance per IP for the whole process (with cached uid and
# household): give every test fresh addresses so no test sees another's players.
_ADDRESSES = LoopbackAddresses(prefix="127.0.21")
_BLOCKS = itertools.count()


def fresh_addresses(n: int) -> list[str]:
    """n loopback addresses no earlier test in this process used."""
    return [_ADDRESSES.allocate() for _ in range(n)]


@dataclass
class Rig:
    """A fake household, a Home, and the real integration running against them."""

    household: SonosHousehold
    home: Home
    sonos: SonosIntegration
    task: asyncio.Task[None]
    supervisor: Supervisor

    def device(self, room: str) -> Device:
        """The home's device for a room's speaker."""
        uid = self.household.speaker(room).uid
        return self.home.get(f"sonos:{uid}")

    async def do(self, room: str, **command: Any) -> Device:
        """Execute a command through the Home, as the brain would."""
        return await self.home.execute(
            self.device(room).id, Command(**command), requested_by="test"
        )


@contextlib.asynccontextmanager
async def rig(*, max_timeout: int = 86400, **config: Any) -> AsyncIterator[Rig]:
    """Start a household and the integration; tear both down afterwards."""
    household = await start_household(fresh_addresses(3), max_timeout=max_timeout)
    settings: dict[str, Any] = {
        "interface_addr": "127.0.0.1",
        "household_id": household.household_id,
        "event_listener_port": free_port(),
        "poll_interval": 0.3,
        "retry_max": 1.0,
        "request_timeout": 2.0,
        "discovery_timeout": 1.0,
        **config,
    }
    bus = Bus()
    home = Home(bus=bus)
    supervisor = Supervisor(bus)
    sonos = SonosIntegration(SonosConfig(**settings), supervisor)
    home.integrations[sonos.name] = sonos
    task = asyncio.create_task(sonos.run(home))
    try:
        await eventually(
            lambda: len([d for d in home.devices() if d.available]) == 3 or task.done(),
            timeout=10,
        )
        if task.done():
            task.result()
        yield Rig(household, home, sonos, task, supervisor)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await sonos.stop()
        await household.close()


async def test_discovery_finds_every_speaker_with_room_and_favourites() -> None:
    async with rig() as r:
        devices = {d.name: d for d in r.home.devices(kind=Kind.SPEAKER)}
        assert set(devices) == {"Study", "Kitchen", "Living Room"}
        study = devices["Study"]
        assert study.id == f"sonos:{r.household.speaker('Study').uid}"
        assert study.area == "study" and devices["Living Room"].area == "living_room"
        assert study.features == {
            Feature.PLAYBACK,
            Feature.TRACKS,
            Feature.VOLUME,
            Feature.MUTE,
            Feature.PLAY_MEDIA,
            Feature.GROUPING,
        }
        assert study.info["host"] == r.household.speaker("Study").ip
        assert {"Radio Paradise", "Sunday Morning"} <= {f["title"] for f in study.info["favorites"]}
        assert study.state.volume == r.household.speaker("Study").state.volume
        assert study.state.playback == "stopped"
        assert study.state.group == (study.id,)


async def test_configured_host_brings_the_whole_household() -> None:
    household = await start_household(fresh_addresses(3), ssdp=False)
    home = Home(bus=Bus())
    # hosts only, no interface: no SSDP at all; the topology names the others
    sonos = SonosIntegration(
        SonosConfig(hosts=[household.speaker("Kitchen").ip], event_listener_port=free_port())
    )
    task = asyncio.create_task(sonos.run(home))
    try:
        await eventually(lambda: len(home.devices()) == 3, timeout=10)
        assert {d.name for d in home.devices()} == {"Study", "Kitchen", "Living Room"}
        assert all(d.available for d in home.devices())
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sonos.stop()
        await household.close()


async def test_play_my_favourite_radio_in_the_study() -> None:
    async with rig() as r:
        device = await r.do("Study", action=Action.PLAY_MEDIA, media="my favourite radio")
        fake = r.household.speaker("Study").state
        assert fake.transport == Transport.PLAYING
        assert fake.uri == "x-rincon-mp3radio://stream.radioparadise.com/mp3-192"
        assert device.state.playback == "playing"
        assert device.state.media_source == "Radio Paradise"
        assert (device.state.media_artist, device.state.media_title) == ("Nils Frahm", "Says")
        # "radio" alone means the same favourite; the kitchen stays silent
        await r.do("Study", action=Action.PAUSE)
        device = await r.do("Study", action=Action.PLAY_MEDIA, media="radio")
        assert device.state.playback == "playing"
        assert r.household.speaker("Kitchen").state.transport == Transport.STOPPED


async def test_each_command_changes_the_speaker() -> None:
    async with rig() as r:
        kitchen = r.household.speaker("Kitchen")
        device = await r.do("Kitchen", action=Action.PLAY_MEDIA, media="sunday morning")
        assert kitchen.state.transport == Transport.PLAYING
        assert kitchen.state.queue[0].title == "Come Away With Me"
        assert device.state.media_title == "Come Away With Me"
        assert device.state.media_source == "queue"

        device = await r.do("Kitchen", action=Action.NEXT)
        assert kitchen.state.track_index == 1 and device.state.media_title == "Harvest Moon"
        device = await r.do("Kitchen", action=Action.PREVIOUS)
        assert kitchen.state.track_index == 0

        device = await r.do("Kitchen", action=Action.PAUSE)
        assert kitchen.state.transport == Transport.PAUSED and device.state.playback == "paused"
        device = await r.do("Kitchen", action=Action.PLAY)
        assert kitchen.state.transport == Transport.PLAYING and device.state.playback == "playing"

        device = await r.do("Kitchen", action=Action.SET_VOLUME, volume=42)
        assert kitchen.state.volume == 42 and device.state.volume == 42
        device = await r.do("Kitchen", action=Action.MUTE, muted=True)
        assert kitchen.state.muted and device.state.muted is True

        url = "http://radio.example.org/live"
        device = await r.do("Kitchen", action=Action.PLAY_MEDIA, media=url)
        assert kitchen.state.uri == "x-rincon-mp3radio://radio.example.org/live"
        assert device.state.media_source == "radio.example.org"


async def test_join_and_unjoin_group_rooms() -> None:
    async with rig() as r:
        study, kitchen = r.household.speaker("Study"), r.household.speaker("Kitchen")
        await r.do("Study", action=Action.PLAY_MEDIA, media="Radio Paradise")
        study_id = r.device("Study").id
        device = await r.do("Kitchen", action=Action.JOIN, group_with=study_id)
        assert kitchen.state.coordinator == study.uid
        assert set(device.state.group or ()) == {study_id, device.id}
        assert device.state.playback == "playing"  # the group's playback
        await eventually(lambda: set(r.device("Study").state.group or ()) == {study_id, device.id})
        # pausing a member pauses its group (the coordinator does it)
        await r.do("Kitchen", action=Action.PAUSE)
        assert study.state.transport == Transport.PAUSED

        device = await r.do("Kitchen", action=Action.UNJOIN)
        assert kitchen.state.coordinator == kitchen.uid
        assert device.state.group == (device.id,)
        await eventually(lambda: r.device("Study").state.group == (study_id,))


async def test_speaker_side_changes_reach_home_through_events() -> None:
    # A minute between polls: only GENA events can bring these changes in time.
    async with rig(poll_interval=60) as r:
        study = r.household.speaker("Study")
        await r.do("Study", action=Action.PLAY_MEDIA, media="radio")
        study.press_play_pause()
        await eventually(lambda: r.device("Study").state.playback == "paused")
        study.set_volume(63)
        await eventually(lambda: r.device("Study").state.volume == 63)
        study.set_muted(True)
        await eventually(lambda: r.device("Study").state.muted is True)
        study.press_play_pause()
        await eventually(lambda: r.device("Study").state.playback == "playing")


async def test_refused_renewal_resubscribes() -> None:
    # Subscriptions last 2 s; renewal at 85 %. The speaker forgets them (as after a
    # reboot), so the renewal is refused and the integration must subscribe again.
    async with rig(poll_interval=60, max_timeout=2) as r:
        r.household.forget_subscriptions()
        kitchen = r.household.speaker("Kitchen")
        adapter_side = r.sonos.speakers[kitchen.uid]

        def settled() -> bool:
            services = ("AVTransport", "RenderingControl", "ZoneGroupTopology", "ContentDirectory")
            return (
                all(kitchen.subscriptions.get(name) for name in services)
                and len(adapter_side.subscriptions) == len(services)
                and not adapter_side.resubscribe
                and adapter_side.available
            )

        await eventually(settled, timeout=6)
        await asyncio.sleep(0.2)  # let the reconnect's own read finish first
        assert settled()
        kitchen.set_volume(71)
        await eventually(lambda: r.device("Kitchen").state.volume == 71)


async def test_unreachable_speaker_is_unavailable_then_recovers() -> None:
    async with rig() as r:
        study = r.household.speaker("Study")
        await study.stop()
        await eventually(lambda: not r.device("Study").available)
        assert r.device("Kitchen").available
        health = r.supervisor.health
        await eventually(
            lambda: (
                (health["integration:sonos"].status, health["integration:sonos"].detail)
                == ("degraded", "unreachable: Study")
            )
        )
        with pytest.raises(DeviceUnavailable):
            await r.do("Study", action=Action.PLAY)
        study.state.volume = 12  # changed while it was off
        await study.start()
        await eventually(lambda: r.device("Study").available, timeout=8)
        assert r.device("Study").state.volume == 12
        await eventually(lambda: health["integration:sonos"].status == "running")
        study.set_volume(55)  # events flow again after resubscribing
        await eventually(lambda: r.device("Study").state.volume == 55)
        await r.do("Study", action=Action.SET_VOLUME, volume=30)
        assert study.state.volume == 30


async def test_new_ip_keeps_the_device() -> None:
    async with rig() as r:
        study = r.household.speaker("Study")
        device_id = r.device("Study").id
        await study.stop()
        await eventually(lambda: not r.home.get(device_id).available)
        new_ip = fresh_addresses(1)[0]
        await study.start(new_ip)
        await eventually(lambda: r.home.get(device_id).available, timeout=8)
        device = r.home.get(device_id)
        assert device.info["host"] == new_ip and device.name == "Study"
        await r.do("Study", action=Action.SET_VOLUME, volume=47)
        assert study.state.volume == 47
        assert len(r.home.devices()) == 3


async def test_errors_are_plain_and_typed() -> None:
    async with rig() as r:
        with pytest.raises(IntegrationError, match="refused"):
            await r.do("Study", action=Action.PLAY_MEDIA, media="ftp://example.org/song.mp3")
        with pytest.raises(UnsupportedCommand, match="Radio Paradise"):
            await r.do("Study", action=Action.PLAY_MEDIA, media="xyzzy quux")
        with pytest.raises(NoSuchDevice):
            await r.do("Study", action=Action.JOIN, group_with="sonos:RINCON_NOPE")
        with pytest.raises(IntegrationError):
            await r.do("Study", action=Action.PLAY)  # nothing loaded: UPnP 701
        # nothing broke: the speaker still answers
        device = await r.do("Study", action=Action.SET_VOLUME, volume=9)
        assert device.state.volume == 9 and device.available


async def test_daemon_runs_sonos_from_config(start_daemon: Any) -> None:
    household = await start_household(fresh_addresses(3))
    try:
        config = {
            "discovery": {"enabled": False},  # nothing may scan beyond loopback
            "sonos": {
                "hosts": [s.ip for s in household.speakers.values()],
                "interface_addr": "127.0.0.1",
                "household_id": household.household_id,
                "event_listener_port": free_port(),
            },
        }
        daemon = await start_daemon(config)
        await eventually(lambda: len(daemon.rt.home.devices(integration="sonos")) == 3, 10)
        study = f"sonos:{household.speaker('Study').uid}"
        status, body = await daemon.api(
            "POST", f"/api/devices/{study}/commands", {"action": "play_media", "media": "radio"}
        )
        assert status == 200, body
        assert household.speaker("Study").state.transport == Transport.PLAYING
    finally:
        await household.close()


async def test_discovery_result_moves_a_known_speaker() -> None:
    from integrations.discovery_scan import DiscoveredDevice

    # Polls are a minute apart: only the discovery result can move the speaker.
    async with rig(poll_interval=60) as r:
        study = r.household.speaker("Study")
        device_id = r.device("Study").id
        await study.stop()
        new_ip = fresh_addresses(1)[0]
        await study.start(new_ip)
        found = DiscoveredDevice("sonos", "Study", new_ip, 1400, study.uid, source="ssdp")
        assert await r.sonos.discovered(found, add=False)
        device = r.home.get(device_id)
        assert device.available and device.info["host"] == new_ip
        await r.do("Study", action=Action.SET_VOLUME, volume=33)
        assert study.state.volume == 33
        stranger = DiscoveredDevice("sonos", "Attic", "127.0.21.254", 1400, "RINCON_X")
        assert not await r.sonos.discovered(stranger, add=False)
