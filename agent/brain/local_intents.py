"""From a matched sentence to a plan: which devices, which commands (or which question).

One function per family of intents; media lives in `local_plan.plan_media`.
Relative changes ("brighter", "turn up the heat") read the device's state now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.brain.climate import setpoint_command, step_command
from agent.brain.local_kinds import KIND_INTENTS, OPENABLE, plan_vacuum
from agent.brain.local_plan import CannotDo, Plan, Unclear, plan_media
from agent.brain.local_sentences import OWN_INTENTS
from agent.brain.local_setpoint import check_setpoint
from agent.brain.local_targets import (
    Resolver,
    climate_targets,
    entity,
    said_area,
    sentence_kinds,
)
from agent.brain.vocab import COLORS, to_celsius
from agent.devices import Action, Command, Device, Feature, Kind

if TYPE_CHECKING:
    from hassil import RecognizeResult

# How much "brighter", "a bit warmer" or "louder" changes things.
BRIGHTNESS_STEP = 20
VOLUME_STEP = 10
QUESTIONS = {"HassGetState", "HassClimateGetTemperature"}


def not_groups(devices: list[Device], result: RecognizeResult) -> list[Device]:
    """Without a name, "the lights" are lamps, not the bridge's room groups as well."""
    if entity(result, "name") is not None:
        return devices
    return [d for d in devices if d.device_class != "group"] or devices


def on_off_command(device: Device, on: bool) -> Command | None:
    """What "turn on/off" means for this device, or None when nothing does."""
    features = device.features
    if device.kind == Kind.VACUUM:
        return Command(action=Action.START if on else Action.RETURN_TO_BASE)
    if device.kind in OPENABLE:
        if Feature.OPEN_CLOSE in features:
            return Command(action=Action.OPEN if on else Action.CLOSE)
        return Command(action=Action.SET_POSITION, position=100 if on else 0)
    if device.kind == Kind.LOCK:
        return Command(action=Action.LOCK if on else Action.UNLOCK)
    if Feature.ON_OFF in features:
        return Command(action=Action.TURN_ON if on else Action.TURN_OFF)
    if device.kind == Kind.CLIMATE and Feature.HVAC_MODE in features:
        declared = device.hvac_modes or tuple(device.info.get("hvac_modes") or ())
        modes = [str(m) for m in declared or ("heat",) if m != "off"] or ["heat"]
        return Command(action=Action.SET_HVAC_MODE, hvac_mode=modes[0] if on else "off")  # type: ignore[arg-type]
    if device.kind == Kind.SPEAKER and Feature.PLAYBACK in features:
        return Command(action=Action.PLAY if on else Action.PAUSE)
    return None


def plan_on_off(result: RecognizeResult, resolver: Resolver, here: str | None) -> Plan:
    """Turn on/off (also open/close, lock/unlock) whatever the sentence names."""
    on = result.intent.name == "HassTurnOn"
    if sentence_kinds(result) == {Kind.CLIMATE} and entity(result, "name") is None:
        devices = climate_targets(result, resolver, here)  # "turn off the heating"
    else:
        devices = not_groups(resolver.targets(result, here=here), result)
    if entity(result, "name") is None and sentence_kinds(result) is None:
        # "turn everything off": what can be switched; never locks, covers, alarms,
        # valves, vacuums or the heating.
        devices = [
            d for d in devices if d.kind in (Kind.LIGHT, Kind.SWITCH, Kind.FAN, Kind.SPEAKER)
        ]
    per_device: dict[str, Command] = {}
    for device in devices:
        command = on_off_command(device, on)
        if command is not None:
            per_device[device.id] = command
    able = [d for d in devices if d.id in per_device]
    if not able:
        raise Unclear("nothing there switches")
    first = per_device[able[0].id]
    return Plan(result.intent.name, able, [first], per_device=per_device)


def plan_light(result: RecognizeResult, resolver: Resolver, here: str | None) -> Plan:
    """Brightness (absolute or a step), colour or shade of white."""
    devices = not_groups(resolver.targets(result, {Kind.LIGHT}, here=here), result)
    brightness = entity(result, "brightness")
    step = entity(result, "brightness_step")
    color = entity(result, "color")
    kelvin = entity(result, "temperature")
    if step is not None:
        delta = BRIGHTNESS_STEP if step == "up" else -BRIGHTNESS_STEP
        per_device = {}
        for d in devices:
            now = (d.state.brightness or 0) if d.state.on else 0
            level = max(1, min(100, now + delta))
            per_device[d.id] = Command(action=Action.SET_BRIGHTNESS, brightness=level)
        first = per_device[devices[0].id]
        return Plan(result.intent.name, devices, [first], per_device=per_device)
    if brightness is not None:
        level = int(brightness)
        command = (
            Command(action=Action.SET_BRIGHTNESS, brightness=level)
            if level > 0
            else Command(action=Action.TURN_OFF)
        )
    elif color is not None:
        if str(color) not in COLORS:
            raise Unclear(f"colour {color}")
        command = Command(action=Action.SET_COLOR, color=COLORS[str(color)])
    elif kelvin is not None:
        command = Command(action=Action.SET_COLOR_TEMP, color_temp_k=int(kelvin))
    else:
        raise Unclear("no setting")
    able = [d for d in devices if d.supports(command)]
    if not able:
        what = {
            Action.SET_COLOR: "show colours",
            Action.SET_COLOR_TEMP: "change their white",
            Action.SET_BRIGHTNESS: "dim",
        }.get(command.action, command.action.value.replace("_", " "))
        who = devices[0].name if len(devices) == 1 else "those lights"
        raise CannotDo(f"{who} can't {what}")
    return Plan(result.intent.name, able, [command])


