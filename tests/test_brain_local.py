"""The brain with no LLM: the local fast path over the demo home, and its replies."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.brain.component import Brain
from agent.brain.reply import Reply
from agent.brain.sample_home import InMemoryDevices, sample_runtime
from agent.brain.tools import ToolContext
from agent.bus import InboundMessage
from agent.devices import Area
from agent.messaging.people import Identity
from agent.runtime import Runtime

OWNER = Identity("owner", "owner", "cli", "owner")


def message(text: str, channel: str = "cli", sender: str = "owner") -> InboundMessage:
    """An inbound message as a channel would publish it."""
    return InboundMessage(channel=channel, sender=sender, text=text, msg_id=uuid.uuid4().hex)


async def make_brain(root: Path, config: dict[str, Any] | None = None) -> tuple[Runtime, Brain]:
    """A started brain over the in-memory demo home."""
    rt = await sample_runtime(root, config)
    brain = Brain(rt)
    brain.setup(rt)
    await brain.start()
    return rt, brain


@pytest.fixture
async def imperial(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Brain]]:
    """A brain for an imperial home, no LLM."""
    rt, brain = await make_brain(tmp_path / "home", {"home": {"units": "imperial"}})
    try:
        yield rt, brain
    finally:
        await brain.stop()
        rt.store.close()


def state(rt: Runtime, device_id: str) -> Any:
    """A device's current state."""
    return rt.home.get(device_id).state


async def test_issue_commands_run_locally(imperial: tuple[Runtime, Brain]) -> None:
    """The five commands of the issue work instantly with no LLM, in the soul's voice."""
    rt, brain = imperial
    await rt.home.execute("mqtt:kitchen_ceiling", _on(), requested_by="test")
    reply = await brain.handle(message("turn off the kitchen lights"), OWNER)
    assert reply.path == "local"
    assert reply.text.startswith("Done!") and "Kitchen ceiling" in reply.text
    assert state(rt, "mqtt:kitchen_ceiling").on is False
    assert reply.actions[0]["tool"] == "turn_off" and reply.actions[0]["ok"] is True

    reply = await brain.handle(message("set the thermostat to 68"), OWNER)
    assert reply.path == "local" and "68°F" in reply.text
    assert state(rt, "mqtt:thermostat").target_temperature_c == 20.0

    reply = await brain.handle(message("dim the bedroom lights to 20%"), OWNER)
    assert reply.path == "local"
    assert state(rt, "mqtt:bedroom_lamp").brightness == 20
    assert state(rt, "mqtt:bedroom_ceiling").brightness == 20

    reply = await brain.handle(message("close the living room shade"), OWNER)
    assert reply.path == "local" and "closed" in reply.text
    assert state(rt, "mqtt:living_room_shade").position == 0

    reply = await brain.handle(message("is the front door locked?"), OWNER)
    assert reply.path == "local"
    assert reply.text == "Yes, Front door is locked."


async def test_state_questions_from_live_state(imperial: tuple[Runtime, Brain]) -> None:
    """Which-lights and temperature questions answer from the live snapshot."""
    rt, brain = imperial
    await rt.home.execute("mqtt:study_lamp", _on(), requested_by="test")
    reply = await brain.handle(message("which lights are on upstairs?"), OWNER)
    assert reply.path == "local"
    assert "Study lamp" in reply.text and "Bedroom lamp" not in reply.text
    reply = await brain.handle(message("what's the temperature in the living room"), OWNER)
    assert reply.path == "local" and "67°F" in reply.text  # 19.5 °C


