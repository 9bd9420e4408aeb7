"""Event triggers: run a routine when a device changes ("front door opened after 23:00").

Conditions are edges, not levels: a trigger fires when a device *enters* the
state (or *crosses* the threshold), inside the optional time window, so a
sensor that keeps reporting the same value does not run the routine again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agent.bus import StateChanged
from agent.routines.config import RoutineConfig, WhenConfig, in_window, parse_clock
from agent.routines.config import parse_temperature as to_celsius
from agent.routines.states import in_state, number

if TYPE_CHECKING:
    from agent.home import Home

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trigger:
    """One `when:` of one routine."""

    routine: str
    when: WhenConfig


class EventTriggers:
    """Matches StateChanged events against every routine's `when:` conditions."""

    def __init__(
        self,
        home: Home,
        clock: Callable[[], datetime],
        fire: Callable[[str, str], None],
        units: str = "metric",
    ) -> None:
        self.home = home
        self.clock = clock
        self.fire = fire
        self.units = units
        self.triggers: list[Trigger] = []

    def load(self, routines: list[RoutineConfig]) -> None:
        """Replace the triggers with those of these routines."""
        self.triggers = [Trigger(r.name, w) for r in routines for w in r.when]

    def on_state(self, event: StateChanged) -> None:
        """Bus handler: fire the routines whose condition this change meets."""
        if not self.triggers:
            return
        device = self.home.find(event.device_id)
        if device is None:
            return
        for trigger in self.triggers:
            if device.id not in self._ids(trigger.when.device):
                continue
            if self.matches(trigger.when, event):
                log.info("trigger: %s → %s", device.name, trigger.routine)
                self.fire(trigger.routine, f"{device.name} {self._what(trigger.when)}")

    def matches(self, when: WhenConfig, event: StateChanged) -> bool:
        """Whether this change meets the condition (an edge, inside the time window)."""
        after = parse_clock(when.after) if when.after else None
        before = parse_clock(when.before) if when.before else None
        if not in_window(self.clock().time(), after, before):
            return False
        if event.old is None:
            return False  # a device appearing is not a change
        if when.to is not None:
            now = in_state(event.new, when.to, event.available)
            was = in_state(event.old, when.to, True)
            return now is True and was is not True
        new, old = number(event.new, when.attribute), number(event.old, when.attribute)
        if new is None or old is None:
            return False
        if when.above is not None:
            limit = self._limit(when.above, when)
            return old <= limit < new
        if when.below is not None:
            limit = self._limit(when.below, when)
            return old >= limit > new
        return False

    def _limit(self, value: float | str, when: WhenConfig) -> float:
        if when.attribute in (None, "temperature", "current_temperature_c"):
            return to_celsius(value, self.units)  # "78F", or a number in the owner's units
        return float(value)

    def _ids(self, name: str) -> set[str]:
        resolution = self.home.resolve(name)
        return {d.id for d in resolution.devices} if resolution.ok else set()

    @staticmethod
    def _what(when: WhenConfig) -> str:
        if when.to:
            return when.to
        return f"above {when.above}" if when.above is not None else f"below {when.below}"
