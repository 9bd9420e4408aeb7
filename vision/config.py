"""Configuration of cameras and the vision describer."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agent.configbase import Section

_HOURS = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")
LABELS = ("person", "vehicle", "package", "animal", "motion")


def check_hours(value: str | None) -> str | None:
    """Validate an "HH:MM-HH:MM" span (it may wrap past midnight)."""
    if value is not None and not _HOURS.match(value.strip()):
        raise ValueError(f"{value!r} is not a span like 22:00-06:30")
    return value.strip() if value else value


class CameraConfig(Section):
    """One camera: where its pictures come from and what to notify about."""

    name: str
    # Main stream (RTSP, HTTP MJPEG or a file): the picture that is sent.
    url: str | None = None
    # Optional low-resolution sub-stream used for detection (cheaper to decode).
    detect_url: str | None = None
    # Optional JPEG snapshot URL: polled when there is no stream, else used for the photo.
    snapshot_url: str | None = None
    area: str | None = None
    sensitivity: float = Field(default=0.5, ge=0, le=1)
    # Ignored regions: polygons of (x, y) points as fractions of the frame (0..1).
    masks: list[list[tuple[float, float]]] = []
    # What is worth a message: person, vehicle, package, animal, motion (anything).
    notify: list[str] = ["person", "vehicle", "package"]
    # Notify only inside this span ("07:00-23:00"); events are logged regardless.
    active_hours: str | None = None
    detect_fps: float = Field(default=5.0, gt=0, le=30)
    # Seconds before the same kind of event (person, vehicle, ...) is sent again.
    cooldown: float = Field(default=30.0, ge=0)
    enabled: bool = True

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        return check_hours(value)

    @field_validator("notify")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LABELS]
        if unknown:
            raise ValueError(f"unknown labels {unknown} (known: {', '.join(LABELS)})")
        return value

    @field_validator("masks")
    @classmethod
    def _masks(cls, value: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for poly in value:
            if len(poly) < 3:
                raise ValueError("a mask polygon needs at least 3 points")
            if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in poly):
                raise ValueError("mask points are fractions of the frame (0..1)")
        return value

    @model_validator(mode="after")
    def _has_source(self) -> CameraConfig:
        if not (self.url or self.detect_url or self.snapshot_url):
            raise ValueError(f"camera {self.name!r} needs url, detect_url or snapshot_url")
        return self


class VisionConfig(Section):
    """Which describer looks at camera events, and how alerts are paced."""

    describer: Literal["transformers", "ollama", "openai", "none"] = "none"
    # transformers: a Hugging Face id or a local folder (default SmolVLM-256M-Instruct);
    # ollama / openai: the served model's name.
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    max_new_tokens: int = Field(default=80, ge=8, le=512)
    device: str = "cpu"
    # Seconds to wait for the description before sending the photo on its own
    # (the description then follows as soon as it is ready).
    notify_wait: float = Field(default=1.0, ge=0, le=60)
    # Seconds of motion to watch before choosing the photo (a better keyframe).
    settle: float = Field(default=0.6, ge=0, le=10)
    # Owner-wide quiet hours (no camera messages); preferences may override.
    quiet_hours: str | None = None
    retention_days: float = Field(default=14, gt=0)
    retention_mb: float = Field(default=500, gt=0)

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        return check_hours(value)
