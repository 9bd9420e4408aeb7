"""Optional vector recall through an OpenAI-compatible `/v1/embeddings` endpoint.

Embeddings are cached in SQLite by the hash of the entry's text, so editing one
line re-embeds one line. Similarity is a cosine over an in-memory matrix
(numpy), which at home scale (tens of thousands of entries) takes milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np

from memory.index import Hit, MemoryIndex, recency, text_hash
from memory.store import Entry

log = logging.getLogger(__name__)


class EmbeddingsUnavailable(Exception):
    """The embeddings endpoint failed or is not configured."""


class Embedder:
    """Calls `/v1/embeddings` with the official openai SDK."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float) -> None:
        import openai

        self.model = model
        self.timeout = timeout
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=1
        )

    async def embed(self, texts: list[str]) -> list[np.ndarray]:
        """Unit-length vectors for the texts, in order."""
        import openai

        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.embeddings.create(model=self.model, input=texts)
        except (openai.OpenAIError, TimeoutError) as err:
            raise EmbeddingsUnavailable(f"{type(err).__name__}: {err}") from None
        ordered = sorted(response.data, key=lambda d: d.index)
        if len(ordered) != len(texts):
            raise EmbeddingsUnavailable("the endpoint returned a different number of vectors")
        return [_unit(np.asarray(d.embedding, dtype=np.float32)) for d in ordered]

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


def _unit(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


class VectorIndex:
    """Embeddings of every entry, kept in step with the keyword index."""

    def __init__(self, index: MemoryIndex, embedder: Embedder, batch: int = 64) -> None:
        self.index = index
        self.embedder = embedder
        self.batch = batch
        self._generation = -1
        self._ids: list[str] = []
        self._matrix: np.ndarray | None = None
        self.last_error: str | None = None

    async def catch_up(self) -> int:
        """Embed entries whose text has no cached vector yet; returns how many were embedded."""
        store = self.index.store
        model = self.embedder.model
        rows = store.query("SELECT DISTINCT text FROM memory_entries")
        cached = {
            r[0] for r in store.query("SELECT hash FROM memory_vectors WHERE model = ?", (model,))
        }
        missing = [r[0] for r in rows if text_hash(r[0]) not in cached]
        done = 0
        for start in range(0, len(missing), self.batch):
            chunk = missing[start : start + self.batch]
            vectors = await self.embedder.embed(chunk)
            store.executemany(
                "INSERT OR REPLACE INTO memory_vectors(hash, model, vec) VALUES (?, ?, ?)",
                [
                    (text_hash(t), model, v.astype(np.float32).tobytes())
                    for t, v in zip(chunk, vectors, strict=True)
                ],
            )
            done += len(chunk)
        if done:
            self._generation = -1
        return done

    def _load(self) -> None:
        if self._generation == self.index.generation and self._matrix is not None:
            return
        rows = self._rows()
        self._ids = [r[0] for r in rows]
        self._matrix = (
            np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows]) if rows else None
        )
        self._generation = self.index.generation

    def _rows(self) -> list[tuple[str, bytes]]:
        store = self.index.store
        vectors = {
            r[0]: r[1]
            for r in store.query(
                "SELECT hash, vec FROM memory_vectors WHERE model = ?", (self.embedder.model,)
            )
        }
        out = []
        for r in store.query("SELECT id, text FROM memory_entries"):
            vec = vectors.get(text_hash(r[1]))
            if vec is not None:
                out.append((r[0], vec))
        return out

    async def nearest(self, query: str, limit: int) -> list[tuple[str, float]]:
        """Entry ids most similar to the query, with their cosine similarity."""
        (qvec,) = await self.embedder.embed([query])
        self._load()
        if self._matrix is None or not self._ids:
            return []
        # einsum rather than `@`: a BLAS thread pool for a single matrix-vector product
        # costs more in wake-ups than it saves on a small home server.
        sims = np.einsum("ij,j->i", self._matrix, qvec)
        limit = min(limit, len(self._ids))
        top = np.argpartition(-sims, limit - 1)[:limit]
        top = top[np.argsort(-sims[top])]
        return [(self._ids[i], float(sims[i])) for i in top]

    def forget(self, text: str) -> None:
        """Drop the cached vector of a forgotten text."""
        self.index.store.execute("DELETE FROM memory_vectors WHERE hash = ?", (text_hash(text),))
        self._generation = -1

    def health(self) -> dict[str, Any]:
        """How many vectors are loaded, and the last error."""
        return {"model": self.embedder.model, "vectors": len(self._ids), "error": self.last_error}


def fuse(
    keyword: list[Hit],
    nearest: list[tuple[str, float]],
    index: MemoryIndex,
    *,
    vector_weight: float,
    now: float,
    note_half_life_days: float,
) -> list[Hit]:
    """Reciprocal-rank fusion of keyword and vector rankings, then recency and importance."""
    scores: dict[str, float] = {}
    entries: dict[str, Entry] = {}
    for rank, hit in enumerate(keyword):
        scores[hit.entry.id] = scores.get(hit.entry.id, 0.0) + 1 / (60 + rank)
        entries[hit.entry.id] = hit.entry
    for rank, (entry_id, _similarity) in enumerate(nearest):
        entry = entries.get(entry_id) or index.get(entry_id)
        if entry is None:
            continue
        entries[entry_id] = entry
        scores[entry_id] = scores.get(entry_id, 0.0) + vector_weight / (60 + rank)
    fused = [
        Hit(
            e,
            scores[i] * recency(e, now, note_half_life_days) * (0.94 + 0.02 * e.importance),
        )
        for i, e in entries.items()
    ]
    fused.sort(key=lambda h: h.score, reverse=True)
    return fused
