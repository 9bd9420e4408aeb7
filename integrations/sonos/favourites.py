"""Sonos favourites: listing them, finding the one a person means, and playing it or a URL.

`load` and `play_*` block (SoCo does network I/O); callers run them in a thread.
`match` is pure.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from soco.core import MUSIC_SRC_RADIO, SoCo
from soco.exceptions import SoCoException

# Words people add around a favourite's name ("play my favourite radio please").
_FILLER = frozenset(
    "my the a an our favourite favorite favourites favorites please some on play put sonos".split()
)
# Words that name a kind of favourite rather than a title.
_KIND_WORDS = {"radio": "radio", "station": "radio", "stream": "radio", "playlist": "playlist"}
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


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def match(text: str, favourites: list[Favourite]) -> Favourite | None:
    """The favourite a person means: exact title, a kind ("my radio"), part of a title, or close."""
    wanted = _words(text)
    if not wanted or not favourites:
        return None
    titles = {" ".join(_words(f.title)): f for f in favourites}
    if " ".join(wanted) in titles:
        return titles[" ".join(wanted)]
    core = [w for w in wanted if w not in _FILLER]
    kinds = {_KIND_WORDS[w] for w in core if w in _KIND_WORDS}
    name = [w for w in core if w not in _KIND_WORDS]
    if not name and kinds:
        return next((f for f in favourites if f.kind in kinds), None)
    phrase = " ".join(name) or " ".join(core)
    if not phrase:
        return None
    for title, favourite in titles.items():
        if phrase in title or title in " ".join(core):
            return favourite
    overlap = {title: len(set(name) & set(title.split())) for title in titles}
    best = max(overlap.values())
    if best and list(overlap.values()).count(best) == 1:
        return titles[max(overlap, key=lambda t: overlap[t])]
    close = difflib.get_close_matches(phrase, list(titles), n=1, cutoff=0.6)
    if close:
        return titles[close[0]]
    if kinds:
        return next((f for f in favourites if f.kind in kinds), None)
    return None


def looks_like_uri(text: str) -> bool:
    """Whether play_media got a URL/stream rather than the name of a favourite."""
    text = text.strip()
    return "://" in text or bool(re.match(r"^(x-[a-z-]+|aac|hls-radio):\S+$", text))


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
