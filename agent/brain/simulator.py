"""A fake OpenAI-compatible chat-completions server for tests and the demo
(it also answers Anthropic's `/v1/messages` with the same scripted replies).

It speaks the real wire format on loopback, so the real `openai` SDK is
exercised end to end. Replies are scripted (a queue) or decided by rules
(callables that look at the request); every request is logged.

    llm = FakeLLM()
    await llm.start()                       # http://127.0.0.1:<free port>/v1
    llm.script(
        tool_call("turn_off", {"target": "kitchen lights"}),
        "Done: the kitchen is dark.",
    )
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="test")
    ...
    assert llm.requests[0]["tools"]           # the raw JSON bodies received
    assert "kitchen" in llm.request_text(-1)  # all message text of one request
    await llm.stop()

Reply values accepted by `script`, `rule` and `default`:
- `str`: an assistant text message;
- `ToolCalls` (from `tool_call(...)` / `tool_calls(...)`): one or more calls,
  with arguments as a dict or as a raw (possibly malformed) JSON string;
- `Failure(status, message)`: an HTTP error in OpenAI's error shape;
- `Raw(status, body)`: exact bytes, as a real server sent them (Ollama's 400
  "does not support tools", llama.cpp's 500 without --jinja...);
- `Reply(text=..., calls=[...], delay=..., finish_reason=...)`: the general
  form (`finish_reason="length"` for an answer cut off by max_tokens).
A rule returning None passes to the next rule, then to the script queue,
then to the default reply.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from agent.demo.simulation import free_port


@dataclass(frozen=True)
class Call:
    """One scripted tool call; `arguments` may be a raw string to simulate bad JSON."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted assistant turn: text, tool calls, or both; optionally slow."""

    text: str | None = None
    calls: tuple[Call, ...] = ()
    delay: float = 0.0
    prompt_tokens: int | None = None
    finish_reason: str | None = None


@dataclass(frozen=True)
class Failure:
    """An HTTP error reply (401 bad key, 404 unknown model, 400 no tool support, 500...)."""

    status: int
    message: str = "error"
    type: str = "invalid_request_error"
    code: str | None = None


@dataclass(frozen=True)
class Raw:
    """A reply sent byte for byte (status, body, content type), whatever the route."""

    status: int
    body: bytes
    content_type: str = "application/json"


ToolCalls = Reply
ReplyLike = str | Reply | Failure | Raw
Rule = Callable[[dict[str, Any]], "ReplyLike | Awaitable[ReplyLike | None] | None"]


def tool_call(name: str, arguments: dict[str, Any] | str | None = None) -> Reply:
    """A reply asking for one tool call."""
    return Reply(calls=(Call(name, {} if arguments is None else arguments),))


def tool_calls(*calls: tuple[str, dict[str, Any] | str] | Call) -> Reply:
    """A reply asking for several tool calls at once (parallel tool calls)."""
    return Reply(calls=tuple(c if isinstance(c, Call) else Call(c[0], c[1]) for c in calls))


