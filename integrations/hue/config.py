"""Configuration of Hue bridges."""

from __future__ import annotations

from agent.configbase import Section


class HueBridgeConfig(Section):
    """One bridge: host (ip or ip:port) and the app key from pairing."""

    host: str
    app_key: str | None = None


class HueConfig(Section):
    """The Hue bridges."""

    bridges: list[HueBridgeConfig] = []
