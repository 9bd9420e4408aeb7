"""Configuration of LAN discovery."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from agent.configbase import Section


class DiscoveryConfig(Section):
    """Where to look (interfaces) and whether found devices are added automatically.

    `interfaces` are IPv4 addresses of this machine's interfaces; empty means
    every interface (fine at home, never in tests: they pass ["127.0.0.1"]).
    """

    enabled: bool = True
    interfaces: list[str] = []
    auto_add: bool = False
    rescan_minutes: int = Field(default=30, ge=1)
    # The daemon's first background scan waits this long, so a short-lived
    # daemon (a test, a quick restart) sends nothing on the LAN.
    first_scan_delay_seconds: float = Field(default=60.0, ge=0)
    scan_seconds: float = Field(default=3.0, ge=0.5, le=30)
    ssdp: bool = True

    @field_validator("interfaces")
    @classmethod
    def _ipv4_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.IPv4Address(item)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IPv4 address (give the address of an interface, "
                    "e.g. 192.168.1.20, or 127.0.0.1 for the demo)"
                ) from None
        return value
