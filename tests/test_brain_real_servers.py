"""What real servers and small models emit, reproduced byte for byte by the fake.

Each case has a defined behaviour: calls written as text are run, wrong argument
types are coerced or reported, unknown tools and repeats are refused, cut-off
and empty answers are said plainly, and a server without tool support is named.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.brain.component import Brain
from agent.brain.sample_home import InMemoryDevices
from agent.brain.simulator import FakeLLM, Raw, Reply, has_tool_results, tool_call
from agent.runtime import Runtime
from tests.test_brain_llm import OWNER, llm_config, message, start

# What models actually put in `content` when the server does not parse their calls.
HERMES = '<tool_call>\n{"name": "turn_off", "arguments": {"target": "Porch light"}}\n</tool_call>'
HERMES_TWO = (
    "Sure!\n<tool_call>\n"
    '{"name": "turn_off", "arguments": {"target": "Porch light"}}\n'
    "</tool_call>\n<tool_call>\n"
    '{"name": "turn_off", "arguments": {"target": "Study lamp"}}\n'
    "</tool_call>"
)
FENCED = '```json\n{"name": "turn_off", "arguments": {"target": "Porch light"}}\n```'
LLAMA_TAG = '<|python_tag|>{"name": "turn_off", "parameters": {"target": "Porch light"}}<|eom_id|>'
LLAMA_BARE = '{"name": "turn_off", "parameters": {"target": "Porch light"}}'
# Ollama's OpenAI endpoint, for a model whose template has no tools (ollama#6027).
OLLAMA_NO_TOOLS = (
    b'{"error":{"message":"registry.ollama.ai/library/gemma2:2b does not support tools",'
    b'"type":"api_error","param":null,"code":null}}'
)


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake LLM server on loopback."""
    fake = await FakeLLM().start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def house(tmp_path: Path, llm: FakeLLM) -> AsyncIterator[tuple[Runtime, Brain]]:
    """A brain that always asks the model (no local fast path)."""
    rt, brain = await start(tmp_path / "home", llm_config(llm, prefer_local=False))
    try:
        yield rt, brain
    finally:
        await brain.stop()


def memory_devices(rt: Runtime) -> InMemoryDevices:
    """The in-memory integration behind the demo home."""
    devices = rt.home.integrations["memory"]
    assert isinstance(devices, InMemoryDevices)
    return devices


def is_on(rt: Runtime, device_id: str) -> bool | None:
    """A device's on/off state as the home holds it."""
    return rt.home.get(device_id).state.on


async def turn_on_all(rt: Runtime, *ids: str) -> None:
    """Start from lights that are on, so turning them off is visible."""
    from agent.devices import Action, Command

    for device_id in ids:
        await rt.home.execute(device_id, Command(action=Action.TURN_ON), requested_by="test")


@pytest.mark.parametrize("content", [HERMES, FENCED, LLAMA_TAG, LLAMA_BARE])
async def test_tool_call_written_as_text_is_run(
    house: tuple[Runtime, Brain], llm: FakeLLM, content: str
) -> None:
    rt, brain = house
    await turn_on_all(rt, "mqtt:porch_light")
    llm.rule(lambda req: "The porch light is off." if has_tool_results(req) else content)
    reply = await brain.handle(message("porch light off please"), OWNER)
    assert is_on(rt, "mqtt:porch_light") is False
    assert [a["tool"] for a in reply.actions] == ["turn_off"]
    assert reply.text == "The porch light is off."
    # The second request carries the call as a proper tool call, not as text.
    second = llm.requests[1]["messages"]
    assistant = next(m for m in second if m["role"] == "assistant")
    assert assistant["tool_calls"][0]["function"]["name"] == "turn_off"
    assert "<tool_call>" not in (assistant.get("content") or "")


