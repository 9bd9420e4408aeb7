"""The owner's approval list: changes the house was asked to make by words that were not
the owner's own (forgetting a memory, changing camera alerts), held until the owner
approves or rejects them on the dashboard or with `homeclaw memory approve|reject`.

Facts proposed by others wait as `unverified:` memory lines (see memory/); this list
holds the changes that are not a line of text. A decided item leaves the table (a
forget request must not keep the text it would forget); the log records the decision.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from agent.bus import Notice
from agent.errors import HomeError

if TYPE_CHECKING:
    from agent.bus import Bus
    from agent.runtime import Runtime
    from agent.store import Store

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        summary TEXT NOT NULL,
        payload TEXT NOT NULL,
        proposed_by TEXT NOT NULL,
        created REAL NOT NULL
    );
    """,
]
MAX_PENDING = 200


class ApprovalError(HomeError):
    """An approval the caller named does not exist or cannot be applied."""

    kind = "approval_error"


@dataclass(frozen=True)
class Proposal:
    """One change waiting for the owner."""

    id: str
    kind: str
    summary: str
    payload: dict[str, Any]
    proposed_by: str
    created: float

    def to_json(self) -> dict[str, Any]:
        """The proposal as the API shows it (payload included: it is the owner's API)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "summary": self.summary,
            "payload": self.payload,
            "proposed_by": self.proposed_by,
            "created": self.created,
        }


Apply = Callable[[dict[str, Any]], str]


class Approvals:
    """Pending changes in SQLite, and what approving each kind does."""

    def __init__(self, store: Store, bus: Bus | None = None) -> None:
        self.store = store
        self.bus = bus
        self._apply: dict[str, Apply] = {}
        store.migrate("approvals", MIGRATIONS)

    def on(self, kind: str, apply: Apply) -> None:
        """Say what approving a kind of proposal does (returns a sentence for the owner)."""
        self._apply[kind] = apply

    def propose(
        self, kind: str, summary: str, payload: dict[str, Any], proposed_by: str
    ) -> Proposal:
        """Add a change to the list (the same pending change is listed once)."""
        raw = json.dumps(payload, sort_keys=True)
        row = self.store.one("SELECT * FROM approvals WHERE kind = ? AND payload = ?", (kind, raw))
        if row is not None:
            return _proposal(row)
        proposal = Proposal(
            "a" + secrets.token_hex(4), kind, summary[:500], payload, proposed_by[:80], time.time()
        )
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO approvals(id, kind, summary, payload, proposed_by, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (proposal.id, kind, proposal.summary, raw, proposal.proposed_by, proposal.created),
            )
            # A flood of proposals must not grow the list without end: oldest go first.
            conn.execute(
                "DELETE FROM approvals WHERE id NOT IN "
                "(SELECT id FROM approvals ORDER BY created DESC LIMIT ?)",
                (MAX_PENDING,),
            )
        log.info("approval %s waits for the owner: %s (%s)", proposal.id, kind, proposed_by)
        self._publish("proposed", proposal.id)
        return proposal

    def pending(self, kind: str | None = None) -> list[Proposal]:
        """What waits for the owner, oldest first."""
        rows = self.store.query(
            "SELECT * FROM approvals WHERE ? IS NULL OR kind = ? ORDER BY created",
            (kind, kind),
        )
        return [_proposal(r) for r in rows]

    def _take(self, proposal_id: str) -> Proposal:
        row = self.store.one("SELECT * FROM approvals WHERE id = ?", (proposal_id,))
        if row is None:
            raise ApprovalError(f"Nothing waits for approval as {proposal_id!r}.")
        self.store.execute("DELETE FROM approvals WHERE id = ?", (proposal_id,))
        return _proposal(row)

    def approve(self, proposal_id: str) -> str:
        """Apply a pending change (the owner said yes); returns what was done."""
        row = self.store.one("SELECT kind FROM approvals WHERE id = ?", (proposal_id,))
        apply = self._apply.get(str(row["kind"])) if row is not None else None
        if row is not None and apply is None:
            raise ApprovalError(f"{row['kind']} changes cannot be applied in this daemon.")
        proposal = self._take(proposal_id)
        assert apply is not None
        done = apply(proposal.payload)
        log.info("approval %s approved by the owner: %s", proposal.id, proposal.kind)
        self._publish("approved", proposal.id)
        return done

    def reject(self, proposal_id: str) -> Proposal:
        """Drop a pending change (the owner said no)."""
        proposal = self._take(proposal_id)
        log.info("approval %s rejected by the owner: %s", proposal.id, proposal.kind)
        self._publish("rejected", proposal.id)
        return proposal

    def _publish(self, action: str, proposal_id: str) -> None:
        if self.bus is not None:
            self.bus.publish(Notice(topic="approvals", data={"action": action, "id": proposal_id}))


def _proposal(row: Any) -> Proposal:
    return Proposal(
        row["id"],
        row["kind"],
        row["summary"],
        json.loads(row["payload"]),
        row["proposed_by"],
        row["created"],
    )


APPROVALS: web.AppKey[Approvals] = web.AppKey("approvals")


async def _list(request: web.Request) -> web.Response:
    approvals = request.app[APPROVALS]
    return web.json_response({"approvals": [p.to_json() for p in approvals.pending()]})


async def _approve(request: web.Request) -> web.Response:
    approvals = request.app[APPROVALS]
    try:
        done = await asyncio.to_thread(approvals.approve, request.match_info["id"])
    except ApprovalError as err:
        return web.json_response({"error": err.kind, "detail": str(err)}, status=404)
    except HomeError as err:
        return web.json_response({"error": err.kind, "detail": str(err)}, status=409)
    return web.json_response({"approved": request.match_info["id"], "done": done})


async def _reject(request: web.Request) -> web.Response:
    approvals = request.app[APPROVALS]
    try:
        proposal = await asyncio.to_thread(approvals.reject, request.match_info["id"])
    except ApprovalError as err:
        return web.json_response({"error": err.kind, "detail": str(err)}, status=404)
    return web.json_response({"rejected": proposal.id})


def of(rt: Runtime) -> Approvals:
    """The daemon's approval list (created, with its API routes, by whoever needs it first)."""
    found = rt.services.get("approvals")
    if isinstance(found, Approvals):
        return found
    approvals = Approvals(rt.store, rt.bus)
    rt.services["approvals"] = approvals
    rt.app[APPROVALS] = approvals
    rt.app.router.add_get("/api/approvals", _list)
    rt.app.router.add_post("/api/approvals/{id}/approve", _approve)
    rt.app.router.add_post("/api/approvals/{id}/reject", _reject)
    return approvals
