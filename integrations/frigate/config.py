"""Configuration of the Frigate camera source."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from agent.configbase import Section
from vision.config import LABELS, check_hours


class FrigateMqtt(Section):
    """The broker Frigate publishes on (often the one zigbee2mqtt uses)."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    topic_prefix: str = "frigate"  # Frigate's `mqtt.topic_prefix`


class FrigateCamera(Section):
    """One Frigate camera as a homeclaw camera (a bare string is just its Frigate name)."""

    name: str  # the camera's name in Frigate (front_door)
    title: str | None = None  # its name here; default: "front door"
    area: str | None = None
    notify: list[str] = ["person", "vehicle", "package"]
    zones: list[str] = []  # only objects that entered one of these Frigate zones
    active_hours: str | None = None
    cooldown: float = Field(default=30.0, ge=0)
    min_score: float = Field(default=0.0, ge=0, le=1)  # Frigate's top_score

    @field_validator("notify")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LABELS]
        if unknown:
            raise ValueError(f"unknown labels {unknown} (known: {', '.join(LABELS)})")
        return value

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        return check_hours(value)

    @property
    def display(self) -> str:
        """The camera's name in homeclaw."""
        return self.title or self.name.replace("_", " ")


class FrigateConfig(Section):
    """Where Frigate is and which of its cameras become homeclaw cameras."""

    mqtt: FrigateMqtt = FrigateMqtt()
    url: str = "http://frigate:5000"  # the API port (5000 inside the Docker network)
    cameras: list[FrigateCamera] = []
    timeout: float = Field(default=5.0, gt=0)

    @field_validator("cameras", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url is Frigate's address, like http://frigate:5000")
        return value.rstrip("/")
