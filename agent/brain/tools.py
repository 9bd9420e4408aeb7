"""The tool registry: typed async functions become model tools.

A tool is `async def name(ctx: ToolContext, arg: type = default, ...) -> result`
with a docstring. Its JSON schema is generated from the signature by pydantic,
arguments are validated before the call, and every failure comes back as a
structured result `{"error": kind, "detail": ...}` for the model, never a crash.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from agent.errors import HomeError

log = logging.getLogger(__name__)


@dataclass
class ToolContext:
    """Who is asking, through which channel, and with what standing."""

    channel: str
    sender: str
    role: str = "owner"
    conversation: str = ""
    # The person's name (the same on every channel): limits on codes count per person.
    person: str = ""
    runtime: Any = None
    # Set when the text that led to this call did not come from the owner
    # (camera descriptions, device names, heartbeat notes...).
    untrusted: bool = False
    # The person's own words: this turn's message first, then their last few
    # messages before it (empty when no person typed the turn). Tools that keep
    # or change things on the owner's behalf check them (agent/provenance.py).
    said: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def requested_by(self) -> str:
        """How the command log names this caller."""
        return f"{self.channel}:{self.sender}"


@dataclass
class ToolResult:
    """What a tool call produced, as the model will see it."""

    ok: bool
    value: Any = None
    error: str | None = None
    detail: str | None = None

    def to_model(self) -> str:
        """The JSON string sent back to the model."""
        if self.ok:
            return json.dumps(self.value, default=str, ensure_ascii=False)
        return json.dumps({"error": self.error, "detail": self.detail}, ensure_ascii=False)

    def to_json(self) -> Any:
        """The result as JSON for APIs."""
        return self.value if self.ok else {"error": self.error, "detail": self.detail}


ToolFn = Callable[..., Awaitable[Any]]


@dataclass
class Tool:
    """One registered tool."""

    name: str
    description: str
    fn: ToolFn
    params: type[BaseModel]
    timeout: float | None = None
    # Offered to the model only while this says so (a vacuum tool in a home with
    # no vacuum is prompt spent on nothing); calls are accepted either way.
    offered: Callable[[], bool] | None = None

    def on_offer(self) -> bool:
        """Whether the model is shown this tool now."""
        return self.offered is None or self.offered()

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function schema."""
        params = _compact(self.params.model_json_schema())
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": params},
        }


def _compact(node: Any, *, in_properties: bool = False) -> Any:
    """A JSON schema as the model needs it: pydantic's noise removed, meaning kept.

    Drops `title` annotations, defaults, `additionalProperties: false`, and turns
    `anyOf: [X, null]` into X (the parameter is optional either way).
    Arguments are still validated against the full pydantic model. Keys of a
    `properties` mapping are parameter names, so a parameter called "title" survives.
    """
    if isinstance(node, list):
        return [_compact(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:
        return {key: _compact(value) for key, value in node.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = next(o for o in options if o != {"type": "null"})
        node = {**{k: v for k, v in node.items() if k != "anyOf"}, **other}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" or (key, value) == ("additionalProperties", False):
            continue  # what is optional is already said by `required`
        out[key] = _compact(value, in_properties=key in ("properties", "$defs"))
    return out


class ToolRegistry:
    """All tools the brain may call; components register theirs at setup."""

    def __init__(self, default_timeout: float = 20.0) -> None:
        self.tools: dict[str, Tool] = {}
        self.default_timeout = default_timeout

    def register(
        self,
        fn: ToolFn,
        *,
        name: str | None = None,
        timeout: float | None = None,
        offered: Callable[[], bool] | None = None,
    ) -> Tool:
        """Register an async function as a tool (its first parameter is the ToolContext)."""
        tool_name = name or fn.__name__
        doc = inspect.getdoc(fn) or ""
        if not doc:
            raise ValueError(f"tool {tool_name} needs a docstring")
        # The context parameter is often annotated under TYPE_CHECKING only.
        hints = get_type_hints(fn, localns={"ToolContext": ToolContext})
        fields: dict[str, Any] = {}
        params = list(inspect.signature(fn).parameters.values())[1:]
        for param in params:
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[param.name] = (hints.get(param.name, Any), default)
        model = create_model(  # type: ignore[call-overload]
            f"{tool_name}_args",
            # Small models write 21 where a name is expected ("set scene 21"): take it.
            __config__=ConfigDict(extra="forbid", coerce_numbers_to_str=True),
            **fields,
        )
        tool = Tool(tool_name, doc, fn, model, timeout, offered)
        self.tools[tool_name] = tool
        return tool

    def tool(self, fn: ToolFn) -> ToolFn:
        """Decorator form of `register`."""
        self.register(fn)
        return fn

    def schemas(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """Schemas of the tools on offer (or some), in a stable order (keeps prompts cacheable)."""
        chosen = sorted(self.tools) if names is None else [n for n in names if n in self.tools]
        return [self.tools[n].schema() for n in chosen if self.tools[n].on_offer()]
        return [self.tools[n].schema() for n in chosen]

    async def call(
        self, name: str, arguments: str | dict[str, Any], ctx: ToolContext
    ) -> ToolResult:
        """Validate arguments and run a tool; every failure becomes a structured result."""
        tool = self.tools.get(name)
        if tool is None:
            near = difflib.get_close_matches(name, list(self.tools), n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(near)}?" if near else ""
            return ToolResult(
                False,
                error="unknown_tool",
                detail=f"There is no tool {name!r}.{hint} Use only the tools you were given.",
            )
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
                if isinstance(arguments, str):
                    # Arguments encoded twice (a JSON string holding the JSON object): unwrap once.
                    arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as err:
                return ToolResult(
                    False, error="bad_arguments", detail=f"Arguments are not JSON: {err}"
                )
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            return ToolResult(
                False, error="bad_arguments", detail="Arguments must be a JSON object."
            )
        try:
            args = tool.params.model_validate(arguments)
        except ValidationError as err:
            detail = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in err.errors()
            )
            return ToolResult(False, error="bad_arguments", detail=detail)
        try:
            async with asyncio.timeout(tool.timeout or self.default_timeout):
                value = await tool.fn(ctx, **{k: getattr(args, k) for k in type(args).model_fields})
        except HomeError as err:
            return ToolResult(False, error=err.kind, detail=str(err))
        except TimeoutError:
            return ToolResult(False, error="timeout", detail=f"{name} took too long.")
        except Exception as err:  # a tool bug must reach the model as an error, not crash the turn
            log.exception("tool %s raised", name)
            return ToolResult(False, error="tool_failed", detail=f"{type(err).__name__}: {err}")
        return ToolResult(True, value=value)
