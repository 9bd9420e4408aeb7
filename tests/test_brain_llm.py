"""The brain with an LLM: the fake OpenAI-compatible server, driven through the real SDK."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.brain.component import Brain
from agent.brain.sample_home import InMemoryDevices, sample_runtime
from agent.brain.simulator import (
    Failure,
    FakeLLM,
    has_tool_results,
    last_user_text,
    tool_call,
    tool_calls,
)
from agent.brain.tools import ToolContext
from agent.bus import InboundMessage
from agent.demo.simulation import free_port
from agent.devices import Action
from agent.messaging.people import Identity
from agent.runtime import Runtime

OWNER = Identity("owner", "owner", "cli", "owner")


def message(text: str) -> InboundMessage:
    """An owner's message over the CLI."""
    return InboundMessage(channel="cli", sender="owner", text=text, msg_id=uuid.uuid4().hex)


def llm_config(llm: FakeLLM, **brain: Any) -> dict[str, Any]:
    """A config pointing the brain at the fake server (no SDK retries: fail fast)."""
    return {
        "home": {"units": "imperial"},
        "brain": {
            "provider": "openai",
            "base_url": llm.base_url,
            "model": "fake-model",
            "api_key": "test-key",
            "max_retries": 0,
            "timeout": 10,
            **brain,
        },
    }


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake LLM server on loopback."""
    fake = await FakeLLM().start()
    try:
        yield fake
    finally:
        await fake.stop()


async def start(root: Path, config: dict[str, Any]) -> tuple[Runtime, Brain]:
    """A started brain over the in-memory demo home."""
    rt = await sample_runtime(root, config)
    brain = Brain(rt)
    brain.setup(rt)
    await brain.start()
    return rt, brain


@pytest.fixture
async def house(tmp_path: Path, llm: FakeLLM) -> AsyncIterator[tuple[Runtime, Brain]]:
    """A brain with the fake LLM configured."""
    rt, brain = await start(tmp_path / "home", llm_config(llm))
    try:
        yield rt, brain
    finally:
        await brain.stop()
        rt.store.close()


def executed(rt: Runtime) -> list[tuple[str, Any]]:
    """Commands the in-memory devices received."""
    memory = rt.home.integrations["memory"]
    assert isinstance(memory, InMemoryDevices)
    return memory.executed


def tool_results(request: dict[str, Any]) -> list[Any]:
    """The tool results a request carries back to the model."""
    return [json.loads(m["content"]) for m in request["messages"] if m["role"] == "tool"]


async def test_im_cold_raises_the_heating(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    """ "I'm cold": the model reads the thermostat and raises it 2°F from its setpoint."""
    rt, brain = house
    llm.script(
        tool_call("home_status", {"target": "thermostat"}),
        tool_call("set_climate", {"target": "thermostat", "change": 2}),
        "Warming things up: the thermostat is now at 70°F.",
    )
    reply = await brain.handle(message("I'm cold"), OWNER)
    assert reply.path == "llm"
    assert rt.home.get("mqtt:thermostat").state.target_temperature_c == pytest.approx(21.1)
    status = tool_results(llm.requests[1])[0]
    assert (
        status["units"] == "°F"
        and "Thermostat (Living room, climate): heat, set to 68°F" in (status["devices"][0])
    )
    assert [a["tool"] for a in reply.actions] == ["home_status", "set_climate"]
    assert all(a["ok"] for a in reply.actions)
    # The stable prompt prefix: soul, rules, house; tools sent every time.
    system = llm.requests[0]["messages"][0]["content"]
    assert system.startswith("# Dobby") and "climate/thermostat: Thermostat" in system
    assert {t["function"]["name"] for t in llm.requests[0]["tools"]} >= {"turn_on", "home_status"}


async def test_cosy_living_room_in_parallel(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    """ "Make the living room cosy": dimmed warm lights and a closed shade, in one round."""
    rt, brain = house
    llm.script(
        tool_calls(
            ("turn_on", {"target": "living room lights", "brightness": 35, "color": "warm white"}),
            ("set_cover", {"target": "living room shade", "action": "close"}),
        ),
        "Cosy it is.",
    )
    reply = await brain.handle(message("make the living room cosy"), OWNER)
    lamp = rt.home.get("mqtt:living_room_lamp").state
    assert (lamp.on, lamp.brightness, lamp.color_temp_k) == (True, 35, 2700)
    assert rt.home.get("mqtt:living_room_shade").state.position == 0
    assert reply.text == "Cosy it is." and len(reply.actions) == 2
    assert len(tool_results(llm.requests[1])) == 2


async def test_status_question_answers_from_live_state(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    """ "What's on in the house?" goes to the model, which reads home_status."""
    _, brain = house

    def answer(request: dict[str, Any]) -> Any:
        if not has_tool_results(request):
            return tool_call("home_status", {})
        devices = tool_results(request)[-1]["devices"]
        on = [d.split(" (")[0] for d in devices if "): on" in d or "playing" in d]
        return "On right now: " + ", ".join(on) + "."

    llm.rule(answer)
    reply = await brain.handle(message("what's on in the house right now?"), OWNER)
    assert reply.path == "llm"
    assert reply.text == "On right now: Dehumidifier."


async def test_no_such_device_is_an_honest_error(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    """ "Turn on the garage sauna": the tool says no such device; nothing else is touched."""
    rt, brain = house
    llm.rule(
        lambda r: (
            "There's no garage sauna here."
            if has_tool_results(r)
            else tool_call("turn_on", {"target": "garage sauna"})
        )
    )
    reply = await brain.handle(message("turn on the garage sauna"), OWNER)
    assert reply.actions[0]["ok"] is False
    assert reply.actions[0]["result"]["error"] == "no_such_device"
    assert executed(rt) == []
    assert reply.text == "There's no garage sauna here."


async def test_malformed_arguments_and_a_raising_tool(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    """Bad JSON and a tool bug come back to the model as structured errors."""
    rt, brain = house

    async def broken(ctx: ToolContext) -> str:
        """A tool with a bug."""
        raise RuntimeError("boom")

    rt.tools.register(broken)
    llm.script(
        tool_calls(("turn_off", '{"target": "kitchen lights"'), ("broken", {})),
        tool_call("turn_off", {"target": "kitchen lights"}),
        "Kitchen lights are off.",
    )
    reply = await brain.handle(
        message("kitchen lights off please, and run the broken thing"), OWNER
    )
    first, second = tool_results(llm.requests[1])
    assert first["error"] == "bad_arguments" and "not JSON" in first["detail"]
    assert second == {"error": "tool_failed", "detail": "RuntimeError: boom"}
    # The history sent back stays valid JSON for strict servers.
    sent = llm.requests[1]["messages"][-3]["tool_calls"][0]["function"]["arguments"]
    assert sent == "{}"
    assert reply.text == "Kitchen lights are off." and reply.actions[-1]["ok"] is True


async def test_tool_call_cap_per_turn(tmp_path: Path, llm: FakeLLM) -> None:
    """Calls past the per-turn cap are refused, not run."""
    rt, brain = await start(tmp_path / "home", llm_config(llm, max_tool_calls_per_turn=2))
    try:
        llm.script(
            tool_calls(
                ("turn_on", {"target": "porch light"}),
                ("turn_on", {"target": "study lamp"}),
                ("turn_on", {"target": "hallway light"}),
            ),
            "Two of three.",
        )
        await brain.handle(message("turn on the porch, study and hallway lights"), OWNER)
        results = tool_results(llm.requests[1])
        assert results[2]["error"] == "tool_call_cap"
        assert rt.home.get("mqtt:hallway_light").state.on is False
        assert rt.home.get("mqtt:porch_light").state.on is True
    finally:
        rt.store.close()


async def test_local_path_first_then_llm(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    """With prefer_local, simple commands never reach the model."""
    _, brain = house
    reply = await brain.handle(message("turn on the porch light"), OWNER)
    assert reply.path == "local" and llm.requests == []
    reply = await brain.handle(message("which lights are on upstairs?"), OWNER)
    assert reply.path == "local" and llm.requests == []


async def test_conversation_persists_across_restart(tmp_path: Path, llm: FakeLLM) -> None:
    """A restarted daemon continues the conversation where it stopped."""
    config = llm_config(llm)
    rt, brain = await start(tmp_path / "home", config)
    llm.script("Noted, a film night.")
    await brain.handle(message("we are having a film night tonight"), OWNER)
    await brain.stop()
    rt.store.close()
    rt, brain = await start(tmp_path / "home", config)
    try:
        llm.script("You said: a film night.")
        await brain.handle(message("what did I say we are doing?"), OWNER)
        assert "film night tonight" in llm.request_text(-1)
        assert "Noted, a film night." in llm.request_text(-1)
    finally:
        rt.store.close()


class FakeMemory:
    """Records the brain's memory hooks."""

    def __init__(self) -> None:
        self.compacted: list[list[dict[str, Any]]] = []

    async def context_for(self, conversation: str, text: str) -> str:
        """A remembered fact for every turn."""
        return "The owner likes it warm (72°F)."

    async def before_compaction(self, conversation: str, messages: list[dict[str, Any]]) -> None:
        """Remember what is about to be summarised."""
        self.compacted.append(messages)


