"""The durable outbox: every outbound message is in SQLite before anyone tries to send it.

Lifecycle of a row: queued → sending → sent → delivered (or failed). A row is
marked `sending` (committed) before the provider is called and gets its
provider id recorded the moment the provider accepts it. A row found in
`sending` after a crash, or after a send whose outcome is unknown (timeout,
dropped connection), is reconciled with the provider first (did it accept the
message?) and only re-sent when the provider says it did not: nothing is lost
and nothing accepted is sent twice. A provider may still accept a request the
house stopped waiting for, so a sender can say how long that stays possible
(`resend_after`): until then an unanswered message is only looked for, never
re-sent. Senders that cannot look up past messages (Telegram) fall back to
re-sending, so their guarantee is at-least-once within that narrow window.

One supervised loop per channel sender delivers in order, with backoff,
a per-channel rate limit and a daily budget on paid channels.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agent.bus import Notice
from agent.challenges import redact_codes

if TYPE_CHECKING:
    from agent.bus import Bus
    from agent.messaging.people import People
    from agent.store import Store
    from agent.supervise import Supervisor

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created REAL NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        text TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]',
        dedupe_key TEXT UNIQUE,
        status TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL,
        attempt_started REAL,
        provider_id TEXT,
        sent_channel TEXT,
        sent_at REAL,
        last_error TEXT,
        note TEXT,
        updated REAL NOT NULL
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt);
    CREATE INDEX outbox_provider ON outbox(provider_id);
    CREATE INDEX outbox_sent_at ON outbox(sent_at);
    """,
]

# Final states: the provider told us how it ended (or we gave up).
FINAL = ("delivered", "read", "failed", "undelivered")
OWNER_CHANNEL_ORDER = ("whatsapp", "telegram", "sms")


@dataclass(frozen=True)
class Outgoing:
    """One outbound message as a channel sender sees it."""

    id: int
    channel: str
    to: str
    text: str
    media: tuple[str, ...]
    attempts: int
    created: float


@dataclass(frozen=True)
class Sent:
    """The provider accepted a message."""

    provider_id: str
    status: str = "sent"
    channel: str | None = None  # set when the sender used another channel (WhatsApp → SMS)
    note: str = ""


class SendError(Exception):
    """A send did not succeed; `retry` says whether trying again may help."""

    retry: bool = True
    # The provider may have accepted it (timeout, dropped connection): reconcile first.
    ambiguous: bool = False


class TransientSendError(SendError):
    """Try again later (5xx, 429, unreachable)."""


class AmbiguousSendError(TransientSendError):
    """The outcome is unknown; ask the provider before sending again."""

    ambiguous = True


class PermanentSendError(SendError):
    """Trying again will not help (bad number, blocked, rejected content)."""

    retry = False


class ChannelSender(Protocol):
    """What a channel gives the outbox to deliver its messages.

    Optional attributes: `timeout` (seconds the sender itself waits for the
    provider; the outbox's own limit is then a little longer, so the sender's
    answer wins) and `resend_after` (seconds after an unanswered send during
    which the provider may still accept it).
    """

    channels: tuple[str, ...]
    rate_per_minute: int
    daily_budget: int | None
    max_length: int

    async def send(self, message: Outgoing) -> Sent:
        """Send one message; raise a SendError subclass on failure."""
        ...

    async def reconcile(self, message: Outgoing, since: float) -> Sent | bool | None:
        """Whether the provider accepted this message after `since`.

        Returns the Sent record when it did, False when it certainly did not,
        None when the sender cannot tell (the outbox then re-sends).
        """
        ...


@dataclass
class _Lane:
    """One sender's delivery loop state."""

    sender: ChannelSender
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    recent: deque[float] = field(default_factory=deque)


