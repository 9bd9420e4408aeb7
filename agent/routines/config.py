"""Configuration of routines, schedules, event triggers and the heartbeat.

The same models validate `config.yaml`/`routines.yaml` at load and every
change the brain makes by chat, so both report the same errors.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from agent.configbase import Section
from agent.devices import Action
from agent.roles import Role

# Commands a routine may never send: they let people in or silence the alarm,
# and a routine runs unattended. (Opening a garage door is refused when the
# target resolves, see executor.py.)
FORBIDDEN_ACTIONS = frozenset({Action.UNLOCK, Action.DISARM})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS = {
    "weekdays": WEEKDAYS[:5],
    "weekday": WEEKDAYS[:5],
    "weekends": WEEKDAYS[5:],
    "weekend": WEEKDAYS[5:],
    "daily": WEEKDAYS,
    "everyday": WEEKDAYS,
    "every day": WEEKDAYS,
}
_TEMPERATURE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*°?\s*([cCfF])?\s*$")
_CLOCK = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?|m|min|minutes?|h|hours?)\s*$")


def parse_temperature(value: float | str, units: str) -> float:
    """°C from "66F", "19C", "19 °C" or a bare number in the owner's units."""
    if isinstance(value, int | float):
        number, unit = float(value), None
    else:
        match = _TEMPERATURE.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a temperature (try 66F or 19C)")
        number, unit = float(match.group(1)), match.group(2)
    unit = (unit or ("F" if units == "imperial" else "C")).upper()
    return round((number - 32) * 5 / 9, 2) if unit == "F" else number


def parse_clock(value: str) -> time:
    """A time of day from "23:00", "7:30", "10pm" or "6 am"."""
    match = _CLOCK.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time of day (try 07:30 or 10pm)")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            raise ValueError(f"{value!r} is not a time of day")
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a time of day")
    return time(hour, minute)


