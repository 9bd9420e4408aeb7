"""The messaging bridge: channels ↔ people policy ↔ brain ↔ outbox.

Channels (Twilio webhooks, Telegram polling) hand over verified messages; this
component deduplicates them persistently, decides who is talking (strangers
never reach the brain and get no reply; a valid pairing code makes them
known), runs the brain's turn in the background and queues the reply in the
durable outbox on the channel the message came from.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

from agent.bus import InboundMessage, Notice
from agent.challenges import redact_codes
from agent.messaging.outbox import Outbox

if TYPE_CHECKING:
    from agent.messaging.people import Identity
    from agent.runtime import Runtime
    from integrations.telegram.channel import TelegramChannel
    from integrations.twilio.media import MediaLinks
    from integrations.twilio.sender import TwilioSender
    from integrations.twilio.webhook import TwilioWebhook

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE inbound_seen (
        source TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        ts REAL NOT NULL,
        PRIMARY KEY (source, msg_id)
    );
    CREATE TABLE inbound (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        channel TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        name TEXT,
        text TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX inbound_status ON inbound(status, ts);
    CREATE TABLE contacts (
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        last_inbound REAL NOT NULL,
        PRIMARY KEY (channel, address)
    );
    """,
]

TURN_TIMEOUT = 300.0
SENDER_RATE_PER_MINUTE = 20
PAIRING_FAILURES_PER_SENDER = 5
# Wrong pairing codes from everyone within an hour that make the owner hear about it
# (a warning only: a global block would let any stranger stop pairing for everyone).
PAIRING_FAILURES_WARN = 30
KEEP_STRANGERS = 2000
KEEP_SEEN_DAYS = 30


