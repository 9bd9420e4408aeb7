"""Implausible setpoints: "set the living room to 21" in a °F home is asked about, not done.

A setpoint outside the device's own range (Home Assistant and zigbee2mqtt
report min/max; held as `info["min_temp_c"]`/`["max_temp_c"]`) or outside a sane
range for a home gets "Did you mean 21 °C (70 °F)?" when the number makes sense
in the other unit, and nothing is sent until the owner says yes.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from agent.brain.local_plan import Plan, Unclear
from agent.brain.local_targets import Resolver, climate_targets
from agent.brain.vocab import from_celsius, to_celsius
from agent.devices import Action, Command, Device

if TYPE_CHECKING:
    from hassil import RecognizeResult


# What any heater or cooler in a home is plausibly set to, °C (pools and spas up to 40).
SANE_C = (5.0, 40.0)
YES = re.compile(r"^(yes|yeah|yep|yup|sure|ok(ay)?|correct|right|please do|do it)\b", re.I)


class Implausible(Unclear):
    """A setpoint nobody means; `suggested_c` is what they probably meant (or None)."""

    def __init__(self, message: str, suggested_c: float | None) -> None:
        super().__init__(message, question=True)
        self.suggested_c = suggested_c
        self.plan: Plan | None = None  # what "yes" does, filled in by the local path


def limits(devices: list[Device]) -> tuple[float, float]:
    """The range every device accepts: their own min/max where known, else a sane one."""
    low, high = SANE_C
    for d in devices:
        low = max(low, float(d.info.get("min_temp_c", low)))
        high = min(high, float(d.info.get("max_temp_c", high)))
    return low, high


def both_units(celsius: float) -> str:
    """ "21 °C (70 °F)"."""
    return f"{from_celsius(celsius, 'metric'):g} °C ({from_celsius(celsius, 'imperial'):g} °F)"


def check_setpoint(value: float, celsius: float, devices: list[Device], units: str) -> None:
    """Raise Implausible when the setpoint is outside what these devices (or homes) take."""
    low, high = limits(devices)
    if low <= celsius <= high:
        return
    other = "metric" if units == "imperial" else "imperial"
    alternative = to_celsius(value, other)
    if low <= alternative <= high:
        shown = both_units(alternative) if other == "metric" else _f_first(alternative, value)
        raise Implausible(f"Did you mean {shown}?", alternative)
    names = ", ".join(d.name for d in devices)
    raise Implausible(
        f"{names} takes {from_celsius(low, units):g} to {from_celsius(high, units):g}"
        f"{'°F' if units == 'imperial' else '°C'}; what should it be?",
        None,
    )


def _f_first(celsius: float, said: float) -> str:
    return f"{said:g} °F ({from_celsius(celsius, 'metric'):g} °C)"


class PendingSetpoints:
    """Suggested setpoints waiting for the owner's "yes", per conversation (for 2 minutes)."""

    def __init__(self, ttl: float = 120.0) -> None:
        self.ttl = ttl
        self._waiting: dict[str, tuple[float, Plan]] = {}

    def ask(self, conversation: str, plan: Plan | None) -> None:
        """Remember what "yes" will do in this conversation."""
        if plan is not None:
            self._waiting[conversation] = (time.monotonic() + self.ttl, plan)

    def take(self, conversation: str, text: str) -> Plan | None:
        """The plan a "yes" confirms; any other message drops it."""
        entry = self._waiting.pop(conversation, None)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1] if YES.match(text.strip()) else None


def suggested_plan(
    result: RecognizeResult, resolver: Resolver, units: str, here: str | None, err: Implausible
) -> Plan | None:
    """The plan "yes" would carry out: the same devices at the suggested setpoint."""
    if err.suggested_c is None:
        return None
    devices = climate_targets(result, resolver, here)
    command = Command(action=Action.SET_TEMPERATURE, temperature_c=err.suggested_c)
    return Plan(result.intent.name, devices, [command])