def plan_climate(result: RecognizeResult, resolver: Resolver, units: str, here: str | None) -> Plan:
    """A setpoint, absolute or a step, checked for plausibility before anything is sent."""
    devices = climate_targets(result, resolver, here)
    step = entity(result, "temperature_step")
    if step is not None:
        delta_c = (5 / 9 if units == "imperial" else 1.0) * (1 if step == "up" else -1)
        per_device = {}
        for d in devices:
            stepped = step_command(d, delta_c)  # a range moves as a whole
            if stepped is None:
                raise Unclear(f"{d.name} has no setpoint")
            per_device[d.id] = stepped
        first = per_device[devices[0].id]
        return Plan(result.intent.name, devices, [first], per_device=per_device)
    value = float(entity(result, "temperature"))
    celsius = to_celsius(value, units)
    check_setpoint(value, celsius, devices, units)
    # A lone range thermostat ("set the ecobee to 70") gets a range around it.
    command = (
        setpoint_command(devices[0], value, units)
        if len(devices) == 1
        else Command(action=Action.SET_TEMPERATURE, temperature_c=celsius)
    )
    return Plan(result.intent.name, devices, [command])


def plan_intent(
    result: RecognizeResult, resolver: Resolver, units: str, here: str | None = None
) -> Plan:
    """The plan for a matched sentence; Unclear when it cannot be acted on confidently."""
    intent = result.intent.name
    target_text = " ".join(
        e.text for k, e in result.entities.items() if k in ("name", "area", "floor") and e.text
    )
    plan: Plan
    if intent in KIND_INTENTS:
        plan = plan_vacuum(
            intent, result, lambda r, kinds: resolver.targets(r, kinds, here=here), target_text
        )
    elif intent in OWN_INTENTS:
        plan = plan_alarm(result, resolver, here)
    elif intent in ("HassTurnOn", "HassTurnOff"):
        plan = plan_on_off(result, resolver, here)
    elif intent == "HassLightSet":
        plan = plan_light(result, resolver, here)
    elif intent == "HassClimateSetTemperature":
        plan = plan_climate(result, resolver, units, here)
    elif intent == "HassSetPosition":
        devices = resolver.targets(result, set(OPENABLE), here=here)
        position = int(entity(result, "position"))
        plan = Plan(intent, devices, [Command(action=Action.SET_POSITION, position=position)])
    elif intent == "HassClimateGetTemperature":
        area = said_area(result)
        try:
            devices = resolver.targets(result, {Kind.CLIMATE, Kind.SENSOR}, acting=False, here=here)
        except Unclear:
            if area is None:
                raise
            devices = []  # "what's the temperature?" in a room with no thermometer
        plan = Plan(intent, devices, query=result.response or "one", area=area)
    elif intent in QUESTIONS:
        devices = resolver.targets(result, None, acting=False, here=here)
        plan = Plan(intent, devices, query=result.response or "one", state=entity(result, "state"))
    else:
        devices = media_targets(result, resolver, here)
        plan = plan_media(intent, devices, lambda name: entity(result, name), "")
    plan.target_text = target_text
    return plan


def media_targets(result: RecognizeResult, resolver: Resolver, here: str | None) -> list[Device]:
    """The speakers meant: named, the area's, the room's, or the one playing."""
    if said_area(result) is not None or entity(result, "name") or entity(result, "floor"):
        return resolver.targets(result, {Kind.SPEAKER}, here=here)
    speakers = resolver.home.devices(kind=Kind.SPEAKER)
    if here is not None:
        local = [d for d in speakers if d.area == here]
        if local:
            return local
    playing = [d for d in speakers if d.state.playback == "playing"]
    if len(playing) == 1 or len(speakers) == 1:
        return playing or speakers
    if not speakers:
        raise Unclear("no speakers")
    listed = ", ".join(f"{d.name} ({resolver.home.area_name(d.area)})" for d in speakers)
    raise Unclear(listed, question=True)


def plan_alarm(result: RecognizeResult, resolver: Resolver, here: str | None) -> Plan:
    """Arm (in a mode) or disarm the alarm; disarming goes through the owner's code."""
    panels = resolver.home.devices(kind=Kind.ALARM)
    if here is not None and len(panels) > 1:
        panels = [d for d in panels if d.area == here] or panels
    if not panels:
        raise Unclear("no alarm")
    if len(panels) > 1:
        raise Unclear(", ".join(d.name for d in panels), question=True)
    if result.intent.name == "HomeclawAlarmDisarm":
        command = Command(action=Action.DISARM)
    else:
        mode = entity(result, "arm_mode") or "away"
        command = Command(action=Action.ARM, arm_mode=str(mode))  # type: ignore[arg-type]
    return Plan(result.intent.name, panels, [command])
