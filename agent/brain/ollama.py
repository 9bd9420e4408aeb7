"""Ollama's native chat API (`/api/chat`), which, unlike its OpenAI-compatible
endpoint, takes the context window per request (`options.num_ctx`).

Why a provider of its own: Ollama runs a model with its default context (4,096
tokens on machines with < 24 GiB of VRAM in current releases, 2,048 in older
ones) unless told otherwise, and it drops the start of a longer prompt without
an error. For homeclaw the start is the system prompt: the rules and the
house. `/v1/chat/completions` accepts no `num_ctx`, so on that endpoint the
only cures are server-side (OLLAMA_CONTEXT_LENGTH, a Modelfile); here the
provider sets it on every request and warns when the prompt would not fit.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import aiohttp

from agent.brain.config import BrainConfig
from agent.brain.history import estimate_tokens
from agent.brain.providers import Completion, LLMError, ToolCallRequest, with_text_calls

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:11434"
DEFAULT_NUM_CTX = 8192
# Ollama's own default when nothing sets num_ctx (docs: context length, < 24 GiB VRAM).
OLLAMA_DEFAULT_CTX = 4096


def ollama_root(base_url: str | None) -> str:
    """The server's root URL, whether the owner wrote it with /v1 (the OpenAI path) or not."""
    root = (base_url or DEFAULT_URL).rstrip("/")
    return root.removesuffix("/v1").removesuffix("/api")


def looks_like_ollama(base_url: str | None) -> bool:
    """Whether an OpenAI-compatible base_url points at an Ollama server (its usual port)."""
    return bool(base_url) and (":11434" in str(base_url) or "ollama" in str(base_url).lower())


class OllamaProvider:
    """Chat completions through Ollama's `/api/chat`, with `num_ctx` set on every request."""

    name = "ollama"

    def __init__(self, config: BrainConfig) -> None:
        if not config.model:
            raise LLMError("missing", "provider ollama needs brain.model (e.g. qwen3:4b)")
        self.model = config.model
        self.root = ollama_root(config.base_url)
        self.num_ctx = config.num_ctx or DEFAULT_NUM_CTX
        self.max_tokens = config.max_tokens
        self.timeout = config.timeout
        self.last_prompt_tokens: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._warned = False

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> Completion:
        """One non-streaming chat call; errors become LLMError."""
        self._check_fits(messages, tools)
        options: dict[str, Any] = {"num_ctx": self.num_ctx}
        if self.max_tokens:
            options["num_predict"] = self.max_tokens
        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_ollama(messages),
            "stream": False,
            "options": options,
        }
        if tools:
            body["tools"] = tools
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = f"{self.root}/api/chat"
        try:
            async with self._session.post(
                url, json=body, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise LLMError(
                "unreachable", f"Cannot reach Ollama at {self.root} ({type(err).__name__})."
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = {"error": text[:200]}
        if status >= 400 or "error" in data:
            raise _error(status, str(data.get("error", text[:200])), self.model, bool(tools))
        message = data.get("message") or {}
        calls = [
            ToolCallRequest(
                f"call_{uuid.uuid4().hex[:12]}",
                str(call.get("function", {}).get("name", "")),
                _arguments(call.get("function", {}).get("arguments")),
            )
            for call in message.get("tool_calls") or []
        ]
        self.last_prompt_tokens = data.get("prompt_eval_count")
        completion = Completion(
            message.get("content") or None,
            calls,
            data.get("prompt_eval_count"),
            data.get("eval_count"),
            data.get("done_reason"),
        )
        return with_text_calls(completion, tools)

    def _check_fits(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
    ) -> None:
        """Warn (once) when the prompt would not fit num_ctx: Ollama would cut its start."""
        estimate = estimate_tokens(messages) + estimate_tokens(tools or [])
        if estimate > self.num_ctx * 0.9 and not self._warned:
            self._warned = True
            log.warning(
                "the prompt is ~%d tokens but brain.num_ctx is %d: Ollama would drop its "
                "start (the rules and the house); raise brain.num_ctx",
                estimate,
                self.num_ctx,
            )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def to_ollama(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-format messages → Ollama's (tool call arguments are objects, not strings)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        converted: dict[str, Any] = {
            "role": message.get("role"),
            "content": message.get("content") or "",
        }
        if message.get("tool_calls"):
            converted["tool_calls"] = [
                {
                    "function": {
                        "name": call["function"]["name"],
                        "arguments": _object(call["function"].get("arguments")),
                    }
                }
                for call in message["tool_calls"]
            ]
        out.append(converted)
    return out


def _object(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    try:
        value = json.loads(arguments or "{}")
    except (TypeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _arguments(value: Any) -> str:
    """Ollama sends arguments as an object; the brain keeps them as JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {})


def _error(status: int, message: str, model: str, with_tools: bool) -> LLMError:
    lowered = message.lower()
    if with_tools and "does not support tools" in lowered:
        return LLMError(
            "no_tools",
            f"Model {model!r} does not support tool calls ({message}). Pick a model with "
            "tools in Ollama's library (qwen3, llama3.1+, mistral-nemo...).",
        )
    if status == 404 or "not found" in lowered:
        return LLMError(
            "not_found", f"Ollama does not have model {model!r} (ollama pull {model}): {message}"
        )
    if status in (401, 403):
        return LLMError("auth", f"Ollama refused the request: {message}")
    return LLMError("bad_request", f"Ollama said: {message}")
