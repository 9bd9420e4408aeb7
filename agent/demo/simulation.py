"""What `homeclaw demo` gives each simulator, and what a simulator gives back.

Every integration package has a `simulator.py` with `async def demo(ctx) ->
DemoPart`: it starts fakes speaking the real protocol on loopback and returns
the config fragment that points the real adapter at them. Tests use the same
simulators, so the demo and the tests cannot drift apart.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on host right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve a fake's app on host:port; `await runner.cleanup()` kills it."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_address=True).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def loopback_service(
    service_type: str, instance: str, host: str, port: int, properties: dict[str, str], label: str
) -> AsyncServiceInfo:
    """The mDNS advertisement of a fake device listening on a loopback address."""
    from zeroconf.asyncio import AsyncServiceInfo

    return AsyncServiceInfo(
        service_type,
        f"{instance}.{service_type}",
        addresses=[socket.inet_aton(host)],
        port=port,
        properties=properties,
        # Host names carry the address: every simulator on this machine shares loopback.
        server=f"{label}-{host.replace('.', '-')}.local.",
    )


async def advertise(zeroconf: AsyncZeroconf, info: AsyncServiceInfo) -> AsyncServiceInfo:
    """Register one advertisement on `zeroconf`; returns it for unregistering."""
    # Loopback is shared by every process on the machine; rename on a clash, as devices do.
    await zeroconf.async_register_service(info, allow_name_change=True)
    return info


@dataclass
class LoopbackAddresses:
    """Hands out distinct 127.0.x.y addresses (for fakes with hard-coded ports)."""

    prefix: str = "127.0.0"
    next_host: int = 2

    def allocate(self, ports: tuple[int, ...] = (80, 1400)) -> str:
        """The next loopback address where nothing listens on the given ports.

        Vendors with hard-coded ports (Sonos 1400, WLED 80) need an address of
        their own; skipping busy ones lets a second demo or test run coexist.
        """
        while True:
            address = f"{self.prefix}.{self.next_host}"
            self.next_host += 1
            if all(_bindable(address, port) for port in ports):
                return address


def _bindable(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


@dataclass
class DemoContext:
    """Shared facts for the simulators of one demo (or one test session)."""

    home: Path
    addresses: LoopbackAddresses = field(default_factory=LoopbackAddresses)
    mqtt: tuple[str, int] | None = None
    web_url: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # `homeclaw demo` plays its story (the owner texts the house at start, cameras
    # play scenes); tests that borrow the simulators leave it off.
    story: bool = False


async def _nothing() -> None:
    return None


@dataclass
class DemoPart:
    """A running simulator: the config pointing at it, and how to stop it."""

    name: str
    config: dict[str, Any]
    stop: Callable[[], Awaitable[None]] = _nothing
    handle: Any = None
