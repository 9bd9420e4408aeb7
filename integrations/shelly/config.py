"""Configuration of Shelly Gen2+ devices."""

from __future__ import annotations

from agent.configbase import Section


class ShellyConfig(Section):
    """Devices by host (host or host:port)."""

    hosts: list[str] = []
