"""Configuration of WLED strips."""

from __future__ import annotations

from pydantic import Field

from agent.configbase import Section


class WledHost(Section):
    """One strip: its address (the `wled` client always uses port 80) and where it is."""

    host: str = Field(min_length=1)
    area: str | None = None


class WledConfig(Section):
    """Strips by host (a plain host string or `{host, area}`), and reconnect backoff."""

    hosts: list[str | WledHost] = []
    request_timeout: float = Field(default=5.0, gt=0, le=60)
    retry_initial: float = Field(default=1.0, gt=0, le=60)
    retry_max: float = Field(default=60.0, gt=0, le=3600)

    def strips(self) -> list[WledHost]:
        """Every configured strip as a WledHost."""
        return [WledHost(host=h) if isinstance(h, str) else h for h in self.hosts]


# The section model, by the name every vendor package uses (see integrations/vendors.py).
SECTION = WledConfig
