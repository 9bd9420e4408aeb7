"""One fake Sonos player: its HTTP server (descriptions, SOAP control, GENA) and state.

It serves on <its loopback address>:1400 (SoCo hard-codes the port), keeps
transport, volume, queue and group state, and NOTIFYs subscribers whenever
anything changes — including changes made "on the speaker" through the handle.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import ClientSession, web

from integrations.sonos import sim_xml as X
from integrations.sonos.sim_state import FAVOURITES, Favourite, PlayerState, SoapError, Transport

log = logging.getLogger(__name__)

PORT = 1400


class Household(Protocol):
    """What a player asks of its household (`simulator.SonosHousehold`, which creates the
    players and hands itself to each: typed here so this module does not import it back)."""

    household_id: str
    speakers: dict[str, FakeSpeaker]
    playlists: dict[str, Favourite]
    favourites_update_id: int
    http: ClientSession

    def by_uid(self, uid: str) -> FakeSpeaker | None:
        """The player with this RINCON uid."""
        ...

    def grant_timeout(self, header: str | None) -> int:
        """The subscription lifetime granted for a requested `TIMEOUT: Second-N`."""
        ...

    def topology_changed(self) -> None:
        """Tell every ZoneGroupTopology subscriber about the new groups."""
        ...

    def zone_group_state(self) -> str:
        """The ZoneGroupState document: one ZoneGroup per running coordinator."""
        ...

    def favourites_didl(self) -> str:
        """The household's favourites as the FV:2 container."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a fire-and-forget coroutine, kept referenced until done."""
        ...


@dataclass
class Subscription:
    """One GENA subscriber of one service."""

    sid: str
    callback: str
    expires: float
    seq: int = 0


