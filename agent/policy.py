"""Policy: what may happen, for whom, and how high-risk commands get confirmed.

Safety lives here, in code, not in a prompt:
- high-risk commands (unlock, disarm, an alarm downgrade, opening a garage
  door) never run on a request alone: the daemon issues a one-time code bound
  to the (channel, sender) that asked, and only that code, from that sender,
  within the expiry, runs the command (`home.execute(..., confirmed=True)`);
- a code is asked for only when the person's own message, read by the local
  matcher (not the model), names that very command on those devices, or when
  the owner presses the button on the dashboard (`challenge_for_command`). A
  model that decides on its own to unlock (a device name, a camera description
  or its own confusion told it to) gets a refusal, never a code;
- turns triggered by untrusted text (camera descriptions, heartbeat notes,
  other people's messages) and roles without the right (guests) cannot even
  ask for a code; guessing is bounded per challenge, per person and per device
  (agent/challenges.py), and a lockout is reported to the owner;
- per-sender rate limits; the per-turn tool-call cap and per-tool timeout are
  read by the agent loop from here.
Pending confirmations are rows in SQLite, so a restart in the middle of one
still confirms in time, or cleanly says the code expired.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from agent.challenges import (
    BARE_YES_RE,
    CANCEL_RE,
    CHALLENGES_PER_PERSON_HOUR,
    CODE_DIGITS,
    CONFIRM_RE,
    HOUR,
    MAX_ATTEMPTS,
    MAX_PENDING,
    WRONG_PER_DEVICE_HOUR,
    WRONG_PER_PERSON_HOUR,
    Challenge,
    Challenges,
    digits,
    from_row,
    new_challenge,
)
from agent.devices import Action, Command, Device, Risk
from agent.errors import HomeError, NotAllowed
from agent.roles import ROLE_CAN_HIGH_RISK

if TYPE_CHECKING:
    from agent.brain.config import BrainConfig
    from agent.brain.tools import ToolContext
    from agent.home import Home
    from agent.store import Store

# Where a code asked for from the dashboard or the CLI goes (returns "your WhatsApp"...).
Deliver = Callable[[Challenge], str]
# A notice to the owner through the outbox: (text, dedupe key).
Notify = Callable[[str, str], None]
API_CHANNELS = ("web", "cli", "local")
PAST = {
    Action.UNLOCK: "unlocked",
    Action.DISARM: "disarmed",
    Action.OPEN: "opened",
    Action.SET_POSITION: "opened",
    Action.TOGGLE: "toggled",
    Action.ARM: "switched",
}


def _opens_fully(command: Command) -> bool:
    return command.action == Action.OPEN or (
        command.action == Action.SET_POSITION and command.position == 100
    )


@dataclass(frozen=True)
class Asked:
    """What the person's own message asks for, as the local matcher parsed it."""

    device_ids: frozenset[str]
    commands: tuple[Command, ...]

    @classmethod
    def of(cls, devices: list[Device], commands: list[Command]) -> Asked:
        """From a local-path plan."""
        return cls(frozenset(d.id for d in devices), tuple(commands))

    def covers(self, devices: list[Device], command: Command) -> bool:
        """Whether this request names exactly this command on (at least) these devices."""
        if not {d.id for d in devices} <= self.device_ids:
            return False
        return any(
            command == asked or (_opens_fully(command) and _opens_fully(asked))
            for asked in self.commands
        )


class RateLimited(NotAllowed):
    """The sender sent too many messages too quickly."""

    kind = "rate_limited"