def parse_duration(value: str | float) -> float:
    """Seconds from "2m", "90s", "1.5h" or a number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value.lower())
    if match is None:
        raise ValueError(f"{value!r} is not a duration (try 2m, 90s or 1h)")
    number, unit = float(match.group(1)), match.group(2)[0]
    return number * {"s": 1, "m": 60, "h": 3600}[unit]


def parse_days(days: list[str]) -> list[str]:
    """Normalised weekday abbreviations from names, abbreviations and groups."""
    out: list[str] = []
    for raw in days:
        key = raw.strip().lower()
        if key in DAY_GROUPS:
            out.extend(DAY_GROUPS[key])
            continue
        short = key[:3]
        if short not in WEEKDAYS:
            raise ValueError(f"{raw!r} is not a day (mon..sun, weekdays, weekends)")
        out.append(short)
    return [d for d in WEEKDAYS if d in out]


def in_window(now: time, after: time | None, before: time | None) -> bool:
    """Whether a time of day is inside [after, before), wrapping past midnight."""
    if after is None and before is None:
        return True
    if after is None:
        return now < before  # type: ignore[operator]
    if before is None:
        return now >= after
    if after <= before:
        return after <= now < before
    return now >= after or now < before


class StepConfig(Section):
    """One step: a command on a target, another routine, or something to tell the owner."""

    target: str | None = None
    action: Action | None = None
    # Devices the target would include but this step must leave alone.
    except_: list[str] = Field(default=[], alias="except")
    brightness: int | None = Field(default=None, ge=0, le=100)
    color: tuple[int, int, int] | None = None
    color_temp_k: int | None = Field(default=None, ge=1000, le=10000)
    temperature: float | str | None = None
    hvac_mode: str | None = None
    position: int | None = Field(default=None, ge=0, le=100)
    volume: int | None = Field(default=None, ge=0, le=100)
    muted: bool | None = None
    media: str | None = None
    preset: str | None = None
    arm_mode: Literal["home", "away", "night", "vacation"] | None = None
    routine: str | None = None
    say: str | None = None
    # Undo the step after this long ("2m"): the hallway light at 10 % for 2 minutes.
    for_: str | None = Field(default=None, alias="for")
    timeout: float = Field(default=5.0, gt=0, le=120)

    model_config = {**Section.model_config, "populate_by_name": True}

    @model_validator(mode="after")
    def _one_kind(self) -> StepConfig:
        kinds = [self.target is not None, self.routine is not None, self.say is not None]
        if sum(kinds) != 1:
            raise ValueError("a step has exactly one of: target (with action), routine, say")
        if self.target is not None and self.action is None:
            raise ValueError(f"the step on {self.target!r} needs an action")
        if self.action in FORBIDDEN_ACTIONS:
            raise ValueError(
                f"routines never {self.action.value}: it needs the owner's confirmation "  # type: ignore[union-attr]
                "every time"
            )
        if self.temperature is not None:
            parse_temperature(self.temperature, "metric")
        if self.for_ is not None:
            parse_duration(self.for_)
        return self

    def describe(self) -> str:
        """A short human description of the step ("Bedroom lamp to 10 %")."""
        if self.routine:
            return f"run {self.routine}"
        if self.say:
            return f"say “{self.say}”"
        target = self.target or "?"
        if self.except_:
            target += f" (except {', '.join(self.except_)})"
        action = self.action
        details = {
            Action.SET_BRIGHTNESS: f"{target} to {self.brightness} %",
            Action.SET_POSITION: f"{target} to {self.position} %",
            Action.SET_TEMPERATURE: f"{target} to {_degrees(self.temperature)}",
            Action.SET_VOLUME: f"{target} volume to {self.volume}",
            Action.PLAY_MEDIA: f"play {self.media} on {target}",
            Action.SET_HVAC_MODE: f"{target} to {self.hvac_mode}",
            Action.ARM: f"arm {target}" + (f" ({self.arm_mode})" if self.arm_mode else ""),
        }
        text = details.get(action) if action else None
        if text is None:
            text = f"{action.value.replace('_', ' ') if action else '?'} {target}"
        return text + (f" for {self.for_}" if self.for_ else "")


class WhenConfig(Section):
    """An event trigger: a device reaching a state or crossing a threshold, in a time window."""

    device: str
    # A state word: on/off, open/closed, motion/clear, locked/unlocked, playing/paused...
    to: str | None = None
    attribute: str | None = None
    above: float | str | None = None
    below: float | str | None = None
    after: str | None = None
    before: str | None = None

    @model_validator(mode="after")
    def _check(self) -> WhenConfig:
        if self.to is None and self.above is None and self.below is None:
            raise ValueError("a trigger needs `to` (a state) or `above`/`below` (a threshold)")
        for value in (self.after, self.before):
            if value is not None:
                parse_clock(value)
        for bound in (self.above, self.below):
            if isinstance(bound, str):
                parse_temperature(bound, "metric")
        if self.to is not None:
            from agent.routines.states import STATE_WORDS

            if self.to.lower() not in STATE_WORDS:
                raise ValueError(
                    f"unknown state {self.to!r} (one of {', '.join(sorted(STATE_WORDS))})"
                )
        return self


class WhenTime(Section):
    """A time a routine runs: cron, a time of day on some days, or sunrise/sunset."""

    cron: str | None = None
    at: str | None = None
    days: list[str] = []
    sun: Literal["sunrise", "sunset", "dawn", "dusk"] | None = None
    offset_minutes: int = Field(default=0, ge=-720, le=720)
    once: datetime | None = None

    @model_validator(mode="after")
    def _one_time(self) -> WhenTime:
        given = [x for x in (self.cron, self.at, self.sun, self.once) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of: cron, at, sun, once")
        if self.at is not None:
            parse_clock(self.at)
        if self.days:
            parse_days(self.days)
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron)
            except ValueError as err:
                raise ValueError(f"bad cron expression {self.cron!r}: {err}") from None
        return self


class RoutineConfig(Section):
    """A named macro: trigger phrases, optional times and events, and steps."""

    name: str = Field(min_length=1, max_length=80)
    description: str | None = None
    phrases: list[str] = []
    schedules: list[WhenTime] = []
    when: list[WhenConfig] = []
    steps: list[StepConfig] = Field(min_length=1)
    # Who may hear its `say` steps and read its description. A routine written through
    # chat is for the role that asked (the model may have put anything in it); the
    # owner widens it by hand (or `PATCH /api/routines/NAME {"visible_to": "guest"}`).
    visible_to: Role = "guest"
    created_by: str | None = None

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, phrases: list[str]) -> list[str]:
        cleaned = [p.strip() for p in phrases]
        if any(not p for p in cleaned):
            raise ValueError("a trigger phrase cannot be empty")
        return cleaned


class ScheduleConfig(WhenTime):
    """A standing schedule: run a routine, do one step, or remind the owner, at a time."""

    name: str | None = None
    routine: str | None = None
    say: str | None = None
    step: StepConfig | None = None
    # Who asked for it through chat, and with what role it runs (config: the owner).
    by: str | None = None
    role: Role = "owner"

    @model_validator(mode="after")
    def _one_thing(self) -> ScheduleConfig:
        if sum(x is not None for x in (self.routine, self.say, self.step)) != 1:
            raise ValueError("a schedule does exactly one of: routine, say, step")
        return self

    def what(self) -> str:
        """What the schedule does, in words."""
        if self.routine:
            return f"run {self.routine}"
        if self.say:
            return f"remind: {self.say}"
        return self.step.describe() if self.step else "?"


class HeartbeatConfig(Section):
    """The periodic check of standing concerns in HEARTBEAT.md."""

    # None: on when an LLM is configured, off otherwise.
    enabled: bool | None = None
    every_minutes: int = Field(default=30, ge=1)
    quiet_hours: str | None = "23:00-07:00"
    cooldown_minutes: int = Field(default=120, ge=0)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value)
        return value


def parse_window(value: str) -> tuple[time, time]:
    """A daily window "23:00-07:00" as (start, end)."""
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"{value!r} is not a window (try 23:00-07:00)")
    return parse_clock(start), parse_clock(end)


def dump(model: Section) -> dict[str, Any]:
    """A config model as the plain YAML data an owner would write (defaults left out)."""
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def routine_problems(routines: list[RoutineConfig], schedules: list[ScheduleConfig]) -> list[str]:
    """Problems across routines: unknown routines, reused names and phrases."""
    problems: list[str] = []
    names = [r.name.lower() for r in routines]
    phrases: dict[str, str] = {}
    for routine in routines:
        if names.count(routine.name.lower()) > 1:
            problems.append(f"two routines are called {routine.name!r}")
        for phrase in [routine.name, *routine.phrases]:
            owner = phrases.setdefault(phrase.lower(), routine.name)
            if owner != routine.name:
                problems.append(f"“{phrase}” triggers both {owner} and {routine.name}")
        for step in routine.steps:
            if step.routine and step.routine.lower() not in names:
                problems.append(f"{routine.name}: there is no routine {step.routine!r}")
    for schedule in schedules:
        if schedule.routine and schedule.routine.lower() not in names:
            problems.append(f"a schedule runs {schedule.routine!r}, which is not a routine")
    return problems


def same_schedule(schedule: ScheduleConfig, old: Any) -> bool:
    """Whether a schedule entry of the file (plain data) is this schedule."""
    try:
        return ScheduleConfig.model_validate(dict(old)) == schedule
    except Exception:
        return False


def _degrees(value: object) -> str:
    """ "66F" as people write it: "66°F" (a bare number is left as it is)."""
    text = str(value).strip()
    if len(text) > 1 and text[-1] in "CFcf" and text[:-1].strip().replace(".", "", 1).isdigit():
        return f"{text[:-1].strip()}°{text[-1].upper()}"
    return text
