"""The public suites (tests/data/) through `/api/chat` of a real daemon, judged by device state.

Every sentence must be correct unless tests/data/understanding-expected.yaml
lists it with its current outcome and a reason: a regression fails, and so
does an improvement until the list is updated (`bench/understanding.py
--write-expected`), so the figures in the README and notes stay true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.devices import DeviceState
from agent.eval import expected
from agent.eval.catalogue import EXPECTED, SUITES
from agent.eval.fixtures import load_home
from agent.eval.judge import judge
from agent.eval.oracle import Expect
from agent.eval.run import run_case, run_suite, running, tally
from agent.eval.suites import Case

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", sorted(SUITES))
async def test_suite_outcomes_match_the_expected_list(name: str) -> None:
    """Each sentence's outcome is the listed one (correct when not listed); nothing wrong
    beyond what the list admits."""
    results = await run_suite(SUITES[name]())
    listed = expected.load(EXPECTED).get(name, {})
    regressions, changes = expected.differences(results, listed)
    counts = tally(results)
    assert counts["correct"] > 0 and counts["not_representable"] < len(results)
    assert not regressions, "now missed:\n" + "\n".join(regressions)
    assert not changes, "outcome changed (update the list):\n" + "\n".join(changes)


def test_fixture_home_becomes_virtual_config() -> None:
    """Entities keep names, areas (with floors), device classes and HA states as fields."""
    home = load_home(DATA / "ha-intents-tests" / "en" / "_fixtures.yaml", "imperial")
    config = home.config()
    devices = {d["id"]: d for d in config["virtual"]["devices"]}
    assert devices["light.kitchen_ceiling"]["state"] == {"on": True}
    assert devices["light.kitchen_ceiling"]["area"] == "kitchen"
    assert devices["cover.bedroom"]["device_class"] == "curtain"
    assert devices["cover.bedroom"]["state"] == {"position": 0}
    assert devices["lock.back_door"]["state"]["locked"] is False
    # 68 °F in an imperial home is held as °C, like every temperature in homeclaw.
    assert devices["climate.thermostat"]["state"]["current_temperature_c"] == 20.0
    assert devices["sensor.outside_pressure"]["state"] == {"value": 1000.0, "unit": "hPa"}
    assert devices["binary_sensor.garage_motion"]["state"] == {"motion": True}
    assert config["home"]["areas"]["guest_room"] == {"name": "Guest Room", "floor": "upstairs"}
    assert "scene.party_mode" not in devices  # homeclaw has no scenes


async def test_a_wrong_device_or_answer_is_judged_wrong() -> None:
    """The judge is not lenient: a stray change, a missed target and a false answer are wrong."""
    home = load_home(DATA / "ha-intents-tests" / "en" / "_fixtures.yaml", "imperial")
    lamp, switch = "virtual:light.bedroom_lamp", "virtual:switch.bedroom"
    off, on = DeviceState(on=False), DeviceState(on=True)
    want = Expect(changes={lamp: {"on": True}})
    reply = {"reply": "Done!", "path": "local"}
    before = {lamp: off, switch: off}
    assert judge(want, reply, before, {lamp: on, switch: on}, [], home).outcome == "wrong"
    assert judge(want, reply, before, {lamp: off, switch: on}, [], home).outcome == "wrong"
    assert judge(want, reply, before, {lamp: on, switch: off}, [], home).outcome == "correct"
    nothing = {"reply": "That needs a language model.", "path": "none"}
    assert judge(want, nothing, before, before, [], home).outcome == "handed_over"
    question = Expect(answer="Yes, Back Door", question=True)
    said = {"reply": "No, none are unlocked.", "path": "local"}
    assert judge(question, said, before, before, [], home).outcome == "wrong"
    said = {"reply": "Yes: Back Door.", "path": "local"}
    assert judge(question, said, before, before, [], home).outcome == "correct"


async def test_a_high_risk_sentence_is_confirmed_with_the_code() -> None:
    """Unlocking goes through the owner's code, as over `ask`; the judge sees the result."""
    home = load_home(DATA / "ha-intents-tests" / "en" / "_fixtures.yaml", "imperial")
    door = "virtual:lock.front_door"
    case = Case(
        "t", "t", "unlock the front door", home, expect=Expect(changes={door: {"locked": False}})
    )
    async with running(home) as under:
        result = await run_case(under, case)
        assert result.reply.get("asked_code") is True
        assert result.verdict.outcome == "correct", result.verdict
        assert under.daemon.rt.home.get(door).state.locked is False
