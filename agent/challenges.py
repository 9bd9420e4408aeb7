"""One-time codes for high-risk commands: issuing, storing, and the limits on guessing.

A challenge is a pending high-risk command bound to the (channel, sender) that
asked; its code is 7 digits, single use, valid `brain.confirmation_seconds`.
Guessing is bounded three ways, all persisted in SQLite so a restart resets
nothing: 3 wrong codes cancel a challenge; 5 wrong codes from one person or 10
against one device within an hour pause high-risk commands for that person or
device (and the owner is told); at most 10 challenges per person per hour and
4 pending in the whole house. The code itself never leaves this module except
towards the person who must type it: the model, API answers and stored
conversations see `prompt`, which has no code (`redact_codes` scrubs stray ones).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agent.devices import Action, Command, Device

if TYPE_CHECKING:
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
    """
    ALTER TABLE policy_confirmations ADD COLUMN person TEXT NOT NULL DEFAULT '';
    CREATE TABLE policy_wrong_codes (
        attempt TEXT NOT NULL,
        ts REAL NOT NULL,
        person TEXT NOT NULL,
        device_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        sender TEXT NOT NULL
    );
    CREATE INDEX policy_wrong_codes_person ON policy_wrong_codes(person, ts);
    CREATE INDEX policy_wrong_codes_device ON policy_wrong_codes(device_id, ts);
    """,
]

CODE_DIGITS = 7
MAX_ATTEMPTS = 3
WRONG_PER_PERSON_HOUR = 5
WRONG_PER_DEVICE_HOUR = 10
CHALLENGES_PER_PERSON_HOUR = 10
MAX_PENDING = 4
HOUR = 3600.0
# Expected challenges to guess one code: each challenge allows MAX_ATTEMPTS distinct
# guesses out of 10^CODE_DIGITS codes (README, Security: 10^7 / 3 ≈ 3.3 million).
EXPECTED_CHALLENGES_TO_GUESS = 10**CODE_DIGITS / MAX_ATTEMPTS

VERBS = {
    Action.UNLOCK: "Unlock",
    Action.DISARM: "Disarm",
    Action.OPEN: "Open",
    Action.SET_POSITION: "Open",
    Action.TOGGLE: "Toggle",
}
# A code, possibly typed in groups ("482 1937"); 4+ digits so an old 4-digit habit
# still counts as a (wrong) try instead of slipping through to the brain.
_DIGITS = r"(\d(?:[ -]?\d){3,11})"
# "YES 4821937", "yes, 4821937", "confirm 482-1937", "4821937".
CONFIRM_RE = re.compile(
    rf"^\s*(?:(yes|y|ok|okay|confirm|confirmed)\b[\s,:.!-]*)?{_DIGITS}\s*[.!]*\s*$", re.I
)
BARE_YES_RE = re.compile(r"^\s*(yes|y|ok|okay|confirm|confirmed|sure|do it)\s*[.!]*\s*$", re.I)
CANCEL_RE = re.compile(r"^\s*(no|nope|cancel|don'?t|never ?mind|stop)\s*[.!]*\s*$", re.I)
# Anything that reads like a confirmation with digits, wherever it sits in a text.
_CODE_IN_TEXT = re.compile(rf"(?i)\b(yes|y|ok|okay|confirm(?:ed)?|code)\b([\s,:.!-]*){_DIGITS}")
REDACTED = "[code]"


def redact_codes(text: str, *, everything: bool = False) -> str:
    """The text with one-time codes replaced by [code] (all digit runs if `everything`)."""
    if everything:
        return re.sub(_DIGITS, REDACTED, text)
    return _CODE_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def new_code() -> str:
    """A uniformly random code of CODE_DIGITS digits (leading zeros allowed)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def digits(text: str) -> str:
    """The digits of a typed code ("482 1937" → "4821937")."""
    return re.sub(r"\D", "", text)


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
    person: str = ""
    # What the asking person is told: the code itself on a phone channel, where the
    # code went when they asked from the dashboard or the CLI. Never stored in history.
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        """The `confirmation` object of replies and API answers (no code in it)."""
        return {
            "code_required": True,
            "id": self.id,
            "expires_at": datetime.fromtimestamp(self.expires, UTC).isoformat(timespec="seconds"),
            "prompt": self.prompt,
            "devices": self.device_ids,
            "action": self.command.action.value,
            "digits": CODE_DIGITS,
        }


def question(devices: list[Device], command: Command) -> str:
    """ "Unlock Front door?", "Switch Alarm to home mode?" """
    names = ", ".join(d.name for d in devices)
    if command.action == Action.ARM:
        return f"Switch {names} to {command.arm_mode or 'away'} mode?"
    verb = VERBS.get(command.action, command.action.value.replace("_", " ").capitalize())
    if command.action == Action.SET_POSITION:
        names += f" to {command.position}%"
    return f"{verb} {names}?"


