"""People the house knows: identities per channel, roles, and who may reach the brain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config import Person

# What each role may do; locks, alarms and garage doors stay with owners.
ROLE_CAN_HIGH_RISK = {"owner": True, "family": True, "guest": False}


@dataclass(frozen=True)
class Identity:
    """A known person as seen on one channel."""

    name: str
    role: str
    channel: str
    address: str

    @property
    def is_owner(self) -> bool:
        """Owners may confirm high-risk commands."""
        return self.role == "owner"


def normalise_address(channel: str, address: str) -> str:
    """Canonical form of an address: E.164 for phones, bare ids for Telegram."""
    value = address.strip()
    if channel in ("sms", "whatsapp", "twilio"):
        value = value.removeprefix("whatsapp:").replace(" ", "").replace("-", "")
        value = value.replace("(", "").replace(")", "")
        if value and not value.startswith("+"):
            value = "+" + value.lstrip("0")
    return value


class People:
    """Looks up who is talking from the configured people (and, later, paired ones)."""

    def __init__(self, people: list[Person]) -> None:
        self._by_address: dict[tuple[str, str], Identity] = {}
        for person in people:
            for channel, address in (
                ("sms", person.phone),
                ("whatsapp", person.whatsapp or person.phone),
                ("telegram", person.telegram),
            ):
                if address is not None:
                    key = (channel, normalise_address(channel, str(address)))
                    self._by_address[key] = Identity(person.name, person.role, channel, key[1])

    def identify(self, channel: str, address: str) -> Identity | None:
        """The known person behind an address on a channel, if any."""
        if channel in ("cli", "web", "local"):
            # These surfaces are reached only with the API token: the owner.
            return Identity("owner", "owner", channel, address)
        return self._by_address.get((channel, normalise_address(channel, address)))

    def add(self, identity: Identity) -> None:
        """Allow someone new (after the owner approved them)."""
        self._by_address[(identity.channel, identity.address)] = identity
