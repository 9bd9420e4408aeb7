"""What the brain answers: the reply text plus what it did, in the `ask --json` shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Path = Literal["local", "llm", "none"]


@dataclass
class Reply:
    """One answer to one message.

    `path` says who understood it (the local fast path, the LLM, or nobody);
    `actions` lists tool calls with their results; `confirmation` is set when a
    high-risk command waits for the owner's one-time code; `media` holds file
    paths of images to send along (camera snapshots). `usage` counts the LLM
    calls and tokens the turn spent; `corrected` says the house replaced the
    model's words because they claimed something the turn did not do.
    """

    text: str
    path: Path = "none"
    actions: list[dict[str, Any]] = field(default_factory=list)
    confirmation: dict[str, Any] | None = None
    media: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    corrected: bool = False

    def to_json(self) -> dict[str, Any]:
        """Exactly the documented `homeclaw ask --json` object."""
        return {
            "reply": self.text,
            "path": self.path,
            "actions": self.actions,
            "confirmation": self.confirmation,
        }


def action_record(tool: str, args: dict[str, Any], ok: bool, result: Any) -> dict[str, Any]:
    """One entry of `Reply.actions`."""
    return {"tool": tool, "args": args, "ok": ok, "result": result}
