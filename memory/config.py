"""Configuration of long-term memory."""

from __future__ import annotations

from pydantic import Field

from agent.configbase import Section


class MemoryConfig(Section):
    """Recall budget, file watching, extraction and optional embeddings."""

    enabled: bool = True
    # How many recalled entries go into each turn's context (pinned and profile come first).
    recall_limit: int = Field(default=5, ge=0, le=50)
    # Budget for the whole memory block of each turn (about 4 characters per token).
    context_tokens: int = Field(default=800, ge=0)
    # Seconds between checks of the markdown files for hand edits.
    watch_interval: float = Field(default=2.0, gt=0, le=3600)
    # Extract durable facts with the brain's LLM before a conversation is compacted.
    extraction: bool = True
    # Model for extraction (default: the brain's model).
    extraction_model: str | None = None
    # Optional vector recall: an OpenAI-compatible /v1/embeddings model (e.g. Ollama's
    # nomic-embed-text). Base URL and key default to the brain's when it is OpenAI-compatible.
    embeddings_model: str | None = None
    embeddings_base_url: str | None = None
    embeddings_api_key: str | None = None
    embeddings_timeout: float = Field(default=5.0, gt=0, le=120)
    # Weight of the vector ranking against the keyword ranking (1.0) in the fusion:
    # names and numbers, which words match exactly, matter most in a home's memory.
    vector_weight: float = Field(default=0.5, ge=0, le=4)
    # Distinct daily-note lines per source and day; more are only counted.
    daily_note_limit: int = Field(default=20, ge=1, le=1000)
    # Daily notes fade in recall ranking with this half-life (durable facts barely fade).
    note_half_life_days: float = Field(default=14.0, gt=0)
