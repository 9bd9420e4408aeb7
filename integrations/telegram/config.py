"""Configuration of the Telegram channel."""

from __future__ import annotations

from agent.configbase import Section


class TelegramConfig(Section):
    """Bot token and (for tests) the API base URL."""

    bot_token: str
    api_base_url: str = "https://api.telegram.org"
