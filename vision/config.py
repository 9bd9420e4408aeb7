"""Configuration of cameras and the vision describer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.configbase import Section


class CameraConfig(Section):
    """One camera: where its pictures come from and what to notify about."""

    name: str
    url: str | None = None
    detect_url: str | None = None
    snapshot_url: str | None = None
    area: str | None = None
    sensitivity: float = Field(default=0.5, ge=0, le=1)
    masks: list[list[tuple[float, float]]] = []
    notify: list[str] = ["person", "vehicle", "package"]
    active_hours: str | None = None


class VisionConfig(Section):
    """Which describer looks at camera events."""

    describer: Literal["transformers", "ollama", "openai", "none"] = "none"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = Field(default=30.0, gt=0)
