"""What a plain command names that this home does not have.

Without a language model, "turn off the kitchen lights" in a home with no
kitchen lights must not be answered "I only understand simple commands": it is
one. The sentence's shape says it is a command; the home says what is missing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.home import Home

_POLITE = r"(?:please\s+|can you\s+|could you\s+)?"
_COMMANDS = [
    re.compile(rf"^{_POLITE}(?:turn|switch)\s+(?:on|off)\s+(?P<target>.+?)$"),
    re.compile(rf"^{_POLITE}(?:turn|switch)\s+(?P<target>.+?)\s+(?:on|off)$"),
    re.compile(
        rf"^{_POLITE}(?:dim|brighten|open|close|lock|unlock|pause|stop|start|mute)\s+"
        r"(?P<target>.+?)(?:\s+to\s+.+)?$"
    ),
    re.compile(rf"^{_POLITE}set\s+(?P<target>.+?)\s+to\s+.+$"),
    re.compile(r"^is\s+(?P<target>.+?)\s+(?:on|off|open|closed|locked|unlocked)$"),
]


# Words that name no device: kinds ("lights"), and the whole house or time.
_NAMELESS = frozenset(
    "light lights lamp lamps the my all every everything everywhere house home whole entire "
    "currently now please here there in on of a an and".split()
)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def missing_target(text: str, home: Home) -> str | None:
    """A sentence saying what the command names that the home lacks, or None.

    Only when no word of the target is known here: "kitchen lights" in a home
    with no kitchen, not "the front door currently" (the front door exists; the
    sentence is just phrased in a way the fast path does not know).
    """
    said = re.sub(r"[?!.]+$", "", text.strip().lower()).strip()
    for pattern in _COMMANDS:
        match = pattern.match(said)
        if match is None:
            continue
        target = re.sub(r"^(?:the|my|all(?: the)?)\s+", "", match["target"]).strip()
        content = _words(target) - _NAMELESS
        if not content or re.search(r"\b(?:and|then)\b", target):
            return None  # nothing but kind words, or two requests in one
        if home.resolve(target).status != "none":
            return None  # it exists (or is ambiguous): something else went wrong
        found = home.devices()
        hint = (
            "`homeclaw devices` lists what it has; `homeclaw discover` finds new ones"
            if found
            else "this home has no devices yet: `homeclaw discover` finds them on your network"
        )
        device_words: set[str] = set()
        for device in found:
            device_words |= _words(" ".join((device.name, *device.aliases, device.kind.value)))
        if content & device_words:
            return None
        for area_id, area in home.areas.items():
            area_words = _words(" ".join((area_id.replace("_", " "), area.name, *area.aliases)))
            if content & area_words:
                # "kitchen lights" where the kitchen exists: say what it lacks, if that is all.
                what = " ".join(w for w in target.split() if w not in area_words)
                if content - area_words or not what:
                    return None
                verb = "There are no" if what.endswith("s") else "There's no"
                return f"{verb} {what} in the {area.name} ({hint})."
        return f"There's nothing called “{target}” in this home ({hint})."
    return None
