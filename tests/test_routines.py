"""Routines: config, execution with partial failure, event triggers, sun times, the heartbeat."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from agent.brain.config import BrainConfig
from agent.brain.providers import OpenAIProvider
from agent.brain.simulator import FakeLLM
from agent.bus import StateChanged
from agent.config import Config, ConfigError, load_config
from agent.routines import EXAMPLE_ROUTINES, HEARTBEAT_TEMPLATE
from agent.routines.concerns import parse_rule, read_concerns
from agent.routines.config import (
    HeartbeatConfig,
    RoutineConfig,
    StepConfig,
    WhenConfig,
    parse_temperature,
)
from agent.routines.executor import RoutineRunner
from agent.routines.heartbeat import Heartbeat
from agent.routines.judge import judge_with
from agent.routines.sun import SunTrigger, sun_time
from agent.routines.triggers import EventTriggers
from agent.store import Store
from tests.test_routines_fakes import demo_home

TZ = ZoneInfo("Europe/London")


def example_routines() -> dict[str, RoutineConfig]:
    """The shipped example (= demo) routines, validated by the real loader."""
    config = load_config_with(EXAMPLE_ROUTINES)
    return {r.name: r for r in config.routines}


def load_config_with(routines_file: Path, tmp: Path | None = None) -> Config:
    import tempfile

    root = Path(tmp or tempfile.mkdtemp())
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text("home:\n  units: imperial\n")
    shutil.copyfile(routines_file, root / "routines.yaml")
    return load_config(root / "config.yaml")


# -- config ---------------------------------------------------------------------


def test_temperatures_in_either_unit() -> None:
    assert parse_temperature("66F", "metric") == pytest.approx(18.89, abs=0.01)
    assert parse_temperature("19C", "imperial") == 19
    assert parse_temperature(66, "imperial") == pytest.approx(18.89, abs=0.01)
    assert parse_temperature("19", "metric") == 19
    with pytest.raises(ValueError, match="not a temperature"):
        parse_temperature("warm", "metric")


def test_routines_never_unlock_or_disarm() -> None:
    with pytest.raises(ValidationError, match="never unlock"):
        StepConfig.model_validate({"target": "Front door", "action": "unlock"})
    with pytest.raises(ValidationError, match="never disarm"):
        StepConfig.model_validate({"target": "Alarm", "action": "disarm"})
    StepConfig.model_validate({"target": "Front door", "action": "lock"})  # locking is low-risk


def test_example_routines_load_with_file_errors(tmp_path: Path) -> None:
    routines = example_routines()
    assert {"sleepy time", "good morning", "away"} <= set(routines)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "routines:\n  - name: x\n    steps:\n      - target: Front door\n        action: unlock\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config_with(bad, tmp_path / "home")
    assert "routines.yaml:4" in str(err.value) and "never unlock" in str(err.value)


# -- execution --------------------------------------------------------------------


async def test_sleepy_time_reaches_every_target_state() -> None:
    home, fake = demo_home()
    runner = RoutineRunner(home, lambda name: None, units="imperial")
    result = await runner.run(example_routines()["sleepy time"], requested_by="routine:test")
    assert result.ok, result.summary
    lights = [d for d in home.devices() if d.kind.value == "light"]
    assert all(d.state.on is False for d in lights if d.name != "Bedroom lamp")
    lamp = home.resolve("Bedroom lamp").devices[0]
    assert lamp.state.on is True and lamp.state.brightness == 10
    assert all(d.state.playback != "playing" for d in home.devices() if d.kind.value == "speaker")
    assert home.get("fake:thermostat").state.target_temperature_c == pytest.approx(18.89, 0.01)
    assert home.get("fake:front_door").state.locked is True
    assert "66°F" in result.summary and "Front door locked" in result.summary
    # The lamp step waited for the "all lights off" step: its last command is the 10 %.
    lamp_calls = [c for d, c in fake.calls if d == lamp.id]
    assert [c.action.value for c in lamp_calls] == ["set_brightness"]
    # Only the speakers that were playing got a pause.
    paused = {d for d, c in fake.calls if c.action.value == "pause"}
    assert paused == {"fake:speaker_study", "fake:speaker_kitchen"}


async def test_partial_failure_is_reported_not_fatal() -> None:
    home, fake = demo_home()
    fake.down.add("fake:speaker_study")
    fake.silent.add("fake:study_lamp")
    routine = RoutineConfig.model_validate(
        {
            "name": "sleepy time",
            "steps": [
                {"target": "all lights", "action": "turn_off", "timeout": 0.3},
                {"target": "all speakers", "action": "pause"},
                {"target": "Thermostat", "action": "set_temperature", "temperature": "66F"},
                {"target": "Cellar light", "action": "turn_off"},
            ],
        }
    )
    result = await RoutineRunner(home, lambda n: None, units="imperial").run(
        routine, requested_by="routine:test"
    )
    assert not result.ok
    failed = {name: why for s in result.steps for name, why in s.failed}
    assert failed["Study"] == "didn't answer"
    assert failed["Study lamp"] == "didn't answer"
    assert failed["Cellar light"] == "isn't in the home"
    assert "but" in result.summary and "Study didn't answer" in result.summary
    # Everything else still happened.
    assert home.get("fake:kitchen_ceiling").state.on is False
    assert home.get("fake:speaker_kitchen").state.playback == "paused"


async def test_high_risk_targets_are_refused_and_nested_routines_run() -> None:
    home, fake = demo_home()
    routines = {
        "inner": RoutineConfig.model_validate(
            {"name": "inner", "steps": [{"target": "Porch light", "action": "turn_off"}]}
        )
    }
    outer = RoutineConfig.model_validate(
        {
            "name": "outer",
            "steps": [
                {"target": "Garage door", "action": "open"},
                {"routine": "inner"},
                {"say": "Night night."},
            ],
        }
    )
    result = await RoutineRunner(home, routines.get).run(outer, requested_by="routine:test")
    assert home.get("fake:garage_door").state.position == 0
    assert not any(d == "fake:garage_door" for d, _ in fake.calls)
    assert home.get("fake:porch_light").state.on is False
    assert "Night night." in result.summary
    assert "Garage door: routines never do that unattended" in result.summary


# -- event triggers ---------------------------------------------------------------


def _event(device_id: str, old: dict[str, object], new: dict[str, object]) -> StateChanged:
    return StateChanged(device_id=device_id, old=old, new=new, available=True)


def test_event_triggers_respect_window_and_edges() -> None:
    home, _ = demo_home()
    fired: list[str] = []
    clock = [datetime(2026, 1, 10, 23, 30, tzinfo=TZ)]
    triggers = EventTriggers(home, lambda: clock[0], lambda r, why: fired.append(r), "metric")
    triggers.load(
        [
            RoutineConfig.model_validate(
                {
                    "name": "door at night",
                    "when": [
                        {
                            "device": "Front door contact",
                            "to": "open",
                            "after": "23:00",
                            "before": "06:00",
                        }
                    ],
                    "steps": [{"say": "The front door opened."}],
                }
            ),
            RoutineConfig.model_validate(
                {
                    "name": "too warm",
                    "when": [{"device": "Bedroom sensor", "above": "26C"}],
                    "steps": [{"say": "Warm."}],
                }
            ),
        ]
    )
    door = "fake:front_door_contact"
    triggers.on_state(_event(door, {"contact_open": False}, {"contact_open": True}))
    assert fired == ["door at night"]
    triggers.on_state(_event(door, {"contact_open": True}, {"contact_open": True}))  # no edge
    clock[0] = datetime(2026, 1, 10, 14, 0, tzinfo=TZ)
    triggers.on_state(_event(door, {"contact_open": False}, {"contact_open": True}))  # daytime
    assert fired == ["door at night"]
    sensor = "fake:bedroom_sensor"
    triggers.on_state(
        _event(sensor, {"current_temperature_c": 25.0}, {"current_temperature_c": 26.5})
    )
    triggers.on_state(
        _event(sensor, {"current_temperature_c": 26.5}, {"current_temperature_c": 27.0})
    )
    assert fired == ["door at night", "too warm"]


def test_trigger_state_words_are_checked() -> None:
    with pytest.raises(ValidationError, match="unknown state"):
        WhenConfig(device="Front door", to="ajar")


# -- sun ------------------------------------------------------------------------


def test_sunset_for_the_configured_location() -> None:
    # London, midsummer 2024: sunset 21:21 BST (HM Nautical Almanac Office).
    sunset = sun_time("sunset", datetime(2024, 6, 21), 51.5074, -0.1278, TZ)
    assert sunset is not None
    assert abs(sunset - datetime(2024, 6, 21, 21, 21, tzinfo=TZ)) < timedelta(minutes=3)
    trigger = SunTrigger("sunset", 51.5074, -0.1278, TZ, offset_minutes=-30, days=("sat",))
    now = datetime(2024, 6, 21, 12, 0, tzinfo=TZ)  # a Friday
    first = trigger.get_next_fire_time(None, now)
    assert first is not None and first.date() == date(2024, 6, 22)
    assert time(20, 45) < first.timetz().replace(tzinfo=None) < time(20, 56)
    second = trigger.get_next_fire_time(first, first)
    assert second is not None and second.date() == date(2024, 6, 29)


# -- heartbeat concerns ----------------------------------------------------------


def test_concerns_parse_into_rules() -> None:
    garage = parse_rule("Tell me if the garage door is open after 10pm")
    assert garage is not None and garage.target == "garage door" and garage.state == "open"
    assert garage.after == time(22) and garage.before == time(6)
    heater = parse_rule("If the pool heater has been on for more than 4 hours, ask me")
    assert heater is not None and heater.state == "on" and heater.for_seconds == 4 * 3600
    warm = parse_rule("tell me if the bedroom temperature goes above 78F", "imperial")
    assert warm is not None and warm.above == pytest.approx(25.56, 0.01)
    assert parse_rule("keep an eye on anything unusual") is None
    template = read_concerns(HEARTBEAT_TEMPLATE.read_text())
    assert template and all(c.rule is not None for c in template)


def _heartbeat(
    tmp_path: Path, text: str, clock: list[datetime], judge: object = None
) -> tuple[Heartbeat, list[str], object]:
    home, _ = demo_home()
    (tmp_path / "HEARTBEAT.md").write_text(text)
    sent: list[str] = []

    async def notify(message: str) -> None:
        sent.append(message)

    beat = Heartbeat(
        home,
        Store(tmp_path / "hb.db"),
        HeartbeatConfig(quiet_hours="23:30-07:00", cooldown_minutes=60),
        tmp_path / "HEARTBEAT.md",
        clock=lambda: clock[0],
        notify=notify,
        judge=judge,  # type: ignore[arg-type]
    )
    return beat, sent, home


async def test_heartbeat_rules_cooldown_and_quiet_hours(tmp_path: Path) -> None:
    clock = [datetime(2026, 1, 10, 22, 15, tzinfo=TZ)]
    beat, sent, home = _heartbeat(
        tmp_path, "- Tell me if the garage door is open after 10pm.\n", clock
    )
    await beat.beat()
    assert sent == []  # closed: nothing to say
    home.update("fake:garage_door", position=100)  # type: ignore[attr-defined]
    await beat.beat()
    assert len(sent) == 1 and "Garage door is open" in sent[0]
    clock[0] += timedelta(minutes=30)
    report = await beat.beat()
    assert len(sent) == 1 and report.suppressed  # cooldown
    clock[0] = datetime(2026, 1, 11, 1, 0, tzinfo=TZ)  # past the cooldown, but quiet hours
    report = await beat.beat()
    assert len(sent) == 1 and report.suppressed
    clock[0] = datetime(2026, 1, 11, 22, 5, tzinfo=TZ)
    await beat.beat()
    assert len(sent) == 2


async def test_heartbeat_duration_rule(tmp_path: Path) -> None:
    clock = [datetime(2026, 1, 10, 9, 0, tzinfo=TZ)]
    beat, sent, home = _heartbeat(
        tmp_path, "- If the pool heater has been on for more than 4 hours, ask me\n", clock
    )
    home.update("fake:pool_heater", hvac_mode="heat")  # type: ignore[attr-defined]
    beat.observe(
        StateChanged(
            device_id="fake:pool_heater",
            old={"hvac_mode": "off"},
            new={"hvac_mode": "heat"},
            available=True,
            ts=clock[0].timestamp(),
        )
    )
    await beat.beat()
    assert sent == []
    clock[0] += timedelta(hours=3, minutes=55)
    await beat.beat()
    assert sent == []
    clock[0] += timedelta(minutes=10)
    await beat.beat()
    assert len(sent) == 1 and "Pool heater has been on for 4 h 5 min" in sent[0]


async def test_idle_heartbeat_makes_no_llm_call(tmp_path: Path) -> None:
    async with FakeLLM() as llm:
        llm.script('{"alert": true, "message": "The porch light is on in daylight."}')
        provider = OpenAIProvider(
            BrainConfig(provider="openai", base_url=llm.base_url, model="fake-model", api_key="k")
        )
        clock = [datetime(2026, 1, 10, 12, 0, tzinfo=TZ)]
        beat, sent, home = _heartbeat(
            tmp_path,
            "- Tell me if the garage door is open after 10pm.\n"
            "- Does the Porch light being on look wasteful?\n",
            clock,
            judge_with(provider),
        )
        report = await beat.beat()
        assert report.judged == 1 and len(llm.requests) == 1
        assert sent == ["The porch light is on in daylight."]
        assert llm.requests[0].get("tools") in (None, [])  # the judge can't act
        for _ in range(3):  # idle: nothing the concern looks at changed
            clock[0] += timedelta(minutes=30)
            report = await beat.beat()
            assert report.judged == 0
        assert len(llm.requests) == 1
        home.update("fake:porch_light", on=False)  # type: ignore[attr-defined]
        llm.script('{"alert": false}')
        await beat.beat()
        assert len(llm.requests) == 2 and len(sent) == 1
        await provider.close()


async def test_no_heartbeat_llm_without_judgement_concerns(tmp_path: Path) -> None:
    async with FakeLLM() as llm:
        provider = OpenAIProvider(
            BrainConfig(provider="openai", base_url=llm.base_url, model="fake-model", api_key="k")
        )
        clock = [datetime(2026, 1, 10, 12, 0, tzinfo=TZ)]
        beat, sent, _ = _heartbeat(
            tmp_path, HEARTBEAT_TEMPLATE.read_text(), clock, judge_with(provider)
        )
        for _ in range(3):
            await beat.beat()
            clock[0] += timedelta(minutes=30)
        assert llm.requests == [] and sent == []
        await provider.close()


def test_a_steps_temperature_reads_with_its_degree_sign() -> None:
    """The dashboard and `routines list` show "Thermostat to 66°F", not "66F"."""
    from agent.routines.config import StepConfig

    step = StepConfig.model_validate(
        {"target": "Thermostat", "action": "set_temperature", "temperature": "66F"}
    )
    assert step.describe() == "Thermostat to 66°F"
