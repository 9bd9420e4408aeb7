"""`homeclaw eval`: a fake LLM that answers perfectly scores 100 % (which proves the judge);
one that lies or does nothing is scored wrong; the CLI prints the table and --json."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.brain.sample_home import AREAS, demo_devices
from agent.brain.simulator import FakeLLM, ReplyLike, has_tool_results, last_user_text, tool_calls
from agent.brain.vocab import from_celsius
from agent.cli.eval import evaluate
from agent.eval.sandbox import home_of, scenarios
from agent.eval.suites import Case, Suite


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake LLM server on loopback."""
    fake = await FakeLLM().start()
    try:
        yield fake
    finally:
        await fake.stop()


def demo_suite(units: str = "imperial") -> Suite:
    """The generated scenarios for the demo home."""
    rows = [(d.id, d.name, d.area, d.kind.value) for d in demo_devices()]
    areas = {a.id: {"name": a.name, "floor": a.floor} for a in AREAS.values()}
    return scenarios(home_of(rows, areas, units))


def perfect_calls(case: Case) -> ReplyLike:
    """What a perfect model does with one sentence: the right tool calls, or the answer."""
    assert case.expect is not None
    if case.expect.question:
        return case.expect.answer or ""
    names = {e.device_id: e.name for e in case.home.entities}
    calls: list[tuple[str, dict[str, Any]]] = []
    for device_id, fields in case.expect.changes.items():
        name = names[device_id]
        if "brightness" in fields:
            calls.append(("turn_on", {"target": name, "brightness": fields["brightness"]}))
        elif "on" in fields:
            calls.append(("turn_on" if fields["on"] else "turn_off", {"target": name}))
        elif "is_open" in fields:
            action = "open" if fields["is_open"] else "close"
            calls.append(("set_cover", {"target": name, "action": action}))
        elif "target_temperature_c" in fields:
            degrees = round(from_celsius(fields["target_temperature_c"], case.home.units))
            calls.append(("set_climate", {"target": name, "temperature": degrees}))
        elif "locked" in fields:
            calls.append(("lock" if fields["locked"] else "unlock", {"target": name}))
        elif "is_quiet" in fields:
            calls.append(("media_control", {"target": name, "action": "pause"}))
    return tool_calls(*calls)


def oracle(suite: Suite, *, lie: bool = False) -> Any:
    """A rule answering every sentence of the suite perfectly (or claiming without acting)."""
    by_text = {c.sentence: c for c in suite.cases}

    def answer(request: dict[str, Any]) -> ReplyLike:
        if has_tool_results(request):
            return "Done."
        case = by_text[last_user_text(request)]
        if lie:
            return "Done, all taken care of."
        return perfect_calls(case)

    return answer


def brain(llm: FakeLLM, prefer_local: bool = False) -> dict[str, Any]:
    """The sandbox brain: the fake LLM, every sentence through it."""
    return {
        "provider": "openai",
        "base_url": llm.base_url,
        "model": "perfect",
        "api_key": "k",
        "max_retries": 0,
        "prefer_local": prefer_local,
    }


async def test_a_perfect_model_scores_100(llm: FakeLLM) -> None:
    suite = demo_suite()
    llm.rule(oracle(suite))
    summary = await evaluate([suite], brain(llm), progress=False)
    total = summary["total"]
    assert total["cases"] == len(suite.cases) >= 30
    assert total["correct"] == total["cases"], summary["wrong"]
    assert total["llm_calls_per_turn"] >= 1 and total["prompt_tokens_per_turn"] > 0
    assert set(summary["categories"]) >= {"lights", "covers", "climate", "locks", "questions"}


async def test_a_lying_model_scores_wrong(llm: FakeLLM) -> None:
    suite = demo_suite()
    llm.rule(oracle(suite, lie=True))
    summary = await evaluate([suite], brain(llm), progress=False)
    total = summary["total"]
    assert total["wrong"] == total["cases"] and total["correct"] == 0
    # The owner was never told those things were done: the house corrected each claim.
    replies = [w["reply"] for w in summary["wrong"] if "?" not in w["sentence"]]
    assert replies and all(r.startswith("I didn't change anything") for r in replies)


def test_cli_local_path_json(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(tmp_path), "eval", "--path", "local",
         "--suite", "generated,assist-mini", "--limit", "6", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["path"] == "local" and data["home"].startswith("the demo home")
    assert data["total"]["cases"] == 12
    for line in data["categories"].values():
        assert {"correct", "handed_over", "wrong", "p50_ms", "p95_ms"} <= set(line)
        assert {"prompt_tokens_per_turn", "completion_tokens_per_turn"} <= set(line)
    assert "assist-mini" in data["categories"]


def test_cli_refuses_llm_without_a_model(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(tmp_path), "eval", "--path", "llm"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "no LLM configured" in result.stderr
