"""Running a routine: resolve every step, act concurrently, and report per step.

Steps that touch different devices run at the same time; a step that touches a
device an earlier step also touches waits for it (so "all lights off" then
"bedroom lamp at 10 %" ends with the lamp on). Each device command has the
step's timeout, and a missing or silent device is reported, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.brain.local_answers import names
from agent.brain.vocab import degrees
from agent.devices import Action, Command, Device, Feature, Kind, Risk
from agent.errors import ConfirmationRequired, DeviceUnavailable, HomeError, NoSuchDevice
from agent.naming import PLURAL_KIND_WORDS, QUANTIFIERS, normalise
from agent.roles import at_least
from agent.routines.config import RoutineConfig, StepConfig, parse_duration, parse_temperature

if TYPE_CHECKING:
    from agent.home import Home

log = logging.getLogger(__name__)
MAX_DEPTH = 3
# Failure reasons that read as a sentence after the device name.
VERB_REASONS = ("didn't", "isn't", "can't")

Revert = Callable[[str, Command, float, "RunFor"], Awaitable[None]]
Say = Callable[[str], Awaitable[None]]


class RoutineError(HomeError):
    """A routine cannot be found or cannot run as written."""

    kind = "routine_error"


@dataclass
class StepResult:
    """What one step did: devices acted on, left alone, and failed (with why)."""

    step: str
    action: str | None = None
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    said: str | None = None
    # A `say` step this person may not hear (the routine is not visible to their role).
    withheld: bool = False
    command: Command | None = None
    noun: str = "devices"

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """The result as JSON."""
        return {
            "step": self.step,
            "ok": self.ok,
            "done": self.done,
            "skipped": self.skipped,
            "failed": [{"device": n, "reason": r} for n, r in self.failed],
            "said": self.said,
        }


@dataclass
class RunResult:
    """The outcome of one routine run."""

    routine: str
    requested_by: str
    steps: list[StepResult]
    started: float
    duration: float
    summary: str

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return all(s.ok for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        """The run as JSON (API, CLI, tools)."""
        return {
            "routine": self.routine,
            "ok": self.ok,
            "summary": self.summary,
            "requested_by": self.requested_by,
            "started": self.started,
            "duration_s": round(self.duration, 3),
            "steps": [s.to_json() for s in self.steps],
        }


def step_command(step: StepConfig, units: str) -> Command:
    """The device command a step sends (temperatures converted to °C)."""
    args: dict[str, Any] = {
        "brightness": step.brightness,
        "color": step.color,
        "color_temp_k": step.color_temp_k,
        "hvac_mode": step.hvac_mode,
        "position": step.position,
        "volume": step.volume,
        "muted": step.muted,
        "media": step.media,
        "preset": step.preset,
        "arm_mode": step.arm_mode,
    }
    if step.temperature is not None:
        args["temperature_c"] = parse_temperature(step.temperature, units)
    if step.action is None:
        raise ValueError(f"the step on {step.target!r} has no action")
    return Command(action=step.action, **{k: v for k, v in args.items() if v is not None})


def check_step_risk(step: StepConfig, devices: list[Device], units: str) -> None:
    """Refuse a step that would open, unlock or disarm something (routines run unattended)."""
    command = step_command(step, units)
    risky = [d.name for d in devices if d.command_risk(adapt(d, command)) is Risk.HIGH]
    if risky:
        raise RoutineError(
            f"routines never {command.action.value.replace('_', ' ')} {', '.join(risky)}: "
            "that needs the owner's confirmation every time"
        )


@dataclass(frozen=True)
class RunFor:
    """Who a run is for: how the command log names them, and their role."""

    requested_by: str
    role: str


@dataclass
class _Plan:
    step: StepConfig
    devices: list[Device]
    result: StepResult
    command: Command | None = None
    commands: dict[str, Command] = field(default_factory=dict)


def adapt(device: Device, command: Command) -> Command:
    """The step's command as this device takes it (open/close as a position for shades)."""
    if command.action in (Action.OPEN, Action.CLOSE) and not device.supports(command):
        if Feature.POSITION in device.features:
            position = 100 if command.action == Action.OPEN else 0
            return Command(action=Action.SET_POSITION, position=position)
    if command.action == Action.SET_BRIGHTNESS and not device.supports(command):
        if Feature.ON_OFF in device.features:
            return Command(action=Action.TURN_ON if command.brightness else Action.TURN_OFF)
    return command


