"""The Runtime: what every component is given, and the Component protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aiohttp import web

    from agent.brain.tools import ToolRegistry
    from agent.bus import Bus
    from agent.config import Config
    from agent.home import Home
    from agent.messaging.people import People
    from agent.paths import HomePaths
    from agent.store import Store
    from agent.supervise import Supervisor


@dataclass
class Runtime:
    """Shared services of one running daemon (built by `agent.daemon`)."""

    config: Config
    paths: HomePaths
    bus: Bus
    store: Store
    home: Home
    supervisor: Supervisor
    tools: ToolRegistry
    people: People
    app: web.Application
    token: str
    demo: bool = False
    # Components publish themselves here by name ("brain", "outbox", "routines",
    # "memory", "vision", "channels"...) so others can find them without imports.
    services: dict[str, Any] = field(default_factory=dict)

    def service(self, name: str) -> Any:
        """A component by name, or None when it is not running."""
        return self.services.get(name)


class Component(Protocol):
    """A part of the daemon with a lifecycle (brain, outbox, routines, vision...)."""

    name: str

    def setup(self, rt: Runtime) -> None:
        """Build objects, register routes and tools; no I/O, no tasks."""
        ...

    async def start(self) -> None:
        """Start background work (through rt.supervisor)."""
        ...

    async def stop(self) -> None:
        """Stop background work and close resources."""
        ...
