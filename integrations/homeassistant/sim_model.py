"""The simulated Home Assistant's shared shapes: an entity, a state object, a refused call.

Below both `sim_entities` (the fake's registries and services) and `sim_kinds` (vacuums,
valves, to-do lists), which each build on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

State = dict[str, Any]


class ServiceError(Exception):
    """A service call HA would refuse, with its websocket error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Entity:
    """One entity of the fake: its state, registry placement and device."""

    entity_id: str
    state: str
    attributes: dict[str, Any]
    area_id: str | None = None
    device_id: str | None = None
    # Seconds a cover takes to move (it reports opening/closing meanwhile); 0 = instant.
    travel_seconds: float = 0.0
    hidden: bool = False  # hidden by the user in HA's entity settings
    disabled: bool = False  # disabled by the user (no state while disabled)
    jams: bool = False  # a lock that ends up jammed whenever it is locked
    name: str | None = None  # the name the owner gave it in HA's entity settings
