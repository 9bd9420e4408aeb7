"""The heartbeat: every N minutes, check the owner's standing concerns (HEARTBEAT.md).

Concerns that parse into rules are checked against Home state for free; the
LLM reads the rest only when the devices they mention changed since it last
looked, so an idle heartbeat costs nothing. The owner hears about a concern
only when it holds, outside quiet hours, and not again within the cooldown.
HEARTBEAT.md is never a source of commands: the heartbeat only sends messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.bus import StateChanged
from agent.devices import Kind
from agent.routines.concerns import Concern, Rule, read_concerns
from agent.routines.config import HeartbeatConfig, in_window, parse_window
from agent.routines.states import STATE_WORDS, in_state, number

if TYPE_CHECKING:
    from agent.devices import Device
    from agent.home import Home
    from agent.store import Store

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE heartbeat_alerts (
        key TEXT PRIMARY KEY,
        concern TEXT NOT NULL,
        last_sent REAL NOT NULL
    );
    """,
]
ANY_DEVICE = {"device", "devices", "anything", "something", "thing", "everything"}

Notify = Callable[[str], Awaitable[None]]
# Reads one concern and the state of the devices it mentions; returns an alert or None.
Judge = Callable[[str, str], Awaitable[str | None]]


@dataclass
class Alert:
    """A concern that holds right now, for one device (or the whole home)."""

    key: str
    concern: str
    text: str


@dataclass
class BeatReport:
    """What one heartbeat found and did (for logs, tests and the dashboard)."""

    at: float
    concerns: int
    rules: int
    judged: int = 0
    alerts: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return self.__dict__.copy()


