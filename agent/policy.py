"""Policy: what may happen, for whom, and how high-risk commands get confirmed.

Safety lives here, in code, not in a prompt:
- high-risk commands (unlock, disarm, opening a garage door) never run on a
  request alone: the daemon issues a one-time code bound to the (channel,
  sender) that asked, and only that code, from that sender, within the expiry,
  runs the command (`home.execute(..., confirmed=True)`);
- turns triggered by untrusted text (camera descriptions, heartbeat notes,
  other people's messages) and roles without the right (guests) cannot even
  ask for a code;
- per-sender rate limits; the per-turn tool-call cap and per-tool timeout are
  read by the agent loop from here.
Pending confirmations are rows in SQLite, so a restart in the middle of one
still confirms in time, or cleanly says the code expired.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from agent.devices import Action, Command, Device, Risk
from agent.errors import HomeError, NotAllowed
from agent.messaging.people import ROLE_CAN_HIGH_RISK

if TYPE_CHECKING:
    from agent.brain.config import BrainConfig
    from agent.brain.tools import ToolContext
    from agent.home import Home
    from agent.store import Store

MIGRATIONS = [
    """
    CREATE TABLE policy_confirmations (
        id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        sender TEXT NOT NULL,
        code TEXT NOT NULL,
        device_ids TEXT NOT NULL,
        command TEXT NOT NULL,
        prompt TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending'
    );
    CREATE INDEX policy_confirmations_sender ON policy_confirmations(channel, sender, status);
    """,
]

# "YES 4821", "yes, 4821", "confirm 4821", "4821".
CONFIRM_RE = re.compile(
    r"^\s*(?:(yes|y|ok|okay|confirm|confirmed)\b[\s,:.!-]*)?(\d{4})\s*[.!]*\s*$", re.I
)
BARE_YES_RE = re.compile(r"^\s*(yes|y|ok|okay|confirm|confirmed|sure|do it)\s*[.!]*\s*$", re.I)
CANCEL_RE = re.compile(r"^\s*(no|nope|cancel|don'?t|never ?mind|stop)\s*[.!]*\s*$", re.I)
MAX_ATTEMPTS = 3
VERBS = {
    Action.UNLOCK: "Unlock",
    Action.DISARM: "Disarm",
    Action.OPEN: "Open",
    Action.SET_POSITION: "Open",
    Action.TOGGLE: "Toggle",
}


# Words an owner's own message contains when they really ask for a high-risk action.
# A model talked into unlocking by a device name or tool output will not find them.
ASKED_WORDS: dict[Action, tuple[str, ...]] = {
    Action.UNLOCK: ("unlock", "open", "let "),
    Action.DISARM: ("disarm", "alarm", "security"),
    Action.OPEN: ("open", "raise", "garage", "gate", "up"),
    Action.SET_POSITION: ("open", "raise", "garage", "gate", "up", "%"),
    Action.TOGGLE: ("toggle", "open", "unlock"),
}


def owner_asked(owner_text: str, command: Command) -> bool:
    """Whether the owner's message plausibly asks for this high-risk action."""
    text = owner_text.lower()
    return any(word in text for word in ASKED_WORDS.get(command.action, ()))


class RateLimited(NotAllowed):
    """The sender sent too many messages too quickly."""

    kind = "rate_limited"


@dataclass
class Challenge:
    """A pending high-risk command waiting for its one-time code."""

    id: str
    channel: str
    sender: str
    code: str
    device_ids: list[str]
    command: Command
    prompt: str
    requested_by: str
    expires: float

    def to_json(self) -> dict[str, Any]:
        """The `confirmation` object of replies and API answers."""
        return {
            "code_required": True,
            "id": self.id,
            "expires_at": datetime.fromtimestamp(self.expires, UTC).isoformat(timespec="seconds"),
            "prompt": self.prompt,
            "devices": self.device_ids,
            "action": self.command.action.value,
        }


@dataclass
class ConfirmOutcome:
    """What became of a confirmation attempt."""

    status: Literal[
        "done", "partial", "wrong_code", "expired", "cancelled", "nothing_pending", "need_code"
    ]
    text: str
    actions: list[dict[str, Any]] = field(default_factory=list)


