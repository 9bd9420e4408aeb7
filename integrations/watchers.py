"""One watcher task per LAN device: capped exponential backoff, per-host health, crashes surface.

An integration hands `DeviceWatchers` its links and a coroutine that attends
one link until it fails with a HomeError (calling `on_connected()` once the
device answers). A failure marks the link unavailable and shows the host as
degraded; the watcher retries after 1, 2, 4… × `retry_initial` (at most
`retry_max`), starting over from `retry_initial` after a connection. Any
other exception is a bug: it ends `run`, and the supervisor restarts the lot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from agent.errors import HomeError

if TYPE_CHECKING:
    from agent.home import Home
    from agent.supervise import Supervisor


class WatchedLink(Protocol):
    """What a watcher needs of one device link."""

    @property
    def host(self) -> str:
        """The address the link talks to (the health key)."""
        ...

    def mark_unavailable(self, home: Home) -> None:
        """The link's devices cannot be reached until it answers again."""
        ...


class Backoff(Protocol):
    """The retry settings of an integration's config section."""

    @property
    def retry_initial(self) -> float:
        """The first delay, in seconds."""
        ...

    @property
    def retry_max(self) -> float:
        """The longest delay, in seconds."""
        ...


L = TypeVar("L", bound=WatchedLink)
Attend = Callable[[L, "Home", Callable[[], None]], Awaitable[None]]


class DeviceWatchers(Generic[L]):
    """Watches each link in its own task and reports which hosts are down."""

    def __init__(
        self,
        name: str,
        attend: Attend[L],
        backoff: Backoff,
        supervisor: Supervisor | None,
        log: logging.Logger,
        label: str | None = None,
    ) -> None:
        self.name, self._attend, self._backoff = name, attend, backoff
        self._supervisor, self._log, self._label = supervisor, log, label or name
        self._down: dict[str, str] = {}  # host → why it cannot be reached
        self._connected: set[int] = set()  # id() of links connected right now
        self._doubles: set[tuple[int, str]] = set()  # (link, other address) already warned of
        self._home: Home | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._crashed: asyncio.Future[None] | None = None

    async def run(self, home: Home, links: Iterable[L]) -> None:
        """Watch every link until cancelled (one link failing never stops the others)."""
        self._home = home
        self._crashed = asyncio.get_running_loop().create_future()
        for link in links:
            self.add(link)
        try:
            await self._crashed  # only a bug in a watcher ends this; the supervisor restarts us
        finally:
            tasks = list(self._tasks.values())
            self._tasks.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def add(self, link: L) -> None:
        """Start watching a link (added at runtime, or at `run`)."""
        if self._home is None:
            return
        task = asyncio.create_task(self._watch(link, self._home), name=f"{self.name}:{link.host}")
        self._tasks[id(link)] = task
        task.add_done_callback(self._done)

    def restart(self, link: L) -> None:
        """Drop the link's connection and watch it afresh (e.g. at a new address)."""
        old = self._tasks.pop(id(link), None)
        if old is not None:
            old.cancel()
        self.add(link)

    def _done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._crashed is None or self._crashed.done():
            return
        if (err := task.exception()) is not None:
            self._crashed.set_exception(err)

    async def _watch(self, link: L, home: Home) -> None:
        initial = self._backoff.retry_initial
        delay = initial
        while True:
            connected, problem = False, "stopped"

            def on_connected() -> None:
                nonlocal connected, delay
                connected, delay = True, initial
                self._connected.add(id(link))
                self.health(link.host, None)

            try:
                await self._attend(link, home, on_connected)
            except HomeError as err:
                problem = str(err)
                if connected or delay == initial:
                    self._log.warning(
                        "%s %s: %s; retrying in %.1fs", self._label, link.host, err, delay
                    )
            finally:
                self._connected.discard(id(link))
            link.mark_unavailable(home)
            self.health(link.host, problem)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff.retry_max)

    def may_move(self, link: L, address: str, what: str) -> bool:
        """Whether to follow a device announced at another address.

        Only when it no longer answers where it is: a device does not exist twice,
        so a second one with the same id is another program's simulator or an
        impostor, which must not receive our credentials.
        """
        if id(link) not in self._connected:
            return True
        if (id(link), address) not in self._doubles:
            self._doubles.add((id(link), address))
            self._log.warning(
                "%s %s answers at %s and is also announced at %s; staying with %s "
                "(a device does not exist twice: another program's copy, or an impostor)",
                self._label,
                what,
                link.host,
                address,
                link.host,
            )
        return False

    def health(self, host: str, problem: str | None) -> None:
        """Show on the dashboard which hosts cannot be reached (the run itself goes on)."""
        if problem is None:
            self._down.pop(host, None)
        else:
            self._down[host] = problem
        if self._supervisor is None:
            return
        if self._down:
            detail = "; ".join(f"{h}: {p}" for h, p in sorted(self._down.items()))
            self._supervisor.set_status(f"integration:{self.name}", "degraded", detail)
        else:
            self._supervisor.set_status(f"integration:{self.name}", "running")
