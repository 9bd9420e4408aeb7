"""The local fast path and the LLM tools on range thermostats, speakers named by room,
devices that can't do what is asked, and locks that jam."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.brain.component import Brain
from agent.brain.device_tools import media_control, set_climate
from agent.brain.sample_home import InMemoryDevices
from agent.brain.tools import ToolContext
from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import HomeError
from agent.runtime import Runtime
from tests.test_brain_local import OWNER, make_brain, message

ECOBEE = "ha:ecobee"
TV = "ha:tv"
SHED = "ha:shed_door"


def f_to_c(value: float) -> float:
    """°F → °C, rounded as the house rounds what the owner says."""
    return round((value - 32) * 5 / 9, 1)


class JammingDevices(InMemoryDevices):
    """The in-memory home, where the shed door's lock jams whenever it is locked."""

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Jam the shed door; everything else obeys."""
        if device.id == SHED and command.action == Action.LOCK:
            assert self.home is not None
            new = device.state.merged(locked=None, lock_state="jammed")
            self.home.update(device.id, new)
            return new
        return await super().execute(device, command)


@pytest.fixture
async def house(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Brain]]:
    """The in-memory demo home (imperial) plus an Ecobee, a TV that can't skip, a jamming lock."""
    rt, brain = await make_brain(tmp_path / "home", {"home": {"units": "imperial"}})
    memory = JammingDevices(devices=[])
    memory.home = rt.home
    rt.home.integrations["memory"] = memory
    extra = [
        Device(
            ECOBEE,
            "Ecobee",
            Kind.CLIMATE,
            "memory",
            "hallway",
            features=frozenset(
                {Feature.ON_OFF, Feature.HVAC_MODE, Feature.TARGET_TEMPERATURE_RANGE}
            ),
            state=DeviceState(
                hvac_mode="heat_cool", target_low_c=f_to_c(70), target_high_c=f_to_c(75)
            ),
            hvac_modes=("off", "heat", "cool", "heat_cool"),
        ),
        Device(
            TV,
            "TV",
            Kind.SPEAKER,
            "memory",
            "bedroom",
            features=frozenset({Feature.PLAYBACK, Feature.VOLUME, Feature.MUTE}),
            state=DeviceState(playback="playing", volume=20),
        ),
        Device(
            SHED,
            "Shed door",
            Kind.LOCK,
            "memory",
            "garden",
            features=frozenset({Feature.LOCK}),
            state=DeviceState(locked=False, lock_state="unlocked"),
        ),
    ]
    for device in extra:
        rt.home.add(device)
    try:
        yield rt, brain
    finally:
        await brain.stop()
        rt.store.close()


def ecobee(rt: Runtime) -> tuple[float | None, float | None]:
    """The Ecobee's heat-to and cool-to, °C."""
    s = rt.home.get(ECOBEE).state
    return s.target_low_c, s.target_high_c


async def test_heat_and_cool_setpoints_by_phrase(house: tuple[Runtime, Brain]) -> None:
    """ "set the heat to 68 and the cooling to 76" finds the one range thermostat."""
    rt, brain = house
    reply = await brain.handle(message("set the heat to 68 and the cooling to 76"), OWNER)
    assert reply.path == "local", reply.text
    assert ecobee(rt) == (f_to_c(68), f_to_c(76))
    assert "heating to 68°F and cooling to 76°F" in reply.text
    assert reply.actions[0]["tool"] == "set_climate" and reply.actions[0]["ok"] is True

    reply = await brain.handle(message("keep the ecobee between 66 and 78"), OWNER)
    assert ecobee(rt) == (f_to_c(66), f_to_c(78))
    reply = await brain.handle(message("set the ecobee cooling to 74"), OWNER)
    assert ecobee(rt) == (f_to_c(66), f_to_c(74)), reply.text


async def test_one_temperature_on_a_range_thermostat_moves_the_range(
    house: tuple[Runtime, Brain],
) -> None:
    """ "set the ecobee to 70": the 70-75 range becomes 68-73, said so; never 'nothing could'."""
    rt, brain = house
    reply = await brain.handle(message("set the ecobee to 70"), OWNER)
    assert reply.path == "local", reply.text
    assert ecobee(rt) == (f_to_c(68), f_to_c(73))
    assert "heating to 68°F and cooling to 73°F" in reply.text
    assert "nothing could" not in reply.text


async def test_the_llm_tool_sets_ranges(house: tuple[Runtime, Brain]) -> None:
    """set_climate takes heat_to/cool_to, and a plain temperature on a range device."""
    rt, _ = house
    ctx = ToolContext(channel="cli", sender="owner", runtime=rt)
    result: dict[str, Any] = await set_climate(ctx, "ecobee", heat_to=67, cool_to=77)
    assert "Ecobee" in result["done"] and ecobee(rt) == (f_to_c(67), f_to_c(77))
    result = await set_climate(ctx, "ecobee", temperature=74)  # keeps the 10° spread
    assert ecobee(rt) == (f_to_c(69), f_to_c(79)), result


async def test_speakers_named_by_room_and_speaker(house: tuple[Runtime, Brain]) -> None:
    """Pause, resume, mute, volume of "the living room speaker" run locally."""
    rt, brain = house
    speaker = "sonos:living_room"
    await rt.home.execute(speaker, Command(action=Action.PLAY), requested_by="t")
    for text, check in (
        ("pause the living room speaker", lambda s: s.playback == "paused"),
        ("resume the living room speaker", lambda s: s.playback == "playing"),
        ("mute the living room speaker", lambda s: s.muted is True),
        ("set the volume of the living room speaker to 20%", lambda s: s.volume == 20),
    ):
        reply = await brain.handle(message(text), OWNER)
        assert reply.path == "local", (text, reply.text)
        assert check(rt.home.get(speaker).state), text


async def test_what_a_device_cannot_do_is_said_plainly(house: tuple[Runtime, Brain]) -> None:
    """ "skip the track on the TV": the house answers that the TV can't, and nothing ran."""
    rt, brain = house
    memory = rt.home.integrations["memory"]
    assert isinstance(memory, InMemoryDevices)
    reply = await brain.handle(message("skip the track on the tv"), OWNER)
    assert reply.path == "local", reply.text
    assert "TV can't skip tracks" in reply.text
    assert reply.actions and reply.actions[0]["ok"] is False
    assert not memory.executed
    ctx = ToolContext(channel="cli", sender="owner", runtime=rt)
    with pytest.raises(HomeError, match="TV can't skip tracks"):
        await media_control(ctx, "tv", "next")


async def test_a_jammed_lock_is_not_reported_locked(house: tuple[Runtime, Brain]) -> None:
    """ "lock the shed door" → the reply says it jammed, and the action is not ok."""
    rt, brain = house
    reply = await brain.handle(message("lock the shed door"), OWNER)
    assert reply.path == "local", reply.text
    assert "jammed" in reply.text and "Done" not in reply.text
    assert reply.actions[0]["ok"] is False
    assert rt.home.get(SHED).state.lock_state == "jammed"


async def test_turning_up_a_range_thermostat_moves_its_range(house: tuple[Runtime, Brain]) -> None:
    """ "turn the ecobee up": both ends go up a degree."""
    rt, brain = house
    low, high = ecobee(rt)
    reply = await brain.handle(message("turn the ecobee up"), OWNER)
    assert reply.path == "local", reply.text
    new_low, new_high = ecobee(rt)
    assert low is not None and high is not None and new_low is not None and new_high is not None
    assert new_low == pytest.approx(low + 5 / 9, abs=0.06)
    assert new_high == pytest.approx(high + 5 / 9, abs=0.06)
