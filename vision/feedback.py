"""Alert feedback: "not useful" or "stop telling me about the gardener" after an alert.

The owner's reply becomes a hush rule kept with their camera preferences: the
camera and labels of the alert they answered (and where it was), plus the
words they used ("gardener"). Later alerts that match are logged, not sent,
and say why ("you said: stop telling me about the gardener"); the rule is
listed on the dashboard and by `homeclaw cameras` and removed with one click
or `homeclaw cameras --unhush ID`.

The rule is built from the owner's own message only (`parse` reads the text
they sent): never from a camera description or from what a model made of it.
What the words are matched against later (an alert's title and description)
is a model's or Frigate's text; a hush can only keep an alert quiet, never
send one or change anything else.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.provenance import content_words

RECENT = 6 * 3600.0  # an alert older than this is not "that"
# What the local path answers at once (" *": followed by anything).
PHRASES = [
    "not useful", "that's not useful", "that was not useful", "not helpful", "useless",
    "that's useless", "not interesting", "stop telling me about *", "stop alerting me about *",
    "stop notifying me about *", "no more alerts about *",
]  # fmt: skip
_NOT_USEFUL = re.compile(
    r"\b(not (?:very |that |really )?(?:useful|helpful|interesting|important|needed)|useless"
    r"|pointless|irrelevant|don'?t care|do not care|who cares|not worth it|spam)\b",
    re.I,
)
_ABOUT = re.compile(
    r"\b(?:stop|quit|no more)\s+(?:telling|alerting|notifying|messaging|pinging|bugging|"
    r"warning|alerts?|notifications?|messages?)(?:\s+me)?\s+(?:about|for|when|of|on)\s+(?P<what>.+)",
    re.I,
)
_FILLER = re.compile(r"\b(any ?more|again|please|thanks|thank you|ok|okay)\b", re.I)
_THAT = {"that", "this", "it", "those", "these", "them", "him", "her", "that one", "this one"}


@dataclass(frozen=True)
class Ask:
    """What the owner's message asks to hush: nothing more specific, or these words."""

    about: tuple[str, ...] = ()
    said: str = ""


def parse(text: str) -> Ask | None:
    """Whether the owner's own message is feedback on an alert, and about what."""
    said = " ".join(text.split())[:300]
    match = _ABOUT.search(said)
    if match is not None:
        what = _FILLER.sub(" ", match.group("what")).strip(" .!?,;:")
        if what.lower() in _THAT:
            return Ask((), said)
        words = tuple(content_words(what))
        return Ask(words, said) if words else None
    if _NOT_USEFUL.search(said):
        return Ask((), said)
    return None


class HushRule(BaseModel):
    """One thing the owner asked not to be told about (kept in camera preferences)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: secrets.token_hex(3))
    labels: list[str] = []
    about: list[str] = []  # the owner's words; all must be in the alert's text
    where: str | None = None  # the alert's place (a Frigate zone, "near left") when no words
    said: str = ""
    event: str | None = None
    created: float = Field(default_factory=time.time)

    def matches(self, labels: set[str], text: str, where: str | None) -> bool:
        """Whether an alert (its labels, its title and description, its place) is hushed."""
        if self.labels and not labels & set(self.labels):
            return False
        if self.about:
            words = set(content_words(text))
            return all(_said(word, words) for word in self.about)
        return self.where is None or self.where == where

    def summary(self) -> str:
        """One line for the owner: what is hushed."""
        what = " ".join(self.about) or "/".join(self.labels) or "these alerts"
        place = f" ({self.where})" if self.where and not self.about else ""
        return f"{what}{place}"


def _said(word: str, words: set[str]) -> bool:
    """A word or its plural/singular ("gardener" for "gardeners")."""
    return word in words or word.rstrip("s") in {w.rstrip("s") for w in words}


def rule_for(event: dict[str, Any], ask: Ask) -> HushRule:
    """The rule an answer to this alert (an event-log row) makes."""
    labels = [label for label in event.get("labels") or [] if label != "motion"]
    facts = event.get("facts") or {}
    where = None if ask.about else (facts.get("zone") or facts.get("where"))
    return HushRule(
        labels=labels, about=list(ask.about), where=where, said=ask.said, event=event["id"]
    )
