"""Describers: a vision model looks at an event's keyframes and says what happened.

Every backend returns the same `Description` (title, description, notable,
labels, carrier). The text a model returns is UNTRUSTED: it is cleaned, cut
short and only ever shown to people; nothing that acts on devices reads it.
A backend that fails or times out falls back to `none` (the photo plus the
motion facts), so an alert is never lost to a broken model server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)

LABEL_WORDS = {
    "person": r"person|people|man|woman|someone|somebody|child|kid|courier|delivery (?:man|driver)",
    "vehicle": r"car|truck|van|vehicle|suv|motorcycle|bike|bicycle|lorry|bus",
    "package": r"package|parcel|box|delivery",
    "animal": r"cat|dog|animal|bird|deer|fox|raccoon|squirrel",
}
CARRIERS = {
    "fedex": "FedEx",
    "ups": "UPS",
    "amazon": "Amazon",
    "dhl": "DHL",
    "usps": "USPS",
    "royal mail": "Royal Mail",
}
NO_ACTIVITY = re.compile(r"\bno (?:activity|motion|one|people|person)\b|nothing (?:is )?happening")

PROMPT = (
    "You watch a home security camera named {camera}{area}. Look at the image(s) "
    "and answer with ONE JSON object and nothing else: "
    '{{"title": "<alert under 10 words, e.g. FedEx truck just pulled up>", '
    '"description": "<one factual sentence>", "notable": <true if a person, vehicle, '
    'package or animal is present or arriving>, "labels": [<any of person, vehicle, '
    'package, animal>], "carrier": "<FedEx, UPS, Amazon, DHL, USPS when its branding '
    'is visible, else null>"}}. If nothing is happening, use the title "No activity" '
    "and notable false. Describe only what is visible; do not guess."
)
PROMPT_SHORT = (
    "This is a security camera picture ({camera}). In one short sentence, say what is "
    "happening. Name the delivery company if its logo is visible. If nothing is "
    'happening, answer "No activity".'
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "notable": {"type": "boolean"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "carrier": {"type": ["string", "null"]},
    },
    "required": ["title", "notable", "labels"],
}


class DescriberUnavailable(Exception):
    """The backend cannot be used (not installed, cannot load, unreachable)."""


@dataclass(frozen=True)
class Description:
    """What a describer saw in an event (all text untrusted)."""

    title: str
    description: str = ""
    notable: bool = True
    labels: tuple[str, ...] = ()
    carrier: str | None = None
    backend: str = "none"
    error: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The description as JSON."""
        return {
            "title": self.title,
            "description": self.description,
            "notable": self.notable,
            "labels": list(self.labels),
            "carrier": self.carrier,
            "backend": self.backend,
            "error": self.error,
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class Request:
    """What a describer is asked about: JPEG keyframes and the motion facts."""

    camera: str
    images: tuple[bytes, ...]
    area: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


class Describer(Protocol):
    """One backend."""

    name: str

    async def describe(self, request: Request) -> Description:
        """Describe an event (may raise DescriberUnavailable or time out)."""
        ...

    def status(self) -> dict[str, Any]:
        """Loaded / loading / failed, for the health report."""
        ...


def clean(text: str, limit: int) -> str:
    """Untrusted model text made safe to show: no control characters, no markup, short."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", str(text))
    text = re.sub(r"[<>`*_#\[\]]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _labels_from(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    return tuple(
        label for label, words in LABEL_WORDS.items() if re.search(rf"\b(?:{words})s?\b", lowered)
    )


def _carrier_from(text: str) -> str | None:
    lowered = text.lower().replace("fed ex", "fedex")
    for key, name in CARRIERS.items():
        if re.search(rf"\b{key}\b", lowered):
            return name
    return None


def parse_reply(text: str, backend: str) -> Description:
    """A model's reply (JSON object or a plain sentence) as a Description."""
    data: dict[str, Any] | None = None
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match:
        try:
            loaded = json.loads(match.group(0))
            data = loaded if isinstance(loaded, dict) else None
        except json.JSONDecodeError:
            data = None
    if data is not None:
        title = clean(data.get("title") or data.get("description") or "", 80)
        body = clean(data.get("description") or "", 300)
        raw_labels = data.get("labels") or []
        labels = tuple(
            lbl for lbl in LABEL_WORDS if isinstance(raw_labels, list) and lbl in raw_labels
        ) or _labels_from(f"{title} {body}")
        carrier_raw = data.get("carrier")
        carrier = _carrier_from(str(carrier_raw)) if carrier_raw else None
        carrier = carrier or _carrier_from(f"{title} {body}")
        quiet = bool(NO_ACTIVITY.search(title.lower())) or not title
        notable = bool(data.get("notable", bool(labels))) and not quiet
        return Description(title or "No activity", body, notable, labels, carrier, backend)
    sentence = clean(text, 300)
    title = clean(re.split(r"(?<=[.!?])\s", sentence, maxsplit=1)[0].rstrip("."), 80)
    quiet = not sentence or bool(NO_ACTIVITY.search(sentence.lower()))
    labels = () if quiet else _labels_from(sentence)
    return Description(
        title or "No activity",
        sentence,
        bool(labels) and not quiet,
        labels,
        _carrier_from(sentence),
        backend,
    )


def describe_facts(request: Request) -> Description:
    """The `none` describer: motion facts only (where, how big, how long)."""
    facts = request.facts
    where = facts.get("where") or "in view"
    size = facts.get("size") or "some"
    seconds = facts.get("duration")
    span = f" for {seconds:.0f} s" if isinstance(seconds, int | float) and seconds >= 1 else ""
    return Description(
        title=f"Motion on the {request.camera} camera",
        description=f"{str(size).capitalize()} movement {where}{span}.",
        notable=True,
        labels=("motion",),
        backend="none",
    )


class NoneDescriber:
    """No model: the photo and the motion facts."""

    name = "none"

    async def describe(self, request: Request) -> Description:
        """Motion facts as a description."""
        return describe_facts(request)

    def status(self) -> dict[str, Any]:
        """Always ready."""
        return {"backend": "none", "status": "ready"}


def _prompt(request: Request, template: str = PROMPT) -> str:
    area = f" ({request.area})" if request.area else ""
    return template.format(camera=request.camera, area=area)


class OllamaDescriber:
    """An Ollama server's /api/chat with a vision model (images as bare base64)."""

    name = "ollama"

    def __init__(self, base_url: str, model: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.last_error = ""

    async def describe(self, request: Request) -> Description:
        """POST the keyframes to /api/chat and parse the JSON reply."""
        body = {
            "model": self.model,
            "stream": False,
            "format": SCHEMA,
            "options": {"temperature": 0},
            "messages": [
                {
                    "role": "user",
                    "content": _prompt(request),
                    "images": [base64.b64encode(i).decode() for i in request.images],
                }
            ],
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(f"{self.base_url}/api/chat", json=body) as resp,
            ):
                if resp.status != 200:
                    detail = (await resp.text())[:200]
                    raise DescriberUnavailable(f"ollama answered {resp.status}: {detail}")
                data = await resp.json(content_type=None)
        except aiohttp.ClientError as err:
            raise DescriberUnavailable(f"ollama at {self.base_url} unreachable: {err}") from None
        content = ((data or {}).get("message") or {}).get("content") or ""
        return parse_reply(str(content), self.name)

    def status(self) -> dict[str, Any]:
        """Where the server is."""
        return {"backend": self.name, "model": self.model, "url": self.base_url}


class OpenAIDescriber:
    """Any OpenAI-compatible chat-completions endpoint with image input."""

    name = "openai"

    def __init__(self, base_url: str | None, model: str, api_key: str | None, timeout: float):
        import openai

        self.model = model
        self.client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0
        )

    async def describe(self, request: Request) -> Description:
        """Send the keyframes as data: URLs and parse the reply."""
        import openai

        content: list[dict[str, Any]] = [{"type": "text", "text": _prompt(request)}]
        for image in request.images:
            url = "data:image/jpeg;base64," + base64.b64encode(image).decode()
            content.append({"type": "image_url", "image_url": {"url": url}})
        try:
            reply = await self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": content}],  # type: ignore[list-item,misc]
                max_tokens=200,
                temperature=0,
            )
        except openai.OpenAIError as err:
            raise DescriberUnavailable(f"vision endpoint failed: {err}") from None
        text = reply.choices[0].message.content if reply.choices else ""
        return parse_reply(text or "", self.name)

    def status(self) -> dict[str, Any]:
        """Which endpoint."""
        return {"backend": self.name, "model": self.model, "url": str(self.client.base_url)}


class FallbackDescriber:
    """Wraps a backend: timeout, and the motion facts when it fails."""

    def __init__(self, backend: Describer, timeout: float) -> None:
        self.backend = backend
        self.name = backend.name
        self.timeout = timeout
        self.failures = 0
        self.last_error = ""

    async def describe(self, request: Request) -> Description:
        """Describe with the backend, or fall back to the motion facts."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                result = await self.backend.describe(request)
        except (DescriberUnavailable, TimeoutError, OSError, ValueError, RuntimeError) as err:
            self.failures += 1
            reason = str(err) or f"no answer within {self.timeout:.0f} s"
            if reason != self.last_error:
                log.warning("describer %s failed (%s); sending motion facts", self.name, reason)
            self.last_error = reason
            result = replace(describe_facts(request), error=reason)
        return replace(result, seconds=time.monotonic() - started)

    def status(self) -> dict[str, Any]:
        """The backend's status plus failures."""
        return {**self.backend.status(), "failures": self.failures, "last_error": self.last_error}
