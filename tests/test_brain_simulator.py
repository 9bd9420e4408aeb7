"""The fake LLM server speaks the chat-completions wire format the openai SDK expects."""

from __future__ import annotations

import json

import openai
import pytest

from agent.brain.simulator import Failure, FakeLLM, last_user_text, tool_call, tool_calls


async def test_scripted_text_tool_calls_and_log() -> None:
    """Scripted replies come back in order through the real SDK, and requests are logged."""
    llm = await FakeLLM().start()
    try:
        llm.script(
            tool_call("turn_off", {"target": "kitchen lights"}),
            tool_calls(("a", {}), ("b", "{not json")),
            "Done.",
        )
        client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0)
        messages = [{"role": "user", "content": "lights off"}]
        first = await client.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert first.choices[0].finish_reason == "tool_calls"
        assert call.function.name == "turn_off"  # type: ignore[union-attr]
        assert json.loads(call.function.arguments) == {"target": "kitchen lights"}  # type: ignore[union-attr]
        second = await client.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
        calls = second.choices[0].message.tool_calls or []
        assert [c.function.arguments for c in calls] == ["{}", "{not json"]  # type: ignore[union-attr]
        third = await client.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
        assert third.choices[0].message.content == "Done."
        assert len(llm.requests) == 3 and llm.pending == 0
        assert "lights off" in llm.request_text(0)
        assert llm.api_keys == ["k", "k", "k"]
        await client.close()
    finally:
        await llm.stop()


async def test_rules_failures_and_streaming() -> None:
    """Rules decide replies from the request; failures use OpenAI's error shape."""
    llm = await FakeLLM().start()
    try:
        llm.rule(lambda req: "warm" if "cold" in last_user_text(req) else None)
        llm.script(Failure(401, "bad key"))
        client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0)
        reply = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "I'm cold"}]
        )
        assert reply.choices[0].message.content == "warm"
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
        llm.script(tool_call("x", {"n": 1}))
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        names = [
            c.function.name  # type: ignore[union-attr]
            async for chunk in stream
            for c in chunk.choices[0].delta.tool_calls or []
        ]
        assert names == ["x"]
        await client.close()
    finally:
        await llm.stop()