async def test_memory_hooks_and_compaction(tmp_path: Path, llm: FakeLLM) -> None:
    """Memory context is added per turn; old turns are summarised when the budget fills."""
    rt, brain = await start(tmp_path / "home", llm_config(llm, context_tokens=1000))
    memory = FakeMemory()
    rt.services["memory"] = memory
    try:
        llm.rule(
            lambda r: (
                "SUMMARY: the owner talked about old things."
                if r["messages"][0]["content"].startswith("Summarise")
                else "ok " + last_user_text(r)[:5]
            )
        )
        for i in range(8):
            await brain.handle(message(f"story number {i}: " + "blah " * 150), OWNER)
        assert "The owner likes it warm" in llm.request_text(0)
        assert memory.compacted, "before_compaction was not called"
        last = llm.request_text(-1)
        assert "SUMMARY: the owner talked about old things." in last
        assert "story number 0" not in last
        # The rows stay (recall searches them), marked compacted.
        rows = rt.store.query(
            "SELECT COUNT(*) AS n FROM brain_messages WHERE compacted = 1 AND content LIKE ?",
            ("story number 0%",),
        )
        assert rows[0]["n"] == 1
    finally:
        rt.store.close()


async def test_provider_errors_are_clear(tmp_path: Path, llm: FakeLLM) -> None:
    """Auth, no tool support and an unreachable server each get a plain answer."""
    rt, brain = await start(tmp_path / "home", llm_config(llm))
    try:
        llm.script(Failure(401, "Incorrect API key provided"))
        reply = await brain.handle(message("tell me a joke"), OWNER)
        assert reply.path == "none" and "API key" in reply.text
        llm.script(Failure(400, "registry.ollama.ai/library/gemma does not support tools"))
        reply = await brain.handle(message("tell me a joke"), OWNER)
        assert "does not support tool calls" in reply.text
    finally:
        await brain.stop()
        rt.store.close()
    dead = f"http://127.0.0.1:{free_port()}/v1"
    config = llm_config(llm)
    config["brain"]["base_url"] = dead
    rt, brain = await start(tmp_path / "home2", config)
    try:
        reply = await brain.handle(message("tell me a joke"), OWNER)
        assert "Cannot reach the LLM server" in reply.text
        assert "Error" not in reply.text and ".)" not in reply.text  # reads as a sentence
        # Simple commands still work locally.
        reply = await brain.handle(message("turn on the porch light"), OWNER)
        assert reply.path == "local"
    finally:
        await brain.stop()
        rt.store.close()