def split_text(text: str, limit: int) -> list[str]:
    """Split a long message at paragraph, line or word boundaries, each part ≤ limit."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " "))
        if cut <= limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts


class Outbox:
    """Durable outbound messages with supervised delivery (`rt.services["outbox"]`)."""

    max_attempts = 8
    send_timeout = 30.0

    def __init__(
        self,
        store: Store,
        bus: Bus,
        people: People | None = None,
        *,
        base_delay: float = 2.0,
        max_delay: float = 300.0,
    ) -> None:
        self.store = store
        self.bus = bus
        self.people = people
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._lanes: dict[str, _Lane] = {}
        store.migrate("outbox", MIGRATIONS)

    # -- wiring -----------------------------------------------------------------

    def register(self, sender: ChannelSender) -> None:
        """Deliver messages of the sender's channels through it."""
        lane = _Lane(sender)
        for channel in sender.channels:
            self._lanes[channel] = lane

    @property
    def channels(self) -> list[str]:
        """Channels that have a sender."""
        return list(self._lanes)

    def spawn(self, supervisor: Supervisor) -> None:
        """Start one supervised delivery loop per sender."""
        seen: set[int] = set()
        for channel, lane in self._lanes.items():
            if id(lane) not in seen:
                seen.add(id(lane))
                supervisor.spawn(f"outbox:{channel}", lambda lane=lane: self._deliver(lane))  # type: ignore[misc]

    # -- public API -------------------------------------------------------------

    def enqueue(
        self,
        channel: str,
        to: str,
        text: str,
        media: Sequence[Path | str] = (),
        *,
        dedupe_key: str | None = None,
    ) -> int:
        """Write a message to the outbox (delivered in the background); returns its id.

        A message with a dedupe_key already used is not queued again: the first
        one's id is returned. Long texts are split to the channel's limit.
        """
        if not text and not media:
            raise ValueError("a message needs text or media")
        lane = self._lanes.get(channel)
        limit = lane.sender.max_length if lane else 1600
        parts = split_text(text, limit) if text else [""]
        now = time.time()
        media_json = json.dumps([str(m) for m in media])
        first: int | None = None
        with self.store.transaction() as conn:
            for index, part in enumerate(parts):
                key = dedupe_key if index == 0 or dedupe_key is None else f"{dedupe_key}#{index}"
                cursor = conn.execute(
                    "INSERT INTO outbox(created, channel, recipient, text, media, dedupe_key, "
                    "next_attempt, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(dedupe_key) DO NOTHING",
                    (
                        now,
                        channel,
                        to,
                        part,
                        media_json if index == len(parts) - 1 else "[]",
                        key,
                        now,
                        now,
                    ),
                )
                row_id = cursor.lastrowid if cursor.rowcount else None
                if row_id is None:
                    existing = conn.execute(
                        "SELECT id FROM outbox WHERE dedupe_key = ?", (key,)
                    ).fetchone()
                    row_id = existing[0]
                first = row_id if first is None else first
        assert first is not None
        if lane is None:
            log.warning("outbox: message %d queued for %s, which has no sender", first, channel)
        else:
            lane.wake.set()
        self._notice(first)
        return first

    def notify_owner(
        self, text: str, media: Sequence[Path | str] = (), *, dedupe_key: str | None = None
    ) -> int | None:
        """Send to the owner on their preferred configured channel; None if there is none."""
        target = self.owner_target()
        if target is None:
            log.warning("outbox: no channel reaches the owner; dropped notice %r", text[:80])
            return None
        return self.enqueue(target[0], target[1], text, media, dedupe_key=dedupe_key)

    def owner_target(self) -> tuple[str, str] | None:
        """(channel, address) the owner is notified on: WhatsApp, then Telegram, then SMS."""
        addresses = self.people.owner_addresses if self.people else {}
        for channel in OWNER_CHANNEL_ORDER:
            if channel in self._lanes and channel in addresses:
                return channel, addresses[channel]
        return None

    def update_status(self, provider_id: str, status: str, error: str | None = None) -> bool:
        """Apply a provider's delivery report (status callback); True if the message is known."""
        row = self.store.one("SELECT id, status FROM outbox WHERE provider_id = ?", (provider_id,))
        if row is None:
            return False
        # Reports may arrive out of order: never move a final state back to "sent".
        if row["status"] in FINAL and status not in FINAL:
            return True
        if status in ("queued", "accepted", "sending", "scheduled"):
            status = "sent"
        self.store.execute(
            "UPDATE outbox SET status = ?, last_error = COALESCE(?, last_error), updated = ? "
            "WHERE id = ?",
            (status, error, time.time(), row["id"]),
        )
        self._notice(row["id"])
        return True

    def get(self, message_id: int) -> dict[str, Any] | None:
        """One message as JSON."""
        row = self.store.one("SELECT * FROM outbox WHERE id = ?", (message_id,))
        return _row_json(row) if row else None

    def recent(self, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
        """The latest messages (optionally only one status), newest first."""
        if status:
            rows = self.store.query(
                "SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?", (status, limit)
            )
        else:
            rows = self.store.query("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,))
        return [_row_json(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many messages are in each state."""
        rows = self.store.query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def health_report(self) -> dict[str, Any]:
        """Shown in /api/health: queue depth and failures."""
        return {"channels": self.channels, "counts": self.counts()}

    # -- delivery ---------------------------------------------------------------

    async def _deliver(self, lane: _Lane) -> None:
        """Deliver due messages of one sender forever (a supervised task)."""
        channels = lane.sender.channels
        marks = ",".join("?" * len(channels))
        while True:
            lane.wake.clear()
            now = time.time()
            row = self.store.one(
                f"SELECT * FROM outbox WHERE channel IN ({marks}) AND status IN "
                "('queued', 'sending') AND next_attempt <= ? ORDER BY id LIMIT 1",
                (*channels, now),
            )
            if row is None:
                upcoming = self.store.one(
                    f"SELECT MIN(next_attempt) FROM outbox WHERE channel IN ({marks}) "
                    "AND status IN ('queued', 'sending')",
                    channels,
                )
                wait = 60.0 if upcoming[0] is None else max(0.01, upcoming[0] - now)  # type: ignore[index]
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a
                    # cancellation that races with the event, and the loop would never stop.
                    async with asyncio.timeout(min(wait, 60.0)):
                        await lane.wake.wait()
                except TimeoutError:
                    pass
                continue
            held = self._held_until(lane)
            if held:
                extra = {"last_error": held[1]} if held[1] else {}
                self._set(row["id"], next_attempt=held[0], **extra)
                continue
            await self._attempt(lane, row)

    def _held_until(self, lane: _Lane) -> tuple[float, str] | None:
        """When the rate limit or the daily budget says to wait: (until, why)."""
        now = time.time()
        sender = lane.sender
        while lane.recent and lane.recent[0] < now - 60:
            lane.recent.popleft()
        if len(lane.recent) >= sender.rate_per_minute:
            return lane.recent[0] + 60, ""
        if sender.daily_budget is not None:
            midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            marks = ",".join("?" * len(sender.channels))
            sent_today = self.store.one(
                f"SELECT COUNT(*) FROM outbox WHERE channel IN ({marks}) AND sent_at >= ?",
                (*sender.channels, midnight.timestamp()),
            )[0]  # type: ignore[index]
            if sent_today >= sender.daily_budget:
                tomorrow = (midnight + dt.timedelta(days=1)).timestamp()
                why = (
                    f"daily budget of {sender.daily_budget} messages reached; held until 00:00 UTC"
                )
                log.warning("outbox: %s", why)
                self.bus.publish(Notice(topic="message", data={"event": "budget", "detail": why}))
                return tomorrow, why
        return None

    async def _attempt(self, lane: _Lane, row: Any) -> None:
        message = Outgoing(
            id=row["id"],
            channel=row["channel"],
            to=row["recipient"],
            text=row["text"],
            media=tuple(json.loads(row["media"])),
            attempts=row["attempts"],
            created=row["created"],
        )
        limit = self._limit(lane.sender)
        if row["status"] == "sending":
            # A previous attempt may have reached the provider: ask before re-sending.
            attempted = row["attempt_started"] or row["created"]
            since = attempted - 5
            try:
                async with asyncio.timeout(limit):
                    found = await lane.sender.reconcile(message, since)
            except Exception as err:  # the provider cannot be asked now: try again later
                self._retry_later(message, f"reconcile: {err}", keep_sending=True)
                return
            if isinstance(found, Sent):
                log.info(
                    "outbox: message %d was accepted before (%s)", message.id, found.provider_id
                )
                recovered = "recovered after an interruption: the provider had accepted it"
                note = "; ".join(n for n in (found.note, recovered) if n)
                self._mark_sent(message, Sent(found.provider_id, found.status, found.channel, note))
                return
            settled = attempted + float(getattr(lane.sender, "resend_after", 0.0) or 0.0)
            now = time.time()
            if found is False and now < settled:
                # Not there yet, but the provider may still accept the earlier request:
                # look again later; re-sending now is how a late acceptance goes out twice.
                wait = max(self.base_delay, (settled - now) / 4)
                self._set(message.id, next_attempt=min(settled, now + wait))
                return
        started = time.time()
        self._set(
            message.id, status="sending", attempts=message.attempts + 1, attempt_started=started
        )
        lane.recent.append(started)
        try:
            async with asyncio.timeout(limit):
                sent = await lane.sender.send(message)
        except TimeoutError:
            self._retry_later(message, "timed out", keep_sending=True)
        except PermanentSendError as err:
            log.warning("outbox: message %d failed: %s", message.id, err)
            self._set(message.id, status="failed", last_error=str(err))
            self._notice(message.id)
        except SendError as err:
            self._retry_later(message, str(err), keep_sending=err.ambiguous)
        except Exception as err:  # an unexpected sender bug must not stop the loop
            log.exception("outbox: sender raised for message %d", message.id)
            self._retry_later(message, f"{type(err).__name__}: {err}", keep_sending=True)
        else:
            self._mark_sent(message, sent)

    def _limit(self, sender: ChannelSender) -> float:
        """How long one provider call may take: a little over the sender's own timeout."""
        own = getattr(sender, "timeout", None)
        return float(own) + 5.0 if isinstance(own, int | float) and own > 0 else self.send_timeout

    def _mark_sent(self, message: Outgoing, sent: Sent) -> None:
        self._set(
            message.id,
            status=sent.status if sent.status in FINAL else "sent",
            provider_id=sent.provider_id,
            sent_channel=sent.channel or message.channel,
            sent_at=time.time(),
            last_error=None,
            note=sent.note or None,
        )
        log.info(
            "outbox: message %d sent on %s as %s", message.id, message.channel, sent.provider_id
        )
        self._notice(message.id)

    def _retry_later(self, message: Outgoing, error: str, *, keep_sending: bool) -> None:
        attempts = message.attempts + 1
        if attempts >= self.max_attempts and not keep_sending:
            log.warning(
                "outbox: message %d failed after %d attempts: %s", message.id, attempts, error
            )
            self._set(message.id, status="failed", last_error=error)
        else:
            delay = min(self.max_delay, self.base_delay * 2 ** min(attempts - 1, 16))
            self._set(
                message.id,
                status="sending" if keep_sending else "queued",
                next_attempt=time.time() + delay * random.uniform(0.8, 1.2),
                last_error=error,
            )
            log.info("outbox: message %d retry in %.0fs: %s", message.id, delay, error)
        self._notice(message.id)

    def _set(self, message_id: int, **values: Any) -> None:
        values["updated"] = time.time()
        assignments = ", ".join(f"{k} = ?" for k in values)
        self.store.execute(
            f"UPDATE outbox SET {assignments} WHERE id = ?", (*values.values(), message_id)
        )

    def _notice(self, message_id: int) -> None:
        data = self.get(message_id)
        if data is not None:
            data["text"] = data["text"][:200]
            self.bus.publish(Notice(topic="message", data={"event": "outbound", **data}))


def _row_json(row: Any) -> dict[str, Any]:
    """A message as the API and the websocket show it: a one-time code never, only its place."""
    return {
        "id": row["id"],
        "created": row["created"],
        "channel": row["channel"],
        "to": row["recipient"],
        "text": redact_codes(row["text"]),
        "media": json.loads(row["media"]),
        "status": row["status"],
        "attempts": row["attempts"],
        "provider_id": row["provider_id"],
        "sent_channel": row["sent_channel"],
        "sent_at": row["sent_at"],
        "error": row["last_error"],
        "note": row["note"],
    }