async def test_two_hermes_calls_in_one_reply(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    rt, brain = house
    await turn_on_all(rt, "mqtt:porch_light", "mqtt:study_lamp")
    llm.rule(lambda req: "Both are off." if has_tool_results(req) else HERMES_TWO)
    reply = await brain.handle(message("porch and study off"), OWNER)
    assert [a["args"]["target"] for a in reply.actions] == ["Porch light", "Study lamp"]
    assert not is_on(rt, "mqtt:porch_light") and not is_on(rt, "mqtt:study_lamp")


async def test_json_that_names_no_tool_stays_text(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    _, brain = house
    text = 'Here is an example: ```json\n{"name": "Ada", "age": 3}\n```'
    llm.script(text)
    reply = await brain.handle(message("show me some json"), OWNER)
    assert reply.actions == [] and "Ada" in reply.text


async def test_arguments_as_string_with_wrong_types(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    rt, brain = house
    # Brightness as a string, and the whole arguments object encoded twice.
    twice = json.dumps(json.dumps({"target": "Study lamp", "brightness": "40"}))
    llm.script(tool_call("turn_on", twice), "Study lamp at 40%.")
    reply = await brain.handle(message("study lamp to forty"), OWNER)
    assert reply.actions[0]["ok"], reply.actions
    assert rt.home.get("mqtt:study_lamp").state.brightness == 40


async def test_unknown_tool_is_refused_with_a_hint(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    _, brain = house
    llm.script(tool_call("HassTurnOff", {"name": "Porch light"}), "I could not do that.")
    reply = await brain.handle(message("porch off"), OWNER)
    result = reply.actions[0]["result"]
    assert result["error"] == "unknown_tool"
    tool_message = llm.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and "unknown_tool" in tool_message["content"]


async def test_the_same_call_repeated_runs_once_and_ends_the_turn(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    rt, brain = house
    await turn_on_all(rt, "mqtt:porch_light")
    # A small model that keeps calling the same tool for ever.
    llm.rule(lambda req: tool_call("turn_off", {"target": "Porch light"}) if req.get("tools")
             else "The porch light is off.")  # fmt: skip
    reply = await brain.handle(message("porch off"), OWNER)
    offs = [c for _, c in memory_devices(rt).executed if c.action.value == "turn_off"]
    assert len(offs) == 1 and len(reply.actions) == 1
    # Round 1 runs it, round 2 is refused as a repeat, then one call without tools.
    assert len(llm.requests) == 3 and "tools" not in llm.requests[2]
    repeat = llm.requests[2]["messages"][-1]
    assert "repeated_call" in repeat["content"]
    assert reply.text == "The porch light is off."


async def test_empty_reply_after_a_command_reports_what_was_done(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    rt, brain = house
    await turn_on_all(rt, "mqtt:porch_light")
    llm.script(tool_call("turn_off", {"target": "Porch light"}), Reply(text=None))
    reply = await brain.handle(message("porch off"), OWNER)
    assert reply.text == "Done: Porch light off."


async def test_empty_reply_with_nothing_done(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    _, brain = house
    llm.script(Reply(text=""))
    reply = await brain.handle(message("hello?"), OWNER)
    assert reply.text == "I got no answer from the model, and nothing was changed."


async def test_answer_cut_off_by_the_length_limit(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    _, brain = house
    llm.script(Reply(text="The weather today will be sunny with a", finish_reason="length"))
    reply = await brain.handle(message("tell me a long story"), OWNER)
    assert reply.text.startswith("The weather today will be sunny with a …")
    assert "cut off" in reply.text


async def test_tool_call_cut_off_mid_json_is_not_run(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    rt, brain = house
    await turn_on_all(rt, "mqtt:porch_light")
    llm.script(
        Reply(text='<tool_call>\n{"name": "turn_off", "arguments": {"tar', finish_reason="length")
    )
    reply = await brain.handle(message("porch off"), OWNER)
    offs = [c for _, c in memory_devices(rt).executed if c.action.value == "turn_off"]
    assert offs == [] and is_on(rt, "mqtt:porch_light") is True
    assert "<tool_call>" not in reply.text and "cut off" in reply.text


async def test_model_without_tool_support(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    _, brain = house
    llm.script(Raw(400, OLLAMA_NO_TOOLS))
    reply = await brain.handle(message("porch off"), OWNER)
    assert reply.path == "none"
    assert "does not support tool calls" in reply.text and "gemma2:2b" in reply.text


async def test_the_model_is_offered_the_tools_this_home_can_use(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    rt, brain = house
    await brain.handle(message("hello"), OWNER)
    offered = {t["function"]["name"] for t in llm.requests[-1]["tools"]}
    assert {"turn_on", "unlock", "alarm", "set_climate", "home_status"} <= offered
    assert "camera_snapshot" not in offered  # no camera here
    rt.home.remove("mqtt:front_door")
    await brain.handle(message("hello again"), OWNER)
    offered = {t["function"]["name"] for t in llm.requests[-1]["tools"]}
    assert "unlock" not in offered and "lock" not in offered and "turn_on" in offered


async def test_the_prefix_is_byte_identical_between_turns(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    """System prompt and tools are the same bytes turn after turn (servers cache them),
    whatever the devices' state did in between."""
    rt, brain = house
    await brain.handle(message("hello"), OWNER)
    await turn_on_all(rt, "mqtt:porch_light", "mqtt:study_lamp")
    await brain.handle(message("hello again"), OWNER)
    first, second = llm.requests
    assert json.dumps(first["messages"][0]) == json.dumps(second["messages"][0])
    assert json.dumps(first["tools"]) == json.dumps(second["tools"])
    assert "Porch light" in first["messages"][0]["content"]
