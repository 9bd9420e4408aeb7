"""LLM providers: OpenAI-compatible chat completions (canonical), Anthropic, or none.

Messages and tool schemas use the OpenAI chat format throughout the brain; the
Anthropic provider translates at its boundary. Vendor errors become `LLMError`
with a `kind` (auth, quota, unreachable, no_tools, not_found, rate_limited,
bad_request) and one sentence the owner can act on. Tool calls that a local
server left as text in the reply are parsed here (see `textcalls`), so the
loop only ever sees `tool_calls`.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.brain.config import BrainConfig
from agent.brain.textcalls import extract_calls

log = logging.getLogger(__name__)


# Errors that the next call will hit again: they open the brain's breaker.
PERSISTENT_KINDS = frozenset({"auth", "quota", "no_tools", "not_found"})


class LLMError(Exception):
    """The model could not answer; `kind` says why, the message says what to do."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def persistent(self) -> bool:
        """Whether retrying soon is pointless (bad key, no quota, no tool support...)."""
        return self.kind in PERSISTENT_KINDS


@dataclass(frozen=True)
class ToolCallRequest:
    """One tool call the model asked for (arguments are raw JSON text, maybe malformed)."""

    id: str
    name: str
    arguments: str


@dataclass
class Completion:
    """One model answer: text, tool calls, or both."""

    text: str | None
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # "stop", "tool_calls", "length" (cut off by max_tokens or the context)...
    finish_reason: str | None = None
    # The calls were parsed out of the text (the server did not parse them).
    calls_from_text: bool = False

    @property
    def cut_off(self) -> bool:
        """Whether the answer stopped at the length limit."""
        return self.finish_reason in ("length", "max_tokens")

    def assistant_message(self) -> dict[str, Any]:
        """This answer as an OpenAI-format assistant message (for the history)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in self.tool_calls
            ]
        return message


class Provider(Protocol):
    """Something that completes a chat, optionally with tools."""

    name: str
    model: str

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> Completion:
        """One model call; raises LLMError."""
        ...

    async def close(self) -> None:
        """Release HTTP resources."""
        ...


def _no_tools_hint(text: str) -> bool:
    lowered = text.lower()
    return "tool" in lowered and any(
        w in lowered for w in ("support", "not enabled", "jinja", "auto-tool", "unsupported")
    )


class OpenAIProvider:
    """Any OpenAI-compatible server (OpenAI, Ollama, llama.cpp, vLLM, LM Studio...)."""

    name = "openai"

    def __init__(self, config: BrainConfig) -> None:
        import openai

        self._openai = openai
        self.model = config.model or "gpt-4o-mini"
        self.base_url = config.base_url
        self.max_tokens = config.max_tokens
        # The SDK retries connection errors, 408/409/429 and 5xx with exponential
        # backoff; auth and bad requests are not retried.
        self.client = openai.AsyncOpenAI(
            base_url=config.base_url,
            # Local servers (Ollama, llama.cpp) ignore the key but the SDK wants one.
            api_key=config.api_key or "not-needed",
            timeout=config.timeout,
            max_retries=config.max_retries,
        )

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> Completion:
        """One chat completion; vendor errors become LLMError."""
        openai = self._openai
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if tools:
            kwargs["tools"] = tools
        if self.max_tokens:
            kwargs["max_tokens"] = self.max_tokens
        where = self.base_url or "api.openai.com"
        try:
            response = await self.client.chat.completions.create(**kwargs)
        except openai.AuthenticationError:
            raise LLMError(
                "auth", f"The LLM server at {where} refused the API key (check brain.api_key)."
            ) from None
        except openai.PermissionDeniedError as err:
            raise LLMError("auth", f"The LLM server refused access: {_message(err)}") from None
        except openai.NotFoundError as err:
            raise LLMError(
                "not_found",
                f"The LLM server at {where} does not know model {self.model!r} "
                f"(check brain.model): {_message(err)}",
            ) from None
        except openai.RateLimitError as err:
            if _code(err) == "insufficient_quota":
                raise LLMError(
                    "quota", f"The LLM account at {where} is out of quota: {_message(err)}"
                ) from None
            raise LLMError(
                "rate_limited", "The LLM server is rate limiting us; try later."
            ) from None
        except (openai.APIConnectionError, openai.APITimeoutError) as err:
            how = (
                "no answer in time" if isinstance(err, openai.APITimeoutError) else "no connection"
            )
            raise LLMError(
                "unreachable", f"Cannot reach the LLM server at {where} ({how})."
            ) from None
        except openai.APIStatusError as err:
            text = _message(err)
            if tools and _no_tools_hint(text):
                raise LLMError(
                    "no_tools",
                    f"Model {self.model!r} does not support tool calls ({text}). Pick a model "
                    "with function calling (llama.cpp needs --jinja, vLLM "
                    "--enable-auto-tool-choice).",
                ) from None
            raise LLMError("bad_request", f"The LLM server said: {text}") from None
        if not response.choices:
            raise LLMError("bad_response", "The LLM server sent an empty answer.")
        choice = response.choices[0]
        message = choice.message
        calls = [
            ToolCallRequest(c.id or _call_id(), c.function.name, c.function.arguments or "")
            for c in message.tool_calls or []
            if getattr(c, "function", None) is not None
        ]
        usage = response.usage
        completion = Completion(
            message.content,
            calls,
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
            choice.finish_reason,
        )
        return with_text_calls(completion, tools)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.close()


class AnthropicProvider:
    """Anthropic's messages API (optional extra), translated to the OpenAI shapes."""

    name = "anthropic"

    def __init__(self, config: BrainConfig) -> None:
        try:
            import anthropic
        except ImportError:
            raise LLMError(
                "missing", "provider anthropic needs the extra: pip install 'homeclaw[anthropic]'"
            ) from None
        self._anthropic = anthropic
        self.model = config.model or "claude-sonnet-4-5"
        self.max_tokens = config.max_tokens or 1024
        self.client = anthropic.AsyncAnthropic(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
        )

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> Completion:
        """One messages call; vendor errors become LLMError."""
        anthropic = self._anthropic
        system, converted = to_anthropic(messages)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": converted,
        }
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = [
                {
                    "name": t["function"]["name"],
                    "description": t["function"]["description"],
                    "input_schema": t["function"]["parameters"],
                }
                for t in tools
            ]
        try:
            response = await self.client.messages.create(**kwargs)
        except anthropic.AuthenticationError:
            raise LLMError("auth", "Anthropic refused the API key (check brain.api_key).") from None
        except anthropic.NotFoundError:
            raise LLMError("not_found", f"Anthropic does not know model {self.model!r}.") from None
        except anthropic.RateLimitError:
            raise LLMError("rate_limited", "Anthropic is rate limiting us; try later.") from None
        except (anthropic.APIConnectionError, anthropic.APITimeoutError):
            raise LLMError("unreachable", "Cannot reach Anthropic's API.") from None
        except anthropic.APIStatusError as err:
            raise LLMError("bad_request", f"Anthropic said: {_message(err)}") from None
        texts: list[str] = []
        calls: list[ToolCallRequest] = []
        for block in response.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                calls.append(ToolCallRequest(block.id, block.name, json.dumps(block.input)))
        return Completion(
            "".join(texts) or None,
            calls,
            response.usage.input_tokens,
            response.usage.output_tokens,
            response.stop_reason,
        )

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.close()


