"""Robot vacuums and valves: the device model, the virtual integration, the local
fast path (the phrasings of Home Assistant's assist-mini tasks) and the LLM tool."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.brain.component import Brain
from agent.brain.sample_home import sample_runtime
from agent.brain.tools import ToolContext
from agent.bus import InboundMessage
from agent.devices import Action, Command, Device, DeviceState, Feature, Kind, Risk
from agent.messaging.people import Identity
from agent.runtime import Runtime
from tests.conftest import RunningDaemon
from tests.util import eventually

OWNER = Identity("owner", "owner", "cli", "owner")
VACUUM = "ha:roborock"
VALVE = "ha:irrigation_valve"


def message(text: str) -> InboundMessage:
    """An inbound message from the owner's CLI."""
    return InboundMessage(channel="cli", sender="owner", text=text, msg_id=uuid.uuid4().hex)


@pytest.fixture
async def brain(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Brain]]:
    """A brain over the in-memory demo home (with a vacuum and a valve), no LLM."""
    rt = await sample_runtime(tmp_path / "home")
    b = Brain(rt)
    b.setup(rt)
    await b.start()
    try:
        yield rt, b
    finally:
        await b.stop()
        rt.store.close()


def test_vacuum_commands_need_their_features() -> None:
    """Pause and stop reach vacuums and speakers/covers alike; start needs `clean`."""
    robot = Device("v:1", "Robot", Kind.VACUUM, "v", features=frozenset({Feature.CLEAN}))
    assert robot.supports(Command(action=Action.START))
    assert robot.supports(Command(action=Action.STOP))
    assert not robot.supports(Command(action=Action.PAUSE))
    assert not robot.supports(Command(action=Action.RETURN_TO_BASE))
    shade = Device("c:1", "Shade", Kind.COVER, "c", features=frozenset({Feature.OPEN_CLOSE}))
    assert shade.supports(Command(action=Action.STOP))
    assert not shade.supports(Command(action=Action.START))


def test_vacuum_read_back_confirms_only_what_was_asked() -> None:
    """Returning (or docked) confirms return to base; a speaker's pause still reads playback."""
    back = Command(action=Action.RETURN_TO_BASE)
    assert DeviceState(activity="returning").satisfies(back)
    assert DeviceState(activity="docked").satisfies(back)
    assert not DeviceState(activity="cleaning").satisfies(back)
    assert not DeviceState(activity="error").satisfies(Command(action=Action.START))
    assert DeviceState(activity="paused").satisfies(Command(action=Action.PAUSE))
    assert not DeviceState(activity="cleaning").satisfies(Command(action=Action.PAUSE))
    assert DeviceState(playback="paused").satisfies(Command(action=Action.PAUSE))


def test_a_gas_valve_needs_confirmation_to_open() -> None:
    """Opening a gas valve is high risk; closing it, or opening a water valve, is not."""
    features = frozenset({Feature.OPEN_CLOSE, Feature.POSITION})
    gas = Device("v:g", "Gas", Kind.VALVE, "v", features=features, device_class="gas")
    water = Device("v:w", "Water", Kind.VALVE, "v", features=features, device_class="water")
    assert gas.command_risk(Command(action=Action.OPEN)) is Risk.HIGH
    assert gas.command_risk(Command(action=Action.SET_POSITION, position=30)) is Risk.HIGH
    assert gas.command_risk(Command(action=Action.CLOSE)) is Risk.LOW
    assert water.command_risk(Command(action=Action.OPEN)) is Risk.LOW


@pytest.mark.parametrize(
    ("text", "activity"),
    [
        ("Start vacuum in the living room", "cleaning"),
        ("Start Roborock Downstairs vacuum", "cleaning"),
        ("start Roborock Downstairs", "cleaning"),
        ("clean the living room", "cleaning"),
        ("vacuum downstairs", "cleaning"),
        ("start the vacuum", "cleaning"),
    ],
)
async def test_vacuum_start_phrases(brain: tuple[Runtime, Brain], text: str, activity: str) -> None:
    """The benchmark's start phrasings run locally and the vacuum reports cleaning."""
    rt, b = brain
    reply = await b.handle(message(text), OWNER)
    assert reply.path == "local", reply.text
    assert rt.home.get(VACUUM).state.activity == activity
    assert reply.actions[0]["tool"] == "vacuum"


