"""Typed events and an in-process fan-out bus.

Publishers never block: each subscriber owns a bounded queue, and a subscriber
that falls behind loses its oldest events (with a warning) rather than stalling
the device that produced them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every bus event."""

    ts: float = field(default_factory=time.time)


@dataclass(frozen=True, kw_only=True)
class StateChanged(Event):
    """A device's state or availability changed."""

    device_id: str
    old: dict[str, Any] | None
    new: dict[str, Any]
    available: bool


@dataclass(frozen=True, kw_only=True)
class DeviceAdded(Event):
    """A device joined the home (first registration or rediscovery)."""

    device_id: str


@dataclass(frozen=True, kw_only=True)
class DeviceRemoved(Event):
    """A device left the home."""

    device_id: str


@dataclass(frozen=True, kw_only=True)
class IntegrationStatus(Event):
    """An integration's health changed (ok, starting, retrying, failed)."""

    integration: str
    status: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class CommandExecuted(Event):
    """A command was sent to a device, with who asked and how it went."""

    device_id: str
    command: dict[str, Any]
    requested_by: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class InboundMessage(Event):
    """A message arrived from a person over some channel."""

    channel: str
    sender: str
    text: str
    msg_id: str
    media: tuple[str, ...] = ()
    # The room the conversation is in (a wall tablet's, the person's), as an area id.
    area: str | None = None


@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """Something the dashboard should show (camera event, outbox status, stranger...)."""

    topic: str
    data: dict[str, Any]


E = TypeVar("E", bound=Event)


class Subscription:
    """A subscriber's queue of events of the types it asked for."""

    def __init__(self, bus: Bus, types: tuple[type[Event], ...], maxsize: int) -> None:
        self._bus = bus
        self.types = types
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)

    def offer(self, event: Event) -> None:
        """Queue an event, dropping the oldest if the subscriber fell behind."""
        if not isinstance(event, self.types):
            return
        if self.queue.full():
            self.queue.get_nowait()
            log.warning("bus subscriber fell behind; dropped one event")
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        """Wait for the next event."""
        return await self.queue.get()

    def close(self) -> None:
        """Stop receiving events."""
        self._bus.unsubscribe(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus:
    """Fan-out of typed events to queues and callbacks, on one event loop."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._handlers: list[tuple[tuple[type[Event], ...], Callable[[Any], None]]] = []

    def subscribe(self, *types: type[Event], maxsize: int = 1000) -> Subscription:
        """Receive events of the given types (all events when none given)."""
        sub = Subscription(self, types or (Event,), maxsize)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to a subscription."""
        if sub in self._subs:
            self._subs.remove(sub)

    def on(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call a (non-blocking) handler for each event of a type; returns an unsubscribe."""
        entry: tuple[tuple[type[Event], ...], Callable[[Any], None]] = ((event_type,), handler)
        self._handlers.append(entry)
        return lambda: self._handlers.remove(entry) if entry in self._handlers else None

    def publish(self, event: Event) -> None:
        """Deliver an event to every interested subscriber without waiting."""
        for sub in list(self._subs):
            sub.offer(event)
        for types, handler in list(self._handlers):
            if isinstance(event, types):
                try:
                    handler(event)
                except Exception:
                    log.exception("bus handler failed for %s", type(event).__name__)
