"""People the house knows: identities per channel, roles, pairing, and who may reach the brain.

Configured people (config.yaml) are fixed; people the owner approves later
(`homeclaw pair …`) are persisted in SQLite once `attach(store)` is called, so
they survive restarts. Addresses are normalised before every comparison, so
`whatsapp:+1 (555) 0100`, `+15550100` and `0015550100` are the same person.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.roles import ROLES

if TYPE_CHECKING:
    from agent.config import Person
    from agent.store import Store

PHONE_CHANNELS = ("sms", "whatsapp", "twilio")
PAIRING_TTL = 15 * 60.0
# A pairing message is "PAIR 12345678" (case and spacing forgiven).
PAIRING_TEXT = re.compile(r"^\s*pair\s*[:#-]?\s*(\d{4,12})\s*$", re.IGNORECASE)

MIGRATIONS = [
    """
    CREATE TABLE people (
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        added_at REAL NOT NULL,
        added_by TEXT NOT NULL,
        PRIMARY KEY (channel, address)
    );
    CREATE TABLE pairing_codes (
        code_hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL
    );
    """,
]


@dataclass(frozen=True)
class Identity:
    """A known person as seen on one channel."""

    name: str
    role: str
    channel: str
    address: str
    area: str | None = None  # the room they are usually in (config `people[].area`)

    @property
    def is_owner(self) -> bool:
        """Owners may confirm high-risk commands."""
        return self.role == "owner"


def normalise_address(channel: str, address: str) -> str:
    """Canonical form of an address: E.164 for phones, bare ids for Telegram."""
    value = str(address).strip()
    if channel in PHONE_CHANNELS:
        value = value.removeprefix("whatsapp:").removeprefix("sms:")
        value = re.sub(r"[\s\-().]", "", value)
        if value.startswith("00"):
            value = "+" + value[2:]
        if value and not value.startswith("+"):
            value = "+" + value.lstrip("0")
    elif channel == "telegram":
        value = value.removeprefix("telegram:")
    return value


def valid_address(channel: str, address: str) -> bool:
    """Whether a normalised address looks right for its channel (E.164, numeric id)."""
    if channel in PHONE_CHANNELS:
        return re.fullmatch(r"\+[1-9]\d{6,14}", address) is not None
    if channel == "telegram":
        return re.fullmatch(r"-?\d{1,20}", address) is not None
    return bool(address)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class People:
    """Looks up who is talking from the configured people and the ones the owner paired."""

    def __init__(self, people: list[Person]) -> None:
        self._configured: dict[tuple[str, str], Identity] = {}
        self._paired: dict[tuple[str, str], Identity] = {}
        self._store: Store | None = None
        self.owner_addresses: dict[str, str] = {}
        for person in people:
            for channel, address in (
                ("sms", person.phone),
                ("whatsapp", person.whatsapp or person.phone),
                ("telegram", person.telegram),
            ):
                if address is not None:
                    key = (channel, normalise_address(channel, str(address)))
                    self._configured[key] = Identity(
                        person.name, person.role, channel, key[1], person.area
                    )
                    if person.role == "owner":
                        self.owner_addresses.setdefault(channel, key[1])

    def attach(self, store: Store) -> None:
        """Persist paired people and pairing codes in the store (and load the paired ones)."""
        store.migrate("people", MIGRATIONS)
        self._store = store
        self._paired = {
            (row["channel"], row["address"]): Identity(
                row["name"], row["role"], row["channel"], row["address"]
            )
            for row in store.query("SELECT channel, address, name, role FROM people")
        }

    def identify(self, channel: str, address: str) -> Identity | None:
        """The known person behind an address on a channel, if any."""
        if channel in ("cli", "web", "local"):
            # These surfaces are reached only with the API token: the owner.
            return Identity("owner", "owner", channel, address)
        key = (channel, normalise_address(channel, address))
        return self._configured.get(key) or self._paired.get(key)

    def add(self, identity: Identity, *, added_by: str = "owner") -> list[Identity]:
        """Allow someone new (after the owner approved them); phones get SMS and WhatsApp."""
        if identity.role not in ROLES:
            raise ValueError(f"unknown role {identity.role!r} (use one of {', '.join(ROLES)})")
        address = normalise_address(identity.channel, identity.address)
        if not valid_address(identity.channel, address):
            raise ValueError(f"{identity.address!r} is not a valid {identity.channel} address")
        channels = (
            ("sms", "whatsapp") if identity.channel in PHONE_CHANNELS else (identity.channel,)
        )
        added = [Identity(identity.name, identity.role, ch, address) for ch in channels]
        for item in added:
            if (item.channel, item.address) in self._configured:
                raise ValueError(f"{item.address} is configured in config.yaml; edit it there")
        for item in added:
            self._paired[(item.channel, item.address)] = item
            if self._store is not None:
                self._store.execute(
                    "INSERT INTO people(channel, address, name, role, added_at, added_by) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, address) DO UPDATE SET "
                    "name = excluded.name, role = excluded.role",
                    (item.channel, item.address, item.name, item.role, time.time(), added_by),
                )
        return added

    def remove(self, channel: str, address: str) -> int:
        """Forget a paired person on a channel (phones: both SMS and WhatsApp); returns count."""
        address = normalise_address(channel, address)
        channels = ("sms", "whatsapp") if channel in PHONE_CHANNELS else (channel,)
        removed = 0
        for ch in channels:
            if self._paired.pop((ch, address), None) is not None:
                removed += 1
            if self._store is not None:
                self._store.execute(
                    "DELETE FROM people WHERE channel = ? AND address = ?", (ch, address)
                )
        return removed

    def everyone(self) -> list[dict[str, Any]]:
        """Every identity the house knows, with where it came from."""
        rows = [{**vars(i), "source": "config"} for i in self._configured.values()] + [
            {**vars(i), "source": "paired"} for i in self._paired.values()
        ]
        return sorted(rows, key=lambda r: (r["name"], r["channel"]))

    # -- pairing ---------------------------------------------------------------

    def create_pairing(self, name: str, role: str, ttl: float = PAIRING_TTL) -> str:
        """A one-time code the new person sends ("PAIR 12345678") from their phone/account."""
        if self._store is None:
            raise RuntimeError("pairing needs the store (People.attach)")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (use one of {', '.join(ROLES)})")
        if not name.strip():
            raise ValueError("a name is required")
        code = f"{secrets.randbelow(10**8):08d}"
        now = time.time()
        self._store.execute("DELETE FROM pairing_codes WHERE expires < ?", (now,))
        self._store.execute(
            "INSERT INTO pairing_codes(code_hash, name, role, created, expires) "
            "VALUES (?, ?, ?, ?, ?)",
            (_hash(code), name.strip(), role, now, now + ttl),
        )
        return code

    def redeem(self, channel: str, address: str, text: str) -> list[Identity] | None:
        """Pair the sender when `text` is a valid, unexpired code; the code is used up."""
        match = PAIRING_TEXT.match(text or "")
        if match is None or self._store is None:
            return None
        digest = _hash(match.group(1))
        row = None
        for candidate in self._store.query(
            "SELECT code_hash, name, role FROM pairing_codes WHERE expires >= ?", (time.time(),)
        ):
            # Constant-time comparison: the stored hashes must not leak through timing.
            if hmac.compare_digest(candidate["code_hash"], digest):
                row = candidate
        if row is None:
            return None
        self._store.execute("DELETE FROM pairing_codes WHERE code_hash = ?", (row["code_hash"],))
        return self.add(Identity(row["name"], row["role"], channel, address), added_by="pairing")

    def pending_pairings(self) -> list[dict[str, Any]]:
        """Unexpired pairing codes (names and roles only; codes are stored hashed)."""
        if self._store is None:
            return []
        return [
            dict(row)
            for row in self._store.query(
                "SELECT name, role, created, expires FROM pairing_codes WHERE expires >= ? "
                "ORDER BY created",
                (time.time(),),
            )
        ]
