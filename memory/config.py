"""Configuration of long-term memory."""

from __future__ import annotations

from pydantic import Field

from agent.configbase import Section


class MemoryConfig(Section):
    """Recall budget and optional embeddings."""

    enabled: bool = True
    recall_limit: int = Field(default=5, ge=0, le=50)
    context_tokens: int = Field(default=800, ge=0)
    embeddings_model: str | None = None
