"""Device tools at the capability level: what a person asks for, not vendor APIs.

Every tool resolves its target with `Home.resolve` ("kitchen lights",
"upstairs", "the thermostat"); "no such device" and "which one?" come back as
structured errors the model can relay. High-risk commands never run here: they
go to the policy, which asks the owner for a one-time code. Temperatures are
in the owner's units (°F for imperial homes), °C inside.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from agent.brain.climate import holds_range, range_command, setpoint_command
from agent.brain.tools import ToolContext, ToolRegistry
from agent.brain.vocab import from_celsius, parse_color, state_phrase, to_celsius
from agent.devices import Action, ArmMode, Command, Device, Kind, Risk
from agent.errors import (
    AmbiguousTarget,
    ConfirmationRequired,
    HomeError,
    NoSuchDevice,
    NotAllowed,
    UnsupportedCommand,
)
from agent.media import looks_like_uri, match_favourite

if TYPE_CHECKING:
    from agent.home import Home
    from agent.policy import Policy


def _home(ctx: ToolContext) -> Home:
    home: Home = ctx.runtime.home
    return home


def _units(ctx: ToolContext) -> str:
    units: str = ctx.runtime.config.home.units
    return units


def resolve_targets(
    home: Home, target: str, command: Command, kind: Kind | None = None
) -> list[Device]:
    """Devices a phrase names that can take the command, or a HomeError saying why not."""
    found = home.resolve(target, kind)
    if found.status == "none" and kind is not None:
        found = home.resolve(target)
    if found.status == "none":
        raise NoSuchDevice(found.message)
    if found.status == "ambiguous":
        able = [d for d in found.devices if d.supports(command)]
        if len(able) == 1:
            return able
        raise AmbiguousTarget(found.message, [d.name for d in found.devices])
    able = [d for d in found.devices if d.supports(command)]
    if not able:
        reasons = (d.refusal(command) for d in found.devices[:5])
        raise UnsupportedCommand(" ".join(dict.fromkeys(r for r in reasons if r)))
    return able


async def act(
    ctx: ToolContext, target: str, commands: list[Command], kind: Kind | None = None
) -> dict[str, Any]:
    """Run commands on the devices a phrase names; high-risk ones go to the policy."""
    devices = resolve_targets(_home(ctx), target, commands[0], kind)
    return await run_commands(ctx, devices, commands)


async def run_commands(
    ctx: ToolContext, devices: list[Device], commands: list[Command]
) -> dict[str, Any]:
    """Run commands on resolved devices: safe ones now, high-risk ones via a confirmation."""
    home = _home(ctx)
    units = _units(ctx)
    done: dict[str, str] = {}
    failed: list[dict[str, str]] = []
    result: dict[str, Any] = {}
    # Guests never reach locks, alarms or garage doors (unless the owner allows it),
    # whatever the model or the phrase asked: refused before any code or command.
    barred = [d for d in devices if not home.roles.may_touch(ctx.role, d)]
    if barred:
        names = ", ".join(d.name for d in barred)
        if len(barred) == len(devices):
            raise NotAllowed(f"{names}: not available to a {ctx.role}.")
        devices = [d for d in devices if d not in barred]
        failed.extend(
            {"device": d.name, "error": "not_allowed", "detail": f"not available to a {ctx.role}"}
            for d in barred
        )
    for command in commands:
        able = [d for d in devices if d.supports(command)]
        if not able:  # say why, never an empty success
            failed.extend(
                {
                    "device": d.name,
                    "error": UnsupportedCommand.kind,
                    "detail": d.refusal(command) or "",
                }
                for d in devices
            )
        risky = [d for d in able if d.command_risk(command) is Risk.HIGH]
        safe = [d for d in able if d not in risky]
        if risky:
            policy: Policy | None = ctx.runtime.service("policy")
            if policy is None:
                raise ConfirmationRequired("That needs the owner's confirmation.")
            challenge = policy.request(ctx, risky, command)
            ctx.extras["confirmation"] = challenge
            # The model never sees the code: the daemon adds the prompt to the reply.
            result["confirmation_required"] = (
                f"{', '.join(d.name for d in risky)}: the owner has been asked to confirm with a "
                "one-time code. Nothing happened yet; tell them briefly."
            )
        if not safe:
            continue
        outcomes = await home.execute_many(
            [d.id for d in safe], command, requested_by=ctx.requested_by, role=ctx.role
        )
        for device_id, outcome in outcomes:
            if isinstance(outcome, HomeError):
                failed.append(
                    {
                        "device": home.get(device_id).name,
                        "error": outcome.kind,
                        "detail": str(outcome),
                    }
                )
            else:
                done[outcome.name] = state_phrase(outcome, units)
    if failed and not done and "confirmation_required" not in result:
        error = HomeError("; ".join(dict.fromkeys(f["detail"] for f in failed)))
        error.kind = failed[0]["error"]
        raise error
    if done:
        result["done"] = done
    if failed:
        result["failed"] = failed
    return result


async def turn_on(
    ctx: ToolContext, target: str, brightness: int | None = None, color: str | None = None
) -> dict[str, Any]:
    """Turn on lights/switches/fans.

    brightness: 1-100 %; color: a name (red, warm white, candle light), #rrggbb or 2700K.
    """
    commands: list[Command] = []
    if brightness is not None:
        commands.append(
            Command(action=Action.SET_BRIGHTNESS, brightness=brightness)
            if brightness > 0
            else Command(action=Action.TURN_OFF)
        )
    if color is not None:
        try:
            parsed = parse_color(color)
        except ValueError as err:
            raise UnsupportedCommand(str(err)) from None
        commands.append(
            Command(action=Action.SET_COLOR_TEMP, color_temp_k=parsed)
            if isinstance(parsed, int)
            else Command(action=Action.SET_COLOR, color=parsed)
        )
    return await act(ctx, target, commands or [Command(action=Action.TURN_ON)])


async def turn_off(ctx: ToolContext, target: str) -> dict[str, Any]:
    """Turn off lights/switches/fans/speakers (a name, an area, a floor or "everything")."""
    return await act(ctx, target, [Command(action=Action.TURN_OFF)])


async def set_climate(
    ctx: ToolContext,
    target: str,
    temperature: float | None = None,
    change: float | None = None,
    mode: Literal["off", "heat", "cool", "auto", "heat_cool", "fan_only", "dry"] | None = None,
    heat_to: float | None = None,
    cool_to: float | None = None,
) -> dict[str, Any]:
    """Set a thermostat/heater: temperature or change (+/- degrees), in the home's units; mode.

    heat_to/cool_to: the ends of a heat/cool range (mode heat_cool), either or both.
    """
    units = _units(ctx)
    commands: list[Command] = []
    if mode is not None:
        commands.append(Command(action=Action.SET_HVAC_MODE, hvac_mode=mode))
    if heat_to is not None or cool_to is not None:
        commands.append(range_command(heat_to, cool_to, units))
    elif temperature is not None:
        # One setpoint, or a range around it on a thermostat holding a range.
        found = _home(ctx).resolve(target, Kind.CLIMATE)
        ranged = [d for d in found.devices if holds_range(d)] if found.status == "ok" else []
        if len(ranged) == 1 and len(found.devices) == 1:
            step = [*commands, setpoint_command(ranged[0], temperature, units)]
            return await run_commands(ctx, ranged, step)
        commands.append(
            Command(action=Action.SET_TEMPERATURE, temperature_c=to_celsius(temperature, units))
        )
    if change is not None and temperature is None:
        probe = Command(action=Action.SET_TEMPERATURE, temperature_c=20)
        devices = resolve_targets(_home(ctx), target, probe, Kind.CLIMATE)
        results: dict[str, Any] = {}
        for device in devices:
            current = device.state.target_temperature_c
            if current is None:
                raise UnsupportedCommand(f"{device.name} has no setpoint to change.")
            new_c = to_celsius(from_celsius(current, units) + change, units)
            step = [Command(action=Action.SET_TEMPERATURE, temperature_c=new_c), *commands]
            results.update(await act(ctx, device.name, step, Kind.CLIMATE))
        return results
    if not commands:
        raise UnsupportedCommand("Say a temperature, a change or a mode.")
    return await act(ctx, target, commands, Kind.CLIMATE)


async def set_cover(
    ctx: ToolContext,
    target: str,
    position: int | None = None,
    action: Literal["open", "close", "stop"] | None = None,
) -> dict[str, Any]:
    """Move shades/blinds/garage doors or valves: position 0 (closed)-100 (open), or an action."""
    if position is not None:
        command = Command(action=Action.SET_POSITION, position=position)
    elif action is not None:
        command = Command(action=Action(action))
    else:
        raise UnsupportedCommand("Say a position or open/close/stop.")
    found = resolve_targets(_home(ctx), target, command, Kind.COVER)
    if command.action == Action.SET_POSITION and not all(d.supports(command) for d in found):
        command = Command(action=Action.OPEN if position else Action.CLOSE)
    return await act(ctx, target, [command], Kind.COVER)


async def vacuum(
    ctx: ToolContext,
    target: str,
    action: Literal["start", "pause", "stop", "return_to_base"],
) -> dict[str, Any]:
    """Robot vacuums: start, pause, stop, or return_to_base (dock)."""
    return await act(ctx, target, [Command(action=Action(action))], Kind.VACUUM)


async def lock(ctx: ToolContext, target: str) -> dict[str, Any]:
    """Lock doors."""
    return await act(ctx, target, [Command(action=Action.LOCK)], Kind.LOCK)


async def unlock(ctx: ToolContext, target: str) -> dict[str, Any]:
    """Unlock a door (the owner must confirm with a one-time code)."""
    return await act(ctx, target, [Command(action=Action.UNLOCK)], Kind.LOCK)


async def alarm(
    ctx: ToolContext, target: str, action: Literal["arm", "disarm"], mode: ArmMode | None = None
) -> dict[str, Any]:
    """Arm (mode home/away/night/vacation) or disarm an alarm (disarming needs the owner's code)."""
    command = Command(action=Action(action), arm_mode=mode if action == "arm" else None)
    return await act(ctx, target, [command], Kind.ALARM)


def favourites(device: Device) -> list[tuple[str, str]]:
    """A speaker's favourites as (title, kind) pairs; kind is radio, playlist, track or ""."""
    pairs: list[tuple[str, str]] = []
    for item in device.info.get("favorites") or []:
        if isinstance(item, str):
            pairs.append((item, ""))
        elif isinstance(item, dict) and (item.get("title") or item.get("name")):
            pairs.append((str(item.get("title") or item.get("name")), str(item.get("kind", ""))))
    return pairs


def pick_favourite(speakers: list[Device], wanted: str) -> str:
    """The favourite a phrase names, or NoSuchDevice listing them (the LLM may then choose)."""
    known = list(dict.fromkeys(pair for d in speakers for pair in favourites(d)))
    title = match_favourite(wanted, known)
    if title is not None:
        return title
    listed = ", ".join(sorted(t for t, _ in known)) or "none"
    raise NoSuchDevice(f"No favourite matches {wanted!r}. Favourites: {listed}.")


async def play_music(ctx: ToolContext, where: str, what: str) -> dict[str, Any]:
    """Play a favourite (radio station/playlist name) or a URL on speakers (name or area)."""
    probe = Command(action=Action.PLAY_MEDIA, media="x")
    speakers = resolve_targets(_home(ctx), where, probe, Kind.SPEAKER)
    media = what.strip()
    if not looks_like_uri(media):
        media = pick_favourite(speakers, media)
    return await act(ctx, where, [Command(action=Action.PLAY_MEDIA, media=media)], Kind.SPEAKER)


async def media_control(
    ctx: ToolContext,
    target: str,
    action: Literal["play", "pause", "next", "previous", "volume", "mute", "unmute"],
    volume: int | None = None,
) -> dict[str, Any]:
    """Control speakers: play/pause/next/previous, mute/unmute, or volume (0-100 %)."""
    if action == "volume":
        if volume is None:
            raise UnsupportedCommand("Say the volume (0-100).")
        command = Command(action=Action.SET_VOLUME, volume=volume)
    elif action in ("mute", "unmute"):
        command = Command(action=Action.MUTE, muted=action == "mute")
    else:
        command = Command(action=Action(action))
    return await act(ctx, target, [command], Kind.SPEAKER)


async def home_status(ctx: ToolContext, target: str | None = None) -> dict[str, Any]:
    """Live state: one device, an area/floor/kind ("upstairs lights"), or everything if omitted."""
    home = _home(ctx)
    units = _units(ctx)
    if target:
        found = home.resolve(target)
        if found.status == "none":
            raise NoSuchDevice(found.message)
        devices = found.devices
    else:
        devices = home.devices()
    return {
        "units": "°F" if units == "imperial" else "°C",
        "devices": [
            f"{d.name} ({home.area_name(d.area)}, {d.kind.value}): "
            + (state_phrase(d, units) if home.roles.may_touch(ctx.role, d) else "not shared")
            for d in devices
        ],
    }


DEVICE_TOOLS = (
    turn_on,
    turn_off,
    set_climate,
    set_cover,
    vacuum,
    lock,
    unlock,
    alarm,
    play_music,
    media_control,
    home_status,
)


def register_device_tools(registry: ToolRegistry, home: Home | None = None) -> None:
    """Add the device tools to the registry (the vacuum tool only while the home has one)."""
    for fn in DEVICE_TOOLS:
        registry.register(fn, offered=_offered(fn.__name__, home))


# Tools that only make sense while the home has such a device: each costs prompt
# tokens on every request (~50-160), and small models choose better from fewer.
# The set changes only when a kind appears or goes, so the prefix stays cacheable.
NEEDS_KIND: dict[str, Kind] = {
    "set_climate": Kind.CLIMATE,
    "set_cover": Kind.COVER,
    "lock": Kind.LOCK,
    "unlock": Kind.LOCK,
    "alarm": Kind.ALARM,
    "play_music": Kind.SPEAKER,
    "media_control": Kind.SPEAKER,
    "vacuum": Kind.VACUUM,
}


def _offered(name: str, home: Home | None) -> Callable[[], bool] | None:
    """When the model is shown this tool (None: always)."""
    kind = NEEDS_KIND.get(name)
    if kind is None or home is None:
        return None
    return lambda: bool(home.devices(kind=kind))