@dataclass
class FakeSpeaker:
    """One Sonos player: its HTTP server, its state and its subscribers."""

    household: Household
    room: str
    ip: str
    uid: str
    state: PlayerState = field(default_factory=PlayerState)
    running: bool = False
    subscriptions: dict[str, dict[str, Subscription]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _ssdp_out: asyncio.DatagramTransport | None = None

    # -- lifecycle ----------------------------------------------------------

    async def start(self, ip: str | None = None) -> None:
        """Serve on ip:1400 (optionally a new address, as after a DHCP change)."""
        if self.running:
            return
        self.ip = ip or self.ip
        app = web.Application()
        app.router.add_get("/xml/device_description.xml", self._description)
        app.router.add_get("/xml/{service}1.xml", self._scpd)
        for spec in X.SERVICES.values():
            app.router.add_post(spec.control, self._control)
            app.router.add_route("SUBSCRIBE", spec.event, self._subscribe)
            app.router.add_route("UNSUBSCRIBE", spec.event, self._unsubscribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.ip, PORT, reuse_address=True).start()
        loop = asyncio.get_running_loop()
        self._ssdp_out, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(self.ip, 0)
        )
        self.state.coordinator = self.uid
        self.running = True
        self.household.topology_changed()

    async def stop(self) -> None:
        """Power the player off: connections refused, subscriptions forgotten."""
        if not self.running:
            return
        self.running = False
        self.subscriptions.clear()
        if self._ssdp_out is not None:
            self._ssdp_out.close()
        if self._runner is not None:
            await self._runner.cleanup()
        for other in self.household.speakers.values():
            if other.state.coordinator == self.uid and other is not self:
                other.state.coordinator = other.uid
        self.household.topology_changed()

    # -- what someone does on the speaker itself -----------------------------

    def press_play_pause(self) -> None:
        """The play/pause button on top of the speaker (acts on its group)."""
        coordinator = self.coordinator()
        if coordinator.state.transport == Transport.PLAYING:
            coordinator.state.transport = Transport.PAUSED
        elif coordinator.state.uri:
            coordinator.state.transport = Transport.PLAYING
        coordinator.transport_changed()

    def set_volume(self, volume: int) -> None:
        """Volume buttons (or another controller app)."""
        self.state.volume = max(0, min(100, volume))
        self.notify("RenderingControl")

    def set_muted(self, muted: bool) -> None:
        """Mute from the speaker or another app."""
        self.state.muted = muted
        self.notify("RenderingControl")

    # -- group helpers ----------------------------------------------------------

    def coordinator(self) -> FakeSpeaker:
        """The player leading this one's group (itself when standalone)."""
        leader = self.household.by_uid(self.state.coordinator)
        return leader if leader is not None and leader.running else self

    def members(self) -> list[FakeSpeaker]:
        """Running players whose coordinator is this one (itself included)."""
        return [
            s for s in self.household.speakers.values() if s.running and s.coordinator() is self
        ]

    def transport_changed(self) -> None:
        """Tell AVTransport subscribers of this player and its group members."""
        for member in self.members():
            member.notify("AVTransport")

    # -- HTTP handlers --------------------------------------------------------------

    async def _description(self, request: web.Request) -> web.Response:
        body = X.device_description(uid=self.uid, room=self.room, ip=self.ip)
        return web.Response(text=body, content_type="text/xml")

    async def _scpd(self, request: web.Request) -> web.Response:
        spec = X.SERVICES.get(request.match_info["service"])
        if spec is None:
            raise web.HTTPNotFound()
        return web.Response(text=X.scpd(spec), content_type="text/xml")

    async def _control(self, request: web.Request) -> web.Response:
        spec = next(s for s in X.SERVICES.values() if s.control == request.path)
        try:
            action, args = X.parse_soap(await request.read())
        except (ValueError, SyntaxError):
            return self._fault(SoapError(400, "Bad Request"))
        signature = spec.actions.get(action)
        if signature is None:
            return self._fault(SoapError(401, "Invalid Action"))
        missing = [name for name in signature[0] if name not in args]
        if missing:
            return self._fault(SoapError(402, f"Invalid Args: missing {', '.join(missing)}"))
        try:
            values = getattr(self, f"_do_{action}")(args)
        except SoapError as err:
            return self._fault(err)
        return web.Response(
            text=X.soap_response(spec, action, values), content_type="text/xml", charset="utf-8"
        )

    @staticmethod
    def _fault(err: SoapError) -> web.Response:
        return web.Response(
            status=500, text=X.soap_fault(err.code, err.description), content_type="text/xml"
        )

    # -- GENA -------------------------------------------------------------------------

    async def _subscribe(self, request: web.Request) -> web.Response:
        spec = next(s for s in X.SERVICES.values() if s.event == request.path)
        subs = self.subscriptions.setdefault(spec.name, {})
        timeout = self.household.grant_timeout(request.headers.get("TIMEOUT"))
        sid = request.headers.get("SID")
        if sid:  # renewal
            sub = subs.get(sid)
            if sub is None or sub.expires < time.monotonic():
                subs.pop(sid, None)
                raise web.HTTPPreconditionFailed()
            sub.expires = time.monotonic() + timeout
        else:
            callback = request.headers.get("CALLBACK", "").strip()
            if request.headers.get("NT") != "upnp:event" or not callback.startswith("<"):
                raise web.HTTPPreconditionFailed()
            sid = f"uuid:{self.uid}_sub{secrets.randbelow(10**10):010d}"
            sub = Subscription(sid, callback[1:].split(">", 1)[0], time.monotonic() + timeout)
            subs[sid] = sub
            # The initial event goes out once the subscriber has read our reply.
            self.household.spawn(self._initial_event(spec.name, sub))
        return web.Response(
            headers={"SID": sid, "TIMEOUT": f"Second-{timeout}", "Server": "Linux UPnP/1.0 Sonos"}
        )

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        spec = next(s for s in X.SERVICES.values() if s.event == request.path)
        if self.subscriptions.get(spec.name, {}).pop(request.headers.get("SID", ""), None) is None:
            raise web.HTTPPreconditionFailed()
        return web.Response()

    async def _initial_event(self, service: str, sub: Subscription) -> None:
        await asyncio.sleep(0.05)
        await self._send(sub, self._event_body(service))

    def notify(self, service: str) -> None:
        """Send the service's current state to every live subscriber."""
        if not self.running:
            return
        subs = self.subscriptions.get(service, {})
        now = time.monotonic()
        for sid, sub in list(subs.items()):
            if sub.expires < now:
                del subs[sid]
                continue
            self.household.spawn(self._send(sub, self._event_body(service)))

    async def _send(self, sub: Subscription, body: str) -> None:
        headers = {
            "Content-Type": 'text/xml; charset="utf-8"',
            "NT": "upnp:event",
            "NTS": "upnp:propchange",
            "SID": sub.sid,
            "SEQ": str(sub.seq),
        }
        sub.seq += 1
        try:
            async with self.household.http.request(
                "NOTIFY", sub.callback, headers=headers, data=body.encode()
            ) as resp:
                await resp.read()
        except Exception as err:  # a subscriber that went away is its own problem
            log.debug("NOTIFY %s to %s failed: %s", sub.sid, sub.callback, err)

    def _event_body(self, service: str) -> str:
        if service == "AVTransport":
            return X.propertyset({"LastChange": self._avt_last_change()})
        if service == "RenderingControl":
            channelled = {"Volume": str(self.state.volume), "Mute": str(int(self.state.muted))}
            return X.propertyset({"LastChange": X.last_change(X.RCS_NS, {}, channelled)})
        if service == "ZoneGroupTopology":
            return X.propertyset({"ZoneGroupState": self.household.zone_group_state()})
        if service == "ContentDirectory":
            update = str(self.household.favourites_update_id)
            return X.propertyset(
                {"FavoritesUpdateID": update, "ContainerUpdateIDs": f"FV:2,{update}"}
            )
        return X.propertyset({"ZoneName": self.room})

    def _avt_last_change(self) -> str:
        leader = self.coordinator()
        track = leader.state.current_track()
        values = {
            "TransportState": leader.state.transport.value,
            "CurrentPlayMode": "NORMAL",
            "NumberOfTracks": str(max(1, len(leader.state.queue))),
            "CurrentTrack": str(leader.state.track_index + 1),
            "CurrentTrackDuration": track.duration,
            "CurrentTrackURI": track.uri,
            "CurrentTrackMetaData": track.metadata,
            "AVTransportURI": self.state.uri if leader is self else f"x-rincon:{leader.uid}",
            "AVTransportURIMetaData": leader.state.uri_meta if leader is self else "",
        }
        return X.last_change(X.AVT_NS, values, {})

    # -- SOAP actions (names match the UPnP actions) ------------------------------------

    def _do_GetHouseholdID(self, args: dict[str, str]) -> dict[str, object]:
        return {"CurrentHouseholdID": self.household.household_id}

    def _do_GetZoneAttributes(self, args: dict[str, str]) -> dict[str, object]:
        return {
            "CurrentZoneName": self.room,
            "CurrentIcon": "x-rincon-roomicon:living",
            "CurrentConfiguration": "1",
        }

    def _do_GetZoneGroupState(self, args: dict[str, str]) -> dict[str, object]:
        return {"ZoneGroupState": self.household.zone_group_state()}

    def _do_GetZoneGroupAttributes(self, args: dict[str, str]) -> dict[str, object]:
        leader = self.coordinator()
        return {
            "CurrentZoneGroupName": leader.room,
            "CurrentZoneGroupID": f"{leader.uid}:1",
            "CurrentZonePlayerUUIDsInGroup": ",".join(m.uid for m in leader.members()),
            "CurrentMuseHouseholdId": self.household.household_id,
        }

    def _do_GetVolume(self, args: dict[str, str]) -> dict[str, object]:
        return {"CurrentVolume": self.state.volume}

    def _do_SetVolume(self, args: dict[str, str]) -> dict[str, object]:
        volume = _int(args["DesiredVolume"])
        if not 0 <= volume <= 100:
            raise SoapError(601, "Argument Value Out of Range")
        self.set_volume(volume)
        return {}

    def _do_GetMute(self, args: dict[str, str]) -> dict[str, object]:
        return {"CurrentMute": int(self.state.muted)}

    def _do_SetMute(self, args: dict[str, str]) -> dict[str, object]:
        self.set_muted(args["DesiredMute"] in ("1", "true", "True"))
        return {}

    def _do_GetTransportInfo(self, args: dict[str, str]) -> dict[str, object]:
        return {
            "CurrentTransportState": self.coordinator().state.transport.value,
            "CurrentTransportStatus": "OK",
            "CurrentSpeed": "1",
        }

    def _do_GetTransportSettings(self, args: dict[str, str]) -> dict[str, object]:
        return {"PlayMode": "NORMAL", "RecQualityMode": "NOT_IMPLEMENTED"}

    def _do_GetPositionInfo(self, args: dict[str, str]) -> dict[str, object]:
        leader = self.coordinator()
        track = leader.state.current_track()
        return {
            "Track": leader.state.track_index + 1 if leader.state.queue_active else 1,
            "TrackDuration": track.duration,
            "TrackMetaData": track.metadata,
            "TrackURI": track.uri,
            "RelTime": "0:00:42" if track.uri else "NOT_IMPLEMENTED",
            "AbsTime": "NOT_IMPLEMENTED",
            "RelCount": "2147483647",
            "AbsCount": "2147483647",
        }

    def _do_GetMediaInfo(self, args: dict[str, str]) -> dict[str, object]:
        state = self.state
        return {
            "NrTracks": len(state.queue) if state.queue_active else int(bool(state.uri)),
            "MediaDuration": "NOT_IMPLEMENTED",
            "CurrentURI": state.uri,
            "CurrentURIMetaData": state.uri_meta,
            "NextURI": "",
            "NextURIMetaData": "",
            "PlayMedium": "NETWORK",
            "RecordMedium": "NOT_IMPLEMENTED",
            "WriteStatus": "NOT_IMPLEMENTED",
        }

    def _do_SetAVTransportURI(self, args: dict[str, str]) -> dict[str, object]:
        uri = args["CurrentURI"]
        if uri.startswith("x-rincon:"):
            leader = self.household.by_uid(uri.removeprefix("x-rincon:"))
            if leader is None or not leader.running or leader is self:
                raise SoapError(701, "Transition not available")
            self._leave_group()
            self.state.coordinator = leader.coordinator().uid
            self.household.topology_changed()
            self.notify("AVTransport")
            return {}
        self._require_coordinator()
        self.state.set_uri(uri, args["CurrentURIMetaData"], self.uid)
        self.transport_changed()
        return {}

    def _do_AddURIToQueue(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        first, added = self.state.enqueue(
            args["EnqueuedURI"], args["EnqueuedURIMetaData"], self.household.playlists
        )
        self.transport_changed()
        return {
            "FirstTrackNumberEnqueued": first,
            "NumTracksAdded": added,
            "NewQueueLength": len(self.state.queue),
        }

    def _do_RemoveAllTracksFromQueue(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        self.state.clear_queue()
        self.transport_changed()
        return {}

    def _do_Seek(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        if args["Unit"] == "TRACK_NR":
            self.state.seek_track(_int(args["Target"]))
            self.transport_changed()
        return {}

    def _do_Play(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        if not self.state.uri:
            raise SoapError(701, "Transition not available")
        self.state.transport = Transport.PLAYING
        self.transport_changed()
        return {}

    def _do_Pause(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        if self.state.transport == Transport.PLAYING:
            self.state.transport = Transport.PAUSED
            self.transport_changed()
        return {}

    def _do_Stop(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        self.state.transport = Transport.STOPPED
        self.transport_changed()
        return {}

    def _do_Next(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        self.state.skip(+1)
        self.transport_changed()
        return {}

    def _do_Previous(self, args: dict[str, str]) -> dict[str, object]:
        self._require_coordinator()
        self.state.skip(-1)
        self.transport_changed()
        return {}

    def _do_BecomeCoordinatorOfStandaloneGroup(self, args: dict[str, str]) -> dict[str, object]:
        delegate = self._leave_group()
        self.household.topology_changed()
        self.notify("AVTransport")
        return {"DelegatedGroupCoordinatorID": delegate, "NewGroupID": f"{self.uid}:1"}

    def _do_Browse(self, args: dict[str, str]) -> dict[str, object]:
        object_id = args["ObjectID"]
        if object_id == "FV:2":
            result, count = self.household.favourites_didl(), len(FAVOURITES)
        elif object_id == "Q:0":
            result, count = self.state.queue_didl(), len(self.state.queue)
        else:
            raise SoapError(701, "No such object")
        return {
            "Result": result,
            "NumberReturned": count,
            "TotalMatches": count,
            "UpdateID": self.household.favourites_update_id,
        }

    def _require_coordinator(self) -> None:
        if self.coordinator() is not self:
            raise SoapError(800, "Command not supported on a group member")

    def _leave_group(self) -> str:
        """Stand alone; a coordinator hands its group to the next member. Returns the delegate."""
        followers = [m for m in self.members() if m is not self]
        if followers:
            heir = followers[0]
            heir.state.take_over(self.state, heir.uid)
            for member in followers:
                member.state.coordinator = heir.uid
            self.state.transport = Transport.STOPPED
            heir.transport_changed()
        elif self.coordinator() is not self:
            self.state.transport = Transport.STOPPED
            self.state.set_uri("", "", self.uid)
        self.state.coordinator = self.uid
        return followers[0].uid if followers else ""


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SoapError(402, "Invalid Args") from None
