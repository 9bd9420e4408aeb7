"""Configuration of WLED strips."""

from __future__ import annotations

from agent.configbase import Section


class WledConfig(Section):
    """Strips by host."""

    hosts: list[str] = []
