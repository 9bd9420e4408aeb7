"""What a fake Sonos player remembers: transport, queue, volume, group, and the favourites."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import unquote, urlparse
from xml.sax.saxutils import unescape

from integrations.sonos import sim_xml as X

# URI schemes a player accepts for SetAVTransportURI (others: UPnP 714).
PLAYABLE = re.compile(
    r"^(x-rincon-queue:|x-rincon-mp3radio:|x-sonosapi-stream:|x-sonosapi-radio:|"
    r"x-sonosapi-hls:|aac:|hls-radio:|https?:|x-file-cifs:|x-rincon-stream:)"
)
STREAMS = re.compile(
    r"^(x-rincon-mp3radio:|x-sonosapi-stream:|x-sonosapi-radio:|x-sonosapi-hls:|aac:|hls-radio:)"
)


class SoapError(Exception):
    """A UPnP error the fake answers with (HTTP 500 + SOAP fault)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"UPnP error {code}: {description}")
        self.code = code
        self.description = description


class Transport(StrEnum):
    """AVTransport states."""

    PLAYING = "PLAYING"
    PAUSED = "PAUSED_PLAYBACK"
    STOPPED = "STOPPED"


@dataclass(frozen=True)
class Song:
    """A track in a playlist or the queue."""

    title: str
    artist: str
    album: str

    @property
    def uri(self) -> str:
        """Where the track lives on the (imaginary) music share."""
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.artist} {self.title}".lower()).strip("-")
        return f"x-file-cifs://nas/music/{slug}.flac"


@dataclass(frozen=True)
class Favourite:
    """One entry of the household's Sonos favourites (FV:2)."""

    title: str
    kind: str  # radio | playlist
    uri: str
    description: str
    now_playing: str = ""
    songs: tuple[Song, ...] = ()
    playlist_id: str = ""

    def entry(self) -> tuple[str, str, str, str, str]:
        """(title, uri, protocolInfo, description, resMD) for the FV:2 listing."""
        if self.kind == "radio":
            return (
                self.title,
                self.uri,
                "x-rincon-mp3radio:*:*:*",
                self.description,
                X.didl_radio_station(self.title),
            )
        return (
            self.title,
            self.uri,
            "file:*:audio/mpegurl:*",
            self.description,
            X.didl_playlist(self.playlist_id, self.title),
        )


FAVOURITES: tuple[Favourite, ...] = (
    Favourite(
        "Radio Paradise",
        "radio",
        "x-rincon-mp3radio://stream.radioparadise.com/mp3-192",
        "Radio station",
        now_playing="Nils Frahm - Says",
    ),
    Favourite(
        "Sunday Morning",
        "playlist",
        "file:///jffs/settings/savedqueues.rsq#3",
        "Sonos playlist",
        songs=(
            Song("Come Away With Me", "Norah Jones", "Come Away With Me"),
            Song("Harvest Moon", "Neil Young", "Harvest Moon"),
            Song("Pink Moon", "Nick Drake", "Pink Moon"),
        ),
        playlist_id="SQ:3",
    ),
    Favourite(
        "Dinner Jazz",
        "playlist",
        "file:///jffs/settings/savedqueues.rsq#4",
        "Sonos playlist",
        songs=(
            Song("So What", "Miles Davis", "Kind of Blue"),
            Song("Take Five", "The Dave Brubeck Quartet", "Time Out"),
        ),
        playlist_id="SQ:4",
    ),
)


@dataclass(frozen=True)
class TrackView:
    """What GetPositionInfo / LastChange report about the current track."""

    uri: str = ""
    duration: str = "NOT_IMPLEMENTED"
    metadata: str = ""


