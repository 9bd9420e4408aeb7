"""Configuration of the Home Assistant bridge."""

from __future__ import annotations

from pydantic import Field, field_validator

from agent.configbase import Section


class HomeAssistantConfig(Section):
    """URL, long-lived token, and which entities to import.

    Filters: an entity listed in `exclude_entities` is never imported, one in
    `include_entities` always is; otherwise, when any include list is set the
    entity must match it (domain and area), and must match no exclude list.
    """

    url: str
    token: str = Field(min_length=1)
    include_domains: list[str] = []
    exclude_domains: list[str] = []
    include_areas: list[str] = []
    exclude_areas: list[str] = []
    include_entities: list[str] = []
    exclude_entities: list[str] = []
    alarm_code: str | None = None
    request_timeout: float = Field(default=10.0, gt=0, le=120)
    reconnect_max_seconds: float = Field(default=60.0, ge=1, le=3600)
    # While disconnected, how often to check (cheaply) whether HA answers again.
    probe_interval: float = Field(default=1.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https:// (e.g. http://ha.local:8123)")
        return value.rstrip("/")


# The section model, by the name every vendor package uses (see integrations/vendors.py).
SECTION = HomeAssistantConfig
