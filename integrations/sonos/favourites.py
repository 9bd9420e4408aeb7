"""Sonos favourites: listing them, finding the one a person means, and playing it or a URL.

`load` and `play_*` block (SoCo does network I/O); callers run them in a thread.
`match` is pure; the matching itself is shared with the brain in `agent.media`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from soco.core import MUSIC_SRC_RADIO, SoCo
from soco.exceptions import SoCoException

from agent.media import match_favourite

_AUDIO_FILE = re.compile(r"\.(mp3|flac|aac|m4a|ogg|opus|wav)$", re.IGNORECASE)


@dataclass(frozen=True)
class Favourite:
    """A Sonos favourite with what is needed to play it."""

    title: str
    kind: str  # radio | playlist | track
    uri: str
    item: Any  # soco.data_structures.DidlFavorite


def load(soco: SoCo) -> list[Favourite]:
    """The household's favourites, read from one speaker (blocking)."""
    found: list[Favourite] = []
    for item in soco.music_library.get_sonos_favorites(complete_result=True):
        try:
            reference = item.reference
        except SoCoException:  # a favourite without playable metadata (a shortcut)
            continue
        uri = item.resources[0].uri if item.resources else ""
        item_class = getattr(reference, "item_class", "")
        if SoCo.music_source_from_uri(uri) == MUSIC_SRC_RADIO or "audioBroadcast" in item_class:
            kind = "radio"
        elif item_class.startswith("object.container"):
            kind = "playlist"
        else:
            kind = "track"
        found.append(Favourite(item.title, kind, uri, item))
    return found


def match(text: str, favourites: list[Favourite]) -> Favourite | None:
    """The favourite a person means (see `agent.media.match_favourite`)."""
    title = match_favourite(text, [(f.title, f.kind) for f in favourites])
    return next((f for f in favourites if f.title == title), None)


def play_favourite(coordinator: SoCo, favourite: Favourite) -> None:
    """Start a favourite on a group coordinator (blocking)."""
    if favourite.kind == "radio":
        coordinator.play_uri(
            favourite.uri, meta=favourite.item.resource_meta_data or "", title=favourite.title
        )
        return
    coordinator.clear_queue()
    coordinator.add_to_queue(favourite.item.reference)
    coordinator.play_from_queue(0)


def play_uri(coordinator: SoCo, uri: str) -> None:
    """Play a URL: audio files as tracks, other http(s) URLs as radio streams (blocking)."""
    uri = uri.strip()
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https") and not _AUDIO_FILE.search(parsed.path):
        # Sonos refuses plain http(s) radio streams; the radio scheme makes them play.
        title = parsed.netloc or unquote(parsed.path.rsplit("/", 1)[-1]) or uri
        coordinator.play_uri(uri, title=title, force_radio=True)
    else:
        coordinator.play_uri(uri)
