"""One Sonos speaker: what the integration tracks about it, and blocking reads and actions.

The functions block (SoCo does network I/O even in property reads): run them
in a thread.

Reads produce the normalised `DeviceState` fields; transport and track come
from the group coordinator, because a grouped speaker plays what its group
plays.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from soco.core import (
    MUSIC_SRC_AIRPLAY,
    MUSIC_SRC_LIBRARY,
    MUSIC_SRC_LINE_IN,
    MUSIC_SRC_SPOTIFY_CONNECT,
    MUSIC_SRC_TV,
    MUSIC_SRC_WEB_FILE,
    SoCo,
)

from agent.devices import Action, Command
from agent.errors import UnsupportedCommand
from integrations.sonos import favourites as fav

PLAYBACK = {
    "PLAYING": "playing",
    "TRANSITIONING": "playing",
    "PAUSED_PLAYBACK": "paused",
    "STOPPED": "stopped",
}
SOURCES = {
    MUSIC_SRC_LIBRARY: "queue",
    MUSIC_SRC_WEB_FILE: "web",
    MUSIC_SRC_LINE_IN: "line-in",
    MUSIC_SRC_TV: "tv",
    MUSIC_SRC_AIRPLAY: "airplay",
    MUSIC_SRC_SPOTIFY_CONNECT: "spotify",
}


@dataclass(frozen=True)
class Identity:
    """Who a speaker is; the uid survives IP changes."""

    uid: str
    name: str
    model: str
    household: str
    ip: str


@dataclass(frozen=True)
class Reading:
    """One read of a speaker: its state fields and its group (member uids, coordinator first)."""

    fields: dict[str, Any]
    group: tuple[str, ...]


@dataclass
class Speaker:
    """What the integration tracks about one speaker."""

    identity: Identity
    soco: SoCo
    available: bool = False
    subscriptions: list[Any] = field(default_factory=list)
    failures: int = 0
    next_check: float = 0.0
    refreshing: bool = False
    dirty: bool = False
    resubscribe: bool = False
    # Reads are serialised so an older read can never land after a newer one.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # One (re)connection at a time: the watchdog and discovery may both try.
    connecting: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def device_id(self) -> str:
        """The stable device id (survives IP changes)."""
        return f"sonos:{self.identity.uid}"


def identify(soco: SoCo, timeout: float) -> Identity:
    """Read uid, room name, model and household (also primes SoCo's caches for event use)."""
    info = soco.get_speaker_info(refresh=True, timeout=timeout)
    household = soco.household_id
    if soco.uid is None or soco.player_name is None:
        # Live subscriptions make SoCo trust its cached topology, which may not
        # know this address yet (a speaker that just moved): read it directly.
        payload = soco.zoneGroupTopology.GetZoneGroupState()["ZoneGroupState"]
        soco.zone_group_state.process_payload(
            payload=payload, source="poll", source_ip=soco.ip_address
        )
    return Identity(
        uid=soco.uid,
        name=soco.player_name or info.get("zone_name") or soco.ip_address,
        model=info.get("model_name") or "Sonos",
        household=household,
        ip=soco.ip_address,
    )


def coordinator_of(soco: SoCo) -> SoCo:
    """The group coordinator (the speaker itself when standalone)."""
    group = soco.group
    return group.coordinator if group is not None and group.coordinator is not None else soco


def read(soco: SoCo) -> Reading:
    """Playback, volume, mute, now-playing and group of a speaker."""
    group = soco.group
    leader = group.coordinator if group is not None and group.coordinator else soco
    members = sorted((m for m in group.members), key=lambda m: m is not leader) if group else []
    transport = leader.get_current_transport_info()["current_transport_state"]
    track = leader.get_current_track_info()
    media = leader.get_current_media_info()
    uri = track.get("uri") or media.get("uri") or ""
    source = media.get("channel") or SOURCES.get(SoCo.music_source_from_uri(uri))
    fields = {
        "playback": PLAYBACK.get(transport, "stopped"),
        "volume": int(soco.volume),
        "muted": bool(soco.mute),
        "media_title": track.get("title") or None,
        "media_artist": track.get("artist") or None,
        "media_source": source or None,
    }
    return Reading(fields, tuple(m.uid for m in members) or (soco.uid,))


def act(
    soco: SoCo, command: Command, *, favourite: fav.Favourite | None, master: SoCo | None
) -> None:
    """Carry out a command; playback goes to the group coordinator (blocking)."""
    action = command.action
    if action == Action.SET_VOLUME:
        soco.volume = command.volume
    elif action == Action.MUTE:
        soco.mute = bool(command.muted)
    elif action == Action.JOIN and master is not None:
        soco.join(coordinator_of(master))
    elif action == Action.UNJOIN:
        soco.unjoin()
    elif action in (Action.PLAY, Action.PAUSE, Action.NEXT, Action.PREVIOUS):
        leader = coordinator_of(soco)
        {
            Action.PLAY: leader.play,
            Action.PAUSE: leader.pause,
            Action.NEXT: leader.next,
            Action.PREVIOUS: leader.previous,
        }[action]()
    elif action == Action.PLAY_MEDIA and command.media is not None:
        leader = coordinator_of(soco)
        if favourite is not None:
            fav.play_favourite(leader, favourite)
        else:
            fav.play_uri(leader, command.media)
    else:
        raise UnsupportedCommand(f"A Sonos speaker can't {action.value.replace('_', ' ')}.")
