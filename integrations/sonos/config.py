"""Configuration of Sonos speakers."""

from __future__ import annotations

from agent.configbase import Section


class SonosConfig(Section):
    """Speakers by IP (found by discovery when empty)."""

    hosts: list[str] = []
    interface_addr: str | None = None
    event_listener_port: int | None = None
