"""Standing concerns from HEARTBEAT.md, parsed into cheap rules where the wording allows.

"tell me if the garage door is open after 10pm" becomes a state rule with a
time window; "if the pool heater has been on for more than 4 hours, ask me" a
state rule with a duration; "tell me if the bedroom temperature goes above 26"
a threshold. Anything else stays plain text for the LLM to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from agent.routines.config import parse_clock, parse_temperature
from agent.routines.states import STATE_WORDS

NIGHT = (time(22, 0), time(6, 0))
_LEAD = re.compile(
    r"^(?:please\s+)?(?:(?:tell|warn|alert|ping|text|message|notify)\s+me|let\s+me\s+know|"
    r"ask\s+me)\s+(?:if|when|whenever)\s+|^(?:if|when|whenever)\s+"
)
_TAIL = re.compile(
    r"[,;]?\s*(?:then\s+)?(?:please\s+)?(?:(?:tell|warn|alert|ping|text|message|notify|ask)\s+me"
    r"|let\s+me\s+know)(?:\s+about\s+it)?\s*$"
)
_VERB = r"(?:is|are|was|were|has been|have been|is still|are still|stays|stay|goes|gets|becomes)"
_STATE = "|".join(sorted((re.escape(w) for w in STATE_WORDS), key=len, reverse=True))
_DURATION = (
    r"(?:\s+for\s+(?:more\s+than\s+|over\s+|longer\s+than\s+|at\s+least\s+)?"
    r"(?P<n{0}>\d+(?:\.\d+)?)\s*(?P<unit{0}>minutes?|mins?|hours?|hrs?|h|m))"
)
_WINDOW = (
    r"(?:\s+(?:(?P<night>at night|overnight)|after\s+(?P<after>[\w:. ]+?)"
    r"|before\s+(?P<before>[\w:. ]+?)|between\s+(?P<from>[\w:. ]+?)\s+and\s+(?P<to>[\w:. ]+?)))"
)
_STATE_RULE = re.compile(
    rf"^(?P<target>.+?)\s+{_VERB}\s+(?:left\s+)?(?P<state>{_STATE}){_DURATION.format(1)}?{_WINDOW}?{_DURATION.format(2)}?$"
)
_THRESHOLD = re.compile(
    r"^(?P<target>.+?)\s+(?:is\s+|goes\s+|gets\s+|rises\s+|climbs\s+|drops\s+|falls\s+)?"
    r"(?P<dir>above|over|higher than|more than|warmer than|below|under|lower than|less than|"
    r"colder than)\s+(?P<num>-?\d+(?:\.\d+)?)\s*(?P<unit>°?\s*[cf]\b|%)?" + _WINDOW + "?$"
)
_ATTRIBUTES = {
    "temperature": "current_temperature_c",
    "temp": "current_temperature_c",
    "humidity": "humidity",
    "power": "power_w",
    "battery": "battery",
}


@dataclass(frozen=True)
class Rule:
    """A concern as a check over Home state."""

    target: str
    state: str | None = None
    above: float | None = None
    below: float | None = None
    attribute: str | None = None
    for_seconds: float = 0.0
    after: time | None = None
    before: time | None = None


@dataclass(frozen=True)
class Concern:
    """One line of HEARTBEAT.md: the owner's words and, when understood, a rule."""

    text: str
    rule: Rule | None

    @property
    def needs_judgement(self) -> bool:
        """True when no cheap rule covers it and the LLM must read it."""
        return self.rule is None


def read_concerns(markdown: str, units: str = "metric") -> list[Concern]:
    """The concerns in a HEARTBEAT.md: one per list item; headings and prose are notes."""
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.DOTALL)
    concerns = []
    for raw in text.splitlines():
        item = re.match(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.+)$", raw)
        if item:
            line = item.group(1).strip()
            concerns.append(Concern(line, parse_rule(line, units)))
    return concerns


def parse_rule(text: str, units: str = "metric") -> Rule | None:
    """A rule for a concern in one of the common shapes, or None."""
    core = text.lower().strip().rstrip(".!")
    core = _TAIL.sub("", core).strip()
    if not _LEAD.search(core):
        return None
    core = _LEAD.sub("", core).strip().rstrip(",")
    core = re.sub(r"^(?:the|my|our|any|a)\s+", "", core)
    match = _STATE_RULE.match(core)
    if match:
        try:
            window = _window(match)
        except ValueError:
            return None
        n = match.group("n1") or match.group("n2")
        unit = match.group("unit1") or match.group("unit2") or ""
        seconds = float(n) * (3600 if unit.startswith("h") else 60) if n else 0.0
        return Rule(
            target=_clean_target(match.group("target")),
            state=match.group("state"),
            for_seconds=seconds,
            after=window[0] if window else None,
            before=window[1] if window else None,
        )
    match = _THRESHOLD.match(core)
    if match:
        try:
            window = _window(match)
        except ValueError:
            return None
        target, attribute = _split_attribute(_clean_target(match.group("target")))
        unit = (match.group("unit") or "").replace("°", "").strip()
        number = float(match.group("num"))
        if attribute == "current_temperature_c" or unit in ("c", "f"):
            number = parse_temperature(f"{number}{unit.upper()}", units)
            attribute = attribute or "current_temperature_c"
        upward = match.group("dir") in ("above", "over", "higher than", "more than", "warmer than")
        return Rule(
            target=target,
            above=number if upward else None,
            below=None if upward else number,
            attribute=attribute,
            after=window[0] if window else None,
            before=window[1] if window else None,
        )
    return None


def _clean_target(target: str) -> str:
    return re.sub(r"^(?:the|my|our|any|a)\s+", "", target.strip())


def _split_attribute(target: str) -> tuple[str, str | None]:
    words = target.split()
    for i, word in enumerate(words):
        if word in _ATTRIBUTES:
            rest = " ".join(words[:i] + words[i + 1 :]).strip()
            return rest or target, _ATTRIBUTES[word]
    return target, None


def _window(match: re.Match[str]) -> tuple[time | None, time | None] | None:
    """The match's time window, None when it has none (ValueError when unreadable)."""
    if match.group("night"):
        return NIGHT
    if match.group("after"):
        after = parse_clock(_clock_words(match.group("after")))
        # "after 10pm" means tonight, not until midnight: the night ends at 6.
        return after, (NIGHT[1] if after >= time(12, 0) else None)
    if match.group("before"):
        return None, parse_clock(_clock_words(match.group("before")))
    if match.group("from"):
        return (
            parse_clock(_clock_words(match.group("from"))),
            parse_clock(_clock_words(match.group("to"))),
        )
    return None


def _clock_words(text: str) -> str:
    text = text.strip().replace(".", ":")
    return {"midnight": "0:00", "noon": "12:00", "midday": "12:00"}.get(text, text)
