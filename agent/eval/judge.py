"""Judging one sentence by what happened to the house (and, for questions, the answer).

Outcomes: `correct`; `handed_over` (no local answer: it would go to the LLM, or
the house asked back); `wrong` (a device changed that should not have, a
target ended in the wrong state, or an answer says something untrue);
`not_representable` (the sentence needs something homeclaw has no place for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.brain.vocab import color_name, from_celsius
from agent.devices import DeviceState
from agent.eval.fixtures import FixtureHome
from agent.eval.oracle import Expect
from agent.lists.items import item_key

OUTCOMES = ("correct", "handed_over", "wrong", "not_representable")
# Each list's items as (text, done) pairs, by list name.
Lists = dict[str, tuple[tuple[str, bool], ...]]
ASKED_BACK = re.compile(
    r"\b(which one|which room|did you mean|where|what should it be)\b.*\?", re.I
)


@dataclass
class Verdict:
    """An outcome and why."""

    outcome: str
    detail: str = ""


def _field_ok(state: DeviceState, name: str, wanted: Any) -> bool:
    if name == "is_open":
        position = state.position
        is_open = state.contact_open if position is None else position > 0
        return is_open == wanted
    if name == "is_quiet":
        return state.playback in ("paused", "stopped") or state.on is False
    actual = getattr(state, name, None)
    if name == "brightness":
        return actual is not None and abs(actual - wanted) <= 1
    if name in ("target_temperature_c", "current_temperature_c"):
        return actual is not None and abs(actual - wanted) < 0.3
    if name == "color":
        return actual is not None and color_name(tuple(actual)) == color_name(tuple(wanted))
    if name == "color_temp_k":
        return actual is not None and abs(actual - wanted) <= 100
    if name == "media_title":
        return actual is not None and str(wanted).lower() in str(actual).lower()
    return bool(actual == wanted)


def judge_actions(
    expect: Expect,
    before: dict[str, DeviceState],
    after: dict[str, DeviceState],
    sent: list[tuple[str, str]],
    names: dict[str, str],
) -> Verdict | None:
    """Wrong or correct by device state; None when nothing happened at all."""
    changed = {i for i in after if after[i] != before.get(i)}
    touched = changed | {i for i, _ in sent}
    stray = sorted(touched - set(expect.changes) - set(expect.commands))
    if stray:
        return Verdict("wrong", "changed " + ", ".join(names.get(i, i) for i in stray))
    if not touched:
        return None
    missed: list[str] = []
    for device_id, fields in expect.changes.items():
        state = after.get(device_id)
        bad = [k for k, v in fields.items() if state is None or not _field_ok(state, k, v)]
        if bad:
            missed.append(f"{names.get(device_id, device_id)} {', '.join(bad)}")
    for device_id, action in expect.commands.items():
        if (device_id, action) not in sent:
            missed.append(f"{names.get(device_id, device_id)} not sent {action}")
    if missed:
        return Verdict("wrong", "; ".join(missed))
    return Verdict("correct")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w.\s-]", " ", text.lower())).strip()


def judge_answer(expected: str, reply: str, home: FixtureHome) -> Verdict:
    """Whether an answer says what HA's expected response says.

    Checked: the leading yes/no, every device name the response mentions, every
    number (temperatures in either unit), and the state after "X is ...".
    """
    # HA shortens long lists ("A, B and 3 more"); naming them all is as good.
    want, got = _norm(re.sub(r" and \d+ more\b", "", expected)), _norm(reply)
    first = want.split(" ", 1)[0] if want else ""
    if first in ("yes", "no") and not got.startswith(first):
        return Verdict("wrong", f"said {reply!r}, expected {expected!r}")
    rest = want.removeprefix(first).strip() if first in ("yes", "no") else want
    for entity in home.entities:
        name = _norm(entity.name)
        if name and re.search(rf"\b{re.escape(name)}\b", rest) and name not in got:
            return Verdict("wrong", f"{entity.name} missing from {reply!r}")
    for number in re.findall(r"(?<![\w.-])-?\d+(?:\.\d+)?", want):
        value = float(number)
        spoken = {f"{value:g}"}
        if re.search(rf"{re.escape(number)}\s*(°|degree)", expected.lower()):
            # Either unit, whichever the home speaks.
            spoken |= {f"{from_celsius(value, 'imperial'):g}", f"{(value - 32) * 5 / 9:.0f}"}
        if not any(re.search(rf"(?<![\d.]){re.escape(s)}(?![\d])", got) for s in spoken):
            return Verdict("wrong", f"{number} missing from {reply!r}")
    # "Front door is locked": the state must be said ("X is not open" is said by a "No").
    match = re.fullmatch(r"(.+?) (?:is|are) (?:not )?([a-z][a-z ]*)", rest)
    if match and match.group(2) not in got:
        return Verdict("wrong", f"{match.group(2)!r} missing from {reply!r}")
    return Verdict("correct")


def judge_lists(expect: Expect, before: Lists, after: Lists) -> Verdict | None:
    """Wrong or correct by the lists' items; None when no list changed."""
    changed = {name for name in after if after[name] != before.get(name)}
    stray = sorted(changed - set(expect.lists))
    if stray:
        return Verdict("wrong", "changed the list " + ", ".join(stray))
    if not changed:
        return None
    for name, (what, wanted) in expect.lists.items():
        items = after.get(name, ())
        pending = [t for t, done in items if not done]
        if what == "count" and len(pending) != wanted:
            return Verdict("wrong", f"{name} has {len(pending)} items, expected {wanted}")
        match = [d for t, d in items if item_key(t) == item_key(str(wanted))]
        if what == "added" and match != [False]:
            return Verdict("wrong", f"{name}: {wanted!r} not added")
        # Ticked off or taken off ("remove apples from my shopping list"): not pending.
        if what == "done" and False in match:
            return Verdict("wrong", f"{name}: {wanted!r} still pending")
    return Verdict("correct")


def judge(
    expect: Expect,
    reply: dict[str, Any],
    before: dict[str, DeviceState],
    after: dict[str, DeviceState],
    sent: list[tuple[str, str]],
    home: FixtureHome,
    lists: tuple[Lists, Lists] = ({}, {}),
    answered_by: tuple[str, ...] = ("local",),
) -> Verdict:
    """The outcome of one sentence, from the `ask --json` reply and the house before/after.

    `answered_by`: the paths whose answers count (an LLM's too when the brain has one);
    a reply from any other path was handed over.
    """
    names = {e.device_id: e.name for e in home.entities}
    text = str(reply.get("reply", ""))
    listed = judge_lists(expect, *lists)
    if expect.question:
        if any(after[i] != before.get(i) for i in after) or sent or listed is not None:
            return Verdict("wrong", "a question changed the house")
        if reply.get("path") not in answered_by or ASKED_BACK.search(text):
            return Verdict("handed_over", text[:80])
        return judge_answer(expect.answer or "", text, home)
    verdict = judge_actions(expect, before, after, sent, names)
    if listed is not None and listed.outcome == "wrong":
        return listed
    if verdict is not None and (verdict.outcome == "wrong" or not expect.lists):
        return verdict
    if listed is not None:
        return listed
    if reply.get("path") not in answered_by or ASKED_BACK.search(text):
        return Verdict("handed_over", text[:80])
    return Verdict("wrong", f"nothing done: {text[:80]}")