def to_anthropic(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """OpenAI-format messages → (system text, Anthropic messages)."""
    system_parts: list[str] = []
    out: list[dict[str, Any]] = []

    def add(role: str, block: dict[str, Any]) -> None:
        # Anthropic wants alternating roles: merge consecutive blocks of one role.
        if out and out[-1]["role"] == role:
            out[-1]["content"].append(block)
        else:
            out.append({"role": role, "content": [block]})

    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role == "system":
            if not out:
                system_parts.append(str(content or ""))
            else:  # per-turn context after the history: give it as user-side context
                add("user", {"type": "text", "text": f"[context]\n{content}"})
        elif role == "tool":
            add(
                "user",
                {
                    "type": "tool_result",
                    "tool_use_id": message.get("tool_call_id", ""),
                    "content": str(content or ""),
                },
            )
        elif role == "assistant":
            if content:
                add("assistant", {"type": "text", "text": str(content)})
            for call in message.get("tool_calls") or []:
                try:
                    args = json.loads(call["function"].get("arguments") or "{}")
                except json.JSONDecodeError:
                    args = {}
                add(
                    "assistant",
                    {
                        "type": "tool_use",
                        "id": call["id"],
                        "name": call["function"]["name"],
                        "input": args if isinstance(args, dict) else {},
                    },
                )
        else:
            text = content if isinstance(content, str) else json.dumps(content)
            add("user", {"type": "text", "text": text})
    return "\n\n".join(system_parts), out


def with_text_calls(completion: Completion, tools: list[dict[str, Any]] | None) -> Completion:
    """The completion with tool calls written as text moved into `tool_calls`."""
    if completion.tool_calls or not tools or not completion.text:
        return completion
    names = [t["function"]["name"] for t in tools]
    text, found = extract_calls(completion.text, names)
    if not found:
        return completion
    log.info("model wrote %d tool call(s) as text; parsed them", len(found))
    completion.text = text or None
    completion.tool_calls = [ToolCallRequest(_call_id(), c.name, c.arguments) for c in found]
    completion.calls_from_text = True
    return completion


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


def _code(err: Exception) -> str | None:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("code"), str):
            return str(inner["code"])
    code = getattr(err, "code", None)
    return code if isinstance(code, str) else None


def _message(err: Exception) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return str(getattr(err, "message", None) or err)
