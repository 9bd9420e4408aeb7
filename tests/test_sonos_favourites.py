"""Finding the Sonos favourite a person means (pure matching, no network)."""

from __future__ import annotations

import pytest

from agent.media import looks_like_uri
from integrations.sonos.favourites import Favourite, match

FAVOURITES = [
    Favourite("Radio Paradise", "radio", "x-rincon-mp3radio://stream.radioparadise.com/mp3", None),
    Favourite("Sunday Morning", "playlist", "file:///jffs/settings/savedqueues.rsq#3", None),
    Favourite("Dinner Jazz", "playlist", "file:///jffs/settings/savedqueues.rsq#4", None),
]


@pytest.mark.parametrize(
    ("said", "title"),
    [
        ("Radio Paradise", "Radio Paradise"),
        ("radio paradise", "Radio Paradise"),
        ("my favourite radio", "Radio Paradise"),
        ("my favorite radio station", "Radio Paradise"),
        ("radio", "Radio Paradise"),
        ("paradise", "Radio Paradise"),
        ("the sunday morning playlist", "Sunday Morning"),
        ("Sunday", "Sunday Morning"),
        ("some jazz", "Dinner Jazz"),
        ("dinner jaz", "Dinner Jazz"),
        ("a playlist", "Sunday Morning"),
    ],
)
def test_what_people_say_finds_the_favourite(said: str, title: str) -> None:
    found = match(said, FAVOURITES)
    assert found is not None and found.title == title


@pytest.mark.parametrize("said", ["xyzzy", "heavy metal", "my favourite", ""])
def test_nothing_like_it_is_no_match(said: str) -> None:
    assert match(said, FAVOURITES) is None


def test_no_favourites_no_match() -> None:
    assert match("radio", []) is None


@pytest.mark.parametrize(
    ("text", "is_uri"),
    [
        ("http://radio.example.org/live", True),
        ("x-rincon-mp3radio://stream.example.org/a", True),
        ("aac://stream.example.org/a", True),
        ("radio paradise", False),
        ("my favourite radio", False),
    ],
)
def test_urls_are_told_apart_from_names(text: str, is_uri: bool) -> None:
    assert looks_like_uri(text) is is_uri
