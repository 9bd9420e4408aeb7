"""Conversation history in SQLite (`brain_messages`), with compaction.

Rows keep the OpenAI message shape (role, content, tool_calls, tool_call_id),
so a conversation reloads exactly as the model saw it. Compaction marks older
rows `compacted = 1` and adds one `summary` row in their place; the rows stay
(the memory component's `recall` searches them).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from agent.challenges import redact_codes

if TYPE_CHECKING:
    from agent.store import Store

MIGRATIONS = [
    """
    CREATE TABLE brain_messages (
        id INTEGER PRIMARY KEY,
        conversation TEXT NOT NULL,
        ts REAL NOT NULL,
        role TEXT NOT NULL,
        content TEXT,
        tool_calls TEXT,
        tool_call_id TEXT,
        channel TEXT,
        sender TEXT,
        compacted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX brain_messages_conversation ON brain_messages(conversation, id);
    """,
]


def estimate_tokens(value: Any) -> int:
    """A rough token count: JSON characters / 4 (the usual English average)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(text) // 4 + 1


class History:
    """Stores and reloads each conversation's messages."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("brain", MIGRATIONS)

    def append(
        self, conversation: str, message: dict[str, Any], channel: str = "", sender: str = ""
    ) -> int:
        """Persist one message; returns its row id."""
        calls = message.get("tool_calls")
        content = message.get("content")
        if isinstance(content, str):
            # A one-time code never reaches the model (nor the provider) in a later turn.
            content = redact_codes(content)
        cursor = self.store.execute(
            "INSERT INTO brain_messages(conversation, ts, role, content, tool_calls, "
            "tool_call_id, channel, sender) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation,
                time.time(),
                message["role"],
                content,
                json.dumps(calls) if calls else None,
                message.get("tool_call_id"),
                channel,
                sender,
            ),
        )
        return int(cursor.lastrowid or 0)

    def rows(self, conversation: str) -> list[tuple[int, dict[str, Any]]]:
        """The live (uncompacted) messages of a conversation, oldest first, with row ids."""
        out: list[tuple[int, dict[str, Any]]] = []
        for row in self.store.query(
            "SELECT id, role, content, tool_calls, tool_call_id FROM brain_messages "
            "WHERE conversation = ? AND compacted = 0 ORDER BY id",
            (conversation,),
        ):
            if row["role"] == "summary":
                message: dict[str, Any] = {
                    "role": "system",
                    "content": f"Summary of the earlier conversation:\n{row['content']}",
                }
            else:
                content = row["content"]
                # Rows written before codes were redacted at storage are scrubbed here.
                message = {
                    "role": row["role"],
                    "content": redact_codes(content) if isinstance(content, str) else content,
                }
                if row["tool_calls"]:
                    message["tool_calls"] = json.loads(row["tool_calls"])
                if row["tool_call_id"]:
                    message["tool_call_id"] = row["tool_call_id"]
            out.append((row["id"], message))
        return _complete_rounds(out)

    def messages(self, conversation: str) -> list[dict[str, Any]]:
        """The live messages of a conversation, ready for the model."""
        return [m for _, m in self.rows(conversation)]

    def said_recently(
        self, conversation: str, channel: str, sender: str, limit: int = 3, within: float = 900
    ) -> list[str]:
        """What this person last wrote in a conversation (newest first), within `within` s."""
        rows = self.store.query(
            "SELECT content FROM brain_messages WHERE conversation = ? AND role = 'user' "
            "AND channel = ? AND sender = ? AND ts >= ? AND content IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (conversation, channel, sender, time.time() - within, limit),
        )
        return [str(r["content"]) for r in rows]

    def compact(self, conversation: str, up_to_id: int, summary: str) -> None:
        """Replace rows up to an id by one summary row."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE brain_messages SET compacted = 1 WHERE conversation = ? AND id <= ?",
                (conversation, up_to_id),
            )
            # The summary row sorts after the live rows by id; rows() puts it first.
            conn.execute(
                "INSERT INTO brain_messages(conversation, ts, role, content) "
                "VALUES (?, ?, 'summary', ?)",
                (conversation, time.time(), summary),
            )

    def clear(self, conversation: str) -> None:
        """Forget a conversation's live context (rows are kept, compacted)."""
        self.store.execute(
            "UPDATE brain_messages SET compacted = 1 WHERE conversation = ?", (conversation,)
        )


def _complete_rounds(rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """Summary first; drop tool rounds cut short (a crash between a call and its result)."""
    summaries = [r for r in rows if r[1]["role"] == "system"]
    others = [r for r in rows if r[1]["role"] != "system"]
    out: list[tuple[int, dict[str, Any]]] = []
    i = 0
    while i < len(others):
        row_id, message = others[i]
        if message["role"] == "assistant" and message.get("tool_calls"):
            wanted = {c["id"] for c in message["tool_calls"]}
            j = i + 1
            results = []
            while j < len(others) and others[j][1]["role"] == "tool":
                results.append(others[j])
                j += 1
            if {r[1].get("tool_call_id") for r in results} >= wanted:
                out.append((row_id, message))
                out.extend(results)
            i = j
            continue
        if message["role"] == "tool":  # orphaned result
            i += 1
            continue
        out.append((row_id, message))
        i += 1
    return summaries[-1:] + out