async def test_state_questions_answer_the_state_as_it_is_now(
    imperial: tuple[Runtime, Brain],
) -> None:
    """A named device's state is read at answer time, after changes by any path.

    Asked once (which builds the name index), changed (by a command and by a
    device's own push), asked again: the second answer is the new state.
    """
    rt, brain = imperial
    reply = await brain.handle(message("is the front door locked?"), OWNER)
    assert reply.text == "Yes, Front door is locked."
    rt.home.update("mqtt:front_door", locked=False)  # someone turned the key
    reply = await brain.handle(message("is the front door locked?"), OWNER)
    assert reply.path == "local" and reply.text.startswith("No")
    rt.home.update("mqtt:front_door", locked=True)
    reply = await brain.handle(message("is the front door locked?"), OWNER)
    assert reply.text == "Yes, Front door is locked."

    await rt.home.execute("mqtt:porch_light", _on(), requested_by="test")
    reply = await brain.handle(message("is the porch light on?"), OWNER)
    assert reply.text.startswith("Yes")
    reply = await brain.handle(message("turn off the porch light"), OWNER)
    assert state(rt, "mqtt:porch_light").on is False
    reply = await brain.handle(message("is the porch light on?"), OWNER)
    assert reply.path == "local" and reply.text.startswith("No")


async def test_unmatched_without_llm_says_how_to_configure(
    imperial: tuple[Runtime, Brain],
) -> None:
    """Anything the fast path can't understand says an LLM is needed, and how."""
    _, brain = imperial
    reply = await brain.handle(message("I'm cold"), OWNER)
    assert reply.path == "none"
    assert "language model" in reply.text and "brain.provider" in reply.text
    assert reply.to_json() == {
        "reply": reply.text,
        "path": "none",
        "actions": [],
        "confirmation": None,
    }


async def test_ambiguous_name_asks_back_without_llm(tmp_path: Path) -> None:
    """Two devices with one name: without an LLM, the house asks which one."""
    rt = await sample_runtime(tmp_path / "home")
    memory = rt.home.integrations["memory"]
    assert isinstance(memory, InMemoryDevices)
    twin = next(d for d in memory.devices if d.id == "mqtt:study_lamp")
    from dataclasses import replace

    rt.home.add(replace(twin, id="mqtt:study_lamp_2", area="bedroom"))
    brain = Brain(rt)
    brain.setup(rt)
    await brain.start()
    try:
        reply = await brain.handle(message("turn on the study lamp"), OWNER)
        assert reply.text.startswith("Which one do you mean")
        assert rt.home.get("mqtt:study_lamp").state.on is False
    finally:
        rt.store.close()


async def test_registered_phrases_win_and_strip_the_name(
    imperial: tuple[Runtime, Brain],
) -> None:
    """Routine phrases registered by other components are matched first."""
    _, brain = imperial
    seen: list[str] = []

    async def sleepy(msg: InboundMessage, ctx: ToolContext) -> Reply:
        seen.append(msg.text)
        return Reply("Goodnight!", path="local")

    brain.register_phrases(
        "routine:sleepy time", ["sleepy time", "Dobby, it's sleepy time"], sleepy
    )
    reply = await brain.handle(message("Dobby, it's sleepy time"), OWNER)
    assert reply.text == "Goodnight!" and reply.path == "local"
    reply = await brain.handle(message("sleepy time!"), OWNER)
    assert reply.text == "Goodnight!"
    brain.local.unregister_phrases("routine:sleepy time")
    reply = await brain.handle(message("sleepy time"), OWNER)
    assert reply.path == "none"
    assert len(seen) == 2


async def test_soul_edits_apply_without_restart(imperial: tuple[Runtime, Brain]) -> None:
    """The owner edits soul.md in the home folder; the next reply uses it."""
    rt, brain = imperial
    rt.paths.soul.write_text(
        "# Jeeves\n\nVery good.\n\n## Short replies\n\n- done: Very good: {what}.\n"
    )
    # Make sure the mtime differs even on coarse filesystems.
    later = time.time() + 5
    os.utime(rt.paths.soul, (later, later))
    reply = await brain.handle(message("Jeeves, turn on the porch light"), OWNER)
    assert reply.text == "Very good: Porch light on."
    assert "Very good." in brain.system_prompt() and "Dobby" not in brain.system_prompt()


