"""A real model (SmolLM2-135M via llama.cpp's OpenAI-compatible server) through the
provider, the loop, timeouts and `homeclaw eval`.

It is far too small to be right: these tests assert on the flow (a completion
comes back with usage, a turn ends with a reply, every claimed success has its
command in the log, eval reaches the end), never on what the model says.
Skipped, with the reason, where llama-cpp-python or the GGUF wheel is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.brain.config import BrainConfig
from agent.brain.honesty import turn_facts
from agent.brain.providers import LLMError, OpenAIProvider
from agent.cli.eval import evaluate
from agent.eval.suites import Suite
from tests.realmodel import llama_server, why_not
from tests.test_brain_llm import OWNER, message, start
from tests.test_eval_cli import demo_suite

pytestmark = [
    pytest.mark.skipif(why_not() is not None, reason=str(why_not())),
    # A 135M model on 2 shared cores: a turn with a ~3,500-token prompt takes tens of seconds.
    pytest.mark.timeout(900),
]


@pytest.fixture(scope="module")
def smollm2() -> Iterator[str]:
    """SmolLM2 served on 127.0.0.1; its OpenAI base_url."""
    with llama_server() as base_url:
        yield base_url


def brain_config(base_url: str, **extra: Any) -> dict[str, Any]:
    """The brain pointed at the real server, kept short (a CPU, 2 cores, other tests)."""
    return {
        "provider": "openai",
        "base_url": base_url,
        "model": "smollm2",
        "max_tokens": 64,
        "max_tool_rounds": 1,
        "max_retries": 0,
        "timeout": 500,
        "prefer_local": False,
        **extra,
    }


TOOL = {
    "type": "function",
    "function": {
        "name": "turn_off",
        "description": "Turn off a device or every device in an area.",
        "parameters": {
            "type": "object",
            "properties": {"target": {"type": "string"}},
            "required": ["target"],
        },
    },
}


async def test_provider_against_the_real_server(smollm2: str) -> None:
    provider = OpenAIProvider(BrainConfig.model_validate(brain_config(smollm2)))
    try:
        completion = await provider.complete(
            [
                {"role": "system", "content": "You control a house with tools."},
                {"role": "user", "content": "Turn off the porch light."},
            ],
            [TOOL],
        )
    finally:
        await provider.close()
    assert completion.text or completion.tool_calls
    assert completion.prompt_tokens and completion.prompt_tokens > 10
    assert completion.completion_tokens and completion.completion_tokens > 0
    assert completion.finish_reason in ("stop", "length", "tool_calls")
    for call in completion.tool_calls:
        assert call.id and call.name  # arguments may be anything: the registry checks them


async def test_a_turn_through_the_loop(smollm2: str, tmp_path: Path) -> None:
    rt, brain = await start(tmp_path / "h", {"brain": brain_config(smollm2)})
    try:
        reply = await brain.handle(message("turn off the porch light"), OWNER)
    finally:
        await brain.stop()
    assert reply.path == "llm" and reply.text.strip()
    assert 1 <= reply.usage["llm_calls"] <= 2 and reply.usage["prompt_tokens"] > 500
    # Whatever it did, a success in the reply's actions is a logged command.
    for name in turn_facts(reply.actions).done:
        device = next(d for d in rt.home.devices() if d.name == name)
        rows = rt.store.query(
            "SELECT 1 FROM command_log WHERE device_id = ? AND ok = 1", (device.id,)
        )
        assert rows, name
    assert brain.health_report()["llm"]["calls"] == reply.usage["llm_calls"]


async def test_a_timeout_is_an_llm_error(smollm2: str) -> None:
    config = BrainConfig.model_validate(brain_config(smollm2, timeout=0.05, max_tokens=512))
    provider = OpenAIProvider(config)
    try:
        with pytest.raises(LLMError) as caught:
            await provider.complete([{"role": "user", "content": "Write a long story. " * 200}])
    finally:
        await provider.close()
    assert caught.value.kind == "unreachable"


async def test_eval_runs_to_the_end(smollm2: str) -> None:
    suite = demo_suite()
    picked = [c for c in suite.cases if c.key.startswith(("lights: off", "questions"))][:3]
    summary = await evaluate([Suite(suite.name, picked)], brain_config(smollm2), progress=False)
    total = summary["total"]
    assert total["cases"] == 3
    assert total["correct"] + total["handed_over"] + total["wrong"] == 3
    assert total["llm_calls_per_turn"] >= 1 and total["prompt_tokens_per_turn"] > 500
