"""The brain's tools for routines and schedules.

Steps arrive as plain objects (their schema, spelled out, would cost the
prompt thousands of tokens) and are validated by the same pydantic models the
config uses (StepConfig, RoutineConfig, ScheduleConfig) before anything is
written to the owner's routines.yaml.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from agent.brain.tools import ToolContext
from agent.config import ConfigError
from agent.errors import HomeError, NotAllowed
from agent.roles import at_least, rank
from agent.routines.config import (
    RoutineConfig,
    ScheduleConfig,
    WhenTime,
    parse_clock,
)

if TYPE_CHECKING:
    from agent.brain.tools import ToolRegistry
    from agent.routines.service import RoutinesService


class InvalidRoutine(HomeError):
    """A routine or schedule change that fails validation (same errors as the config)."""

    kind = "invalid"


def _may_change(ctx: ToolContext) -> None:
    """Standing automations come from the owner or family, never from untrusted text."""
    if ctx.untrusted:
        raise NotAllowed("Routines and schedules change only when the owner asks.")
    if ctx.role == "guest":
        raise NotAllowed("Guests can't change the house's routines or schedules.")


def register(registry: ToolRegistry, routines: RoutinesService) -> None:
    """Register the routine tools on the brain's registry."""

    async def run_routine(ctx: ToolContext, name: str) -> dict[str, Any]:
        """Run a routine now by name (e.g. "sleepy time"); returns what each step did."""
        if ctx.untrusted:
            raise NotAllowed("A routine runs only when someone asks for it.")
        result = await routines.run(name, requested_by=ctx.requested_by, role=ctx.role)
        return result.to_json()

    async def list_routines(ctx: ToolContext) -> list[dict[str, Any]]:
        """List the home's routines with their phrases, steps, times and last result."""
        return [routines_listing(routines, r, ctx.role) for r in routines.routines.values()]

    async def create_or_update_routine(
        ctx: ToolContext,
        name: str,
        steps: list[dict[str, Any]],
        phrases: list[str] | None = None,
        description: str | None = None,
        append_steps: bool = False,
    ) -> dict[str, Any]:
        """Create or change a routine (by name); saved to routines.yaml.

        A step: {"target": "kitchen lights", "action": "set_brightness", "brightness": 30}
        (actions: turn_on/off, set_brightness, set_color [r,g,b], set_color_temp color_temp_k,
        set_temperature temperature "66F", set_hvac_mode, open/close, set_position position,
        lock, arm arm_mode, play/pause, set_volume volume, play_media media, activate_preset
        preset; optional "except": [names], "for": "2m"),
        or {"routine": NAME}, or {"say": TEXT}. append_steps adds to the existing steps.
        Times: use `schedule`. Routines never unlock, disarm or open a garage door.
        """
        _may_change(ctx)
        old = routines.find(name)
        # Whatever the model wrote is for the role that asked, at most (never wider than
        # before): a guest never hears text an owner's turn put in a routine.
        visible = ctx.role if old is None or rank(ctx.role) < rank(old.visible_to) else None
        data: dict[str, Any] = {
            "visible_to": visible or (old.visible_to if old else ctx.role),
            "created_by": old.created_by if old and old.created_by else ctx.requested_by,
            "name": old.name if old else name,
            "description": description
            if description is not None
            else (old.description if old else None),
            "phrases": phrases if phrases is not None else (old.phrases if old else []),
            "schedules": old.schedules if old else [],
            "when": old.when if old else [],
            "steps": [*(old.steps if old and append_steps else []), *steps],
        }
        try:
            routine = RoutineConfig.model_validate(data)
            saved = routines.save_routine(routine)
        except ConfigError as err:
            raise InvalidRoutine("; ".join(err.problems)) from None
        except ValueError as err:
            raise InvalidRoutine(str(err)) from None
        return routines_listing(routines, saved, ctx.role)

    async def delete_routine(ctx: ToolContext, name: str) -> dict[str, Any]:
        """Delete a routine by name (its phrases and times go with it)."""
        _may_change(ctx)
        try:
            return {"deleted": routines.delete_routine(name)}
        except ConfigError as err:
            raise InvalidRoutine("; ".join(err.problems)) from None

    async def schedule(
        ctx: ToolContext,
        routine: str | None = None,
        say: str | None = None,
        step: dict[str, Any] | None = None,
        at: str | None = None,
        days: list[str] | None = None,
        cron: str | None = None,
        sun: Literal["sunrise", "sunset", "dawn", "dusk"] | None = None,
        offset_minutes: int = 0,
        in_minutes: float | None = None,
        once: datetime | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Schedule a routine, a reminder (say) or a step (as in create_or_update_routine).
        When: in_minutes, once (local time), at "18:00" (once), at + days ("weekdays",
        "daily", "mon"...), sun + offset_minutes, or cron.
        """
        _may_change(ctx)
        # It runs later as the person who set it up (their role), logged under their name.
        by = {"by": ctx.requested_by, "role": ctx.role}
        # Validates what to do (exactly one of routine, say, step); the time is a placeholder,
        # the real one is chosen below.
        try:
            what = ScheduleConfig.model_validate(
                {"routine": routine, "say": say, "step": step, "at": "00:00", "name": name, **by}
            )
        except ValueError as err:
            raise InvalidRoutine(str(err)) from None
        now = routines.now()
        one_shot: datetime | None = None
        if in_minutes is not None:
            one_shot = now + timedelta(minutes=in_minutes)
        elif once is not None:
            one_shot = once if once.tzinfo else once.replace(tzinfo=routines.timezone)
        elif at is not None and not days:
            clock = parse_clock(at)
            one_shot = now.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
            if one_shot <= now:
                one_shot += timedelta(days=1)
        try:
            if one_shot is not None:
                return routines.add_once(WhenTime(once=one_shot), what)
            standing = ScheduleConfig.model_validate(
                {
                    "routine": routine,
                    "say": say,
                    "step": step,
                    "at": at,
                    "days": days or [],
                    "cron": cron,
                    "sun": sun,
                    "offset_minutes": offset_minutes,
                    "name": name,
                    **by,
                }
            )
            return routines.save_schedule(standing)
        except ConfigError as err:
            raise InvalidRoutine("; ".join(err.problems)) from None
        except ValueError as err:
            raise InvalidRoutine(str(err)) from None

    async def list_schedules(ctx: ToolContext) -> list[dict[str, Any]]:
        """List every schedule with what it does, when, and its next run time."""
        return routines.schedules.list()

    async def cancel_schedule(ctx: ToolContext, id: str) -> dict[str, Any]:
        """Cancel a schedule by the id list_schedules gives."""
        _may_change(ctx)
        try:
            removed = routines.cancel(id)
        except ConfigError as err:
            raise InvalidRoutine("; ".join(err.problems)) from None
        if not removed:
            raise InvalidRoutine(f"There is no schedule {id!r} (see list_schedules).")
        return {"cancelled": id}

    for fn in (
        run_routine,
        list_routines,
        create_or_update_routine,
        delete_routine,
        schedule,
        list_schedules,
        cancel_schedule,
    ):
        registry.register(fn)


def routines_listing(
    routines: RoutinesService, routine: RoutineConfig, role: str = "owner"
) -> dict[str, Any]:
    """A routine as the tools, API and CLI list it (text hidden from roles it isn't for)."""
    from agent.routines.scheduler import describe_when

    shown = at_least(role, routine.visible_to)
    last = routines.last_run(routine.name)
    return {
        "name": routine.name,
        "description": routine.description if shown else None,
        "phrases": routine.phrases,
        "steps": [
            s.describe() if shown or s.say is None else "say (private)" for s in routine.steps
        ],
        "visible_to": routine.visible_to,
        "schedules": [describe_when(w) for w in routine.schedules],
        "when": [w.model_dump(exclude_none=True) for w in routine.when],
        "last_run": last if shown or last is None else {"ok": last.get("ok")},
    }
