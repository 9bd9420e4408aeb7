"""Configuration of virtual devices (declared in config, state kept in SQLite)."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from agent.configbase import Section
from agent.devices import DeviceState, Feature, Kind


class VirtualDeviceConfig(Section):
    """One virtual device."""

    id: str
    name: str
    kind: Kind = Kind.SWITCH
    area: str | None = None
    aliases: list[str] = []
    device_class: str | None = None
    # The state it starts in (DeviceState fields: {"on": true, "brightness": 40},
    # {"value": 42, "unit": "°F"}...), over the kind's defaults; used once, before
    # anything was saved.
    state: dict[str, Any] = {}
    # What it can do, when not the kind's usual features (a light without colour).
    features: list[Feature] | None = None
    # The setpoint range a thermostat accepts, °C (real ones report theirs).
    min_temp_c: float | None = None
    max_temp_c: float | None = None
    # A speaker's favourites (radio stations, playlists) it can be asked to play.
    favorites: list[str] = []

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Only real state fields with valid values (caught at load, not at start)."""
        DeviceState.model_validate(value)
        return value


class VirtualConfig(Section):
    """The list of virtual devices."""

    devices: list[VirtualDeviceConfig] = []


# The section model, by the name every vendor package uses (see integrations/vendors.py).
SECTION = VirtualConfig
