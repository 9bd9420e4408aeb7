"""Configuration of LAN discovery."""

from __future__ import annotations

from pydantic import Field

from agent.configbase import Section


class DiscoveryConfig(Section):
    """Where to look (interfaces) and whether found devices are added automatically."""

    enabled: bool = True
    interfaces: list[str] = []
    auto_add: bool = False
    rescan_minutes: int = Field(default=30, ge=1)