class Challenges:
    """The SQLite rows behind challenges, and the counters that bound guessing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("policy", MIGRATIONS)

    def insert(self, challenge: Challenge, now: float) -> None:
        """Store a new challenge, superseding the sender's older one."""
        self.store.execute(
            "UPDATE policy_confirmations SET status = 'superseded' "
            "WHERE channel = ? AND sender = ? AND status = 'pending'",
            (challenge.channel, challenge.sender),
        )
        self.store.execute(
            "INSERT INTO policy_confirmations(id, channel, sender, code, device_ids, command, "
            "prompt, requested_by, created, expires, person) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                challenge.id,
                challenge.channel,
                challenge.sender,
                challenge.code,
                json.dumps(challenge.device_ids),
                json.dumps(challenge.command.to_json()),
                challenge.prompt,
                challenge.requested_by,
                now,
                challenge.expires,
                challenge.person,
            ),
        )

    def latest(self, channel: str, sender: str) -> Any:
        """The sender's newest pending row (expired or not), if any."""
        return self.store.one(
            "SELECT * FROM policy_confirmations WHERE channel = ? AND sender = ? "
            "AND status = 'pending' ORDER BY created DESC LIMIT 1",
            (channel, sender),
        )

    def set_status(self, challenge_id: str, status: str, attempts: int | None = None) -> None:
        """Mark a challenge expired, cancelled, used..."""
        if attempts is None:
            self.store.execute(
                "UPDATE policy_confirmations SET status = ? WHERE id = ?", (status, challenge_id)
            )
        else:
            self.store.execute(
                "UPDATE policy_confirmations SET status = ?, attempts = ? WHERE id = ?",
                (status, attempts, challenge_id),
            )

    def claim(self, challenge_id: str) -> bool:
        """Use a challenge up atomically: True for exactly one caller."""
        cursor = self.store.execute(
            "UPDATE policy_confirmations SET status = 'used' WHERE id = ? AND status = 'pending'",
            (challenge_id,),
        )
        return cursor.rowcount == 1

    def cancel(self, channel: str, sender: str) -> int:
        """Cancel a sender's pending challenges; returns how many."""
        cursor = self.store.execute(
            "UPDATE policy_confirmations SET status = 'cancelled' "
            "WHERE channel = ? AND sender = ? AND status = 'pending'",
            (channel, sender),
        )
        return cursor.rowcount

    def cancel_locked(self, person: str, device_ids: list[str]) -> None:
        """Cancel pending challenges of a locked-out person or touching a locked-out device."""
        for row in self.store.query(
            "SELECT id, person, device_ids FROM policy_confirmations WHERE status = 'pending'"
        ):
            if row["person"] == person or set(json.loads(row["device_ids"])) & set(device_ids):
                self.set_status(row["id"], "cancelled")

    # -- limits ----------------------------------------------------------------------

    def pending_count(self, now: float) -> int:
        """Unexpired pending challenges in the whole house."""
        row = self.store.one(
            "SELECT COUNT(*) FROM policy_confirmations WHERE status = 'pending' AND expires > ?",
            (now,),
        )
        return int(row[0]) if row else 0

    def issued_since(self, person: str, since: float) -> int:
        """Challenges issued to a person since a time."""
        row = self.store.one(
            "SELECT COUNT(*) FROM policy_confirmations WHERE person = ? AND created > ?",
            (person, since),
        )
        return int(row[0]) if row else 0

    def record_wrong(
        self, now: float, person: str, device_ids: list[str], channel: str, sender: str
    ) -> None:
        """Count one wrong code against the person and each device it targeted."""
        attempt = uuid.uuid4().hex
        self.store.executemany(
            "INSERT INTO policy_wrong_codes(attempt, ts, person, device_id, channel, sender) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(attempt, now, person, device_id, channel, sender) for device_id in device_ids],
        )
        # An hour is all the limits look at; a day is kept for the owner's curiosity.
        self.store.execute("DELETE FROM policy_wrong_codes WHERE ts < ?", (now - 24 * HOUR,))

    def wrong_count(self, column: str, value: str, now: float) -> int:
        """Wrong codes in the last hour by a person (column "person") or against a device."""
        assert column in ("person", "device_id")
        # One wrong reply naming several devices counts once for the person.
        row = self.store.one(
            f"SELECT COUNT(DISTINCT attempt) FROM policy_wrong_codes WHERE {column} = ? AND ts > ?",
            (value, now - HOUR),
        )
        return int(row[0]) if row else 0

    def locked_until(self, column: str, value: str, limit: int, now: float) -> float | None:
        """When a lockout (limit wrong codes within an hour) ends, or None if there is none."""
        assert column in ("person", "device_id")
        rows = self.store.query(
            f"SELECT attempt, MAX(ts) AS ts FROM policy_wrong_codes WHERE {column} = ? "
            "AND ts > ? GROUP BY attempt ORDER BY ts DESC LIMIT ?",
            (value, now - HOUR, limit),
        )
        if len(rows) < limit:
            return None
        # Locked until the oldest of the last `limit` wrong codes is an hour old.
        return float(rows[-1]["ts"]) + HOUR


def new_challenge(
    *,
    channel: str,
    sender: str,
    person: str,
    devices: list[Device],
    command: Command,
    requested_by: str,
    expires: float,
) -> Challenge:
    """A fresh challenge with a new code; `prompt` says what and how, without the code."""
    return Challenge(
        id=uuid.uuid4().hex[:12],
        channel=channel,
        sender=sender,
        code=new_code(),
        device_ids=[d.id for d in devices],
        command=command,
        prompt=question(devices, command),
        requested_by=requested_by,
        expires=expires,
        person=person,
    )


def from_row(row: Any) -> Challenge:
    """A challenge as stored."""
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
        person=row["person"],
    )
