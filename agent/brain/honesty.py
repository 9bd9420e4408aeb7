"""Honest replies: the model's words are checked against what the turn executed.

A model may say "Done, the lights are off" when no tool ran, when the tool
failed, or when only some devices answered. The house knows better: every
device command of the turn is in `Reply.actions`, with the state read back from
the device. This module compares the two and, when they disagree, replaces the
reply with the house's own account ("I didn't change anything: …",
"2 of 3 lights off; the porch light did not answer.").

Claims are recognised by English phrasing; for other languages only the facts
are used (failures the reply does not mention are still reported).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Tools that only read: a successful one is no claim that something changed.
READ_ONLY_PREFIXES = ("home_status", "recall", "list_", "camera_", "discover_")
# Claims of having acted ("done", "I've turned...", "is now off").
ACTED = re.compile(
    r"\b(?:done|all set|turned|switched|dimmed|brightened|locked up|"
    r"i(?:'ve| have)?\s+(?:just\s+)?(?:turned|switched|set|locked|unlocked|opened|closed|"
    r"started|stopped|paused|played|armed|disarmed|dimmed|changed|put|scheduled|created|"
    r"saved|sent|lowered|raised|adjusted|run|ran)|"
    r"(?:is|are) now|now (?:on|off|playing|locked|unlocked|open|closed|paused|set)|"
    r"^\s*(?:locked|unlocked|opened|closed|armed|disarmed|started|stopped|paused|lowered)|"
    # In progress ("She's turning on the kitchen light", seen from SmolLM2): also a claim.
    r"(?:i'm|i am|she's|he's|it's|we're|dobby is|dobby's)\s+(?:now\s+)?(?:turning|switching|"
    r"setting|dimming|locking|unlocking|opening|closing|starting|stopping|pausing|playing|"
    r"arming|disarming|lowering|raising))\b",
    re.I,
)
# Words of a reply that owns up to a failure ("couldn't", "did not answer", "sorry").
ADMITS = re.compile(
    r"\b(?:not|no|nothing|\w+n't|couldn|unable|failed|fail|sorry|problem|error|which one)\b",
    re.I,
)
# Statements of state ("the lights are off"): a claim only when nothing was read.
STATED = re.compile(
    r"\b(?:is|are)\s+(?:all\s+)?(?:off|on|locked|unlocked|open|closed|playing|paused|"
    r"armed|disarmed|set to)\b",
    re.I,
)
# The owner asked something rather than asked for something.
QUESTION = re.compile(
    r"\?\s*$|^\s*(?:is|are|was|were|what|which|who|how|does|do|did|can|where)\b", re.I
)
NO_ANSWER_KINDS = ("unavailable", "timeout", "integration_error")
# What a read-back must not say after a command (a jammed lock is not locked).
CONTRARY = {
    "turn_off": ("on",),
    "turn_on": ("off",),
    "lock": ("unlocked", "jammed", "unknown"),
    "unlock": ("locked", "jammed", "unknown"),
}


@dataclass
class TurnFacts:
    """What the turn's tool calls did to the house."""

    done: dict[str, str] = field(default_factory=dict)  # device name -> read-back state
    failed: dict[str, str] = field(default_factory=dict)  # device name -> why
    errors: list[str] = field(default_factory=list)  # whole tool calls that failed
    changed_something: bool = False  # a non-device tool that acts succeeded
    read_something: bool = False
    pending_confirmation: bool = False
    attempted: bool = False  # any tool that acts was called

    @property
    def acted(self) -> bool:
        """Whether anything in the house actually changed."""
        return bool(self.done) or self.changed_something


