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


def missing_target(text: str, home: Home) -> str | None:
    """A sentence saying what the command names that the home lacks, or None."""
    said = re.sub(r"[?!.]+$", "", text.strip().lower()).strip()
    for pattern in _COMMANDS:
        match = pattern.match(said)
        if match is None:
            continue
        target = re.sub(r"^(?:the|my|all(?: the)?)\s+", "", match["target"]).strip()
        if not target or home.resolve(target).status != "none":
            return None  # it exists (or is ambiguous): something else went wrong
        found = home.devices()
        hint = (
            "`homeclaw devices` lists what it has; `homeclaw discover` finds new ones"
            if found
            else "it has no devices yet: `homeclaw discover` finds them on your network"
        )
        return f"There's nothing called “{target}” in this home ({hint})."
    return None