@pytest.mark.parametrize(
    "text",
    [
        "Return Roborock Downstairs to base",
        "Return vacuum in the living room to base",
        "return the vacuum to base",
        "send the vacuum home",
        "dock the roborock downstairs",
    ],
)
async def test_vacuum_return_phrases(brain: tuple[Runtime, Brain], text: str) -> None:
    """Return-to-base phrasings send a cleaning vacuum back (state: returning)."""
    rt, b = brain
    await rt.home.execute(VACUUM, Command(action=Action.START), requested_by="test")
    reply = await b.handle(message(text), OWNER)
    assert reply.path == "local", reply.text
    assert rt.home.get(VACUUM).state.activity == "returning"
    assert "back to base" in reply.text


async def test_vacuum_pause_stop_and_questions(brain: tuple[Runtime, Brain]) -> None:
    """Pause and stop the vacuum; ask what it is doing (from the live state)."""
    rt, b = brain
    await b.handle(message("start the vacuum"), OWNER)
    reply = await b.handle(message("pause the vacuum"), OWNER)
    assert reply.path == "local" and rt.home.get(VACUUM).state.activity == "paused"
    reply = await b.handle(message("what is the roborock downstairs doing?"), OWNER)
    assert reply.path == "local" and "paused" in reply.text
    reply = await b.handle(message("stop the roborock downstairs"), OWNER)
    assert rt.home.get(VACUUM).state.activity == "idle"
    # "Pause the living room" still means its speaker, not the vacuum there.
    await rt.home.execute("sonos:living_room", Command(action=Action.PLAY), requested_by="t")
    reply = await b.handle(message("pause the living room"), OWNER)
    assert rt.home.get("sonos:living_room").state.playback == "paused"
    assert rt.home.get(VACUUM).state.activity == "idle"


async def test_two_vacuums_ask_which(brain: tuple[Runtime, Brain]) -> None:
    """ "Start the vacuum" with two robots asks which one; a named one just starts."""
    rt, b = brain
    rt.home.add(
        Device(
            "ha:upstairs_robot", "Upstairs robot", Kind.VACUUM, "memory", "bedroom",
            features=frozenset({Feature.CLEAN, Feature.RETURN_HOME}),
            state=DeviceState(activity="docked"),
        )
    )  # fmt: skip
    reply = await b.handle(message("start the vacuum"), OWNER)
    assert "Roborock Downstairs" in reply.text and "Upstairs robot" in reply.text
    assert rt.home.get(VACUUM).state.activity == "docked"
    reply = await b.handle(message("start the upstairs robot"), OWNER)
    assert rt.home.get("ha:upstairs_robot").state.activity == "cleaning"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("open the irrigation valve", 100),
        ("open the garden valve", 100),
        ("set the irrigation valve to 50%", 50),
    ],
)
async def test_valve_phrases(brain: tuple[Runtime, Brain], text: str, position: int) -> None:
    """The benchmark's valve phrasings (name or area + "valve") move the valve."""
    rt, b = brain
    reply = await b.handle(message(text), OWNER)
    assert reply.path == "local", reply.text
    assert rt.home.get(VALVE).state.position == position


async def test_valve_close_and_question(brain: tuple[Runtime, Brain]) -> None:
    """Close the valve by its area; "is it open?" answers from the live state."""
    rt, b = brain
    await rt.home.execute(VALVE, Command(action=Action.OPEN), requested_by="test")
    reply = await b.handle(message("is the irrigation valve open?"), OWNER)
    assert reply.text == "Yes, Irrigation valve is open."
    reply = await b.handle(message("close the garden valve"), OWNER)
    assert reply.path == "local" and rt.home.get(VALVE).state.position == 0
    reply = await b.handle(message("is the irrigation valve open?"), OWNER)
    assert reply.text.startswith("No")


