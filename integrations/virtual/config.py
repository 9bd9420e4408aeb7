"""Configuration of virtual devices (declared in config, state kept in SQLite)."""

from __future__ import annotations

from agent.configbase import Section
from agent.devices import Kind


class VirtualDeviceConfig(Section):
    """One virtual device."""

    id: str
    name: str
    kind: Kind = Kind.SWITCH
    area: str | None = None
    aliases: list[str] = []
    device_class: str | None = None


class VirtualConfig(Section):
    """The list of virtual devices."""

    devices: list[VirtualDeviceConfig] = []
