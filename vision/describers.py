"""Which describer the config asks for, wrapped with timeout and fallback.

Kept apart from `vision.describe` (the shared types and the HTTP backends) because the
local backend in `vision.describe_local` builds on those types: this module sits above both.
"""

from __future__ import annotations

from vision.config import VisionConfig
from vision.describe import (
    Describer,
    FallbackDescriber,
    NoneDescriber,
    OllamaDescriber,
    OpenAIDescriber,
)
from vision.describe_local import DEFAULT_MODEL, TransformersDescriber


def create_describer(config: VisionConfig) -> FallbackDescriber:
    """The configured backend wrapped with timeout and fallback."""
    backend: Describer
    if config.describer == "transformers":
        backend = TransformersDescriber(
            config.model or DEFAULT_MODEL,
            device=config.device,
            max_new_tokens=config.max_new_tokens,
        )
    elif config.describer == "ollama":
        backend = OllamaDescriber(
            config.base_url or "http://127.0.0.1:11434",
            config.model or "qwen2.5vl:3b",
            config.timeout,
        )
    elif config.describer == "openai":
        backend = OpenAIDescriber(
            config.base_url, config.model or "gpt-4o-mini", config.api_key, config.timeout
        )
    else:
        backend = NoneDescriber()
    return FallbackDescriber(backend, config.timeout)