async def test_failing_device_is_reported_honestly(imperial: tuple[Runtime, Brain]) -> None:
    """A device that does not answer is named in the reply; the others still act."""
    rt, brain = imperial
    memory = rt.home.integrations["memory"]
    assert isinstance(memory, InMemoryDevices)
    memory.fail.add("mqtt:kitchen_pendant")
    reply = await brain.handle(message("turn on the kitchen lights"), OWNER)
    assert "not answering" in reply.text and "Kitchen ceiling" in reply.text
    assert state(rt, "mqtt:kitchen_ceiling").on is True


def _on() -> Any:
    from agent.devices import Action, Command

    return Command(action=Action.TURN_ON)


async def test_play_a_favourite_locally(imperial: tuple[Runtime, Brain]) -> None:
    """ "Play Radio Paradise in the kitchen" picks the favourite; unknown ones hand over."""
    rt, brain = imperial
    reply = await brain.handle(message("play radio paradise in the kitchen"), OWNER)
    assert reply.path == "local" and reply.actions[0]["tool"] == "play_music"
    assert state(rt, "sonos:kitchen").media_title == "Radio Paradise"
    reply = await brain.handle(message("play the greatest hits of 1987 in the kitchen"), OWNER)
    assert reply.path == "none"


async def test_an_area_stands_for_its_heater(imperial: tuple[Runtime, Brain]) -> None:
    """ "Set the pool to 84" sets the pool heater (the pool's one climate device)."""
    rt, brain = imperial
    reply = await brain.handle(message("set the pool to 84"), OWNER)
    assert reply.path == "local", reply.text
    pool = next(d for d in rt.home.devices() if d.name == "Pool heater")
    spa = next(d for d in rt.home.devices() if d.name == "Spa")
    assert abs(pool.state.target_temperature_c - (84 - 32) * 5 / 9) < 0.1
    assert abs(spa.state.target_temperature_c - (84 - 32) * 5 / 9) > 0.5, "the spa is not the pool"


async def test_my_favourite_radio_plays_the_radio_favourite(
    imperial: tuple[Runtime, Brain],
) -> None:
    """ "Play my favourite radio in the study" picks the favourite whose kind is radio."""
    rt, brain = imperial
    reply = await brain.handle(message("play my favourite radio in the study"), OWNER)
    assert reply.path == "local", reply.text
    assert state(rt, "sonos:study").media_title == "Radio Paradise"


async def test_a_command_for_something_missing_says_what_is_missing(tmp_path: Path) -> None:
    """No LLM, a plain command naming nothing here: say so, not "I only understand simple ones"."""
    rt, brain = await make_brain(tmp_path / "home")
    try:
        reply = await brain.handle(message("turn off the sauna lights"), OWNER)
        assert reply.text.startswith("There's nothing called “sauna lights” in this home")
        assert "homeclaw discover" in reply.text
        # A room the home has, but nothing of that kind in it (a fresh `homeclaw init` home).
        rt.home.areas["sauna"] = Area("sauna", "Sauna")
        reply = await brain.handle(message("turn off the sauna lights"), OWNER)
        assert reply.text.startswith("There are no lights in the Sauna")
        rt.demo = True
        reply = await brain.handle(message("I'm cold"), OWNER)
        assert "homeclaw demo --llm" in reply.text and "brain.provider" not in reply.text
    finally:
        await brain.stop()
        rt.store.close()


async def test_the_owners_local_commands_are_not_rate_limited(tmp_path: Path) -> None:
    """40 local commands a minute from the CLI all run; SMS still counts every message."""
    rt, brain = await make_brain(tmp_path / "home", {"brain": {"rate_limit_per_minute": 5}})
    try:
        for i in range(40):
            reply = await brain.handle(
                message(f"turn {'on' if i % 2 else 'off'} the porch light"), OWNER
            )
            assert reply.path == "local", reply.text
        texter = Identity("owner", "owner", "sms", "+15550100")
        replies = [
            await brain.handle(message("turn on the porch light", "sms", "+15550100"), texter)
            for _ in range(7)
        ]
        assert [r.text.startswith("Too many") for r in replies] == [False] * 5 + [True] * 2
    finally:
        await brain.stop()
        rt.store.close()
