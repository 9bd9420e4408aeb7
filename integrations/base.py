"""The Integration protocol every device vendor implements.

Lifecycle: the daemon calls `run(home)` under a supervisor. `run` connects,
registers devices with `home.add`, keeps their state current with
`home.update` (push where the protocol allows) and only returns or raises when
the connection is lost; the supervisor marks the integration's devices
unavailable, backs off and calls `run` again. `execute` acts on one device and
returns the confirmed new state (or None when the state will arrive by push).
`stop` closes everything. Vendor exceptions are translated into
`agent.errors` types at one boundary inside each adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from agent.home import Driver

if TYPE_CHECKING:
    from agent.home import Home


@runtime_checkable
class Integration(Driver, Protocol):
    """A family of devices reached over one protocol: `run`, plus `name`, `execute(device,
    command)` and `stop()` of `agent.home.Driver` (what Home asks of it once it runs)."""

    async def run(self, home: Home) -> None:
        """Connect, register devices, keep them current; return/raise when disconnected."""
        ...
