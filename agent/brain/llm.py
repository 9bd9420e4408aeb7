"""The LLM the config asks for: `make_provider` picks the provider class.

Kept apart from `agent.brain.providers` (the Provider protocol, shared types, the OpenAI and
Anthropic providers) because `agent.brain.ollama` builds on those: this module sits above both.
"""

from __future__ import annotations

from agent.brain.config import BrainConfig
from agent.brain.ollama import OllamaProvider
from agent.brain.providers import AnthropicProvider, OpenAIProvider, Provider


def make_provider(config: BrainConfig) -> Provider | None:
    """The configured provider, or None when no LLM is configured."""
    if config.provider == "none":
        return None
    if config.provider == "anthropic":
        return AnthropicProvider(config)
    if config.provider == "ollama":
        return OllamaProvider(config)
    return OpenAIProvider(config)
