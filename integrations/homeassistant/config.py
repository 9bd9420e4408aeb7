"""Configuration of the Home Assistant bridge."""

from __future__ import annotations

from agent.configbase import Section


class HomeAssistantConfig(Section):
    """URL, long-lived token, and which entities to import."""

    url: str
    token: str
    include_domains: list[str] = []
    exclude_domains: list[str] = []
    include_areas: list[str] = []
    exclude_areas: list[str] = []
    include_entities: list[str] = []
    exclude_entities: list[str] = []
