"""Configuration of the Telegram channel."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from agent.configbase import Section


class TelegramConfig(Section):
    """Bot token (from @BotFather), polling and sending limits, and (for tests) the API URL."""

    bot_token: str
    api_base_url: str = "https://api.telegram.org"
    poll_timeout: int = Field(default=25, ge=1, le=50)
    rate_per_minute: int = Field(default=60, ge=1, le=1800)
    timeout: float = Field(default=15.0, gt=0, le=120)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{10,}", value):
            raise ValueError("a bot token looks like 123456:ABC-DEF… (ask @BotFather)")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")
