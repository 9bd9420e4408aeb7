"""The memory component: wires files, index, recall, tools, API and the file watcher."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from agent import approvals as agent_approvals
from agent.bus import Notice
from agent.runtime import Runtime
from memory import api
from memory.extract import extract
from memory.index import MemoryIndex
from memory.recall import Memory
from memory.store import MemoryFiles
from memory.tools import register_tools
from memory.vectors import Embedder, VectorIndex

log = logging.getLogger(__name__)


class MemoryComponent:
    """Long-term memory: markdown truth, SQLite index, recall into every turn."""

    name = "memory"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        config = rt.config.memory
        zone = ZoneInfo(rt.config.home.timezone)

        def now() -> dt.datetime:
            return dt.datetime.now(zone)

        self.files = MemoryFiles(rt.paths.memory, today=lambda: now().date())
        self.index = MemoryIndex(
            rt.store, self.files, note_half_life_days=config.note_half_life_days
        )
        self.memory = Memory(
            config, self.files, self.index, bus=rt.bus, role_of=self._role_of, now=now
        )
        self.memory.brain = rt.config.brain
        self.memory.extractor = extract
        self.embedder: Embedder | None = None

    def _role_of(self, conversation: str) -> str:
        """Conversations are "channel:sender"; anything else is the house's own (owner's)."""
        channel, sep, sender = conversation.partition(":")
        if not sep:
            return "owner"
        identity = self.rt.people.identify(channel, sender)
        return identity.role if identity else "stranger"

    def setup(self, rt: Runtime) -> None:
        """Publish the service, register tools and routes (no I/O)."""
        rt.services["memory"] = self.memory
        if not rt.config.memory.enabled:
            return
        approvals = agent_approvals.of(rt)
        approvals.on("forget", self._approved_forget)
        register_tools(rt.tools, self.memory, approvals)
        api.add_routes(rt.app, self.memory)
        config, brain = rt.config.memory, rt.config.brain
        if config.embeddings_model:
            base_url = config.embeddings_base_url or (
                brain.base_url if brain.provider == "openai" else None
            )
            if base_url:
                api_key = config.embeddings_api_key or (
                    brain.api_key if brain.provider == "openai" else None
                )
                self.embedder = Embedder(
                    base_url, config.embeddings_model, api_key, config.embeddings_timeout
                )
                self.memory.vectors = VectorIndex(self.index, self.embedder)
            else:
                log.warning("memory: embeddings_model is set but no embeddings_base_url")

    def _approved_forget(self, payload: dict[str, Any]) -> str:
        """The owner approved a forget the model asked for."""
        entry = self.memory.forget(str(payload.get("id", "")))
        return f"Forgot memory {entry.id}."

    async def start(self) -> None:
        """Index the files, then watch them (and transcripts) for changes."""
        if not self.rt.config.memory.enabled:
            return
        await asyncio.to_thread(self._prepare)
        self.rt.supervisor.spawn("memory:watch", self._watch)
        self.rt.supervisor.spawn("memory:notes", self._camera_notes)
        if self.memory.vectors is not None:
            self.rt.supervisor.spawn("memory:embeddings", self._embed)

    def _prepare(self) -> None:
        self.files.ensure()
        self.index.migrate()
        self.index.scan()
        self.index.sync_transcripts()

    async def _watch(self) -> None:
        """Poll file mtimes so hand edits are picked up without a restart."""
        interval = self.rt.config.memory.watch_interval
        while True:
            changed = await asyncio.to_thread(self.index.scan)
            for name in changed:
                self.memory._publish("reindexed", name)
            await asyncio.to_thread(self.index.sync_transcripts)
            await asyncio.sleep(interval)

    async def _camera_notes(self) -> None:
        """Camera messages sent to the owner go into the daily note, unverified (never facts)."""
        with self.rt.bus.subscribe(Notice) as sub:
            while True:
                event = await sub.get()
                if not isinstance(event, Notice) or event.topic != "camera_message":
                    continue
                text = str(event.data.get("text") or "")
                if text and not text.endswith("looking…"):  # the photo-first placeholder
                    # A vision model wrote it: unverified until the owner approves it, so
                    # it never reaches the model's memory block on its own.
                    await asyncio.to_thread(self.memory.note, text, "unverified:camera")

    async def _embed(self) -> None:
        """Keep vectors in step with entries; a failing endpoint is retried by the supervisor."""
        vectors = self.memory.vectors
        assert vectors is not None
        interval = max(self.rt.config.memory.watch_interval, 1.0)
        while True:
            await vectors.catch_up()
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Close the embeddings client (tasks are stopped by the supervisor)."""
        if self.embedder is not None:
            await self.embedder.close()


def create(rt: Runtime) -> MemoryComponent:
    """Component factory for agent.daemon.COMPONENTS."""
    return MemoryComponent(rt)
