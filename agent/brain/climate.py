"""Setpoints as people say them, for thermostats with one setpoint or a heat/cool range.

"Set the ecobee to 70" on a thermostat holding a range (heat_cool) moves the
range to sit around 70, keeping its width; "heat to 68 and cool to 76" sets the
range; "set the heat to 68" sets the heating end of a range, or the one
setpoint of a thermostat that has no range. Values are in the owner's units.
"""

from __future__ import annotations

from agent.brain.vocab import degrees, from_celsius, to_celsius
from agent.devices import Action, Command, Device, Feature

# The range width used when a range thermostat does not report one (owner's units).
DEFAULT_SPREAD = {"imperial": 4.0, "metric": 2.0}


def holds_range(device: Device) -> bool:
    """Whether a single temperature must become a heat/cool range on this device."""
    if Feature.TARGET_TEMPERATURE_RANGE not in device.features:
        return False
    if Feature.TARGET_TEMPERATURE not in device.features:
        return True
    return device.state.hvac_mode in ("heat_cool", "auto") and device.state.target_low_c is not None


def setpoint_command(device: Device, value: float, units: str) -> Command:
    """The command that sets a device to a temperature (a range around it where needed)."""
    if not holds_range(device):
        return Command(action=Action.SET_TEMPERATURE, temperature_c=to_celsius(value, units))
    s = device.state
    spread = DEFAULT_SPREAD.get(units, 2.0)
    if s.target_low_c is not None and s.target_high_c is not None:
        spread = from_celsius(s.target_high_c, units) - from_celsius(s.target_low_c, units)
    low = round(value - spread / 2)
    return range_command(low, low + spread, units)


def step_command(device: Device, delta_c: float) -> Command | None:
    """ "Turn up the heat": the setpoint, or a held range as a whole, moved by delta_c."""
    s = device.state
    if holds_range(device) and s.target_low_c is not None and s.target_high_c is not None:
        return Command(
            action=Action.SET_TEMPERATURE,
            target_low_c=round(s.target_low_c + delta_c, 1),
            target_high_c=round(s.target_high_c + delta_c, 1),
        )
    if s.target_temperature_c is None:
        return None
    return Command(
        action=Action.SET_TEMPERATURE, temperature_c=round(s.target_temperature_c + delta_c, 1)
    )


def range_command(heat_to: float | None, cool_to: float | None, units: str) -> Command:
    """Heat-to and/or cool-to (owner's units) as one set_temperature command."""
    return Command(
        action=Action.SET_TEMPERATURE,
        target_low_c=None if heat_to is None else to_celsius(heat_to, units),
        target_high_c=None if cool_to is None else to_celsius(cool_to, units),
    )


def heat_or_cool_command(device: Device, which: str, value: float, units: str) -> Command:
    """ "Set the heat to 68": the range's heating (or cooling) end, else the one setpoint."""
    if Feature.TARGET_TEMPERATURE_RANGE in device.features and (
        holds_range(device) or Feature.TARGET_TEMPERATURE not in device.features
    ):
        return (
            range_command(value, None, units)
            if which == "heat"
            else range_command(None, value, units)
        )
    return Command(action=Action.SET_TEMPERATURE, temperature_c=to_celsius(value, units))


def describe_setpoints(command: Command, units: str) -> str:
    """ "set to 68°F", "heating to 68°F and cooling to 76°F", "cooling to 76°F"."""
    if command.temperature_c is not None:
        return f"set to {degrees(command.temperature_c, units)}"
    ends = []
    if command.target_low_c is not None:
        ends.append(f"heating to {degrees(command.target_low_c, units)}")
    if command.target_high_c is not None:
        ends.append(f"cooling to {degrees(command.target_high_c, units)}")
    return " and ".join(ends)
