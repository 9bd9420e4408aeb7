"""Favourites and media: which favourite a person means ("my favourite radio", "the jazz
playlist"), for every speaker integration and for the brain alike."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

# Words people add around a favourite's name ("play my favourite radio please").
FILLER = frozenset(
    "my the a an our favourite favorite favourites favorites please some on play put sonos".split()
)
# Words that name a kind of favourite rather than a title.
KIND_WORDS = {"radio": "radio", "station": "radio", "stream": "radio", "playlist": "playlist"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def match_favourite(text: str, favourites: Sequence[tuple[str, str]]) -> str | None:
    """The title a person means among (title, kind) pairs: exact title, a kind ("my radio"),
    part of a title, or a close spelling; None when nothing fits."""
    wanted = _words(text)
    if not wanted or not favourites:
        return None
    titles = {" ".join(_words(title)): (title, kind) for title, kind in favourites}
    if " ".join(wanted) in titles:
        return titles[" ".join(wanted)][0]
    core = [w for w in wanted if w not in FILLER]
    kinds = {KIND_WORDS[w] for w in core if w in KIND_WORDS}
    name = [w for w in core if w not in KIND_WORDS]
    by_kind = next((title for title, kind in favourites if kind in kinds), None)
    if not name and kinds:
        return by_kind
    phrase = " ".join(name) or " ".join(core)
    if not phrase:
        return None
    for key, (title, _kind) in titles.items():
        if phrase in key or key in " ".join(core):
            return title
    overlap = {key: len(set(name) & set(key.split())) for key in titles}
    best = max(overlap.values())
    if best and list(overlap.values()).count(best) == 1:
        return titles[max(overlap, key=lambda k: overlap[k])][0]
    close = difflib.get_close_matches(phrase, list(titles), n=1, cutoff=0.6)
    if close:
        return titles[close[0]][0]
    return by_kind


def looks_like_uri(text: str) -> bool:
    """Whether play_media got a URL/stream rather than the name of a favourite."""
    text = text.strip()
    return "://" in text or bool(re.match(r"^(x-[a-z-]+|aac|hls-radio):\S+$", text))
