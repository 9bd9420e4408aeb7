"""Memory through the real brain: the fake LLM records every request the daemon makes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.brain.simulator import FakeLLM, has_tool_results, last_user_text, tool_call

NUMBER = "611 222 333"


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake LLM that remembers, recalls and forgets Ana's number on cue."""
    fake = await FakeLLM().start()

    def decide(request: dict[str, Any]) -> Any:
        text = last_user_text(request)
        if has_tool_results(request):
            return "Done."
        if "number is" in text:
            fact = {"fact": f"Ana's number is +34 {NUMBER}", "about_owner": True}
            return tool_call("remember", fact)
        if text.startswith("forget"):
            everything = "\n".join(str(m.get("content")) for m in request["messages"])
            match = re.search(r"\[(\w+)\] Ana's number", everything)
            return tool_call("forget", {"memory_id": match.group(1) if match else "?"})
        return "I don't know Ana's number."

    fake.rule(decide)
    try:
        yield fake
    finally:
        await fake.stop()


async def chat(d: Any, text: str) -> dict[str, Any]:
    status, body = await d.api("POST", "/api/chat", {"text": text})
    assert status == 200, body
    return dict(body)


def config(llm: FakeLLM) -> dict[str, Any]:
    return {
        "brain": {
            "provider": "openai",
            "base_url": llm.base_url,
            "model": "fake-model",
            "api_key": "k",
            "max_retries": 0,
            "prefer_local": False,
        },
        "memory": {"watch_interval": 0.05},
    }


def forget_request(llm: FakeLLM) -> int:
    """The index of the request the model answered with the forget call."""
    return next(i for i, r in enumerate(llm.requests) if last_user_text(r).startswith("forget"))


async def test_forgotten_fact_is_in_no_later_turn(start_daemon: Any, llm: FakeLLM) -> None:
    """Told, recalled, forgotten: no request of any later turn carries the number again."""
    d = await start_daemon(config(llm))
    await chat(d, f"my sister Ana's number is +34 {NUMBER}")
    await chat(d, "what's Ana's number?")
    assert NUMBER in llm.request_text(-1)
    await chat(d, "forget Ana's number")
    assert "611" not in (d.rt.paths.memory / "MEMORY.md").read_text()
    first_after_turn = len(llm.requests)
    await chat(d, "what's Ana's number?")
    await chat(d, "and my sister's?")
    assert forget_request(llm) < first_after_turn
    for i in range(first_after_turn, len(llm.requests)):
        assert "611" not in llm.request_text(i), f"request {i} still carries the number"


async def test_forgotten_fact_leaves_the_same_turn(start_daemon: Any, llm: FakeLLM) -> None:
    """Even the request right after the forget tool ran (same turn) no longer carries it."""
    d = await start_daemon(config(llm))
    await chat(d, f"my sister Ana's number is +34 {NUMBER}")
    await chat(d, "forget Ana's number")
    after = forget_request(llm) + 1
    assert after < len(llm.requests)
    for i in range(after, len(llm.requests)):
        assert "611" not in llm.request_text(i), f"request {i} still carries the number"
