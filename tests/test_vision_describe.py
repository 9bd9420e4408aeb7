"""Describer backends: request shapes against fakes, fallback, and the real transformers path."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent.brain.simulator import FakeLLM
from agent.demo.simulation import free_port
from vision.config import VisionConfig
from vision.describe import (
    FallbackDescriber,
    NoneDescriber,
    OllamaDescriber,
    Request,
)
from vision.describers import create_describer
from vision.eventlog import encode_jpeg
from vision.scenes import render

HAS_TRANSFORMERS = all(importlib.util.find_spec(m) for m in ("torch", "transformers", "tokenizers"))


@pytest.fixture(scope="module")
def truck_request() -> Request:
    clip = render("truck", 160, 90, 30)
    images = (encode_jpeg(clip.frames[-1]), encode_jpeg(clip.frames[-5]))
    facts = {"where": "near centre", "size": "large", "duration": 4.2}
    return Request("driveway", images, "garage", facts)


class FakeOllama:
    """POST /api/chat like an Ollama server, recording the bodies."""

    def __init__(self, reply: str, delay: float = 0.0) -> None:
        self.reply = reply
        self.delay = delay
        self.bodies: list[dict[str, Any]] = []
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def chat(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        await asyncio.sleep(self.delay)
        return web.json_response(
            {"model": "m", "message": {"role": "assistant", "content": self.reply}, "done": True}
        )

    async def __aenter__(self) -> FakeOllama:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/api/chat", self.chat)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


REPLY = (
    '{"title": "FedEx truck just pulled up", "description": "A white FedEx box truck '
    'stopped in the driveway.", "notable": true, "labels": ["vehicle"], "carrier": "FedEx"}'
)


async def test_ollama_request_shape(truck_request: Request) -> None:
    async with FakeOllama(REPLY) as ollama:
        describer = OllamaDescriber(ollama.url, "qwen2.5vl:3b", timeout=5)
        result = await describer.describe(truck_request)
    assert result.title == "FedEx truck just pulled up" and result.carrier == "FedEx"
    (body,) = ollama.bodies
    assert body["model"] == "qwen2.5vl:3b" and body["stream"] is False
    assert body["format"]["type"] == "object"  # a JSON schema constrains the reply
    (message,) = body["messages"]
    assert message["role"] == "user" and "driveway" in message["content"]
    # Images are bare base64 (no data: prefix), one per keyframe.
    assert len(message["images"]) == 2
    assert base64.b64decode(message["images"][0]) == truck_request.images[0]


async def test_openai_compatible_request_shape(truck_request: Request) -> None:
    llm = FakeLLM()
    await llm.start()
    try:
        llm.script(REPLY)
        config = VisionConfig(describer="openai", base_url=llm.base_url, model="gpt-4o-mini")
        result = await create_describer(config).describe(truck_request)
        assert result.backend == "openai" and result.title == "FedEx truck just pulled up"
        body = llm.requests[0]
        assert body["model"] == "gpt-4o-mini"
        parts = body["messages"][0]["content"]
        assert parts[0]["type"] == "text"
        urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
        assert len(urls) == 2 and all(u.startswith("data:image/jpeg;base64,") for u in urls)
        assert base64.b64decode(urls[0].split(",", 1)[1]) == truck_request.images[0]
    finally:
        await llm.stop()


async def test_slow_backend_falls_back_to_motion_facts(truck_request: Request) -> None:
    async with FakeOllama(REPLY, delay=1) as ollama:
        describer = FallbackDescriber(OllamaDescriber(ollama.url, "m", timeout=10), timeout=0.3)
        result = await describer.describe(truck_request)
    assert result.backend == "none" and result.error and "0 s" in result.error
    assert result.title == "Motion on the driveway camera"
    assert "Large movement near centre for 4 s" in result.description
    assert describer.status()["failures"] == 1


async def test_unreachable_backend_falls_back(truck_request: Request) -> None:
    config = VisionConfig(describer="ollama", base_url=f"http://127.0.0.1:{free_port()}")
    result = await create_describer(config).describe(truck_request)
    assert result.backend == "none" and "unreachable" in (result.error or "")


async def test_none_describer(truck_request: Request) -> None:
    result = await NoneDescriber().describe(truck_request)
    assert result.notable and result.labels == ("motion",)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_TRANSFORMERS:
        pytest.skip("transformers/torch not installed (pip install 'homeclaw[vision]')")
    from vision.tinymodel import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-smolvlm"))


async def test_transformers_backend_loads_and_generates_with_the_real_code(
    tiny_model: Path, truck_request: Request
) -> None:
    config = VisionConfig(describer="transformers", model=str(tiny_model), max_new_tokens=8)
    describer = create_describer(config)
    result = await describer.describe(truck_request)
    # A random model says nonsense, but it went through load → chat template → generate.
    assert result.backend == "transformers", result.error
    assert result.error is None
    status = describer.status()
    assert status["status"] == "ready" and status["model"] == str(tiny_model)


async def test_transformers_backend_reports_a_model_it_cannot_load(
    tmp_path: Path, truck_request: Request
) -> None:
    if not HAS_TRANSFORMERS:
        pytest.skip("transformers/torch not installed (pip install 'homeclaw[vision]')")
    (tmp_path / "config.json").write_text("{not json")
    config = VisionConfig(describer="transformers", model=str(tmp_path))
    describer = create_describer(config)
    result = await describer.describe(truck_request)
    assert result.backend == "none"
    assert "cannot load vision model" in (result.error or "")
    assert describer.status()["status"] == "failed"
