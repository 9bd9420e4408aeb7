"""Ollama: the native provider sets num_ctx; the OpenAI endpoint's silent cut is warned about.

The fake speaks Ollama's `/api/chat` (and, like Ollama, cuts a prompt longer than
the context from the front on `/v1/chat/completions`, where num_ctx can't be set).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.brain.config import BrainConfig
from agent.brain.ollama import OllamaProvider, ollama_root
from agent.brain.providers import LLMError
from agent.brain.simulator import Failure, FakeLLM, Raw, has_tool_results, tool_call
from agent.devices import Action, Command
from tests.test_brain_llm import OWNER, llm_config, message, start

NO_TOOLS = b'{"error":"registry.ollama.ai/library/gemma2:2b does not support tools"}'


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake server whose model runs with a 1,000-token default context."""
    fake = await FakeLLM(context=1000).start()
    try:
        yield fake
    finally:
        await fake.stop()


def ollama_config(llm: FakeLLM, **brain: object) -> dict[str, object]:
    """Config for provider ollama at the fake (written with /v1, as owners often do)."""
    return {
        "home": {"units": "imperial"},
        "brain": {
            "provider": "ollama",
            "base_url": llm.base_url,
            "model": "qwen3:4b",
            "prefer_local": False,
            "timeout": 10,
            **brain,
        },
    }


async def test_native_provider_sets_num_ctx_and_runs_tools(tmp_path: Path, llm: FakeLLM) -> None:
    rt, brain = await start(tmp_path / "h", ollama_config(llm))
    try:
        await rt.home.execute(
            "mqtt:porch_light", Command(action=Action.TURN_ON), requested_by="test"
        )
        llm.rule(lambda r: "The porch light is off." if has_tool_results(r)
                 else tool_call("turn_off", {"target": "Porch light"}))  # fmt: skip
        reply = await brain.handle(message("porch light off"), OWNER)
        assert reply.text == "The porch light is off."
        assert rt.home.get("mqtt:porch_light").state.on is False
        first, second = llm.requests
        assert first["options"]["num_ctx"] == 8192 and first["stream"] is False
        assert first["messages"][0]["role"] == "system" and first["tools"]
        # Ollama's shape: arguments are an object in the history sent back.
        call = next(m for m in second["messages"] if m.get("tool_calls"))["tool_calls"][0]
        assert call["function"]["arguments"] == {"target": "Porch light"}
        assert llm.truncated == [False, False]
        health = brain.health_report()
        assert health["num_ctx"] == 8192 and health["warning"] is None
        assert reply.usage["llm_calls"] == 2 and reply.usage["prompt_tokens"] > 0
    finally:
        await brain.stop()


async def test_openai_endpoint_of_ollama_cuts_the_system_prompt(
    tmp_path: Path, llm: FakeLLM
) -> None:
    """What the warning is about: without num_ctx the server drops the rules and the house."""
    seen: list[bool] = []  # whether the model saw the house's rules

    def answer(request: dict[str, Any]) -> str:
        seen.append("# How you work" in json.dumps(request["messages"]))
        return "Hi!"

    llm.rule(answer)
    _, brain = await start(tmp_path / "h", llm_config(llm, prefer_local=False))
    try:
        await brain.handle(message("hello"), OWNER)
        assert llm.truncated == [True] and seen == [False]
    finally:
        await brain.stop()
    seen.clear()
    _, native = await start(tmp_path / "h2", ollama_config(llm))
    try:
        await native.handle(message("hello"), OWNER)
        assert llm.truncated[-1] is False and seen == [True]
    finally:
        await native.stop()


async def test_warning_for_an_ollama_url_on_the_openai_provider(tmp_path: Path) -> None:
    config = {
        "brain": {
            "provider": "openai",
            "base_url": "http://127.0.0.1:11434/v1",
            "model": "qwen3:4b",
        }
    }
    _, brain = await start(tmp_path / "h", config)
    try:
        warning = brain.context_warning()
        assert warning is not None and "provider: ollama" in warning
        assert f"~{brain.prompt_tokens():,} tokens" in warning
        assert brain.health_report()["warning"] == warning
    finally:
        await brain.stop()


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (Raw(400, NO_TOOLS), "no_tools", "does not support tool calls"),
        (
            Failure(404, 'model "qwen3:4b" not found, try pulling it first'),
            "not_found",
            "ollama pull qwen3:4b",
        ),
        (Failure(500, "llama runner process has terminated"), "bad_request", "Ollama said"),
    ],
)
async def test_ollama_errors(llm: FakeLLM, reply: Raw | Failure, kind: str, words: str) -> None:
    provider = OllamaProvider(
        BrainConfig(provider="ollama", base_url=llm.anthropic_base_url, model="qwen3:4b")
    )
    try:
        llm.script(reply)
        with pytest.raises(LLMError) as caught:
            await provider.complete(
                [{"role": "user", "content": "hi"}],
                [{"type": "function", "function": {"name": "x", "description": "x"}}],
            )
        assert caught.value.kind == kind and words in str(caught.value)
    finally:
        await provider.close()


async def test_unreachable_ollama() -> None:
    from agent.demo.simulation import free_port

    port = free_port("127.0.0.1")
    provider = OllamaProvider(
        BrainConfig(provider="ollama", base_url=f"http://127.0.0.1:{port}", model="m", timeout=3)
    )
    try:
        with pytest.raises(LLMError) as caught:
            await provider.complete([{"role": "user", "content": "hi"}])
        assert caught.value.kind == "unreachable"
    finally:
        await provider.close()


def test_ollama_root() -> None:
    assert ollama_root("http://box:11434/v1/") == "http://box:11434"
    assert ollama_root(None) == "http://127.0.0.1:11434"
