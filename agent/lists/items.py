"""List items and how a spoken item finds its line ("apple" finds "Apples")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ARTICLES = re.compile(r"^(the|a|an|some|my|our)\s+")


@dataclass(frozen=True)
class ListItem:
    """One entry of a list: its text, whether it is done, and the backend's id for it."""

    text: str
    done: bool = False
    uid: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The item as JSON for tools and the API."""
        return {"text": self.text, "done": self.done}


def item_key(text: str) -> str:
    """How an item compares: lower case, no punctuation or leading article."""
    plain = re.sub(r"[^\w\s]", " ", text.lower())
    plain = re.sub(r"\s+", " ", plain).strip()
    return _ARTICLES.sub("", plain)


def _singular(key: str) -> str:
    for suffix, repl in (("ies", "y"), ("oes", "o"), ("ses", "s"), ("s", "")):
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)] + repl
    return key


def find_item(items: list[ListItem], wanted: str) -> ListItem | None:
    """The item a person means: same words, then singular/plural, then a unique part."""
    key = item_key(wanted)
    if not key:
        return None
    for match in (
        lambda k: k == key,
        lambda k: _singular(k) == _singular(key),
    ):
        found = [i for i in items if match(item_key(i.text))]
        if found:
            # A pending item before a done one with the same words.
            return sorted(found, key=lambda i: i.done)[0]
    partial = [i for i in items if key in item_key(i.text) or item_key(i.text) in key]
    return partial[0] if len(partial) == 1 else None


def split_items(text: str) -> list[str]:
    """Several items said at once: "eggs, milk and bread" → three; "mac and cheese" → one."""
    text = text.strip().strip(".!?").strip()
    if not text:
        return []
    if "," not in text:
        return [text]
    head, _, last = text.rpartition(",")
    parts = [p.strip() for p in head.split(",")]
    last = last.strip()
    if last.startswith("and "):
        parts.append(last[4:].strip())
    elif " and " in last:
        parts.extend(p.strip() for p in last.split(" and ", 1))
    else:
        parts.append(last)
    return [p for p in parts if p]
