"""Sonos speakers as `Kind.SPEAKER` devices, driven through SoCo and kept live by UPnP events.

SoCo blocks (even property reads do network I/O), so every SoCo call runs in a
thread through `_call`, which is also the one place SoCo and transport errors
become `agent.errors`. State stays live through `soco.events_asyncio`
subscriptions; a periodic check catches speakers that vanished without a word,
marks them unavailable and retries them with backoff. Devices are keyed by the
speaker's RINCON uid, so a speaker that comes back on a new IP keeps its name,
area and history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import soco
from soco import events_asyncio
from soco.core import SoCo

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import (
    CommandTimeout,
    DeviceUnavailable,
    HomeError,
    NoSuchDevice,
    UnsupportedCommand,
)
from agent.media import looks_like_uri
from integrations.sonos import favourites as fav
from integrations.sonos import speaker as sp
from integrations.sonos.config import SonosConfig
from integrations.sonos.errors import translate
from integrations.sonos.speaker import Speaker

if TYPE_CHECKING:
    from agent.home import Home
    from agent.runtime import Runtime
    from agent.supervise import Supervisor
    from integrations.discovery_scan import DiscoveredDevice

log = logging.getLogger(__name__)
T = TypeVar("T")

FEATURES = frozenset(
    {
        Feature.PLAYBACK,
        Feature.TRACKS,
        Feature.VOLUME,
        Feature.MUTE,
        Feature.PLAY_MEDIA,
        Feature.GROUPING,
    }
)
SERVICES = ("avTransport", "renderingControl", "zoneGroupTopology", "contentDirectory")


class SonosIntegration:
    """Every Sonos speaker of the household, as one integration."""

    name = "sonos"

    def __init__(self, config: SonosConfig, supervisor: Supervisor | None = None) -> None:
        self.config = config
        self._supervisor = supervisor
        self.speakers: dict[str, Speaker] = {}
        self.favourites: list[fav.Favourite] = []
        self._favourites_version: str | None = None
        self._home: Home | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._next_discovery = 0.0
        self._wake = asyncio.Event()
        self._topology = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------

    async def run(self, home: Home) -> None:
        """Find the speakers, subscribe to their events, then watch them until cancelled."""
        self._home = home
        _configure_soco(self.config)
        for speaker in self.speakers.values():  # a supervised restart: start clean
            await self._drop_subscriptions(speaker)
            speaker.available = False
        await self._discover()
        if not any(s.available for s in self.speakers.values()):
            raise DeviceUnavailable("No Sonos speaker answered.")
        while True:
            now = time.monotonic()
            due = min([s.next_check for s in self.speakers.values()] + [self._next_discovery])
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.05, due - now)):
                    await self._wake.wait()
            await self._check_due()

    async def stop(self) -> None:
        """Unsubscribe everything and stop SoCo's event listener."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for speaker in self.speakers.values():
            await self._drop_subscriptions(speaker)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await events_asyncio.event_listener.async_stop()

    # -- discovery --------------------------------------------------------------------

    async def _discover(self) -> None:
        """Attach configured hosts, SSDP finds and their topology; skip what answers nothing."""
        # Look again soon while something is missing, rarely once the household is complete.
        self._next_discovery = time.monotonic() + self.config.poll_interval * 10
        candidates: dict[str, SoCo] = {host: SoCo(host) for host in self.config.hosts}
        if not self.config.hosts or self.config.interface_addr:
            try:
                found = await self._call(None, self._ssdp_search)
            except HomeError as err:
                log.debug("sonos discovery failed: %s", err)
                found = set()
            candidates.update({z.ip_address: z for z in found})
        await self._attach_new(candidates)
        # Any speaker knows the whole household: its topology names the rest.
        for speaker in [s for s in self.speakers.values() if s.available]:
            with contextlib.suppress(HomeError):
                zones = await self._call(speaker, lambda s=speaker.soco: s.visible_zones)
                await self._attach_new({z.ip_address: z for z in zones})
                break
        attached = {s.soco.ip_address for s in self.speakers.values() if s.available}
        if not attached.issuperset(self.config.hosts) or len(attached) < len(self.speakers):
            self._next_discovery = time.monotonic() + self.config.poll_interval

    async def _attach_new(self, candidates: dict[str, SoCo]) -> None:
        known = {s.soco.ip_address for s in self.speakers.values() if s.available}
        for ip, zone in candidates.items():
            if ip not in known:
                with contextlib.suppress(HomeError):
                    await self._attach(zone)

    def _ssdp_search(self) -> set[SoCo]:
        found = soco.discover(
            timeout=self.config.discovery_timeout,
            interface_addr=self.config.interface_addr,
            household_id=self.config.household_id or "Sonos",
        )
        return set(found or ())

    async def _attach(self, zone: SoCo) -> None:
        """Identify a speaker at an address and connect it (a known uid may have moved)."""
        identity = await self._call(None, sp.identify, zone, self.config.request_timeout)
        if self.config.household_id and identity.household != self.config.household_id:
            return
        speaker = self.speakers.get(identity.uid)
        if speaker is None:
            speaker = self.speakers[identity.uid] = Speaker(identity, zone)
            log.info("sonos: found %s (%s) at %s", identity.name, identity.uid, identity.ip)
        async with speaker.connecting:
            if speaker.available and speaker.soco is zone:
                return  # connected meanwhile by someone else
            if speaker.soco is not zone:
                log.info(
                    "sonos: %s moved from %s to %s", identity.name, speaker.identity.ip, identity.ip
                )
                await self._drop_subscriptions(speaker)
                speaker.soco = zone
            speaker.identity = identity
            await self._connect(speaker)

    async def discovered(self, found: DiscoveredDevice, *, add: bool) -> bool:
        """A speaker seen on the LAN: follow a known one to a new address; add new ones if asked."""
        if self._home is None or found.kind != "sonos":
            return False
        speaker = self.speakers.get(found.unique_id)
        if speaker is None and not add:
            return False
        if speaker is not None and speaker.available and speaker.soco.ip_address == found.host:
            return True
        try:
            await self._attach(SoCo(found.host))
        except (HomeError, ValueError) as err:
            log.info("sonos: %s at %s did not answer: %s", found.name, found.host, err)
            return False
        return True

    async def _connect(self, speaker: Speaker) -> None:
        """Subscribe first, then read, so no change falls between the two."""
        await self._drop_subscriptions(speaker)
        await self._subscribe(speaker)
        reading = await self._call(speaker, sp.read, speaker.soco)
        if not self.favourites:
            await self._load_favourites(speaker)
        speaker.available, speaker.failures = True, 0
        # A renewal refused while we were connecting asks for another round at once.
        delay = 0.0 if speaker.resubscribe else self.config.poll_interval
        speaker.next_check = time.monotonic() + delay
        self._register(speaker, reading)
        self._report_health()

    # -- the watchdog ---------------------------------------------------------------------

    async def _check_due(self) -> None:
        now = time.monotonic()
        due = [s for s in self.speakers.values() if s.next_check <= now]
        await asyncio.gather(*(self._check(s) for s in due))
        if now >= self._next_discovery or any(not s.available for s in due):
            await self._discover()  # a speaker that moved shows up at its new address

    def _report_health(self) -> None:
        """Degraded on the dashboard while some speaker is unreachable."""
        if self._supervisor is None:
            return
        down = sorted(s.identity.name for s in self.speakers.values() if not s.available)
        status, detail = (
            ("degraded", "unreachable: " + ", ".join(down)) if down else ("running", "")
        )
        self._supervisor.set_status(f"integration:{self.name}", status, detail)

    async def _check(self, speaker: Speaker) -> None:
        try:
            if speaker.available and not speaker.resubscribe:
                await self._refresh_now(speaker)
                speaker.next_check = time.monotonic() + self.config.poll_interval
            else:
                async with speaker.connecting:
                    if speaker.available and not speaker.resubscribe:
                        return  # discovery reconnected it meanwhile
                    was_available = speaker.available
                    speaker.resubscribe = False
                    await self._connect(speaker)
                if not was_available:
                    log.info("sonos: %s is back", speaker.identity.name)
        except HomeError as err:
            await self._lost(speaker, err)

    async def _lost(self, speaker: Speaker, reason: HomeError) -> None:
        """Mark a speaker unavailable and schedule its retry with backoff."""
        if speaker.available:
            log.warning("sonos: %s unreachable: %s", speaker.identity.name, reason)
        speaker.available = False
        speaker.failures += 1
        base = min(1.0, self.config.poll_interval)
        delay = min(self.config.retry_max, base * 2 ** (speaker.failures - 1))
        speaker.next_check = time.monotonic() + delay
        if self._home is not None:
            self._home.update(speaker.device_id, available=False)
        self._report_health()
        self._spawn(self._drop_subscriptions(speaker))
        self._wake.set()

    # -- events ---------------------------------------------------------------------------

    async def _subscribe(self, speaker: Speaker) -> None:
        for name in SERVICES:
            service = getattr(speaker.soco, name)
            pending = service.subscribe(
                requested_timeout=self.config.subscription_timeout, auto_renew=True
            )
            try:
                async with asyncio.timeout(self.config.request_timeout):
                    # Shielded: SoCo resolves this future from its own task, which
                    # crashes (an unretrieved InvalidStateError) if we cancel it on a
                    # timeout or at shutdown. A late subscription is dropped instead.
                    sub = await asyncio.shield(pending)
            except BaseException as err:
                pending.add_done_callback(_drop_late_subscription)
                if not isinstance(err, Exception):
                    raise  # cancelled: the daemon is stopping
                # aiohttp, SoCo or timeout: all mean "not reachable"
                await self._drop_subscriptions(speaker)
                raise DeviceUnavailable(
                    f"{speaker.identity.name} refused event subscriptions ({err!r})."
                ) from err
            sub.callback = partial(self._on_event, speaker)
            sub.auto_renew_fail = partial(self._on_renew_failed, speaker, sub)
            speaker.subscriptions.append(sub)

    async def _drop_subscriptions(self, speaker: Speaker) -> None:
        subs, speaker.subscriptions = speaker.subscriptions, []
        for sub in subs:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await sub.unsubscribe()  # strict: no traceback logged

    def _on_event(self, speaker: Speaker, event: Any) -> None:
        """Apply an event (called on the loop by SoCo's listener)."""
        service = event.service.service_type
        variables = event.variables
        if service == "RenderingControl":
            self._schedule_refresh(speaker)
        elif service == "ContentDirectory":
            version = variables.get("favorites_update_id")
            if version is not None and version != self._favourites_version:
                self._favourites_version = version
                self._spawn(self._load_favourites())
        elif service == "ZoneGroupTopology":
            self._topology.set()
            for other in self.speakers.values():
                self._schedule_refresh(other)
        else:  # AVTransport: the whole group plays what its coordinator plays
            group = self._group_of(speaker)
            for other in self.speakers.values():
                if other is speaker or other.device_id in group:
                    self._schedule_refresh(other)

    def _on_renew_failed(self, speaker: Speaker, sub: Any, err: Exception) -> None:
        """A renewal was refused (the speaker rebooted or forgot us): subscribe afresh."""
        if sub not in speaker.subscriptions:
            return  # an old subscription, already replaced
        log.info(
            "sonos: renewing events of %s failed (%s); resubscribing", speaker.identity.name, err
        )
        speaker.resubscribe = True
        speaker.next_check = time.monotonic()
        self._wake.set()

    def _group_of(self, speaker: Speaker) -> tuple[str, ...]:
        device = self._home.find(speaker.device_id) if self._home else None
        return device.state.group or () if device else ()

    # -- state ------------------------------------------------------------------------------

    def _schedule_refresh(self, speaker: Speaker) -> None:
        """Coalesce refreshes: one read loop per speaker, reading again if events came meanwhile."""
        if not speaker.available:
            return
        speaker.dirty = True
        if not speaker.refreshing:
            speaker.refreshing = True
            self._spawn(self._refresh_loop(speaker))

    async def _refresh_loop(self, speaker: Speaker) -> None:
        try:
            while speaker.dirty and speaker.available:
                speaker.dirty = False
                try:
                    await self._refresh_now(speaker)
                except HomeError as err:
                    await self._lost(speaker, err)
                    return
        finally:
            speaker.refreshing = False

    async def _refresh_now(self, speaker: Speaker) -> DeviceState:
        async with speaker.lock:
            reading = await self._call(speaker, sp.read, speaker.soco)
            state = self._state(reading)
            if self._home is not None:
                self._home.update(speaker.device_id, state, available=True)
            return state

    def _state(self, reading: sp.Reading) -> DeviceState:
        group = tuple(f"sonos:{uid}" for uid in reading.group)
        return DeviceState(**reading.fields, group=group)

    def _register(self, speaker: Speaker, reading: sp.Reading) -> None:
        """Add (or re-add, e.g. with a new host) the speaker's device to the home."""
        if self._home is None:
            return
        identity = speaker.identity
        self._home.add(
            Device(
                id=speaker.device_id,
                name=identity.name,
                kind=Kind.SPEAKER,
                integration=self.name,
                area=identity.name,
                features=FEATURES,
                state=self._state(reading),
                available=True,
                info={
                    "host": identity.ip,
                    "uid": identity.uid,
                    "model": identity.model,
                    "household": identity.household,
                    "favorites": [{"title": f.title, "kind": f.kind} for f in self.favourites],
                },
            )
        )

    async def _load_favourites(self, source: Speaker | None = None) -> None:
        source = source or next((s for s in self.speakers.values() if s.available), None)
        if source is None:
            return
        try:
            self.favourites = await self._call(source, fav.load, source.soco)
        except HomeError as err:
            log.warning("sonos: could not read favourites: %s", err)
            return
        titles = [{"title": f.title, "kind": f.kind} for f in self.favourites]
        if self._home is None:
            return
        for speaker in self.speakers.values():
            device = self._home.find(speaker.device_id)
            if device is not None and device.info.get("favorites") != titles:
                self._home.add(replace(device, info={**device.info, "favorites": titles}))

    # -- commands -----------------------------------------------------------------------------

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Act on a speaker and return its confirmed state."""
        speaker = self.speakers.get(device.id.removeprefix("sonos:"))
        if speaker is None:
            raise NoSuchDevice(f"{device.name} is not a known Sonos speaker.")
        if not speaker.available:
            raise DeviceUnavailable(f"{device.name} is not reachable right now.")
        master = self._master(speaker, command)
        favourite = await self._favourite(command)
        grouping = command.action in (Action.JOIN, Action.UNJOIN)
        if grouping:
            self._topology.clear()
        try:
            await self._call(
                speaker, sp.act, speaker.soco, command, favourite=favourite, master=master
            )
            if grouping:  # the group shows up in state once the topology event arrived
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(2):
                        await self._topology.wait()
            return await self._refresh_now(speaker)
        except (DeviceUnavailable, CommandTimeout) as err:
            await self._lost(speaker, err)
            raise

    def _master(self, speaker: Speaker, command: Command) -> SoCo | None:
        if command.action != Action.JOIN or command.group_with is None:
            return None
        other = self.speakers.get(command.group_with.removeprefix("sonos:"))
        if other is None:
            raise NoSuchDevice(f"There is no Sonos speaker {command.group_with!r} to join.")
        if other is speaker:
            raise UnsupportedCommand(f"{speaker.identity.name} can't join itself.")
        if not other.available:
            raise DeviceUnavailable(f"{other.identity.name} is not reachable right now.")
        return other.soco

    async def _favourite(self, command: Command) -> fav.Favourite | None:
        if command.action != Action.PLAY_MEDIA or command.media is None:
            return None
        if looks_like_uri(command.media):
            return None
        if not self.favourites:
            await self._load_favourites()
        chosen = fav.match(command.media, self.favourites)
        if chosen is None:
            titles = ", ".join(f.title for f in self.favourites) or "none"
            raise UnsupportedCommand(
                f"There is no Sonos favourite like {command.media!r} (favourites: {titles})."
            )
        return chosen

    # -- the one boundary where SoCo meets the home ------------------------------------------------

    async def _call(
        self, speaker: Speaker | None, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        """Run a blocking SoCo call in a thread, translating its errors into agent.errors."""
        name = speaker.identity.name if speaker else "Sonos"
        limit = self.config.request_timeout * 3 + self.config.discovery_timeout
        try:
            async with asyncio.timeout(limit):
                return await asyncio.to_thread(fn, *args, **kwargs)
        except HomeError:
            raise
        except Exception as err:
            translated = translate(err, name)
            if translated is None:
                raise
            raise translated from err

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _configure_soco(config: SonosConfig) -> None:
    """Process-wide SoCo settings: asyncio events, no ZGT event fallback, short timeouts."""
    soco.config.EVENTS_MODULE = events_asyncio
    soco.config.ZGT_EVENT_FALLBACK = False
    soco.config.REQUEST_TIMEOUT = config.request_timeout
    soco.config.EVENT_LISTENER_PORT = config.event_listener_port or 1400
    # SoCo's listener read the port when it was imported; tell it again.
    events_asyncio.event_listener.requested_port_number = soco.config.EVENT_LISTENER_PORT
    soco.config.EVENT_LISTENER_IP = config.interface_addr


def create(section: SonosConfig, rt: Runtime | None = None) -> SonosIntegration:
    """Build the integration from its config section (no I/O)."""
    return SonosIntegration(section, rt.supervisor if rt is not None else None)


def _drop_late_subscription(future: asyncio.Future[Any]) -> None:
    """Unsubscribe a subscription that completed after we stopped waiting for it."""
    if future.cancelled() or future.exception() is not None:
        return
    with contextlib.suppress(RuntimeError):  # the loop is gone: SoCo cleans up at exit
        asyncio.get_running_loop().create_task(_quietly_unsubscribe(future.result()))


async def _quietly_unsubscribe(sub: Any) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            await sub.unsubscribe()
