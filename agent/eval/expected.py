"""The list of sentences known not to be right yet, each with its outcome and a reason.

A regression (a listed-as-correct sentence that is not) and an improvement (a
listed sentence whose outcome changed) both show as differences, so the list
is kept honest by the test that compares against it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agent.eval.run import Result

HEADER = """\
# Sentences of the public suites (tests/data/) that homeclaw's local path does not
# get right yet: per suite, sentence key → outcome and reason. Outcomes: handed_over
# (goes to the LLM, or the house asks back), wrong (changed the wrong thing, or said
# something untrue). tests/test_understanding.py fails when any sentence's outcome
# differs from this list; regenerate with `bench/understanding.py --write-expected`
# (reasons already written by hand are kept while the outcome stays the same).
"""


# Reasons `reason_for` writes; any other reason was written by hand and is kept.
AUTOMATIC = ("no local sentence matches", "needs the room", "asks which one", "asked back")


def reason_for(result: Result) -> str:
    """A first reason for a miss, from what happened (edit by hand to say more)."""
    case, verdict = result.case, result.verdict
    reply = str(result.reply.get("reply", ""))
    if verdict.outcome == "wrong":
        return verdict.detail
    if "Which one" in reply:
        return "asks which one: " + reply.split(":", 1)[-1].strip()
    if case.area is not None:
        return "needs the room the speaker is in"
    if result.reply.get("path") == "none":
        return "no local sentence matches"
    return verdict.detail or "asked back"


def load(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    """The list, per suite."""
    if not path.exists():
        return {}
    data: Any = yaml.safe_load(path.read_text()) or {}
    return {str(k): dict(v or {}) for k, v in data.items()}


def differences(
    results: list[Result], listed: dict[str, dict[str, str]]
) -> tuple[list[str], list[str]]:
    """(regressions, changes): sentences now missed that are not listed, and listed
    sentences whose outcome is no longer the listed one."""
    regressions, changes = [], []
    for r in results:
        outcome = r.verdict.outcome
        entry = listed.get(r.case.key)
        if entry is None:
            if outcome not in ("correct", "not_representable"):
                regressions.append(f"{r.case.key}: {outcome} ({r.verdict.detail[:100]})")
        elif entry.get("outcome") != outcome:
            changes.append(f"{r.case.key}: listed {entry.get('outcome')}, now {outcome}")
    keys = {r.case.key for r in results}
    changes += [f"{key}: listed but no longer in the suite" for key in listed if key not in keys]
    return regressions, changes


def write(path: Path, by_suite: dict[str, list[Result]]) -> None:
    """Rewrite the list from results, keeping hand-written reasons that still apply."""
    old = load(path)
    data: dict[str, dict[str, dict[str, str]]] = {}
    for suite, results in by_suite.items():
        entries: dict[str, dict[str, str]] = {}
        for r in results:
            if r.verdict.outcome in ("correct", "not_representable"):
                continue
            previous = old.get(suite, {}).get(r.case.key)
            keep = (
                previous is not None
                and previous.get("outcome") == r.verdict.outcome
                and r.verdict.outcome == "handed_over"
                and not str(previous.get("reason", "")).startswith(AUTOMATIC)
            )
            reason = previous["reason"] if keep and previous else reason_for(r)
            entries[r.case.key] = {"outcome": r.verdict.outcome, "reason": reason}
        data[suite] = entries
    for suite, entries in old.items():
        data.setdefault(suite, entries)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(HEADER + text)