def message_text(message: dict[str, Any]) -> str:
    """The text of one chat message (string content or text parts)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def last_user_text(request: dict[str, Any]) -> str:
    """The text of the last user message of a request (handy in rules)."""
    for message in reversed(request.get("messages", [])):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def has_tool_results(request: dict[str, Any]) -> bool:
    """Whether the request's last message is a tool result (the model's second round)."""
    messages = request.get("messages", [])
    if not messages:
        return False
    last = messages[-1]
    if last.get("role") == "tool":
        return True
    content = last.get("content")
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )


class FakeLLM:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 with scripted replies."""

    def __init__(
        self,
        *,
        model: str = "fake-model",
        default: ReplyLike = "OK.",
        host: str = "127.0.0.1",
        context: int | None = None,
    ) -> None:
        self.model = model
        # Like Ollama: the context the model runs with when a request sets no num_ctx
        # (None: unlimited). A longer prompt loses its start; `truncated` logs it.
        self.context = context
        self.truncated: list[bool] = []
        self.default: ReplyLike = default
        self.host = host
        self.port = 0
        self.requests: list[dict[str, Any]] = []
        self.api_keys: list[str] = []
        self._queue: list[ReplyLike] = []
        self._rules: list[Rule] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> FakeLLM:
        """Listen on a free loopback port; returns self."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/messages", self._anthropic_messages)
        app.router.add_post("/api/chat", self._ollama_chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port(self.host)
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeLLM:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The `base_url` to give the OpenAI SDK (ends in /v1)."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The `base_url` to give the Anthropic SDK (it adds /v1/messages itself)."""
        return f"http://{self.host}:{self.port}"

    # -- scripting -------------------------------------------------------------

    def script(self, *replies: ReplyLike) -> FakeLLM:
        """Queue replies, served in order to the next requests."""
        self._queue.extend(replies)
        return self

    def rule(self, fn: Rule) -> FakeLLM:
        """Add a rule: `fn(request_json)` returns a reply, or None to pass."""
        self._rules.append(fn)
        return self

    def clear(self) -> None:
        """Forget queued replies, rules and the request log."""
        self._queue.clear()
        self._rules.clear()
        self.requests.clear()
        self.api_keys.clear()

    @property
    def pending(self) -> int:
        """How many scripted replies have not been served yet."""
        return len(self._queue)

    def request_text(self, index: int = -1) -> str:
        """All message text of one logged request (system, user, assistant, tool)."""
        request = self.requests[index]
        parts = [message_text(m) for m in request.get("messages", [])]
        for message in request.get("messages", []):
            for call in message.get("tool_calls") or []:
                parts.append(json.dumps(call.get("function", {})))
        return "\n".join(parts)

    # -- serving ---------------------------------------------------------------

    async def _decide(self, body: dict[str, Any]) -> ReplyLike:
        for rule in self._rules:
            result = rule(body)
            if asyncio.iscoroutine(result):
                result = await result
            if result is not None:
                return result  # type: ignore[return-value]
        if self._queue:
            return self._queue.pop(0)
        return self.default

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "messages is required")
        self.requests.append(body)
        self.api_keys.append(request.headers.get("Authorization", "").removeprefix("Bearer "))
        body = self._fit(body, None)
        reply = await self._decide(body)
        if isinstance(reply, Raw):
            return _raw(reply)
        if isinstance(reply, Failure):
            return _error(reply.status, reply.message, reply.type, reply.code)
        if isinstance(reply, str):
            reply = Reply(text=reply)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        calls = [
            {
                "id": call.id or f"call_{next(self._ids)}",
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.arguments
                    if isinstance(call.arguments, str)
                    else json.dumps(call.arguments),
                },
            }
            for call in reply.calls
        ]
        if calls:
            message["tool_calls"] = calls
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        prompt_tokens = reply.prompt_tokens or len(json.dumps(body)) // 4
        completion_tokens = len(json.dumps(message)) // 4
        completion_id = f"chatcmpl-{next(self._ids)}"
        if body.get("stream"):
            return await self._stream(request, completion_id, message, finish)
        return web.json_response(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model") or self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def _stream(
        self, request: web.Request, completion_id: str, message: dict[str, Any], finish: str
    ) -> web.StreamResponse:
        """Server-sent events: text in one delta, each tool call in one delta."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(delta: dict[str, Any], finish_reason: str | None = None) -> None:
            chunk = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": message.get("content") or ""})
        for index, call in enumerate(message.get("tool_calls", [])):
            await send({"tool_calls": [{"index": index, **call}]})
        await send({}, finish)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _anthropic_messages(self, request: web.Request) -> web.Response:
        """The same scripted replies in Anthropic's messages format."""
        try:
            body = await request.json()
        except ValueError:
            return _anthropic_error(400, "body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _anthropic_error(400, "messages is required")
        self.requests.append(body)
        self.api_keys.append(
            request.headers.get("x-api-key")
            or request.headers.get("Authorization", "").removeprefix("Bearer ")
        )
        reply = await self._decide(body)
        if isinstance(reply, Raw):
            return _raw(reply)
        if isinstance(reply, Failure):
            kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}
            return _anthropic_error(reply.status, reply.message, kind.get(reply.status))
        if isinstance(reply, str):
            reply = Reply(text=reply)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for call in reply.calls:
            try:
                arguments = (
                    json.loads(call.arguments)
                    if isinstance(call.arguments, str)
                    else call.arguments
                )
            except json.JSONDecodeError:
                arguments = {}  # Anthropic always sends an object
            content.append(
                {
                    "type": "tool_use",
                    "id": call.id or f"toolu_{next(self._ids)}",
                    "name": call.name,
                    "input": arguments if isinstance(arguments, dict) else {},
                }
            )
        return web.json_response(
            {
                "id": f"msg_{next(self._ids)}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model") or self.model,
                "content": content,
                "stop_reason": "tool_use" if reply.calls else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": len(json.dumps(body)) // 4, "output_tokens": 10},
            }
        )

    def _fit(self, body: dict[str, Any], num_ctx: int | None) -> dict[str, Any]:
        """The request as the model sees it: cut from the front when over the context."""
        context = num_ctx or self.context
        messages = list(body.get("messages", []))
        cut = False
        while context and len(messages) > 1 and _tokens(messages, body) > context:
            messages.pop(0)  # the oldest first: the system prompt goes before anything else
            cut = True
        self.truncated.append(cut)
        return {**body, "messages": messages} if cut else body

    async def _ollama_chat(self, request: web.Request) -> web.Response:
        """Ollama's native `/api/chat` (non-streaming), with `options.num_ctx`."""
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return web.json_response({"error": "messages is required"}, status=400)
        self.requests.append(body)
        self.api_keys.append("")
        options = body.get("options") or {}
        seen = self._fit(body, options.get("num_ctx"))
        reply = await self._decide(seen)
        if isinstance(reply, Raw):
            return _raw(reply)
        if isinstance(reply, Failure):
            return web.json_response({"error": reply.message}, status=reply.status)
        if isinstance(reply, str):
            reply = Reply(text=reply)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or ""}
        if reply.calls:
            message["tool_calls"] = [
                {
                    "function": {
                        "name": call.name,
                        "arguments": json.loads(call.arguments)
                        if isinstance(call.arguments, str)
                        else call.arguments,
                    }
                }
                for call in reply.calls
            ]
        return web.json_response(
            {
                "model": body.get("model") or self.model,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "message": message,
                "done": True,
                "done_reason": reply.finish_reason or "stop",
                "prompt_eval_count": reply.prompt_tokens or _tokens(seen["messages"], seen),
                "eval_count": len(json.dumps(message)) // 4,
            }
        )

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
        )


def _tokens(messages: list[dict[str, Any]], body: dict[str, Any]) -> int:
    """A rough token count of a prompt (messages and tool schemas), chars / 4."""
    return len(json.dumps(messages)) // 4 + len(json.dumps(body.get("tools") or [])) // 4


def _raw(reply: Raw) -> web.Response:
    return web.Response(
        status=reply.status, body=reply.body, headers={"Content-Type": reply.content_type}
    )


def _anthropic_error(status: int, message: str, kind: str | None = None) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": kind or "invalid_request_error", "message": message}},
        status=status,
    )


def _error(
    status: int, message: str, kind: str = "invalid_request_error", code: Any = None
) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status
    )