class RoutineRunner:
    """Runs routines against the Home and summarises what happened."""

    def __init__(
        self,
        home: Home,
        routines: Callable[[str], RoutineConfig | None],
        *,
        units: str = "metric",
        revert: Revert | None = None,
    ) -> None:
        self.home = home
        self.routines = routines
        self.units = units
        self.revert = revert

    async def run(
        self,
        routine: RoutineConfig,
        *,
        requested_by: str,
        say: Say | None = None,
        role: str = "owner",
    ) -> RunResult:
        """Run every step as `role` would, and return the per-step results with a summary.

        A guest's run leaves locks, alarms and garage doors alone, and hears a `say`
        step only when the routine is visible to guests.
        """
        started, t0 = time.time(), time.monotonic()
        said: list[str] = []
        # The command log names the person and the routine ("whatsapp:+1555… (routine X)").
        run = RunFor(f"{requested_by} (routine {routine.name})", role)
        steps = await self._run_steps(routine, run, said, depth=0)
        if say is not None:
            for text in said:
                await say(text)
        summary = summarise(routine.name, steps, self.home, self.units)
        return RunResult(routine.name, requested_by, steps, started, time.monotonic() - t0, summary)

    async def _run_steps(
        self, routine: RoutineConfig, run: RunFor, said: list[str], depth: int
    ) -> list[StepResult]:
        plans = [self._plan(step, run.role) for step in routine.steps]
        finished = [asyncio.Event() for _ in plans]
        nested: list[list[StepResult]] = [[] for _ in plans]

        async def run_one(i: int) -> None:
            plan = plans[i]
            try:
                mine = {d.id for d in plan.devices}
                for j in range(i):
                    if mine & {d.id for d in plans[j].devices}:
                        await finished[j].wait()
                if plan.step.say is not None:
                    # What a routine says may hold anything its author (or a model) put
                    # in it: only roles it is visible to hear it.
                    if at_least(run.role, routine.visible_to):
                        plan.result.said = plan.step.say
                        said.append(plan.step.say)
                    else:
                        plan.result.withheld = True
                        plan.result.step = "say (private)"
                elif plan.step.routine is not None:
                    nested[i] = await self._nested(plan, run, said, depth)
                elif plan.command is not None:
                    await self._act(plan, run)
            except Exception as err:  # one broken step must not sink the others
                log.exception("routine %s: step %s failed", routine.name, plan.result.step)
                plan.result.failed.append((plan.result.step, str(err)))
            finally:
                finished[i].set()

        await asyncio.gather(*(run_one(i) for i in range(len(plans))))
        out: list[StepResult] = []
        for plan, inner in zip(plans, nested, strict=True):
            out.extend(inner if plan.step.routine is not None else [plan.result])
        return out

    async def _nested(
        self, plan: _Plan, run: RunFor, said: list[str], depth: int
    ) -> list[StepResult]:
        name = plan.step.routine or ""
        inner = self.routines(name)
        if inner is None:
            plan.result.failed.append((name, "there is no such routine"))
            return [plan.result]
        if depth + 1 >= MAX_DEPTH:
            plan.result.failed.append((name, "routines are nested too deeply"))
            return [plan.result]
        return await self._run_steps(inner, run, said, depth + 1)

    def _plan(self, step: StepConfig, role: str = "owner") -> _Plan:
        result = StepResult(step.describe(), step.action.value if step.action else None)
        plan = _Plan(step, [], result)
        if step.target is None:
            return plan
        resolution = self.home.resolve(step.target)
        if not resolution.ok and resolution.status == "none" and _is_group(step.target):
            return plan  # "all speakers" in a home without speakers: nothing to do
        if not resolution.ok:
            reason = "isn't in the home" if resolution.status == "none" else resolution.message
            result.failed.append((step.target, reason))
            return plan
        excluded: set[str] = set()
        for name in step.except_:
            other = self.home.resolve(name)
            excluded |= {d.id for d in other.devices} if other.ok else set()
        try:
            plan.command = result.command = step_command(step, self.units)
        except ValueError as err:
            result.failed.append((step.target, str(err)))
            return plan
        devices = [d for d in resolution.devices if d.id not in excluded]
        group = len(resolution.devices) > 1
        for device in devices:
            command = adapt(device, plan.command)
            if not device.supports(command):
                # "everything off" means the things that can be off; one named device must.
                if not group:
                    verb = plan.command.action.value.replace("_", " ")
                    result.failed.append((device.name, f"can't {verb}"))
                continue
            if not self.home.roles.may_touch(role, device):
                result.failed.append((device.name, f"isn't available to a {role}"))
                continue
            if device.command_risk(command) is Risk.HIGH:
                result.failed.append((device.name, "routines never do that unattended"))
                continue
            plan.devices.append(device)
            plan.commands[device.id] = command
        kinds = {d.kind for d in plan.devices}
        if kinds == {Kind.LIGHT}:
            result.noun = "lights"
        elif kinds == {Kind.SPEAKER}:
            result.noun = "speakers"
        return plan

    async def _act(self, plan: _Plan, run: RunFor) -> None:
        command = plan.command
        assert command is not None
        targets: list[Device] = []
        for device in plan.devices:
            # Pausing a speaker that is not playing is a no-op many speakers reject.
            if command.action == Action.PAUSE and device.state.playback not in (None, "playing"):
                plan.result.skipped.append(device.name)
            else:
                targets.append(device)

        async def one(device: Device) -> None:
            before = self.home.find(device.id) or device
            command = plan.commands[device.id]
            try:
                async with asyncio.timeout(plan.step.timeout):
                    await self.home.execute(
                        device.id, command, requested_by=run.requested_by, role=run.role
                    )
            except TimeoutError:
                plan.result.failed.append((device.name, "didn't answer"))
                return
            except DeviceUnavailable:
                plan.result.failed.append((device.name, "didn't answer"))
                return
            except (NoSuchDevice, ConfirmationRequired, HomeError) as err:
                plan.result.failed.append((device.name, str(err)))
                return
            plan.result.done.append(device.name)
            if plan.step.for_ and self.revert is not None:
                undo = undo_command(before, command)
                if undo is not None:
                    await self.revert(device.id, undo, parse_duration(plan.step.for_), run)

        await asyncio.gather(*(one(d) for d in targets))
        order = {d.name: i for i, d in enumerate(plan.devices)}
        plan.result.done.sort(key=lambda n: order.get(n, 0))


