"""Configuration of Sonos speakers."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from agent.configbase import Section


class SonosConfig(Section):
    """Speakers by IP, or found by SSDP discovery (on `interface_addr`) when `hosts` is empty."""

    hosts: list[str] = []
    # The local address to discover from and to receive events on. Loopback is
    # never chosen by SoCo on its own, so tests and the demo pass 127.0.0.1.
    interface_addr: str | None = None
    # Only speakers of this household (e.g. "Sonos_abc…"); default: the first that answers.
    household_id: str | None = None
    event_listener_port: int | None = Field(default=None, ge=1, le=65535)
    discovery_timeout: float = Field(default=3.0, gt=0, le=30)
    request_timeout: float = Field(default=5.0, gt=0, le=30)
    # How often each speaker is checked (events keep state live in between).
    poll_interval: float = Field(default=30.0, gt=0)
    # Backoff cap when retrying an unreachable speaker.
    retry_max: float = Field(default=60.0, gt=0)
    subscription_timeout: int = Field(default=1800, ge=1)

    @field_validator("hosts")
    @classmethod
    def _ip_hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            try:
                ipaddress.IPv4Address(host)
            except ValueError:
                raise ValueError(f"{host!r} is not an IPv4 address (Sonos needs one)") from None
        return hosts

    @field_validator("interface_addr")
    @classmethod
    def _ip_interface(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                raise ValueError(f"{value!r} is not an IPv4 address") from None
        return value


# The section model, by the name every vendor package uses (see integrations/vendors.py).
SECTION = SonosConfig
