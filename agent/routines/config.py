"""Configuration of routines, schedules and the heartbeat."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agent.configbase import Section


class StepConfig(Section):
    """One step: a command on a target, another routine, or something to say."""

    target: str | None = None
    action: str | None = None
    args: dict[str, Any] = {}
    routine: str | None = None
    say: str | None = None
    timeout: float = Field(default=10.0, gt=0)


class RoutineConfig(Section):
    """A named macro: trigger phrases and steps."""

    name: str
    phrases: list[str] = []
    steps: list[StepConfig] = []


class ScheduleConfig(Section):
    """When to run a routine: cron, time of day, or sun event with offset."""

    routine: str
    cron: str | None = None
    at: str | None = None
    days: list[str] = []
    sun: str | None = None
    offset_minutes: int = 0


class HeartbeatConfig(Section):
    """The periodic check of standing concerns in HEARTBEAT.md."""

    enabled: bool | None = None
    every_minutes: int = Field(default=30, ge=1)
    quiet_hours: str | None = "23:00-07:00"
    cooldown_minutes: int = Field(default=120, ge=0)