async def test_every_command_records_who_asked(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    """The command log names the channel and sender behind each command."""
    rt, brain = house
    llm.script(tool_call("turn_on", {"target": "porch light"}), "On.")
    await brain.handle(message("porch light on, would you"), OWNER)
    row = rt.store.one("SELECT requested_by, ok FROM command_log ORDER BY id DESC LIMIT 1")
    assert row is not None and row["requested_by"] == "cli:owner" and row["ok"] == 1
    assert executed(rt)[-1][1].action == Action.TURN_ON


async def test_anthropic_provider_through_its_sdk(tmp_path: Path, llm: FakeLLM) -> None:
    """The Anthropic provider speaks the messages API (tool_use / tool_result blocks)."""
    pytest.importorskip("anthropic", reason="the optional extra: pip install 'homeclaw[anthropic]'")
    config = {
        "home": {"units": "metric"},
        "brain": {
            "provider": "anthropic",
            "base_url": llm.anthropic_base_url,
            "model": "claude-test",
            "api_key": "anthropic-key",
            "max_retries": 0,
        },
    }
    rt, brain = await start(tmp_path / "home", config)
    try:
        llm.script(tool_call("turn_on", {"target": "porch light"}), "Porch light is on.")
        reply = await brain.handle(message("light the porch, would you"), OWNER)
        assert reply.path == "llm" and reply.text == "Porch light is on."
        assert rt.home.get("mqtt:porch_light").state.on is True
        first, second = llm.requests
        assert first["system"].startswith("# Dobby") and first["tools"][0]["input_schema"]
        blocks = second["messages"][-1]["content"]
        assert blocks[0]["type"] == "tool_result" and '"Porch light"' in blocks[0]["content"]
        assert second["messages"][-2]["content"][0]["type"] == "tool_use"
        assert llm.api_keys == ["anthropic-key", "anthropic-key"]
        llm.script(Failure(401, "invalid x-api-key"))
        reply = await brain.handle(message("tell me a joke"), OWNER)
        assert "Anthropic refused the API key" in reply.text
    finally:
        await brain.stop()
        rt.store.close()


async def test_music_tools_and_structured_target_errors(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    """play_music picks a favourite; unknown favourites and ambiguous targets are errors."""
    rt, brain = house
    llm.script(
        tool_calls(
            ("play_music", {"where": "kitchen", "what": "radio paradise"}),
            ("play_music", {"where": "study", "what": "polka hits"}),
            ("turn_on", {"target": "lamp"}),
            ("media_control", {"target": "kitchen", "action": "volume", "volume": 30}),
            ("home_status", {"target": "attic"}),
        ),
        "Radio Paradise is on in the kitchen.",
    )
    reply = await brain.handle(message("put on some radio in the kitchen"), OWNER)
    kitchen = rt.home.get("sonos:kitchen").state
    assert (kitchen.playback, kitchen.media_title, kitchen.volume) == (
        "playing",
        "Radio Paradise",
        30,
    )
    results = [a["result"] for a in reply.actions]
    assert results[1]["error"] == "no_such_device" and "Radio Paradise" in results[1]["detail"]
    assert results[2]["error"] == "ambiguous" and "Which one" in results[2]["detail"]
    assert results[4]["error"] == "no_such_device"
    assert rt.home.get("sonos:study").state.playback == "stopped"


async def test_llm_garage_door_needs_a_code(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    """Opening the garage door through the model waits for the owner's code."""
    rt, brain = house
    llm.script(tool_call("set_cover", {"target": "garage door", "action": "open"}), "Asked.")
    reply = await brain.handle(message("can you open the garage for the car"), OWNER)
    assert reply.confirmation is not None and "YES" in reply.text
    assert rt.home.get("ha:garage_door").state.position == 0
    # Asked over the CLI: neither the answer nor the model ever carries the code; it went
    # out of band (no channel reaches the owner here: a file only the owner can read).
    code_file = rt.paths.root / "confirm-code"
    assert str(code_file) in reply.text and code_file.stat().st_mode & 0o777 == 0o600
    code = code_file.read_text().split()[0]
    assert re.fullmatch(r"\d{7}", code) and code not in json.dumps(reply.to_json())
    assert code not in llm.request_text(-1)
    reply = await brain.handle(message(f"YES {code}"), OWNER)
    assert rt.home.get("ha:garage_door").state.position == 100


async def test_the_model_hears_which_room_it_was_said_in(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    """A message from a room reaches the LLM with the room, so "the lights" can mean its."""
    _, brain = house
    llm.script("Which lights?")
    msg = InboundMessage(
        channel="cli", sender="owner", text="make it cosy", msg_id="m1", area="kitchen"
    )
    await brain.handle(msg, OWNER)
    assert last_user_text(llm.requests[-1]) == "[in the Kitchen] make it cosy"
