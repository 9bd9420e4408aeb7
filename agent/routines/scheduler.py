"""Schedules: APScheduler (AsyncIOScheduler) with jobs persisted in the home's SQLite store.

Config-defined schedules become jobs with ids derived from their content
(`cfg:<hash>`), so an unchanged schedule keeps its stored next run time across
restarts and a run missed while the daemon was down fires once (coalesced)
within the grace period. One-shots made by chat (`once:`) and undo timers
(`undo:`) live only in the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from agent.routines.config import WhenTime, parse_clock, parse_days
from agent.routines.jobstore import StoreJobStore
from agent.routines.sun import SunTrigger
from agent.store import Store

log = logging.getLogger(__name__)

Fire = Callable[[dict[str, Any]], Awaitable[None]]


class ScheduleError(ValueError):
    """A schedule that cannot be built (e.g. sunset without a location)."""


def job_id_for(payload: dict[str, Any]) -> str:
    """A stable id for a config schedule: the same content keeps the same job."""
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"cfg:{digest[:10]}"


def describe_when(when: WhenTime) -> str:
    """A schedule's time in words ("weekdays at 07:00", "sunset -15 min every day")."""
    days = parse_days(when.days) if when.days else []
    if not days or len(days) == 7:
        on = "every day"
    elif days == ["mon", "tue", "wed", "thu", "fri"]:
        on = "weekdays"
    elif days == ["sat", "sun"]:
        on = "weekends"
    else:
        on = ", ".join(days)
    if when.cron is not None:
        return f"cron {when.cron}"
    if when.at is not None:
        return f"{on} at {parse_clock(when.at):%H:%M}"
    if when.sun is not None:
        offset = when.offset_minutes
        shift = f" {'+' if offset > 0 else '-'}{abs(offset)} min" if offset else ""
        return f"{when.sun}{shift} {on}"
    assert when.once is not None
    return f"once at {when.once:%Y-%m-%d %H:%M}"


class Schedules:
    """The scheduler of one home: build triggers, persist jobs, fire them."""

    def __init__(
        self,
        store: Store,
        fire: Fire,
        *,
        timezone: tzinfo,
        latitude: float | None = None,
        longitude: float | None = None,
        grace_seconds: int = 3600,
    ) -> None:
        self.timezone = timezone
        self.latitude = latitude
        self.longitude = longitude
        self._fire = fire
        self.jobstore = StoreJobStore(store, self._run, self._trigger_from_payload)
        self.scheduler = AsyncIOScheduler(
            timezone=timezone,
            jobstores={"default": self.jobstore},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": grace_seconds,
                "max_instances": 1,
            },
        )

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> None:
        """Start firing jobs (needs the running event loop)."""
        if not self.scheduler.running:
            self.scheduler.start()

    def stop(self) -> None:
        """Stop firing jobs; stored jobs stay for the next start."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    # -- triggers -----------------------------------------------------------

    def trigger(self, when: WhenTime) -> BaseTrigger:
        """The APScheduler trigger for a schedule time."""
        days = ",".join(parse_days(when.days)) if when.days else "*"
        if when.cron is not None:
            return CronTrigger.from_crontab(when.cron, timezone=self.timezone)
        if when.at is not None:
            clock = parse_clock(when.at)
            return CronTrigger(
                day_of_week=days, hour=clock.hour, minute=clock.minute, timezone=self.timezone
            )
        if when.sun is not None:
            if self.latitude is None or self.longitude is None:
                raise ScheduleError(
                    f"{when.sun} schedules need the home's location: set home.latitude and "
                    "home.longitude in config.yaml"
                )
            return SunTrigger(
                when.sun,
                self.latitude,
                self.longitude,
                self.timezone,
                when.offset_minutes,
                tuple(parse_days(when.days)) if when.days else (),
            )
        assert when.once is not None
        once = when.once if when.once.tzinfo else when.once.replace(tzinfo=self.timezone)
        return DateTrigger(run_date=once, timezone=self.timezone)

    def _trigger_from_payload(self, payload: dict[str, Any]) -> BaseTrigger:
        return self.trigger(WhenTime.model_validate(payload["when"]))

    # -- jobs ---------------------------------------------------------------

    def sync(self, wanted: dict[str, dict[str, Any]]) -> None:
        """Make the stored config jobs (`cfg:` ids) exactly `wanted`, keeping unchanged ones."""
        current = {job.id for job in self.scheduler.get_jobs() if job.id.startswith("cfg:")}
        for job_id in current - set(wanted):
            self.cancel(job_id)
        for job_id, payload in wanted.items():
            if job_id not in current:
                self.add(payload, job_id=job_id)

    def add(self, payload: dict[str, Any], *, job_id: str | None = None) -> dict[str, Any]:
        """Add (or replace) a job; returns its listing."""
        when = WhenTime.model_validate(payload["when"])
        trigger = self.trigger(when)
        job = self.scheduler.add_job(
            self._run,
            trigger=trigger,
            kwargs={"payload": payload},
            id=job_id or f"once:{uuid.uuid4().hex[:10]}",
            name=payload.get("name") or payload.get("what_text") or "schedule",
            replace_existing=True,
        )
        return self.listing(job)

    def get(self, job_id: str) -> Any:
        """The APScheduler job with this id, or None."""
        return self.scheduler.get_job(job_id)

    def cancel(self, job_id: str) -> bool:
        """Remove a job; False if there was none."""
        try:
            self.scheduler.remove_job(job_id)
        except JobLookupError:
            return False
        return True

    def list(self) -> list[dict[str, Any]]:
        """Every job with what it does and when it runs next, soonest first."""
        return [self.listing(job) for job in self.scheduler.get_jobs()]

    def listing(self, job: Any) -> dict[str, Any]:
        """A job as the API, CLI and tools show it."""
        payload = job.kwargs.get("payload", {})
        when = WhenTime.model_validate(payload["when"])
        next_run = getattr(job, "next_run_time", None)
        if next_run is None and not self.scheduler.running:
            next_run = job.trigger.get_next_fire_time(None, datetime.now(self.timezone))
        return {
            "id": job.id,
            "name": payload.get("name"),
            "what": payload.get("what_text", ""),
            "when": describe_when(when),
            "source": payload.get("source", "config"),
            "next_run": next_run.astimezone(self.timezone).isoformat() if next_run else None,
        }

    async def _run(self, payload: dict[str, Any]) -> None:
        try:
            await self._fire(payload)
        except Exception:  # a failing job must not stop the scheduler
            log.exception("scheduled job failed: %s", payload.get("what_text"))