@dataclass
class ConfirmOutcome:
    """What became of a confirmation attempt."""

    status: Literal[
        "done",
        "partial",
        "wrong_code",
        "expired",
        "cancelled",
        "nothing_pending",
        "need_code",
        "locked",
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
        *,
        deliver: Deliver | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.store = store
        self.home = home
        self.config = config
        self.clock = clock
        self.deliver = deliver
        self.notify = notify
        self.expiry = float(config.confirmation_seconds)
        self.max_tool_calls_per_turn = config.max_tool_calls_per_turn
        self.tool_timeout = config.tool_timeout
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self.challenges = Challenges(store)

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
        """Ask for a code before a high-risk command the person asked for (or refuse)."""
        if ctx.untrusted:
            raise NotAllowed(
                "High-risk commands can't be started from automated or untrusted text; "
                "the owner must ask directly."
            )
        if not self.may_high_risk(ctx.role):
            raise NotAllowed(f"A {ctx.role} can't {command.action.value.replace('_', ' ')} that.")
        asked = ctx.extras.get("asked")
        if not (isinstance(asked, Asked) and asked.covers(devices, command)):
            raise NotAllowed(
                "I only send a confirmation code when your own message asks for exactly "
                "that, in words like “unlock the front door”; nothing happened."
            )
        person = ctx.person or ctx.requested_by
        return self._issue(ctx.channel, ctx.sender, person, devices, command, ctx.requested_by)

    def challenge_for_command(
        self, channel: str, sender: str, device_id: str, command: Command
    ) -> dict[str, Any]:
        """A confirmation for a high-risk command the owner pressed on the dashboard (JSON)."""
        device = self.home.get(device_id)
        challenge = self._issue(channel, sender, sender, [device], command, f"{channel}:{sender}")
        return {**challenge.to_json(), "prompt": challenge.text}

    def _issue(
        self,
        channel: str,
        sender: str,
        person: str,
        devices: list[Device],
        command: Command,
        requested_by: str,
    ) -> Challenge:
        now = self.clock()
        paused = self._lockout(person, [d.id for d in devices], now)
        if paused is not None:
            raise NotAllowed(paused)
        if self.challenges.issued_since(person, now - HOUR) >= CHALLENGES_PER_PERSON_HOUR:
            raise NotAllowed(
                "Too many confirmation requests this hour; high-risk commands wait a while."
            )
        mine = self.challenges.latest(channel, sender)
        others = self.challenges.pending_count(now) - (1 if mine and mine["expires"] > now else 0)
        if others >= MAX_PENDING:
            raise NotAllowed("Too many confirmations are waiting; answer or cancel one first.")
        challenge = new_challenge(
            channel=channel,
            sender=sender,
            person=person,
            devices=devices,
            command=command,
            requested_by=requested_by,
            expires=now + self.expiry,
        )
        self.challenges.insert(challenge, now)
        minutes = round(self.expiry / 60)
        span = f"{minutes} minute{'s' if minutes != 1 else ''}"
        if channel not in API_CHANNELS:
            challenge.text = (
                f"{challenge.prompt} Reply YES {challenge.code} within {span} to confirm."
            )
            return challenge
        # Asked through the API (dashboard, CLI): the answer must not carry the code, or a
        # page that rides the owner's cookie could read it. It goes out of band.
        try:
            where = self.deliver(challenge) if self.deliver is not None else None
        except Exception:
            where = None
        if where is None:
            self.challenges.set_status(challenge.id, "cancelled")
            raise NotAllowed("There is no way to send you a confirmation code; nothing was done.")
        challenge.text = (
            f"{challenge.prompt} I sent a {CODE_DIGITS}-digit code to {where}; "
            f"reply YES and the code within {span} to confirm."
        )
        return challenge

    def pending(self, channel: str, sender: str) -> Challenge | None:
        """The sender's pending, unexpired confirmation, if any."""
        row = self.challenges.latest(channel, sender)
        return from_row(row) if row is not None and row["expires"] > self.clock() else None

    def cancel(self, channel: str, sender: str) -> int:
        """Cancel a sender's pending confirmations; returns how many."""
        return self.challenges.cancel(channel, sender)

    # -- guessing limits -----------------------------------------------------------

    def _lockout(self, person: str, device_ids: list[str], now: float) -> str | None:
        """Why high-risk commands are paused for this person or these devices, or None."""
        until = self.challenges.locked_until("person", person, WRONG_PER_PERSON_HOUR, now)
        if until is not None:
            return (
                f"Too many wrong codes: high-risk commands are paused for you for "
                f"{_minutes(until - now)}. The owner has been told."
            )
        for device_id in device_ids:
            until = self.challenges.locked_until("device_id", device_id, WRONG_PER_DEVICE_HOUR, now)
            if until is not None:
                name = self.home.find(device_id)
                return (
                    f"Too many wrong codes for {name.name if name else device_id}: it is paused "
                    f"for {_minutes(until - now)}. The owner has been told."
                )
        return None

    def _wrong_code(self, challenge: Challenge, channel: str, sender: str, now: float) -> None:
        """Count a wrong code; start a lockout (and tell the owner) when a limit is reached."""
        person = challenge.person
        self.challenges.record_wrong(now, person, challenge.device_ids, channel, sender)
        reached: list[tuple[str, float | None]] = []
        if self.challenges.wrong_count("person", person, now) == WRONG_PER_PERSON_HOUR:
            until = self.challenges.locked_until("person", person, WRONG_PER_PERSON_HOUR, now)
            reached.append((f"{person} ({channel} {sender})", until))
        for device_id in challenge.device_ids:
            if self.challenges.wrong_count("device_id", device_id, now) == WRONG_PER_DEVICE_HOUR:
                device = self.home.find(device_id)
                until = self.challenges.locked_until(
                    "device_id", device_id, WRONG_PER_DEVICE_HOUR, now
                )
                reached.append((device.name if device else device_id, until))
        for who, until in reached:
            self.challenges.cancel_locked(person, challenge.device_ids)
            if self.notify is not None:
                self.notify(
                    f"Security: too many wrong confirmation codes for {who} within an hour "
                    f"(the latest from {channel} {sender}). Unlocking, disarming and opening "
                    f"are paused there for {_minutes((until or now + HOUR) - now)}.",
                    f"lockout:{who}:{int(now)}",
                )

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
                    "need_code",
                    f"Please reply YES followed by the {CODE_DIGITS}-digit code I sent.",
                )
            return None
        explicit = match.group(1) is not None
        code = digits(match.group(2))
        latest = self.challenges.latest(channel, sender)
        if latest is None:
            if not explicit:
                return None  # a bare number with nothing pending is an ordinary message
            return ConfirmOutcome(
                "nothing_pending", "There's nothing waiting for a code right now."
            )
        if latest["expires"] <= now:
            self.challenges.set_status(latest["id"], "expired")
            return ConfirmOutcome(
                "expired", "That code has expired, so nothing was done. Ask again for a new one."
            )
        if not self.may_high_risk(role):
            return ConfirmOutcome("cancelled", "Only the owner can confirm that.")
        challenge = from_row(latest)
        paused = self._lockout(challenge.person, challenge.device_ids, now)
        if paused is not None:
            self.challenges.set_status(challenge.id, "cancelled")
            return ConfirmOutcome("locked", paused)
        if not secrets.compare_digest(code, challenge.code):
            attempts = latest["attempts"] + 1
            status = "pending" if attempts < MAX_ATTEMPTS else "cancelled"
            self.challenges.set_status(challenge.id, status, attempts)
            self._wrong_code(challenge, channel, sender, now)
            paused = self._lockout(challenge.person, challenge.device_ids, now)
            if paused is not None:
                return ConfirmOutcome("locked", f"That's not the right code. {paused}")
            if status == "cancelled":
                return ConfirmOutcome(
                    "wrong_code", "Wrong code again, so I cancelled it. Nothing was done."
                )
            return ConfirmOutcome("wrong_code", "That's not the right code; nothing was done.")
        # Claim the row atomically so a code can be used once, even if sent twice.
        if not self.challenges.claim(challenge.id):
            return ConfirmOutcome("expired", "That code was already used.")
        return await self._execute(challenge, f"{channel}:{sender}", role)

    async def _execute(self, challenge: Challenge, confirmed_by: str, role: str) -> ConfirmOutcome:
        results = await self.home.execute_many(
            challenge.device_ids,
            challenge.command,
            requested_by=f"{challenge.requested_by} (confirmed by {confirmed_by})",
            confirmed=True,
            role=role,
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
        past = PAST.get(challenge.command.action, "done")
        if challenge.command.action == Action.ARM:
            past = f"switched to {challenge.command.arm_mode or 'away'} mode"
        if not failed:
            return ConfirmOutcome("done", f"Confirmed: {', '.join(done)} {past}.", actions)
        text = "Couldn't do it: " + "; ".join(failed)
        if done:
            text = f"{', '.join(done)} {past}, but " + text[0].lower() + text[1:]
        return ConfirmOutcome("partial", text, actions)


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _action(challenge: Challenge, device_id: str, ok: bool, result: Any) -> dict[str, Any]:
    return {
        "tool": "confirm",
        "args": {"device": device_id, **challenge.command.to_json()},
        "ok": ok,
        "result": result,
    }
