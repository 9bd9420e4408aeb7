"""A fake OpenAI-compatible `/v1/embeddings` server for tests and the bench; the demo's memory.

Vectors are hashed bags of words and character trigrams: deterministic, cheap,
and similar for texts that share words or word pieces. It exercises the real
openai SDK and the hybrid ranking; it is not a semantic model.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Any

import numpy as np
from aiohttp import web

from agent.demo.simulation import DemoContext, DemoPart, free_port

_WORD = re.compile(r"\w+")


def hashed_vector(text: str, dim: int = 256) -> list[float]:
    """A unit vector from the hashed words and trigrams of a text."""
    vec = np.zeros(dim, dtype=np.float32)
    for word in _WORD.findall(text.lower()):
        pieces = [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]
        for j, piece in enumerate(pieces):
            digest = hashlib.blake2b(piece.encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % dim] += 1.0 if j == 0 else 0.5
    norm = float(np.linalg.norm(vec))
    return (vec / norm if norm else vec).tolist()


def _base64(vec: list[float]) -> str:
    """Little-endian float32s, base64-encoded, as OpenAI sends them."""
    return base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode()


class FakeEmbeddings:
    """Serves `/v1/embeddings` on 127.0.0.1; logs every request body."""

    def __init__(self, *, model: str = "fake-embed", dim: int = 256, host: str = "127.0.0.1"):
        self.model = model
        self.dim = dim
        self.host = host
        self.port = 0
        self.requests: list[dict[str, Any]] = []
        self.fail = False
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The `base_url` for the openai SDK (ends in /v1)."""
        return f"http://{self.host}:{self.port}/v1"

    async def start(self) -> FakeEmbeddings:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/embeddings", self._embeddings)
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

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.fail:
            return web.json_response(
                {"error": {"message": "down", "type": "server_error", "param": None, "code": None}},
                status=500,
            )
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        packed = body.get("encoding_format") == "base64"  # what the openai SDK asks for
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": _base64(vec) if packed else vec,
            }
            for i, t in enumerate(texts)
            for vec in [hashed_vector(str(t), self.dim)]
        ]
        tokens = sum(len(str(t).split()) for t in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or self.model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


DEMO_FACTS = {
    "About the owner": [
        "I like the bedroom at 19 degrees at night.",
        "My sister Ana's number is +34 600 123 456.",
    ],
    "Facts": [
        "The cleaner comes on Thursdays; she can use the lights and the music.",
        "The FedEx guy always leaves packages behind the gate.",
        "The pool heater should be off from November to March.",
    ],
}


async def demo(ctx: DemoContext) -> DemoPart:
    """Seed the demo home's memory with a few facts (once: later edits are kept)."""
    from memory.store import MEMORY_FILE, MEMORY_HEADER

    folder = ctx.home / "memory"
    path = folder / MEMORY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        today = dt.date.today().isoformat()
        lines = [MEMORY_HEADER.rstrip("\n"), ""]
        for number, (section, facts) in enumerate(DEMO_FACTS.items()):
            lines += [f"## {section}", ""]
            for i, fact in enumerate(facts):
                lines.append(f"- {fact} <!-- id:mdemo{number}{i} date:{today} source:owner -->")
            lines.append("")
        path.write_text("\n".join(lines))
    return DemoPart("memory", {})
