"""Tool calls that a model wrote as text instead of in the `tool_calls` field.

Local servers pass a model's raw output through when their chat template does
not parse it (llama.cpp without --jinja, Ollama with some templates, vLLM
without a tool parser). The shapes seen in the wild:

- Hermes/Qwen: `<tool_call>{"name": "turn_off", "arguments": {...}}</tool_call>`,
  one block per call, the closing tag sometimes missing at the end;
- a fenced block: ```` ```json {"name": ..., "arguments": {...}} ``` ````
  (or a list of such objects);
- Llama 3.x: `<|python_tag|>{"name": ..., "parameters": {...}}`, maybe
  followed by `<|eom_id|>` / `<|eot_id|>`, or the same JSON as the whole reply.

Only objects naming a tool the model was offered are taken as calls, so a
reply that merely shows some JSON stays text. What is left after the calls are
cut out is returned as the reply's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
FENCED = re.compile(r"```(?:json|tool_call|tool_code)?\s*\n?(.*?)```", re.S)
PYTHON_TAG = re.compile(r"<\|python_tag\|>\s*(.*?)\s*(?:<\|eom_id\|>|<\|eot_id\|>|$)", re.S)
SPECIAL_TOKENS = re.compile(r"<\|(?:eom_id|eot_id|python_tag|im_end)\|>")
NAME_KEYS = ("name", "tool", "function", "tool_name")
ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")


@dataclass(frozen=True)
class TextCall:
    """One call found in the text: the tool's name and its arguments as JSON text."""

    name: str
    arguments: str


def extract_calls(text: str, tool_names: Iterable[str]) -> tuple[str, list[TextCall]]:
    """Calls written as text in a reply, and the reply's text without them."""
    names = set(tool_names)
    if not text or not names:
        return text, []
    for pattern in (TAGGED, PYTHON_TAG, FENCED):
        calls: list[TextCall] = []
        spans: list[tuple[int, int]] = []
        for match in pattern.finditer(text):
            found = _calls_in(match.group(1), names)
            if found:
                calls.extend(found)
                spans.append(match.span())
        if calls:
            return _cut(text, spans), calls
    # The whole reply is one JSON call (Llama 3.2 without the python tag).
    stripped = SPECIAL_TOKENS.sub("", text).strip()
    if stripped.startswith(("{", "[")):
        found = _calls_in(stripped, names)
        if found:
            return "", found
    return text, []


def _calls_in(blob: str, names: set[str]) -> list[TextCall]:
    """The calls in one JSON blob (an object, a list of objects, or `name(args)` JSON)."""
    try:
        value = json.loads(blob)
    except json.JSONDecodeError:
        value = _first_json_object(blob)
        if value is None:
            return []
    items = value if isinstance(value, list) else [value]
    calls: list[TextCall] = []
    for item in items:
        call = _as_call(item, names)
        if call is None:
            return []  # a list with anything else in it is data, not calls
        calls.append(call)
    return calls


def _as_call(item: Any, names: set[str]) -> TextCall | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("function"), dict):  # OpenAI's own shape, written out as text
        item = item["function"]
    name = next((item[k] for k in NAME_KEYS if isinstance(item.get(k), str)), None)
    if name not in names:
        return None
    arguments: Any = next((item[k] for k in ARGUMENT_KEYS if k in item), {})
    if isinstance(arguments, str):
        return TextCall(name, arguments)
    return TextCall(name, json.dumps(arguments if arguments is not None else {}))


def _first_json_object(blob: str) -> Any:
    """The first complete JSON value starting at a `{` in some text, or None."""
    decoder = json.JSONDecoder()
    start = blob.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(blob, start)
            return value
        except json.JSONDecodeError:
            start = blob.find("{", start + 1)
    return None


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    kept: list[str] = []
    position = 0
    for start, end in spans:
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return SPECIAL_TOKENS.sub("", "".join(kept)).strip()
