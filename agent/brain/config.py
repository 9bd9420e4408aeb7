"""Configuration of the brain: which LLM, and the local fast path."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from agent.configbase import Section


class BrainConfig(Section):
    """Which model answers, and the limits it works within."""

    provider: Literal["none", "openai", "anthropic", "ollama"] = "none"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    max_tokens: int | None = Field(default=1024, ge=16)
    prefer_local: bool = True
    max_tool_rounds: int = Field(default=6, ge=1, le=50)
    max_tool_calls_per_turn: int = Field(default=16, ge=1, le=200)
    tool_timeout: float = Field(default=20.0, gt=0)
    context_tokens: int = Field(default=16000, ge=1000)
    # The context window Ollama runs the model with (provider ollama sets it per request).
    num_ctx: int | None = Field(default=None, ge=512)
    rate_limit_per_minute: int = Field(default=30, ge=1)
    confirmation_seconds: int = Field(default=120, ge=30, le=900)
    # Tokens (prompt + completion) the LLM may spend per day; None: no limit.
    daily_token_budget: int | None = Field(default=None, ge=1000)
    # Persistent errors (bad key, no quota, no tool support) in a row that pause the LLM.
    breaker_after: int = Field(default=3, ge=1, le=100)
    breaker_cooldown_minutes: float = Field(default=15.0, gt=0)
    # The room a channel speaks from when the message and the person say none
    # ({"telegram": "kitchen"}; a wall tablet passes ?area= instead).
    channel_areas: dict[str, str] = {}

    @model_validator(mode="after")
    def _model_named(self) -> BrainConfig:
        if self.provider == "openai" and not self.base_url and not self.api_key:
            raise ValueError(
                "provider openai needs base_url (a local server such as Ollama: "
                "http://127.0.0.1:11434/v1) or api_key (OpenAI itself)"
            )
        if (
            self.provider != "none"
            and not self.model
            and (self.base_url or self.provider == "ollama")
        ):
            raise ValueError("set brain.model to the model name your server serves")
        return self