class Policy:
    """Risk, roles, confirmations and rate limits for every path into the house."""

    def __init__(
        self,
        store: Store,
        home: Home,
        config: BrainConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.home = home
        self.config = config
        self.clock = clock
        self.expiry = float(config.confirmation_seconds)
        self.max_tool_calls_per_turn = config.max_tool_calls_per_turn
        self.tool_timeout = config.tool_timeout
        self._recent: dict[tuple[str, str], deque[float]] = {}
        store.migrate("policy", MIGRATIONS)

    # -- roles and rates ---------------------------------------------------------

    @staticmethod
    def may_high_risk(role: str) -> bool:
        """Whether a role may ask for (and confirm) high-risk commands."""
        return ROLE_CAN_HIGH_RISK.get(role, False)

    def check_rate(self, channel: str, sender: str) -> None:
        """Count one message from a sender; raise RateLimited past the per-minute limit."""
        now = self.clock()
        window = self._recent.setdefault((channel, sender), deque())
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) >= self.config.rate_limit_per_minute:
            raise RateLimited("Too many messages in a minute; give me a moment.")
        window.append(now)

    @staticmethod
    def is_high_risk(device: Device, command: Command) -> bool:
        """Whether this command on this device needs a confirmation code."""
        return device.command_risk(command) is Risk.HIGH

    # -- challenges ----------------------------------------------------------------

    def request(self, ctx: ToolContext, devices: list[Device], command: Command) -> Challenge:
        """Ask the owner for a code before a high-risk command (or refuse outright)."""
        if ctx.untrusted:
            raise NotAllowed(
                "High-risk commands can't be started from automated or untrusted text; "
                "the owner must ask directly."
            )
        if not self.may_high_risk(ctx.role):
            raise NotAllowed(f"A {ctx.role} can't {command.action.value.replace('_', ' ')} that.")
        owner_text = ctx.extras.get("owner_text")
        if isinstance(owner_text, str) and not owner_asked(owner_text, command):
            raise NotAllowed(
                "The owner's message did not ask for that; high-risk commands must be asked "
                "for directly. Do not retry; tell the owner what you were about to do."
            )
        return self._issue(ctx.channel, ctx.sender, devices, command, ctx.requested_by)

    def challenge_for_command(
        self, channel: str, sender: str, device_id: str, command: Command
    ) -> dict[str, Any]:
        """A confirmation for a high-risk command from the dashboard API (JSON)."""
        device = self.home.get(device_id)
        return self._issue(channel, sender, [device], command, f"{channel}:{sender}").to_json()

    def _issue(
        self,
        channel: str,
        sender: str,
        devices: list[Device],
        command: Command,
        requested_by: str,
    ) -> Challenge:
        now = self.clock()
        # One pending confirmation per sender: a new request supersedes the old.
        self.store.execute(
            "UPDATE policy_confirmations SET status = 'superseded' "
            "WHERE channel = ? AND sender = ? AND status = 'pending'",
            (channel, sender),
        )
        code = f"{secrets.randbelow(9000) + 1000}"
        verb = VERBS.get(command.action, command.action.value.replace("_", " ").capitalize())
        names = ", ".join(d.name for d in devices)
        if command.action == Action.SET_POSITION:
            names += f" to {command.position}%"
        minutes = round(self.expiry / 60)
        span = f"{minutes} minute{'s' if minutes != 1 else ''}"
        prompt = f"{verb} {names}? Reply YES {code} within {span} to confirm."
        challenge = Challenge(
            id=uuid.uuid4().hex[:12],
            channel=channel,
            sender=sender,
            code=code,
            device_ids=[d.id for d in devices],
            command=command,
            prompt=prompt,
            requested_by=requested_by,
            expires=now + self.expiry,
        )
        self.store.execute(
            "INSERT INTO policy_confirmations(id, channel, sender, code, device_ids, command, "
            "prompt, requested_by, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                challenge.id,
                channel,
                sender,
                code,
                json.dumps(challenge.device_ids),
                json.dumps(command.to_json()),
                prompt,
                requested_by,
                now,
                challenge.expires,
            ),
        )
        return challenge

    def pending(self, channel: str, sender: str) -> Challenge | None:
        """The sender's pending, unexpired confirmation, if any."""
        row = self.store.one(
            "SELECT * FROM policy_confirmations WHERE channel = ? AND sender = ? "
            "AND status = 'pending' AND expires > ? ORDER BY created DESC LIMIT 1",
            (channel, sender, self.clock()),
        )
        return _challenge(row) if row else None

    def cancel(self, channel: str, sender: str) -> int:
        """Cancel a sender's pending confirmations; returns how many."""
        cursor = self.store.execute(
            "UPDATE policy_confirmations SET status = 'cancelled' "
            "WHERE channel = ? AND sender = ? AND status = 'pending'",
            (channel, sender),
        )
        return cursor.rowcount

    # -- confirming ----------------------------------------------------------------

    async def confirm(
        self, channel: str, sender: str, text: str, role: str = "owner"
    ) -> ConfirmOutcome | None:
        """Handle a message that may confirm or cancel a pending command.

        Returns None when the message is not about a confirmation (it then goes
        to the brain as usual).
        """
        now = self.clock()
        cancel = CANCEL_RE.match(text)
        match = CONFIRM_RE.match(text)
        if cancel:
            if self.pending(channel, sender) is None:
                return None
            self.cancel(channel, sender)
            return ConfirmOutcome("cancelled", "Cancelled; nothing was done.")
        if not match:
            if BARE_YES_RE.match(text) and self.pending(channel, sender) is not None:
                return ConfirmOutcome(
                    "need_code", "Please reply YES followed by the 4-digit code I sent."
                )
            return None
        explicit = match.group(1) is not None
        code = match.group(2)
        latest = self.store.one(
            "SELECT * FROM policy_confirmations WHERE channel = ? AND sender = ? "
            "AND status = 'pending' ORDER BY created DESC LIMIT 1",
            (channel, sender),
        )
        if latest is None:
            if not explicit:
                return None  # a bare number with nothing pending is an ordinary message
            return ConfirmOutcome(
                "nothing_pending", "There's nothing waiting for a code right now."
            )
        if latest["expires"] <= now:
            self.store.execute(
                "UPDATE policy_confirmations SET status = 'expired' WHERE id = ?", (latest["id"],)
            )
            return ConfirmOutcome(
                "expired", "That code has expired, so nothing was done. Ask again for a new one."
            )
        if not self.may_high_risk(role):
            return ConfirmOutcome("cancelled", "Only the owner can confirm that.")
        if not secrets.compare_digest(code, latest["code"]):
            attempts = latest["attempts"] + 1
            status = "pending" if attempts < MAX_ATTEMPTS else "cancelled"
            self.store.execute(
                "UPDATE policy_confirmations SET attempts = ?, status = ? WHERE id = ?",
                (attempts, status, latest["id"]),
            )
            if status == "cancelled":
                return ConfirmOutcome(
                    "wrong_code", "Wrong code again, so I cancelled it. Nothing was done."
                )
            return ConfirmOutcome("wrong_code", "That's not the right code; nothing was done.")
        # Claim the row atomically so a code can be used once, even if sent twice.
        claimed = self.store.execute(
            "UPDATE policy_confirmations SET status = 'used' WHERE id = ? AND status = 'pending'",
            (latest["id"],),
        ).rowcount
        if claimed != 1:
            return ConfirmOutcome("expired", "That code was already used.")
        challenge = _challenge(latest)
        return await self._execute(challenge, f"{channel}:{sender}")

    async def _execute(self, challenge: Challenge, confirmed_by: str) -> ConfirmOutcome:
        results = await self.home.execute_many(
            challenge.device_ids,
            challenge.command,
            requested_by=f"{challenge.requested_by} (confirmed by {confirmed_by})",
            confirmed=True,
        )
        done: list[str] = []
        failed: list[str] = []
        actions: list[dict[str, Any]] = []
        for device_id, result in results:
            if isinstance(result, HomeError):
                failed.append(str(result))
                actions.append(
                    _action(
                        challenge, device_id, False, {"error": result.kind, "detail": str(result)}
                    )
                )
            else:
                done.append(result.name)
                actions.append(_action(challenge, device_id, True, result.state.to_json()))
        verb = VERBS.get(challenge.command.action, "Done").lower()
        past = {"unlock": "unlocked", "disarm": "disarmed", "open": "opened", "toggle": "toggled"}
        if not failed:
            return ConfirmOutcome(
                "done", f"Confirmed: {', '.join(done)} {past.get(verb, 'done')}.", actions
            )
        text = "Couldn't do it: " + "; ".join(failed)
        if done:
            text = f"{', '.join(done)} {past.get(verb, 'done')}, but " + text[0].lower() + text[1:]
        return ConfirmOutcome("partial", text, actions)


def _action(challenge: Challenge, device_id: str, ok: bool, result: Any) -> dict[str, Any]:
    return {
        "tool": "confirm",
        "args": {"device": device_id, **challenge.command.to_json()},
        "ok": ok,
        "result": result,
    }


def _challenge(row: Any) -> Challenge:
    return Challenge(
        id=row["id"],
        channel=row["channel"],
        sender=row["sender"],
        code=row["code"],
        device_ids=json.loads(row["device_ids"]),
        command=Command.model_validate(json.loads(row["command"])),
        prompt=row["prompt"],
        requested_by=row["requested_by"],
        expires=row["expires"],
    )
