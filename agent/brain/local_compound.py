"""Two commands in one sentence: split on "and" / "then", used only when every part parses."""

from __future__ import annotations

import re

SEPARATORS = re.compile(r"\s*(?:,\s*)?\b(?:and then|and|then)\b\s*|\s*;\s*", re.I)


def split_compound(text: str) -> list[str]:
    """ "turn on X and dim Y to 20%" → ["turn on X", "dim Y to 20%"]; one part otherwise."""
    parts = [p.strip(" ,.") for p in SEPARATORS.split(text.strip())]
    parts = [p for p in parts if p]
    return parts if len(parts) > 1 else [text]