async def test_vacuum_tool_for_the_model(brain: tuple[Runtime, Brain]) -> None:
    """The LLM's `vacuum` tool starts and docks; `set_cover` opens valves."""
    rt, _ = brain
    ctx = ToolContext(channel="cli", sender="owner", runtime=rt)
    result = await rt.tools.call("vacuum", {"target": "Roborock", "action": "start"}, ctx)
    assert result.ok, result.detail
    assert rt.home.get(VACUUM).state.activity == "cleaning"
    result = await rt.tools.call("vacuum", {"target": "vacuum", "action": "return_to_base"}, ctx)
    assert result.ok and rt.home.get(VACUUM).state.activity == "returning"
    result = await rt.tools.call("set_cover", {"target": "irrigation valve", "position": 30}, ctx)
    assert result.ok and rt.home.get(VALVE).state.position == 30
    result = await rt.tools.call("vacuum", {"target": "irrigation valve", "action": "start"}, ctx)
    assert not result.ok and result.error == "unsupported"


VIRTUAL: dict[str, Any] = {
    "virtual": {
        "devices": [
            {"id": "robot", "name": "Robot", "kind": "vacuum", "area": "living_room"},
            {"id": "valve", "name": "Irrigation valve", "kind": "valve", "area": "front_yard"},
        ]
    },
    "routines": [
        {
            "name": "leaving home",
            "phrases": ["leaving home"],
            "steps": [
                {"target": "Robot", "action": "start"},
                {"target": "Irrigation valve", "action": "close"},
            ],
        }
    ],
}


async def test_virtual_vacuum_and_valve_in_a_daemon(
    start_daemon: Callable[..., Awaitable[RunningDaemon]], tmp_path: Path
) -> None:
    """Virtual vacuums and valves obey, answer over the API, and keep state across restarts."""
    home = tmp_path / "vhome"
    daemon = await start_daemon(VIRTUAL, home=home)
    rt = daemon.rt
    await eventually(lambda: len(rt.home.devices()) == 2)
    robot = rt.home.get("virtual:robot")
    assert robot.state.activity == "docked" and Feature.RETURN_HOME in robot.features
    status, body = await daemon.api("POST", "/api/chat", {"text": "start the robot vacuum"})
    assert status == 200 and body["path"] == "local", body
    assert rt.home.get("virtual:robot").state.activity == "cleaning"
    status, body = await daemon.api("POST", "/api/chat", {"text": "open the front yard valve"})
    assert status == 200 and rt.home.get("virtual:valve").state.position == 100
    await daemon.http.close()
    await daemon.daemon.stop()
    again = await start_daemon(VIRTUAL, home=home)
    await eventually(lambda: len(again.rt.home.devices()) == 2)
    assert again.rt.home.get("virtual:robot").state.activity == "cleaning"
    assert again.rt.home.get("virtual:valve").state.position == 100
    # Routines take the new actions like any other (a step per device).
    await again.rt.home.execute(
        "virtual:robot", Command(action=Action.RETURN_TO_BASE), requested_by="test"
    )
    status, body = await again.api("POST", "/api/chat", {"text": "leaving home"})
    assert status == 200, body
    await eventually(lambda: again.rt.home.get("virtual:robot").state.activity == "cleaning")
    assert again.rt.home.get("virtual:valve").state.position == 0


async def test_the_vacuum_tool_is_offered_only_with_a_vacuum(brain: tuple[Runtime, Brain]) -> None:
    """A home without a robot vacuum spends no prompt on the vacuum tool."""
    rt, _ = brain

    def offered() -> set[str]:
        return {s["function"]["name"] for s in rt.tools.schemas()}

    assert "vacuum" in offered()
    rt.home.remove(VACUUM)
    assert "vacuum" not in offered() and "set_cover" in offered()