def turn_facts(actions: list[dict[str, Any]]) -> TurnFacts:
    """Sort the turn's tool calls into done, failed, read-only and pending."""
    facts = TurnFacts()
    for action in actions:
        tool = str(action.get("tool", ""))
        result = action.get("result")
        if tool.startswith(READ_ONLY_PREFIXES):
            facts.read_something = facts.read_something or bool(action.get("ok"))
            continue
        facts.attempted = True
        if not action.get("ok"):
            detail = result.get("detail") if isinstance(result, dict) else None
            kind = result.get("error") if isinstance(result, dict) else None
            args = action.get("args")
            target = (args.get("target") or args.get("where")) if isinstance(args, dict) else None
            if kind in NO_ANSWER_KINDS and isinstance(target, str):
                facts.failed[target] = "did not answer"
            elif kind == "unknown_tool":
                # The detail is written for the model; the owner gets plain words.
                facts.errors.append(f"the model asked for a tool I don't have ({tool})")
            elif kind == "bad_arguments":
                facts.errors.append(f"the model's {tool} request was malformed")
            else:
                facts.errors.append(str(detail or result or f"{tool} failed"))
            continue
        if not isinstance(result, dict) or not ({"done", "failed"} & result.keys()):
            if isinstance(result, dict) and "confirmation_required" in result:
                facts.pending_confirmation = True
            else:
                facts.changed_something = True
            continue
        if "confirmation_required" in result:
            facts.pending_confirmation = True
        for name, state in (result.get("done") or {}).items():
            if str(state).startswith(CONTRARY.get(tool, ())) or state == "unavailable":
                facts.failed[name] = f"still reports {state}"
            else:
                facts.done[name] = str(state)
                facts.failed.pop(name, None)
        for failure in result.get("failed") or []:
            name = str(failure.get("device", "?"))
            if name not in facts.done:
                facts.failed[name] = _why(failure)
    return facts


def honest_reply(
    text: str,
    actions: list[dict[str, Any]],
    *,
    kind_of: Callable[[str], str | None] = lambda name: None,
    english: bool = True,
    asked: str = "",
) -> tuple[str, bool]:
    """The reply to send, and whether the model's own words had to be corrected.

    `asked` is the owner's message: an answer to a question may state a state
    ("the porch light is on"); only a claim of having acted is checked then.
    """
    facts = turn_facts(actions)
    claims = english and _claims(text, facts, question=bool(QUESTION.search(asked)))
    if not facts.acted:
        if claims and facts.pending_confirmation:
            return "Nothing has changed yet: that waits for your confirmation.", True
        if claims or ((facts.failed or facts.errors) and not ADMITS.search(text)):
            return f"I didn't change anything: {_nothing_reason(facts)}.", True
        if not text.strip():
            if facts.failed or facts.errors:
                return f"I didn't change anything: {_nothing_reason(facts)}.", True
            return "", False
        return text, False
    if facts.failed and not _mentions_all(text, facts.failed):
        return summary(facts, kind_of), True
    if not text.strip():
        return summary(facts, kind_of), False
    return text, False


def summary(facts: TurnFacts, kind_of: Callable[[str], str | None]) -> str:
    """The house's own account of the turn ("2 of 3 lights off; the porch light did not
    answer.")."""
    parts: list[str] = []
    total = len(facts.done) + len(facts.failed)
    states = set(facts.done.values())
    if facts.done and facts.failed and len(states) == 1:
        kinds = {kind_of(n) for n in [*facts.done, *facts.failed]}
        noun = f"{kinds.pop()}s" if len(kinds) == 1 and None not in kinds else "devices"
        parts.append(f"{len(facts.done)} of {total} {noun} {states.pop()}")
    elif facts.done:
        listed = ", ".join(f"{name} {state}" for name, state in facts.done.items())
        parts.append(f"Done: {listed}" if not facts.failed else listed)
    elif facts.changed_something:
        parts.append("Done")
    parts.extend(_failures(facts))
    text = "; ".join(p.rstrip(".") for p in parts)
    return text[:1].upper() + text[1:] + "."


def _claims(text: str, facts: TurnFacts, question: bool = False) -> bool:
    if ACTED.search(text):
        return True
    # "The lights are off" after a home_status read, or to a question, is a report.
    return not facts.read_something and not question and bool(STATED.search(text))


def _nothing_reason(facts: TurnFacts) -> str:
    reasons = _failures(facts)
    if reasons:
        return "; ".join(reasons)
    return "no command was sent (ask me again?)"


def _failures(facts: TurnFacts) -> list[str]:
    """One phrase per failure ("the porch light did not answer")."""
    phrases = [
        f"the {_lower(name)} {why}" if why == "did not answer" else f"{name}: {why}"
        for name, why in facts.failed.items()
    ]
    return phrases + [e.rstrip(".") for e in facts.errors]


def _lower(name: str) -> str:
    """ "Porch light" -> "porch light", but "TV backlight" stays."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _mentions_all(text: str, failed: dict[str, str]) -> bool:
    lowered = text.lower()
    return all(name.lower() in lowered for name in failed)


def _why(failure: dict[str, Any]) -> str:
    if failure.get("error") in NO_ANSWER_KINDS:
        return "did not answer"
    return str(failure.get("detail") or failure.get("error") or "failed").rstrip(".")