@dataclass
class PlayerState:
    """Transport, queue, rendering and group state of one player."""

    transport: Transport = Transport.STOPPED
    uri: str = ""
    uri_meta: str = ""
    queue: list[Song] = field(default_factory=list)
    track_index: int = 0
    volume: int = 25
    muted: bool = False
    coordinator: str = ""

    @property
    def queue_active(self) -> bool:
        """Whether the transport plays from the queue."""
        return self.uri.startswith("x-rincon-queue:")

    def set_uri(self, uri: str, meta: str, uid: str) -> None:
        """SetAVTransportURI: a stream, a file, or the queue."""
        if uri and not PLAYABLE.match(uri):
            raise SoapError(714, "Illegal MIME-Type")
        if uri.startswith("x-rincon-queue:") and uri.split(":", 1)[1].split("#")[0] != uid:
            raise SoapError(701, "Transition not available")
        self.uri, self.uri_meta = uri, meta
        self.track_index = 0
        if not uri:
            self.transport = Transport.STOPPED

    def enqueue(self, uri: str, meta: str, playlists: dict[str, Favourite]) -> tuple[int, int]:
        """AddURIToQueue: a saved playlist expands to its songs. Returns (first number, added)."""
        playlist = playlists.get(uri)
        if playlist is not None:
            songs = list(playlist.songs)
        elif uri.startswith(("x-file-cifs:", "http:", "https:")):
            name = unquote(urlparse(uri).path.rsplit("/", 1)[-1]) or uri
            songs = [Song(name, "", "")]
        else:
            raise SoapError(714, "Illegal MIME-Type")
        first = len(self.queue) + 1
        self.queue.extend(songs)
        return first, len(songs)

    def clear_queue(self) -> None:
        """RemoveAllTracksFromQueue."""
        self.queue.clear()
        self.track_index = 0
        if self.queue_active:
            self.transport = Transport.STOPPED

    def seek_track(self, number: int) -> None:
        """Seek TRACK_NR (1-based)."""
        if not self.queue_active or not 1 <= number <= len(self.queue):
            raise SoapError(711, "Illegal seek target")
        self.track_index = number - 1

    def skip(self, step: int) -> None:
        """Next/Previous within the queue; streams cannot skip."""
        if not self.queue_active or not self.queue:
            raise SoapError(701, "Transition not available")
        target = self.track_index + step
        if not 0 <= target < len(self.queue):
            raise SoapError(711, "Illegal seek target")
        self.track_index = target

    def take_over(self, other: PlayerState, uid: str) -> None:
        """Continue another coordinator's playback (it left its group)."""
        self.queue = list(other.queue)
        self.track_index = other.track_index
        self.uri = f"x-rincon-queue:{uid}#0" if other.queue_active else other.uri
        self.uri_meta = other.uri_meta
        self.transport = other.transport

    def current_track(self) -> TrackView:
        """The track the transport is on."""
        if self.queue_active:
            if not self.queue:
                return TrackView()
            song = self.queue[min(self.track_index, len(self.queue) - 1)]
            item_id = f"Q:0/{self.track_index + 1}"
            return TrackView(
                song.uri,
                "0:03:30",
                X.didl_track(item_id, song.title, song.artist, song.album, song.uri),
            )
        if not self.uri:
            return TrackView()
        if STREAMS.match(self.uri):
            station = next((f for f in FAVOURITES if f.uri == self.uri), None)
            title = station.title if station else _title_from_meta(self.uri_meta) or self.uri
            playing = station.now_playing if station else ""
            return TrackView(self.uri, "0:00:00", X.didl_stream(title, playing))
        name = _title_from_meta(self.uri_meta) or unquote(
            urlparse(self.uri).path.rsplit("/", 1)[-1]
        )
        return TrackView(self.uri, "0:03:00", X.didl_track("-1", name, "", "", self.uri))

    def queue_didl(self) -> str:
        """The queue (Q:0) as DIDL-Lite."""
        return X.didl_items(
            [
                X.didl_track(f"Q:0/{n + 1}", s.title, s.artist, s.album, s.uri)
                for n, s in enumerate(self.queue)
            ]
        )


def _title_from_meta(meta: str) -> str:
    match = re.search(r"<dc:title>(.*?)</dc:title>", meta)
    return unescape(match.group(1)) if match else ""