class Heartbeat:
    """Checks HEARTBEAT.md against the home and tells the owner what needs attention."""

    def __init__(
        self,
        home: Home,
        store: Store,
        config: HeartbeatConfig,
        path: Path,
        *,
        clock: Callable[[], datetime],
        notify: Notify,
        judge: Judge | None = None,
        units: str = "metric",
    ) -> None:
        self.home = home
        self.store = store
        self.config = config
        self.path = path
        self.clock = clock
        self.notify = notify
        self.judge = judge
        self.units = units
        self.last: BeatReport | None = None
        self._started = clock().timestamp()
        # When each (device, state field) last changed, for "on for more than 4 hours".
        self._changed: dict[str, float] = store.get_json("heartbeat:changed", {}) or {}
        # What the model last read per concern: kept across restarts, so starting the
        # daemon again does not pay for judgements of a house that has not changed.
        self._judged: dict[str, str] = store.get_json("heartbeat:judged", {}) or {}
        self._available: dict[str, bool] = {}
        store.migrate("routines_heartbeat", MIGRATIONS)

    # -- state tracking ----------------------------------------------------------

    def observe(self, event: StateChanged) -> None:
        """Note when a device's state fields (and its availability) changed."""
        old = event.old or {}
        for name in {f for f, _ in STATE_WORDS.values()} - {"available"}:
            if old.get(name) != event.new.get(name):
                self._changed[f"{event.device_id}:{name}"] = event.ts
        if self._available.get(event.device_id) != event.available:
            self._available[event.device_id] = event.available
            self._changed[f"{event.device_id}:available"] = event.ts

    # -- one beat ------------------------------------------------------------

    def concerns(self) -> list[Concern]:
        """The concerns in HEARTBEAT.md (none when the file is missing)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return read_concerns(text, self.units)

    async def beat(self) -> BeatReport:
        """Check every concern once; message the owner about the ones that need it."""
        now = self.clock()
        concerns = self.concerns()
        report = BeatReport(time.time(), len(concerns), sum(1 for c in concerns if c.rule))
        alerts: list[Alert] = []
        for concern in concerns:
            if concern.rule is not None:
                alerts.extend(self._check(concern, concern.rule, now))
            elif self.judge is not None:
                alert = await self._judge(concern, report)
                if alert is not None:
                    alerts.append(alert)
        report.alerts = [a.text for a in alerts]
        self.store.put_json("heartbeat:changed", self._changed)
        due = [a for a in alerts if not self._cooling(a)]
        report.suppressed = [a.text for a in alerts if a not in due]
        if due and self._quiet(now):
            report.suppressed += [a.text for a in due]
            due = []
        if due:
            text = "\n".join(a.text for a in due)
            await self.notify(text)
            for alert in due:
                self.store.execute(
                    "INSERT INTO heartbeat_alerts(key, concern, last_sent) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET last_sent = excluded.last_sent",
                    (alert.key, alert.concern, now.timestamp()),
                )
            report.sent = [a.text for a in due]
        self.last = report
        log.info(
            "heartbeat: %d concerns, %d alerts, %d sent, %d judged by the LLM",
            report.concerns,
            len(report.alerts),
            len(report.sent),
            report.judged,
        )
        return report

    async def run_forever(self) -> None:
        """Beat every `every_minutes` (supervised by the daemon)."""
        while True:
            await asyncio.sleep(self.config.every_minutes * 60)
            await self.beat()

    # -- rules ---------------------------------------------------------------

    def _devices(self, target: str, numeric: bool = False) -> list[Device]:
        if target in ANY_DEVICE:
            return self.home.devices()
        # "the bedroom temperature": the bedroom's sensors first, then anything there.
        resolution = self.home.resolve(target, kind=Kind.SENSOR if numeric else None)
        if not resolution.ok and numeric:
            resolution = self.home.resolve(target)
        return resolution.devices if resolution.ok else []

    def _check(self, concern: Concern, rule: Rule, now: datetime) -> list[Alert]:
        if not in_window(now.time(), rule.after, rule.before):
            return []
        devices = self._devices(rule.target, numeric=rule.state is None)
        if not devices:
            log.debug("heartbeat: no device matches %r", rule.target)
            return []
        alerts = []
        for device in devices:
            state = device.state.to_json()
            text: str | None = None
            if rule.state is not None:
                if in_state(state, rule.state, device.available) is not True:
                    continue
                field_name = STATE_WORDS[rule.state][0]
                since = self._changed.get(f"{device.id}:{field_name}", self._started)
                held = now.timestamp() - since
                if rule.for_seconds and held < rule.for_seconds:
                    continue
                text = f"{device.name} is {rule.state}"
                if rule.for_seconds:
                    text = f"{device.name} has been {rule.state} for {_span(held)}"
            else:
                value = number(state, rule.attribute)
                if value is None:
                    continue
                at = f"{device.name} is at {self._fmt(value, rule)}"
                if rule.above is not None and value > rule.above:
                    text = f"{at} (above {self._fmt(rule.above, rule)})"
                elif rule.below is not None and value < rule.below:
                    text = f"{at} (below {self._fmt(rule.below, rule)})"
            if text is not None:
                key = hashlib.sha1(f"{concern.text}|{device.id}".encode()).hexdigest()[:16]
                alerts.append(Alert(key, concern.text, f"{text} — you asked: “{concern.text}”"))
        return alerts

    def _fmt(self, value: float, rule: Rule) -> str:
        if rule.attribute == "current_temperature_c":
            if self.units == "imperial":
                return f"{value * 9 / 5 + 32:.0f}°F"
            return f"{value:.1f}°C"
        if rule.attribute == "humidity":
            return f"{value:.0f} %"
        return f"{value:g}"

    async def _judge(self, concern: Concern, report: BeatReport) -> Alert | None:
        devices = self._mentioned(concern.text)
        status = "\n".join(
            f"- {d.name} ({self.home.area_name(d.area)}, {d.kind.value}): "
            f"{json.dumps(d.state.to_json(), sort_keys=True)}"
            f"{'' if d.available else ' [unreachable]'}"
            for d in devices
        )
        fingerprint = hashlib.sha1(status.encode()).hexdigest()
        if self._judged.get(concern.text) == fingerprint:
            return None  # nothing it looks at changed since the model last read it
        assert self.judge is not None
        report.judged += 1
        try:
            verdict = await self.judge(concern.text, status)
        except Exception as err:  # the model being down must not stop the rule checks
            log.warning("heartbeat: judging %r failed: %s", concern.text, err)
            return None
        self._judged[concern.text] = fingerprint
        self.store.put_json("heartbeat:judged", self._judged)
        if not verdict:
            return None
        key = hashlib.sha1(f"{concern.text}|llm".encode()).hexdigest()[:16]
        return Alert(key, concern.text, verdict)

    def _mentioned(self, text: str) -> list[Device]:
        lowered = text.lower()
        named = [
            d
            for d in self.home.devices()
            if d.name.lower() in lowered
            or (d.area and self.home.area_name(d.area).lower() in lowered)
        ]
        return named or self.home.devices()

    def _cooling(self, alert: Alert) -> bool:
        row = self.store.one("SELECT last_sent FROM heartbeat_alerts WHERE key = ?", (alert.key,))
        if row is None:
            return False
        return self.clock().timestamp() - row[0] < self.config.cooldown_minutes * 60

    def _quiet(self, now: datetime) -> bool:
        if not self.config.quiet_hours:
            return False
        start, end = parse_window(self.config.quiet_hours)
        return in_window(now.time(), start, end)


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