def _is_group(target: str) -> bool:
    """Whether a target names a group ("all lights", "every speaker", "the shades")."""
    words = normalise(target).split()
    return any(w in QUANTIFIERS or w in PLURAL_KIND_WORDS for w in words)


def undo_command(before: Device, command: Command) -> Command | None:
    """The command that puts a device back as it was before `command` (for `for: 2m`)."""
    state = before.state
    if state.on is False or (state.on is None and command.action != Action.TURN_OFF):
        return Command(action=Action.TURN_OFF) if before.kind != Kind.SENSOR else None
    if command.action in (Action.SET_BRIGHTNESS, Action.TURN_ON) and state.brightness is not None:
        return Command(action=Action.SET_BRIGHTNESS, brightness=state.brightness)
    if command.action == Action.TURN_OFF and state.on:
        return Command(action=Action.TURN_ON)
    return None


def describe_done(result: StepResult, command: Command | None, home: Home, units: str) -> str:
    """What a step did, in a few words ("9 lights off", "Front door locked")."""
    who = names(result.done, result.noun, most=3)
    action = Action(result.action) if result.action else None
    words: dict[Action, str] = {
        Action.TURN_OFF: f"{who} off",
        Action.TURN_ON: f"{who} on",
        Action.LOCK: f"{who} locked",
        Action.PAUSE: f"music paused ({who})",
        Action.PLAY: f"{who} playing",
        Action.OPEN: f"{who} open",
        Action.CLOSE: f"{who} closed",
        Action.ARM: f"{who} armed",
    }
    if action in words:
        return words[action]
    if command is not None:
        if action == Action.SET_BRIGHTNESS:
            return f"{who} at {command.brightness} %"
        if action == Action.SET_POSITION:
            return f"{who} at {command.position} %"
        if action == Action.SET_TEMPERATURE and command.temperature_c is not None:
            return f"{who} set to {degrees(command.temperature_c, units)}"
        if action == Action.PLAY_MEDIA:
            return f"{command.media} on {who}"
        if action == Action.SET_VOLUME:
            return f"{who} at volume {command.volume}"
    return f"{result.step} ({who})"


def summarise(name: str, steps: list[StepResult], home: Home, units: str) -> str:
    """One or two sentences: what was done, then what failed and why."""
    done: list[str] = []
    for step in steps:
        if step.done:
            done.append(describe_done(step, step.command, home, units))
        elif step.skipped and not step.failed:
            done.append("no music was playing")
    failed: list[str] = []
    for step in steps:
        for device, reason in step.failed:
            joiner = " " if reason.startswith(VERB_REASONS) else ": "
            failed.append(f"{device}{joiner}{reason}")
    said = [s.said for s in steps if s.said]
    title = name[:1].upper() + name[1:]
    if not failed:
        text = f"{title}: " + (", ".join(done) if done else "done") + "."
    elif done:
        text = f"{title}: {', '.join(done)} — but {'; '.join(failed)}."
    else:
        text = f"{title} didn't work: {'; '.join(failed)}."
    if said:
        text += " " + " ".join(said)
    return text
