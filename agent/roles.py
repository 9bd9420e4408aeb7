"""Roles: what owners, family and guests may reach, decided in code.

The owner decides what guests may use beyond lights, music and climate
(`guests.allow` in config.yaml); everything else about roles is fixed here so
every path (the LLM's tools, the local fast path, routines, schedules, the
dashboard) asks the same question of the same table.
"""

from __future__ import annotations

from typing import Literal

from agent.configbase import Section
from agent.devices import ENTRY_COVER_CLASSES, Device, Kind

Role = Literal["owner", "family", "guest"]
ROLES: tuple[str, ...] = ("owner", "family", "guest")
# Higher sees and does more; unknown roles (strangers) rank below every known one.
RANK = {"owner": 2, "family": 1, "guest": 0}
# Who may ask for (and confirm) high-risk commands with a one-time code.
ROLE_CAN_HIGH_RISK = {"owner": True, "family": True, "guest": False}
Guarded = Literal["locks", "alarms", "garage", "cameras"]
GUARDED: tuple[str, ...] = ("locks", "alarms", "garage", "cameras")


class GuestsConfig(Section):
    """What guests may use besides lights, music and climate (nothing more by default)."""

    allow: list[Guarded] = []


def rank(role: str) -> int:
    """How much a role may see and do (strangers: -1)."""
    return RANK.get(role, -1)


def at_least(role: str, wanted: str) -> bool:
    """Whether `role` ranks at or above `wanted`."""
    return rank(role) >= rank(wanted)


def guarded(device: Device) -> str | None:
    """Which guarded group a device belongs to: locks, alarms, garage (entry covers)."""
    if device.kind == Kind.LOCK:
        return "locks"
    if device.kind == Kind.ALARM:
        return "alarms"
    if device.kind == Kind.COVER and device.device_class in ENTRY_COVER_CLASSES:
        return "garage"
    if device.kind == Kind.CAMERA:
        return "cameras"
    return None


class Roles:
    """Answers "may this role reach that?" for every path into the house."""

    def __init__(self, guests: GuestsConfig | None = None) -> None:
        self.guest_allow = frozenset((guests or GuestsConfig()).allow)

    def may(self, role: str, group: str | None) -> bool:
        """Whether a role may use a guarded group (None: an ordinary device)."""
        if role not in RANK:
            return False
        if group is None or role in ("owner", "family"):
            return True
        return group in self.guest_allow

    def may_touch(self, role: str, device: Device) -> bool:
        """Whether a role may send any command to (or read the state of) a device."""
        return self.may(role, guarded(device))

    def may_see_cameras(self, role: str) -> bool:
        """Whether a role may get camera pictures and events."""
        return self.may(role, "cameras")

    @staticmethod
    def may_high_risk(role: str) -> bool:
        """Whether a role may ask for and confirm high-risk commands."""
        return ROLE_CAN_HIGH_RISK.get(role, False)
