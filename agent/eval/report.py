"""`homeclaw eval`'s figures: per category, correct / handed over / wrong, latency, tokens."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from agent.eval.run import Result
from agent.eval.suites import Case

COLUMNS = ("correct", "handed_over", "wrong")


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _line(results: list[Result]) -> dict[str, Any]:
    judged = [r for r in results if r.verdict.outcome != "not_representable"]
    ms = [r.ms for r in judged]
    counts = {k: sum(1 for r in judged if r.verdict.outcome == k) for k in COLUMNS}
    turns = max(1, len(judged))
    return {
        "cases": len(judged),
        **counts,
        "not_representable": len(results) - len(judged),
        "correct_pct": round(100 * counts["correct"] / turns, 1) if judged else None,
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(percentile(ms, 95), 1) if ms else None,
        "llm_calls_per_turn": round(sum(r.usage.get("calls", 0) for r in judged) / turns, 2),
        "prompt_tokens_per_turn": round(
            sum(r.usage.get("prompt_tokens", 0) for r in judged) / turns
        ),
        "completion_tokens_per_turn": round(
            sum(r.usage.get("completion_tokens", 0) for r in judged) / turns
        ),
    }


def summarise(results: list[Result], category: Callable[[Case], str]) -> dict[str, Any]:
    """Per-category lines and the total, as `homeclaw eval --json` prints them."""
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(category(result.case), []).append(result)
    return {
        "categories": {name: _line(group) for name, group in sorted(groups.items())},
        "total": _line(results),
        "wrong": [
            {"sentence": r.case.sentence, "why": r.verdict.detail, "reply": r.reply.get("reply")}
            for r in results
            if r.verdict.outcome == "wrong"
        ],
    }


def table(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table."""
    head = (
        f"{'category':<16}{'cases':>6}{'correct':>9}{'handed':>8}{'wrong':>7}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'prompt/turn':>13}{'compl./turn':>13}"
    )
    lines = [head, "-" * len(head)]
    rows = [*summary["categories"].items(), ("total", summary["total"])]
    for name, line in rows:
        if name == "total":
            lines.append("-" * len(head))
        lines.append(
            f"{name:<16}{line['cases']:>6}{line['correct']:>9}{line['handed_over']:>8}"
            f"{line['wrong']:>7}{_ms(line['p50_ms']):>9}{_ms(line['p95_ms']):>9}"
            f"{line['prompt_tokens_per_turn']:>13}{line['completion_tokens_per_turn']:>13}"
        )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
