"""Supervised background tasks: log, back off, retry, and report health."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.bus import Bus, IntegrationStatus
from agent.errors import HomeError

log = logging.getLogger(__name__)


@dataclass
class Health:
    """What the dashboard and /api/health show for one background task."""

    name: str
    status: str = "starting"
    detail: str = ""
    since: float = field(default_factory=time.time)
    restarts: int = 0

    def to_json(self) -> dict[str, Any]:
        """Health as JSON."""
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "since": self.since,
            "restarts": self.restarts,
        }


class Supervisor:
    """Runs named coroutines forever, restarting failures with capped exponential backoff."""

    def __init__(self, bus: Bus, *, initial_delay: float = 1.0, max_delay: float = 60.0) -> None:
        self.bus = bus
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.health: dict[str, Health] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def set_status(self, name: str, status: str, detail: str = "") -> None:
        """Record a task's health (tasks may call this themselves, e.g. once connected)."""
        health = self.health.setdefault(name, Health(name))
        if (health.status, health.detail) == (status, detail):
            return
        health.status, health.detail, health.since = status, detail, time.time()
        self.bus.publish(IntegrationStatus(integration=name, status=status, detail=detail))

    def spawn(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        *,
        on_failure: Callable[[], None] | None = None,
        restart_on_return: bool = True,
    ) -> asyncio.Task[None]:
        """Start a supervised task; `factory` is called again on every restart."""
        self.health.setdefault(name, Health(name))
        task = asyncio.create_task(
            self._supervise(name, factory, on_failure, restart_on_return), name=name
        )
        self._tasks[name] = task
        return task

    async def _supervise(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        on_failure: Callable[[], None] | None,
        restart_on_return: bool,
    ) -> None:
        delay = self.initial_delay
        last_reason = ""
        while True:
            started = time.monotonic()
            try:
                self.set_status(name, "running")
                await factory()
                if not restart_on_return:
                    self.set_status(name, "done")
                    return
                reason = "stopped unexpectedly"
            except asyncio.CancelledError:
                raise
            except Exception as err:  # supervision boundary: anything may fail, nothing is fatal
                reason = f"{type(err).__name__}: {err}"
                if reason != last_reason:
                    # Once per change, not once per retry (a refused token fails forever).
                    # Only the unexpected get a traceback: a HomeError says all there is.
                    log.warning(
                        "%s failed: %s", name, reason, exc_info=not isinstance(err, HomeError)
                    )
                else:
                    log.debug("%s failed again: %s", name, reason)
            last_reason = reason
            if on_failure is not None:
                try:
                    on_failure()
                except Exception:
                    log.exception("%s: failure handler raised", name)
            if time.monotonic() - started > 30:
                delay = self.initial_delay  # it ran for a while: start backing off afresh
            self.health[name].restarts += 1
            self.set_status(name, "retrying", f"{reason}; retry in {delay:.0f}s")
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.max_delay)

    async def stop(self, timeout: float = 4.0) -> None:
        """Cancel every task; name any that still refuse to stop after `timeout`."""
        tasks = list(self._tasks.values())
        stubborn = await cancel_and_wait(tasks, timeout)
        for task in stubborn:
            log.warning("task %s did not stop when cancelled", task.get_name())
        self._tasks.clear()

    def overall(self) -> str:
        """ok when every task runs, degraded otherwise."""
        bad = [h for h in self.health.values() if h.status not in ("running", "done", "ok")]
        return "ok" if not bad else "degraded"


async def cancel_and_wait(
    tasks: list[asyncio.Task[Any]], timeout: float = 4.0
) -> set[asyncio.Task[Any]]:
    """Cancel tasks and wait for them, cancelling again while they linger.

    Some libraries swallow a cancellation that lands at an awkward moment
    (aiomqtt's message iterator; `asyncio.wait_for` on 3.11), so one cancel is
    not always enough. Returns the tasks still running after `timeout`.
    """
    pending = {t for t in tasks if not t.done()}
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        _done, pending = await asyncio.wait(pending, timeout=min(0.2, remaining))
    return pending
