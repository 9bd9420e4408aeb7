"""When two texts say the same thing: duplicates, updates, and repeats of a forgotten fact.

All comparisons work on distinctive words (lowercase, stopwords dropped), so
they are cheap, predictable and explainable to the owner.
"""

from __future__ import annotations

import json
import math
import re

REDACTED = "[forgotten at the owner's request]"

STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her
    him his how i i'm if in into is it its it's me my of on or our out she so that the their
    them then there these they this to was we were what what's when where which who whom why
    will with would you your yours about any anything all s t d ll m re ve don doesn didn tell
    know remember please do just also again ever much many some""".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(text: str, limit: int = 16) -> list[str]:
    """The distinctive words of a query (lowercase, stopwords and 1-letter words removed)."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()) or word in terms:
            continue
        terms.append(word)
    return terms[:limit]


def _words(text: str) -> tuple[set[str], set[str]]:
    """Distinctive words (lightly stemmed) and numbers of a text."""
    words, numbers = set(), set()
    for term in query_terms(text, limit=64):
        if any(c.isdigit() for c in term):
            numbers.add(term)
        else:
            words.add(term[:-1] if len(term) > 3 and term.endswith("s") else term)
    return words, numbers


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def same_fact(a: str, b: str) -> bool:
    """Whether two texts say the same thing (near-identical words, identical numbers)."""
    wa, na = _words(a)
    wb, nb = _words(b)
    return na == nb and _jaccard(wa, wb) >= 0.85


def supersedes(new: str, old: str) -> bool:
    """Whether `new` updates `old`: the same statement with different numbers."""
    wn, nn = _words(new)
    wo, no = _words(old)
    return bool(nn) and bool(no) and nn != no and len(wn & wo) >= 2 and _jaccard(wn, wo) >= 0.75


def redact_text(text: str, forgotten: list[set[str]]) -> str | None:
    """The text without lines that repeat a forgotten fact (None when nothing changes)."""
    if not any(carries(text, terms) for terms in forgotten):
        return None
    lines = text.splitlines()
    kept = [line for line in lines if not any(carries(line, t) for t in forgotten)]
    if len(kept) == len(lines) or not any(line.strip() for line in kept):
        return REDACTED  # the fact spans lines, or it was all there was
    result = "\n".join(kept)
    return REDACTED if any(carries(result, t) for t in forgotten) else result


def redact_calls(raw: str, forgotten: list[set[str]]) -> str | None:
    """Stored tool calls (JSON) with arguments that repeat a forgotten fact emptied."""
    try:
        calls = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(calls, list):
        return None
    changed = False
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        arguments = function.get("arguments")
        if isinstance(arguments, str) and any(carries(arguments, t) for t in forgotten):
            function["arguments"] = "{}"  # the call stays (its result pairs with it)
            changed = True
    return json.dumps(calls) if changed else None


def carries(text: str, terms: set[str], threshold: float = 0.7) -> bool:
    """Whether a text contains most of a fact's distinctive words (so it repeats the fact)."""
    if not terms:
        return False
    words = set(query_terms(text, limit=10_000))
    needed = len(terms) if len(terms) <= 2 else max(2, math.ceil(threshold * len(terms)))
    return len(terms & words) >= needed
