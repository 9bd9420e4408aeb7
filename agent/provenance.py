"""What follows from a person's own words: the check behind durable memory and owner settings.

A tool call made during the owner's turn is the model's choice, not the owner's:
a device name, a camera description or a tool result may have talked the model
into it. So before the house keeps a fact, forgets one, or changes how cameras
alert, code checks that the change is something the owner's own messages say.

The rule for a fact is "it says nothing the owner did not say": every content
word of the fact (names, nouns, verbs, numbers) must appear in one message the
owner wrote, and a negation must be on both sides or neither ("I don't like the
bedroom at 22" never supports "the owner likes the bedroom at 22"). Words that
only re-frame who is speaking ("the owner", "their") are free. Matching is
lexical, cheap and explainable; its limits (an English word list for negations
and framing, synonyms not recognised) err towards asking the owner: a paraphrase
that strays goes to the approval list, it is never kept as the owner's word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Function words carry no claim of their own.
FUNCTION_WORDS = frozenset(
    """a an and are as at be been being but by for from had has have having if in into is it
    its of on onto or so than that the then there these this those to was were will would
    shall should can could may might must do does did done also just very really too which
    who whom whose what when where while how about over under up down out off again all any
    each both some such own same other only now""".split()
)
# Words that re-frame a sentence around the speaker ("my" → "the owner's").
FRAMING_WORDS = frozenset(
    """owner owners user users person i me my mine myself we us our ours you your yours he him
    his she her hers they them their theirs""".split()
)
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NEGATION = re.compile(
    r"\b(no|not|never|nobody|nothing|none|neither|nor|cannot|without)\b|n['’]t\b", re.I
)
_SENTENCE = re.compile(r"(?<=[.!?;\n])\s+")
_SUFFIXES = ("s", "es", "d", "ed", "ing", "er", "ers", "ly", "'s", "’s")


def tokens(text: str) -> list[str]:
    """Lowercase word tokens, possessive endings removed ("Ana's" → "ana")."""
    out = []
    for raw in _TOKEN.findall(text.lower()):
        word = re.sub(r"['’]s$", "", raw)
        out.append(word.replace("’", "'"))
    return out


def content_words(text: str) -> list[str]:
    """The words of a text that make a claim (function and framing words dropped)."""
    seen: list[str] = []
    for word in tokens(text):
        if word in FUNCTION_WORDS or word in FRAMING_WORDS or "'" in word:
            continue  # contractions ("don't") are handled as negations
        if len(word) < 2 and not word.isdigit():
            continue
        if word not in seen:
            seen.append(word)
    return seen


def same_word(a: str, b: str) -> bool:
    """Whether two words are the same apart from an inflection ("unlock" / "unlocked")."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) < 2:
        return False
    stems = [short]
    if short.endswith("e"):
        stems.append(short[:-1])  # arrive / arriving
    if short.endswith("y"):
        stems.append(short[:-1] + "i")  # party / parties
    return any(long.startswith(s) and long[len(s) :] in _SUFFIXES for s in stems)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def negated(text: str) -> bool:
    """Whether a text says no / not / never (English)."""
    return bool(_NEGATION.search(text))


@dataclass(frozen=True)
class Support:
    """Whether a claim follows from what someone said, and if not, why."""

    ok: bool
    missing: tuple[str, ...] = ()
    reason: str = ""


def _covered(word: str, said_words: list[str], said_digits: str) -> bool:
    if any(c.isdigit() for c in word):
        # "+34 611 222 333" and "+34611222333" are the same number.
        return word in said_words or (bool(_digits(word)) and _digits(word) in said_digits)
    return any(same_word(word, w) for w in said_words)


def backs(claim: str, said: Sequence[str]) -> Support:
    """Whether one of the messages in `said` says everything `claim` says."""
    wanted = content_words(claim)
    if not wanted:
        return Support(False, (), "it has no words of its own")
    best: tuple[str, ...] | None = None
    for message in said:
        words = tokens(message)
        missing = tuple(w for w in wanted if not _covered(w, words, _digits(message)))
        if missing:
            if best is None or len(missing) < len(best):
                best = missing
            continue
        relevant = [
            s
            for s in _SENTENCE.split(message)
            if any(_covered(w, tokens(s), _digits(s)) for w in wanted)
        ]
        if negated(claim) != any(negated(s) for s in relevant):
            return Support(False, (), "the owner's words say the opposite")
        return Support(True)
    if best is None:
        return Support(False, (), "the owner said nothing in this conversation")
    return Support(False, best, "the owner never said " + ", ".join(repr(w) for w in best))


def shared_words(a: str, b: Iterable[str]) -> list[str]:
    """Content words of `a` that also occur in any of the texts `b`."""
    other = [w for text in b for w in content_words(text)]
    return [w for w in content_words(a) if any(same_word(w, o) for o in other)]


def says(said: str, cues: Iterable[str]) -> bool:
    """Whether a message contains one of the cue words or phrases (whole words, any case)."""
    text = " ".join(tokens(said))
    return any(
        re.search(rf"\b{re.escape(' '.join(tokens(cue)))}(?:s|es|d|ed|ing)?\b", text)
        for cue in cues
    )


# What someone says when they want the house to drop something it knows.
FORGET_CUES = (
    "forget",
    "delete",
    "remove",
    "erase",
    "wipe",
    "scrap",
    "drop",
    "no longer",
    "not anymore",
    "anymore",
    "any more",
    "isn't true",
    "is wrong",
    "not true",
    "outdated",
)


def asks_to_forget(fact: str, now: str, recent: Sequence[str] = ()) -> Support:
    """Whether the owner's message asks to forget this fact: a forgetting word in this
    message, and a word of the fact in it (or in their messages just before)."""
    if not says(now, FORGET_CUES):
        return Support(False, (), "the owner's message does not ask to forget anything")
    if not shared_words(fact, [now, *recent]):
        return Support(False, (), "the owner's words do not mention that memory")
    return Support(True)
