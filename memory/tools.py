"""The model's memory tools: remember, recall, forget, list_memories.

Who may do what is decided here from the ToolContext, not by the model: only
the owner, speaking for themself (not relaying camera text or a stranger's
message), makes durable facts or makes the house forget, and only for what
their own words in the conversation say (agent/provenance.py). A call made in
the owner's turn that their words do not back, say because a device name or a
camera description talked the model into it, waits on the owner's approval
list instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from agent.approvals import Approvals
from agent.brain.tools import ToolContext, ToolRegistry
from agent.errors import NotAllowed
from agent.provenance import asks_to_forget, backs, says, shared_words
from memory.recall import Memory
from memory.store import PINNED, PROFILE

SNIPPET = 300
# What an owner says when a fact should always be in mind (pinned), for everyone at home.
PIN_CUES = (
    "pin it", "pin this", "pin that", "pinned", "always", "never forget", "everyone",
    "all of us", "keep in mind",
)  # fmt: skip


def _who(ctx: ToolContext) -> str:
    """A compact, annotation-safe name for whoever is behind the call."""
    raw = ctx.channel if ctx.untrusted else f"{ctx.role}:{ctx.channel}:{ctx.sender}"
    return re.sub(r"[^\w:+.@-]", "_", raw)[:60]


def _trusted_owner(ctx: ToolContext) -> bool:
    return ctx.role == "owner" and not ctx.untrusted


def _household(ctx: ToolContext) -> bool:
    """Owner and family see pinned facts; guests see no memory at all."""
    return ctx.role in ("owner", "family") and not ctx.untrusted


def allowed_replacements(memory: Memory, fact: str, ids: list[str], said: list[str]) -> list[str]:
    """The ids a new owner fact may replace: facts on its subject that the owner's words name.

    An update ("the bedroom at 19 now") shares words with what it replaces and with what
    the owner said; an id the model slipped in for an unrelated fact does neither.
    """
    kept = []
    for entry_id in ids:
        entry = memory.index.get(entry_id)
        if entry is None or entry.kind != "fact":
            continue
        if shared_words(entry.text, [fact]) and shared_words(entry.text, said):
            kept.append(entry_id)
    return kept


def register_tools(tools: ToolRegistry, memory: Memory, approvals: Approvals) -> None:
    """Register the memory tools on the registry."""

    async def remember(
        ctx: ToolContext,
        fact: str,
        about_owner: bool = False,
        pinned: bool = False,
        inferred: bool = False,
        importance: int = 3,
        replaces: list[str] | None = None,
    ) -> dict[str, Any]:
        """Keep a fact the owner tells you, even in passing, as one short sentence.
        about_owner/pinned: always in view; inferred: your conclusion; importance 1-5;
        replaces: ids it updates."""
        if not _trusted_owner(ctx):
            outcome = await asyncio.to_thread(memory.add, fact, source="unverified:" + _who(ctx))
            return {
                **outcome.to_json(),
                "note": "Not kept as a fact: only the owner's own words become durable memory. "
                "It waits for the owner's approval on the dashboard.",
            }
        support = backs(fact, ctx.said)
        if not support.ok:
            outcome = await asyncio.to_thread(memory.add, fact, source="unverified:model")
            return {
                **outcome.to_json(),
                "note": f"Not kept as the owner's word ({support.reason}); it waits for the "
                "owner's approval. If the owner did say it, call remember again using the "
                "owner's own words.",
            }
        # A pinned fact is in every conversation of the household: the owner asks for that.
        unpinned = pinned and not says(ctx.said[0], PIN_CUES)
        pinned = pinned and not unpinned
        section = PINNED if pinned else PROFILE if about_owner else None
        asked = list(replaces or [])
        kept = allowed_replacements(memory, fact, asked, list(ctx.said))
        outcome = await asyncio.to_thread(
            memory.add,
            fact,
            source="inferred" if inferred else "owner",
            importance=importance,
            section=section,
            replaces=kept,
        )
        result = outcome.to_json()
        if refused := [i for i in asked if i not in kept]:
            result["not_replaced"] = refused
        if unpinned:
            result["note"] = "Kept, not pinned: the owner did not ask for it to be always in mind."
        return result

    async def recall(ctx: ToolContext, query: str, limit: int = 5) -> dict[str, Any]:
        """Search memories (with ids) and past conversations ("what did I ask about the
        pool last week?")."""
        limit = min(20, max(1, limit))
        restricted = not _trusted_owner(ctx)
        hits = await memory.search(query, limit=limit, restricted=restricted)
        if not _household(ctx):
            hits = []  # guests get no memories, pinned ones included
        messages = await asyncio.to_thread(
            memory.index.transcripts,
            memory.expand(query),
            limit=limit,
            conversation=ctx.conversation if restricted else None,
        )
        return {
            "memories": [
                {
                    "id": h.entry.id,
                    "text": h.entry.text,
                    "kind": h.entry.kind,
                    "source": h.entry.source,
                    "date": h.entry.date,
                }
                for h in hits
            ],
            "conversations": [
                {
                    "conversation": m.conversation,
                    "role": m.role,
                    "when": time.strftime("%Y-%m-%d %H:%M", time.localtime(m.ts)),
                    "text": m.content[:SNIPPET],
                }
                for m in messages
            ],
        }

    async def forget(ctx: ToolContext, memory_id: str) -> dict[str, Any]:
        """Forget a memory for good when the owner asks (id from the memory block or recall):
        it leaves the files, the index and past conversations."""
        if not _trusted_owner(ctx):
            raise NotAllowed("Only the owner can make the house forget something.")
        entry = memory.get(memory_id)
        support = asks_to_forget(entry.text, ctx.said[0] if ctx.said else "", ctx.said[1:])
        if not support.ok:
            proposal = await asyncio.to_thread(
                approvals.propose,
                "forget",
                f"Forget: {entry.text}",
                {"id": entry.id},
                "model:" + _who(ctx),
            )
            return {
                "pending": proposal.id,
                "note": f"Not forgotten ({support.reason}); the owner can approve it on the "
                "dashboard.",
            }
        entry = await asyncio.to_thread(memory.forget, memory_id)
        # The text is not echoed back: a forgotten fact must not reappear in the context.
        return {"forgotten": entry.id}

    async def list_memories(
        ctx: ToolContext, include_notes: bool = False, limit: int = 50
    ) -> dict[str, Any]:
        """List what the house knows, with sources ("what do you know about me?")."""
        limit = min(200, max(1, limit))
        entries = memory.entries(kind=None if include_notes else "fact", limit=limit * 2)
        if not _trusted_owner(ctx):
            entries = [e for e in entries if e.pinned and _household(ctx)]
        shown = [e for e in entries if not e.unverified][:limit]
        return {
            "memories": [
                {"id": e.id, "text": e.text, "source": e.source, "date": e.date, "kind": e.kind}
                for e in shown
            ],
            "total": memory.index.count(),
        }

    for fn in (remember, recall, forget, list_memories):
        tools.register(fn)
