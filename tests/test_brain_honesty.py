"""Honest replies: a scripted model that lies is corrected by what the turn executed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.brain.component import Brain
from agent.brain.honesty import honest_reply, turn_facts
from agent.brain.reply import Reply
from agent.brain.simulator import FakeLLM, ReplyLike, tool_call, tool_calls
from agent.devices import Action, Command
from agent.runtime import Runtime
from tests.test_brain_llm import OWNER, llm_config, message, start
from tests.test_brain_real_servers import memory_devices

LIGHTS = ("mqtt:porch_light", "mqtt:study_lamp", "mqtt:hallway_light")


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
    """A brain that always asks the model, with three lights on."""
    rt, brain = await start(tmp_path / "home", llm_config(llm, prefer_local=False))
    for device_id in LIGHTS:
        await rt.home.execute(device_id, Command(action=Action.TURN_ON), requested_by="test")
    try:
        yield rt, brain
    finally:
        await brain.stop()


def logged_ok(rt: Runtime, device_id: str, action: str) -> bool:
    """Whether the command log has a successful command of this action for the device."""
    rows = rt.store.query(
        "SELECT command FROM command_log WHERE device_id = ? AND ok = 1 AND requested_by != ?",
        (device_id, "test"),
    )
    return any(f'"{action}"' in row["command"] for row in rows)


OFF = tool_call("turn_off", {"target": "Porch light"})
# (script, what the porch light does, the reply the owner must get)
LIES: list[tuple[str, tuple[ReplyLike, ...], bool, str]] = [
    (
        "no tool at all",
        ("Done, the lights are off.",),
        False,
        "I didn't change anything: no command was sent (ask me again?).",
    ),
    (
        "state claimed with no tool",
        ("The porch light is off now.",),
        False,
        "I didn't change anything: no command was sent (ask me again?).",
    ),
    (
        "an action in progress, none sent (SmolLM2's words)",
        ("She's turning on the Kitchen ceiling.",),
        False,
        "I didn't change anything: no command was sent (ask me again?).",
    ),
    (
        "tool failed",
        (OFF, "Done! The porch light is off."),
        True,
        "I didn't change anything: the porch light did not answer.",
    ),
    (
        "wrong tool name",
        (tool_call("lights_off", {"target": "Porch light"}), "I've turned it off."),
        False,
        "I didn't change anything: the model asked for a tool I don't have (lights_off).",
    ),
]


@pytest.mark.parametrize(("label", "script", "porch_fails", "expected"), LIES)
async def test_a_lying_model_is_corrected(
    house: tuple[Runtime, Brain],
    llm: FakeLLM,
    label: str,
    script: tuple[ReplyLike, ...],
    porch_fails: bool,
    expected: str,
) -> None:
    rt, brain = house
    if porch_fails:
        memory_devices(rt).fail.add("mqtt:porch_light")
    llm.script(*script)
    reply = await brain.handle(message("porch light off"), OWNER)
    assert reply.text == expected, label
    assert reply.corrected
    assert rt.home.get("mqtt:porch_light").state.on is True
    assert not logged_ok(rt, "mqtt:porch_light", "turn_off")


async def test_partial_failure_is_reported(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    rt, brain = house
    memory_devices(rt).fail.add("mqtt:porch_light")
    llm.script(
        tool_calls(
            ("turn_off", {"target": "Porch light"}),
            ("turn_off", {"target": "Study lamp"}),
            ("turn_off", {"target": "Hallway light"}),
        ),
        "All three lights are off now!",
    )
    reply = await brain.handle(message("outside, study and hall lights off"), OWNER)
    assert reply.text == "2 of 3 lights off; the porch light did not answer."
    assert reply.corrected
    for device_id in ("mqtt:study_lamp", "mqtt:hallway_light"):
        assert logged_ok(rt, device_id, "turn_off")


async def test_partial_failure_within_one_call(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    rt, brain = house
    await rt.home.execute("mqtt:dining_table", Command(action=Action.TURN_ON), requested_by="test")
    await rt.home.execute("mqtt:dining_lamp", Command(action=Action.TURN_ON), requested_by="test")
    memory_devices(rt).fail.add("mqtt:dining_lamp")
    llm.script(tool_call("turn_off", {"target": "dining room"}), "Done, the dining room is dark.")
    reply = await brain.handle(message("dining room off"), OWNER)
    assert reply.text == "1 of 2 lights off; the dining lamp did not answer."
    assert rt.home.get("mqtt:dining_table").state.on is False


async def test_an_honest_model_keeps_its_words(house: tuple[Runtime, Brain], llm: FakeLLM) -> None:
    rt, brain = house
    memory_devices(rt).fail.add("mqtt:porch_light")
    llm.script(
        tool_calls(("turn_off", {"target": "Porch light"}), ("turn_off", {"target": "Study lamp"})),
        "The study lamp is off, but the porch light did not answer.",
    )
    reply = await brain.handle(message("porch and study off"), OWNER)
    assert reply.text == "The study lamp is off, but the porch light did not answer."
    assert not reply.corrected


async def test_a_true_claim_matches_the_command_log(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    rt, brain = house
    llm.script(OFF, "Done, the porch light is off.")
    reply = await brain.handle(message("porch off"), OWNER)
    assert reply.text == "Done, the porch light is off." and not reply.corrected
    assert reply.actions[0]["result"]["done"] == {"Porch light": "off"}
    assert logged_ok(rt, "mqtt:porch_light", "turn_off")
    assert rt.home.get("mqtt:porch_light").state.on is False


async def test_a_state_report_after_reading_is_not_a_claim(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    _, brain = house
    llm.script(tool_call("home_status", {"target": "Porch light"}), "The porch light is on.")
    reply = await brain.handle(message("is the porch light on?"), OWNER)
    assert reply.text == "The porch light is on." and not reply.corrected


async def test_a_claim_while_waiting_for_the_code(
    house: tuple[Runtime, Brain], llm: FakeLLM
) -> None:
    rt, brain = house
    llm.script(tool_call("unlock", {"target": "Front door"}), "I've unlocked the front door.")
    # The owner's words name the command (the policy sends no code for "let me in").
    reply = await brain.handle(message("please unlock the front door, I'm outside"), OWNER)
    assert reply.text.startswith("Nothing has changed yet: that waits for your confirmation.")
    assert reply.confirmation is not None
    assert rt.home.get("mqtt:front_door").state.locked is not False


def test_a_read_back_that_contradicts_the_command_is_a_failure() -> None:
    # A jammed lock reports "jammed" after lock: not done, whatever the model says.
    actions = [
        {
            "tool": "lock",
            "args": {"target": "Front door"},
            "ok": True,
            "result": {"done": {"Front door": "jammed"}},
        }
    ]
    facts = turn_facts(actions)
    assert facts.done == {} and facts.failed == {"Front door": "still reports jammed"}
    text, corrected = honest_reply("Locked it for you!", actions)
    assert corrected and text == "I didn't change anything: Front door: still reports jammed."


def test_replies_are_plain_reply_objects() -> None:
    assert Reply("x").to_json()["reply"] == "x"
