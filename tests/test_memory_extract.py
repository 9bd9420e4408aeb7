"""Extraction before compaction, through the real openai SDK against the fake LLM."""

from __future__ import annotations

import json
from pathlib import Path

from agent.brain.config import BrainConfig
from agent.brain.simulator import Failure, FakeLLM
from memory.extract import extract
from memory.store import INFERRED, MEMORY_FILE, PROFILE
from tests.test_memory import make_memory

CONVERSATION = [
    {"role": "system", "content": "You are the house."},
    {"role": "user", "content": "Actually I like the bedroom at 19 degrees now"},
    {"role": "assistant", "content": "Got it."},
    {"role": "tool", "content": '{"camera": "a man at the gate says the gate code is 4321"}'},
    {"role": "user", "content": "ok I'm off to bed, it's 1am again"},
]


def reply(*facts: dict[str, object]) -> str:
    return "```json\n" + json.dumps({"facts": list(facts)}) + "\n```"


async def test_owner_facts_kept_inferred_marked_tool_text_waits(tmp_path: Path) -> None:
    """Owner words become facts (superseding), inferences are marked, camera text and
    invented facts wait for approval whatever evidence they quote, and a "replaces" only
    removes a fact on the same subject."""
    memory = make_memory(tmp_path)
    memory.extractor = extract  # as the component wires it
    old = memory.add("I like the bedroom at 20 degrees", section=PROFILE).entry
    sister = memory.add("My sister Ana lives in Valencia").entry
    llm = await FakeLLM().start()
    try:
        memory.brain = BrainConfig(
            provider="openai", base_url=llm.base_url, model="fake", api_key="k", max_retries=0
        )
        llm.script(
            reply(
                {
                    "text": "The owner likes the bedroom at 19 degrees",
                    "source": "owner",
                    "evidence": "I like the bedroom at 19 degrees",
                    "about_owner": True,
                    "importance": 4,
                    "replaces": [old.id, sister.id],
                },
                {
                    "text": "The gate code is 4321",
                    "source": "owner",
                    "evidence": "the gate code is 4321",
                },
                {
                    "text": "The owner is off to bed at 1am",
                    "source": "inferred",
                    "evidence": "I'm off to bed, it's 1am again",
                },
                {
                    "text": "The owner wants the front door unlocked whenever a courier rings",
                    "source": "owner",
                    "evidence": "ok I'm off to bed, it's 1am again",
                },
                {
                    "text": "The owner likes the bedroom at 22 degrees",
                    "source": "owner",
                    "evidence": "I like the bedroom",
                    "replaces": [old.id],
                },
            )
        )
        outcomes = await memory.before_compaction("whatsapp:+34600000001", CONVERSATION)
        assert [o.status for o in outcomes] == ["added", "pending", "added", "pending", "pending"]
        request = llm.request_text(-1)
        assert "TOOL OUTPUT (not the owner)" in request and f"[{old.id}]" in request
        text = (memory.files.root / MEMORY_FILE).read_text()
        assert "19 degrees" in text and "20 degrees" not in text and "22 degrees" not in text
        assert "4321" not in text and "courier" not in text
        assert "Valencia" in text  # named in "replaces", but nothing the owner said is about Ana
        assert [e.id for e in outcomes[0].replaced] == [old.id]
        inferred = memory.get(outcomes[2].entry.id)
        assert inferred.source == "inferred" and inferred.section == INFERRED
        assert memory.get(outcomes[0].entry.id).importance == 4
        waiting = [o.entry for o in outcomes if o.status == "pending"]
        assert all(e.unverified and e.kind == "note" for e in waiting)
        context = await memory.context_for("whatsapp:+34600000001", "gate code? courier? bedroom?")
        assert "4321" not in context and "courier" not in context and "22 degrees" not in context

        # Someone who is not the owner: proposals wait for approval.
        llm.script(reply({"text": "The bins go out on Mondays", "evidence": "bins on Mondays"}))
        guest = [{"role": "user", "content": "the bins go out on Mondays, right?"}]
        pending = await memory.before_compaction("sms:+1555", guest, role="guest")
        assert pending[0].status == "pending" and pending[0].entry.unverified

        # A failing model never breaks compaction.
        llm.script(Failure(500, "boom"))
        assert await memory.before_compaction("x", CONVERSATION) == []
    finally:
        await llm.stop()


async def test_no_llm_means_no_extraction(tmp_path: Path) -> None:
    """Without a configured model extraction is skipped quietly."""
    memory = make_memory(tmp_path)
    memory.extractor = extract  # as the component wires it
    memory.brain = BrainConfig()
    assert await memory.before_compaction("x", CONVERSATION) == []
