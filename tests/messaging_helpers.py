"""Shared pieces of the messaging tests: the demo people, config, and a brain stand-in."""

from __future__ import annotations

from typing import Any

import openai

from agent.brain.reply import Reply
from agent.bus import InboundMessage
from agent.messaging.people import Identity

OWNER = "+15550100"
HOUSE = "+15550199"
OWNER_TELEGRAM = 1001


def people() -> list[dict[str, Any]]:
    """The demo owner, plus a guest with a phone."""
    return [
        {"name": "Ann", "role": "owner", "phone": OWNER, "telegram": OWNER_TELEGRAM},
        {"name": "Gus", "role": "guest", "phone": "+15550155"},
    ]


def brain_config(llm_base_url: str) -> dict[str, Any]:
    """Point the brain at the fake LLM, with the local fast path off (every turn hits it)."""
    return {
        "provider": "openai",
        "base_url": llm_base_url,
        "model": "fake-model",
        "api_key": "test",
        "prefer_local": False,
    }


class LLMBrain:
    """Until the brain component runs in the daemon: one LLM call per message, same contract."""

    def __init__(self, base_url: str) -> None:
        self.client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
        self.seen: list[tuple[InboundMessage, Identity]] = []

    async def handle(self, message: InboundMessage, identity: Identity) -> Reply:
        """Ask the model; reply with its text."""
        self.seen.append((message, identity))
        response = await self.client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": message.text}]
        )
        return Reply(text=response.choices[0].message.content or "", path="llm")


def ensure_brain(rt: Any, llm_base_url: str) -> Any:
    """The daemon's brain, or the stand-in when the brain component is not wired yet."""
    if rt.service("brain") is None:
        rt.services["brain"] = LLMBrain(llm_base_url)
    return rt.service("brain")


# The daemon in these tests runs the brain and the messaging bridge only, so a
# half-finished component elsewhere in the tree cannot break the channel tests.
COMPONENTS = ["agent.brain.component:create", "agent.messaging.bridge:create"]
