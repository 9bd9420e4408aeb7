"""What the LLM may spend: a daily token budget and a breaker for errors that repeat.

Every model call of the daemon (turns, summaries, the heartbeat's judge, memory
extraction) goes through `GuardedProvider`, so one place counts tokens and one
place says no. When today's budget is spent, or the server keeps refusing us
(bad key, no quota, a model without tool support), calls fail fast with an
`LLMError` of kind "budget" or "breaker" whose message says why; the brain then
answers locally and tells the owner. Counts live in SQLite (`brain_usage`), per
day in the home's timezone, so a restart does not reset the budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.brain.providers import Completion, LLMError, Provider

if TYPE_CHECKING:
    from agent.store import Store

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE brain_usage (
        day TEXT PRIMARY KEY,
        calls INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0
    );
    """,
]
MAX_COOLDOWN = 6 * 3600.0


@dataclass
class Breaker:
    """Opens after `threshold` persistent errors in a row; lets one call through after a
    cooldown that doubles each time it opens again (up to 6 h)."""

    threshold: int
    cooldown: float
    failures: int = 0
    opened_at: float | None = None
    current_cooldown: float = 0.0
    reason: str | None = None

    def open_until(self) -> float | None:
        """When the breaker lets a call through again (None when closed)."""
        if self.opened_at is None:
            return None
        return self.opened_at + self.current_cooldown

    def blocked(self, now: float) -> bool:
        """Whether a call now would be refused."""
        until = self.open_until()
        return until is not None and now < until

    def failure(self, err: LLMError, now: float) -> None:
        """Count one error; persistent ones open the breaker after the threshold."""
        if not err.persistent:
            return
        self.failures += 1
        self.reason = str(err)
        if self.failures >= self.threshold:
            reopened = self.opened_at is not None
            self.current_cooldown = (
                min(self.current_cooldown * 2, MAX_COOLDOWN) if reopened else self.cooldown
            )
            self.opened_at = now
            log.warning(
                "LLM breaker open for %.0f s after %d errors: %s",
                self.current_cooldown,
                self.failures,
                err,
            )

    def success(self) -> None:
        """A call went through: close."""
        if self.opened_at is not None:
            log.info("LLM breaker closed")
        self.failures = 0
        self.opened_at = None
        self.current_cooldown = 0.0
        self.reason = None

    def state(self, now: float) -> str:
        """closed, failing, open, or half_open (cooled down: the next call decides)."""
        if self.opened_at is None:
            return "closed" if self.failures == 0 else "failing"
        return "open" if self.blocked(now) else "half_open"


class LLMGuard:
    """The daily token budget and the breaker, on an injectable clock."""

    def __init__(
        self,
        store: Store,
        *,
        daily_tokens: int | None,
        breaker_after: int,
        breaker_cooldown: float,
        timezone: str = "UTC",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.daily_tokens = daily_tokens
        self.breaker = Breaker(breaker_after, breaker_cooldown)
        self.clock = clock
        try:
            self.zone: Any = ZoneInfo(timezone)
        except Exception:
            self.zone = ZoneInfo("UTC")
        store.migrate("brain_usage", MIGRATIONS)

    def today(self) -> str:
        """Today's date in the home's timezone (the budget's day)."""
        return datetime.fromtimestamp(self.clock(), self.zone).strftime("%Y-%m-%d")

    def usage(self, day: str | None = None) -> dict[str, int]:
        """Calls and tokens spent on one day (today by default)."""
        rows = self.store.query(
            "SELECT calls, prompt_tokens, completion_tokens FROM brain_usage WHERE day = ?",
            (day or self.today(),),
        )
        if not rows:
            return {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
        return {k: int(rows[0][k]) for k in ("calls", "prompt_tokens", "completion_tokens")}

    def spent(self) -> int:
        """Tokens spent today (prompt + completion)."""
        used = self.usage()
        return used["prompt_tokens"] + used["completion_tokens"]

    def blocked(self) -> str | None:
        """Why the next call must not go out (budget spent, breaker open), or None."""
        if self.daily_tokens and self.spent() >= self.daily_tokens:
            return (
                f"today's LLM budget of {self.daily_tokens:,} tokens is spent "
                "(it resets at midnight; brain.daily_token_budget)"
            )
        now = self.clock()
        if self.breaker.blocked(now):
            until = self.breaker.open_until() or now
            minutes = max(1, round((until - now) / 60))
            return (
                f"the LLM is paused after repeated errors ({self.breaker.reason}); "
                f"next try in {minutes} min"
            )
        return None

    def record(self, completion: Completion) -> None:
        """Count one answered call."""
        self.store.execute(
            "INSERT INTO brain_usage(day, calls, prompt_tokens, completion_tokens) "
            "VALUES (?, 1, ?, ?) ON CONFLICT(day) DO UPDATE SET calls = calls + 1, "
            "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
            "completion_tokens = completion_tokens + excluded.completion_tokens",
            (self.today(), completion.prompt_tokens or 0, completion.completion_tokens or 0),
        )
        self.breaker.success()

    def failure(self, err: LLMError) -> None:
        """Count one failed call (only persistent errors move the breaker)."""
        self.breaker.failure(err, self.clock())

    def report(self) -> dict[str, Any]:
        """For /api/health, `doctor` and the dashboard."""
        until = self.breaker.open_until()
        return {
            "day": self.today(),
            **self.usage(),
            "daily_token_budget": self.daily_tokens,
            "blocked": self.blocked(),
            "breaker": {
                "state": self.breaker.state(self.clock()),
                "failures": self.breaker.failures,
                "reason": self.breaker.reason,
                "until": until,
            },
        }


class GuardedProvider:
    """A provider whose calls are counted against the budget and stopped by the breaker."""

    def __init__(self, inner: Provider, guard: LLMGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.name = inner.name
        self.model = inner.model

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> Completion:
        """One model call, unless the budget or the breaker says no."""
        reason = self.guard.blocked()
        if reason is not None:
            kind = "budget" if "budget" in reason else "breaker"
            raise LLMError(kind, reason)
        try:
            completion = await self.inner.complete(messages, tools)
        except LLMError as err:
            self.guard.failure(err)
            raise
        self.guard.record(completion)
        return completion

    async def close(self) -> None:
        """Close the inner provider."""
        await self.inner.close()
