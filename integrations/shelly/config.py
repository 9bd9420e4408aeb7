"""Configuration of Shelly Gen2+ devices."""

from __future__ import annotations

from pydantic import Field

from agent.configbase import Section


class ShellyHost(Section):
    """One device: host or host:port, and where it is."""

    host: str = Field(min_length=1)
    area: str | None = None
    # The device's password when "restrict login" is on (the user name is always admin).
    password: str | None = None


class ShellyConfig(Section):
    """Devices by host (a plain `host[:port]` string or `{host, area}`), and reconnect backoff."""

    hosts: list[str | ShellyHost] = []
    request_timeout: float = Field(default=10.0, gt=0, le=60)
    retry_initial: float = Field(default=1.0, gt=0, le=60)
    retry_max: float = Field(default=60.0, gt=0, le=3600)

    def devices(self) -> list[ShellyHost]:
        """Every configured device as a ShellyHost."""
        return [ShellyHost(host=h) if isinstance(h, str) else h for h in self.hosts]


# The section model, by the name every vendor package uses (see integrations/vendors.py).
SECTION = ShellyConfig