class Messaging:
    """The component connecting channels, the brain and the outbox (`rt.services["messaging"]`)."""

    name = "messaging"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.outbox: Outbox | None = None
        self.media_links: MediaLinks | None = None
        self.twilio_sender: TwilioSender | None = None
        self.twilio_webhook: TwilioWebhook | None = None
        self.telegram: TelegramChannel | None = None
        self._turns: set[asyncio.Task[None]] = set()
        self._rates: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._pair_failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._pair_failures_total: deque[float] = deque()

    # -- Component ---------------------------------------------------------------

    def setup(self, rt: Runtime) -> None:
        """Tables, outbox, channels and routes; no I/O beyond the local store."""
        from agent.messaging import api as messaging_api

        rt.store.migrate("messaging", MIGRATIONS)
        rt.people.attach(rt.store)
        self.outbox = Outbox(rt.store, rt.bus, rt.people)
        rt.services["outbox"] = self.outbox
        rt.services["messaging"] = self
        if rt.config.twilio is not None:
            self._setup_twilio()
        if rt.config.telegram is not None:
            self._setup_telegram()
        messaging_api.add_routes(rt.app)

    def _setup_twilio(self) -> None:
        from integrations.twilio.media import MediaLinks
        from integrations.twilio.sender import TwilioSender
        from integrations.twilio.webhook import TwilioWebhook

        config = self.rt.config.twilio
        assert config is not None and self.outbox is not None
        self.media_links = MediaLinks(self.rt.store, ttl=config.media_link_ttl)
        self.media_links.add_routes(self.rt.app)
        self.twilio_sender = TwilioSender(
            config,
            media=self.media_links,
            public_url=self.public_url,
            last_inbound=self.last_inbound,
            is_known_sid=self._known_provider_id,
        )
        self.outbox.register(self.twilio_sender)
        self.twilio_webhook = TwilioWebhook(
            config,
            public_url=self.public_url,
            accept_once=self.accept_once,
            deliver=self.receive,
            status_update=self.outbox.update_status,
            media_dir=self.rt.paths.media,
        )
        self.twilio_webhook.add_routes(self.rt.app)

    def _setup_telegram(self) -> None:
        from integrations.telegram.channel import TelegramChannel

        config = self.rt.config.telegram
        assert config is not None and self.outbox is not None
        self.telegram = TelegramChannel(
            config,
            store=self.rt.store,
            accept_once=self.accept_once,
            deliver=self.receive,
            media_dir=self.rt.paths.media,
            set_status=self.rt.supervisor.set_status,
        )
        self.outbox.register(self.telegram.sender)

    async def start(self) -> None:
        """Start delivery loops and the Telegram poller."""
        assert self.outbox is not None
        cutoff = time.time() - KEEP_SEEN_DAYS * 86400
        self.rt.store.execute("DELETE FROM inbound_seen WHERE ts < ?", (cutoff,))
        # Turns that were running when the daemon died are not replayed (they may
        # have acted already); they are marked so the dashboard shows them.
        self.rt.store.execute(
            "UPDATE inbound SET status = 'interrupted', detail = 'daemon stopped during the turn' "
            "WHERE status = 'received'"
        )
        self.outbox.spawn(self.rt.supervisor)
        if self.telegram is not None:
            self.rt.supervisor.spawn("channel:telegram", self.telegram.run)

    async def stop(self) -> None:
        """Cancel running turns and close channel sessions."""
        for task in list(self._turns):
            task.cancel()
        await asyncio.gather(*self._turns, return_exceptions=True)
        if self.twilio_webhook is not None:
            await self.twilio_webhook.stop()
        if self.twilio_sender is not None:
            await self.twilio_sender.close()
        if self.telegram is not None:
            await self.telegram.stop()

    # -- facts the channels ask for ---------------------------------------------------

    def public_url(self) -> str | None:
        """The base URL Twilio calls: twilio.public_url, web.public_url, or our own URL."""
        twilio = self.rt.config.twilio
        configured = (twilio.public_url if twilio else None) or self.rt.config.web.public_url
        url = configured or self.rt.services.get("url")
        return str(url).rstrip("/") if url else None

    def accept_once(self, source: str, msg_id: str) -> bool:
        """Record an inbound id; False when it was seen before (a retry or a replay)."""
        cursor = self.rt.store.execute(
            "INSERT INTO inbound_seen(source, msg_id, ts) VALUES (?, ?, ?) "
            "ON CONFLICT(source, msg_id) DO NOTHING",
            (source, msg_id, time.time()),
        )
        return cursor.rowcount == 1

    def last_inbound(self, channel: str, address: str) -> float | None:
        """When this address last wrote to us on this channel (the WhatsApp window)."""
        row = self.rt.store.one(
            "SELECT last_inbound FROM contacts WHERE channel = ? AND address = ?",
            (channel, address),
        )
        return float(row[0]) if row else None

    def _known_provider_id(self, provider_id: str) -> bool:
        row = self.rt.store.one("SELECT 1 FROM outbox WHERE provider_id = ?", (provider_id,))
        return row is not None

    # -- inbound -------------------------------------------------------------------

    async def receive(
        self,
        channel: str,
        sender: str,
        text: str,
        msg_id: str,
        media: tuple[str, ...] = (),
        profile: str = "",
    ) -> None:
        """A verified, first-seen message: decide who it is, start the turn (not awaited)."""
        identity = self.rt.people.identify(channel, sender)
        if identity is None:
            self._stranger(channel, sender, text, msg_id, profile)
            return
        if self._rate_limited(channel, sender):
            self._log(
                channel,
                msg_id,
                sender,
                identity.name,
                text,
                media,
                "limited",
                f"more than {SENDER_RATE_PER_MINUTE} messages a minute",
            )
            return
        now = time.time()
        self.rt.store.execute(
            "INSERT INTO contacts(channel, address, last_inbound) VALUES (?, ?, ?) "
            "ON CONFLICT(channel, address) DO UPDATE SET last_inbound = excluded.last_inbound",
            (channel, sender, now),
        )
        row_id = self._log(channel, msg_id, sender, identity.name, text, media, "received")
        message = InboundMessage(
            channel=channel, sender=sender, text=text, msg_id=msg_id, media=media
        )
        self.rt.bus.publish(message)
        task = asyncio.create_task(self._turn(row_id, message, identity), name=f"turn:{msg_id}")
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)

    async def _turn(self, row_id: int, message: InboundMessage, identity: Identity) -> None:
        assert self.outbox is not None
        brain = self.rt.service("brain")
        key = f"reply:{message.channel}:{message.msg_id}"
        if brain is None:
            self._set_status(row_id, "failed", "the brain is not running")
            self.outbox.enqueue(
                message.channel,
                message.sender,
                "I can't think right now: my brain is not running.",
                dedupe_key=key,
            )
            return
        try:
            async with asyncio.timeout(TURN_TIMEOUT):
                reply = await brain.handle(message, identity)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the brain failing must still give the person an answer
            log.exception("messaging: turn for %s failed", message.msg_id)
            self._set_status(row_id, "failed", f"{type(err).__name__}: {err}")
            self.outbox.enqueue(
                message.channel,
                message.sender,
                "Sorry, something went wrong on my side. Please try again.",
                dedupe_key=key,
            )
            return
        text = str(getattr(reply, "text", "") or "")
        media = [str(m) for m in getattr(reply, "media", None) or []]
        if text or media:
            self.outbox.enqueue(message.channel, message.sender, text, media, dedupe_key=key)
        self._set_status(row_id, "answered", getattr(reply, "path", None))

    def _stranger(self, channel: str, sender: str, text: str, msg_id: str, profile: str) -> None:
        """No brain, no paid reply: log it, show it, unless it is a valid pairing code."""
        if self._may_try_pairing(channel, sender):
            try:
                added = self.rt.people.redeem(channel, sender, text)
            except ValueError as err:
                log.warning("messaging: pairing from %s:%s refused: %s", channel, sender, err)
                added = None
            if added:
                person = added[0]
                self._log(
                    channel,
                    msg_id,
                    sender,
                    person.name,
                    "(pairing code)",
                    (),
                    "paired",
                    f"paired as {person.role}",
                )
                self.rt.bus.publish(
                    Notice(
                        topic="message",
                        data={
                            "event": "paired",
                            "channel": channel,
                            "sender": sender,
                            "name": person.name,
                            "role": person.role,
                        },
                    )
                )
                assert self.outbox is not None
                self.outbox.enqueue(
                    channel,
                    sender,
                    f"Welcome, {person.name}! You can now talk to the house ({person.role}).",
                    dedupe_key=f"paired:{channel}:{msg_id}",
                )
                self.outbox.notify_owner(
                    f"{person.name} paired from {channel} {sender} as {person.role}."
                )
                return
            if text.strip().lower().startswith("pair"):
                self._note_pairing_failure(channel, sender)
        log.info("messaging: stranger %s:%s ignored (message %s)", channel, sender, msg_id)
        self._log(channel, msg_id, sender, profile or None, text[:500], (), "stranger")
        self.rt.bus.publish(
            Notice(
                topic="message",
                data={
                    "event": "stranger",
                    "channel": channel,
                    "sender": sender,
                    "name": profile,
                    "text": text[:200],
                    "ts": time.time(),
                },
            )
        )
        self.rt.store.execute(
            "DELETE FROM inbound WHERE status = 'stranger' AND id NOT IN (SELECT id FROM inbound "
            "WHERE status = 'stranger' ORDER BY id DESC LIMIT ?)",
            (KEEP_STRANGERS,),
        )

    def _may_try_pairing(self, channel: str, sender: str) -> bool:
        """Codes are 8 digits and live 15 minutes; 5 wrong tries per sender an hour.

        The limit is per sender only: one stranger's guesses never block another's
        pairing (the owner is warned when many senders guess, see PAIRING_FAILURES_WARN).
        """
        hour_ago = time.time() - 3600
        for window in [*self._pair_failures.values(), self._pair_failures_total]:
            while window and window[0] < hour_ago:
                window.popleft()
        for key in [k for k, v in self._pair_failures.items() if not v]:
            del self._pair_failures[key]  # many strangers must not grow this forever
        failures = len(self._pair_failures.get((channel, sender), ()))
        return failures < PAIRING_FAILURES_PER_SENDER

    def _note_pairing_failure(self, channel: str, sender: str) -> None:
        now = time.time()
        self._pair_failures[(channel, sender)].append(now)
        self._pair_failures_total.append(now)
        if len(self._pair_failures_total) == PAIRING_FAILURES_WARN and self.outbox is not None:
            senders = len(self._pair_failures)
            self.outbox.notify_owner(
                f"Security: {PAIRING_FAILURES_WARN} wrong pairing codes in the last hour from "
                f"{senders} sender{'s' if senders != 1 else ''} (latest {channel} {sender}). "
                "Each sender is limited on its own; pairing still works for the person you "
                "invited. `homeclaw pair list` shows pending codes.",
                dedupe_key=f"pairing-guesses:{int(now // 3600)}",
            )

    def _rate_limited(self, channel: str, sender: str) -> bool:
        window = self._rates[(channel, sender)]
        now = time.time()
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) >= SENDER_RATE_PER_MINUTE:
            return True
        window.append(now)
        return False

    def _log(
        self,
        channel: str,
        msg_id: str,
        sender: str,
        name: str | None,
        text: str,
        media: tuple[str, ...],
        status: str,
        detail: str | None = None,
    ) -> int:
        cursor = self.rt.store.execute(
            "INSERT INTO inbound(ts, channel, msg_id, sender, name, text, media, status, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                channel,
                msg_id,
                sender,
                name,
                text,
                json.dumps(list(media)),
                status,
                detail,
            ),
        )
        row_id = int(cursor.lastrowid or 0)
        if status != "stranger":
            self.rt.bus.publish(
                Notice(
                    topic="message",
                    data={
                        "event": "inbound",
                        "id": row_id,
                        "channel": channel,
                        "sender": sender,
                        "name": name,
                        "text": redact_codes(text[:200]),
                        "status": status,
                    },
                )
            )
        return row_id

    def _set_status(self, row_id: int, status: str, detail: str | None = None) -> None:
        self.rt.store.execute(
            "UPDATE inbound SET status = ?, detail = ? WHERE id = ?", (status, detail, row_id)
        )
        self.rt.bus.publish(
            Notice(
                topic="message",
                data={"event": "inbound_status", "id": row_id, "status": status, "detail": detail},
            )
        )

    # -- views -------------------------------------------------------------------------

    def recent_inbound(self, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
        """Latest inbound messages (optionally one status, e.g. strangers), newest first."""
        sql = "SELECT * FROM inbound"
        params: list[Any] = []
        if status:
            sql += " WHERE status = ?"
            params.append(status)
        rows = self.rt.store.query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        # A typed "YES 4821937" is shown as "YES [code]": the log is no place for codes.
        return [
            {**dict(r), "text": redact_codes(r["text"]), "media": json.loads(r["media"])}
            for r in rows
        ]

    def health_report(self) -> dict[str, Any]:
        """Shown in /api/health."""
        return {
            "channels": self.outbox.channels if self.outbox else [],
            "turns_running": len(self._turns),
            "webhook_rejected": self.twilio_webhook.rejected if self.twilio_webhook else 0,
        }


def create(rt: Runtime) -> Messaging:
    """The COMPONENTS factory."""
    return Messaging(rt)
