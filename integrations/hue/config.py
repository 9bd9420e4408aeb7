"""Configuration of Hue bridges."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.configbase import Section


class HueBridgeConfig(Section):
    """One bridge: host (ip or ip:port), the app key from pairing, and its id if known."""

    host: str = Field(min_length=1)
    app_key: str | None = None
    # When given, a bridge answering at `host` with another id is refused (the
    # DHCP lease moved to another bridge); discovery fills this in.
    bridge_id: str | None = None
    # Which API to speak: v2 (HTTPS with events) when the bridge has it, else v1.
    api: Literal["auto", "v1", "v2"] = "auto"


class HueConfig(Section):
    """The Hue bridges, and how often a v1-only bridge is polled (v1 has no events)."""

    bridges: list[HueBridgeConfig] = []
    poll_interval: float = Field(default=2.0, ge=0.05, le=300)
    request_timeout: float = Field(default=5.0, gt=0, le=60)
    retry_initial: float = Field(default=1.0, gt=0, le=60)
    retry_max: float = Field(default=60.0, gt=0, le=3600)


# The section model, by the name every vendor package uses (see integrations/vendors.py).
SECTION = HueConfig
