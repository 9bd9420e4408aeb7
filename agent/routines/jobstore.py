"""An APScheduler 3 job store in homeclaw's SQLite store, as JSON rather than pickles.

Each job is its id, next run time and a JSON payload (what to do and when);
the trigger and the callable are rebuilt from the payload on load. Stored
next-run times are what let the scheduler notice runs missed while the daemon
was down (and, with coalescing, run them once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

if TYPE_CHECKING:
    from agent.store import Store

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE routine_jobs (
        id TEXT PRIMARY KEY,
        next_run_time REAL,
        name TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX routine_jobs_next ON routine_jobs(next_run_time);
    """,
]

Rebuild = Callable[[dict[str, Any]], BaseTrigger]


class StoreJobStore(BaseJobStore):  # type: ignore[misc]
    """Jobs persisted in the `routine_jobs` table; every job calls `fire(payload=...)`."""

    def __init__(self, store: Store, fire: Callable[..., Any], trigger_for: Rebuild) -> None:
        super().__init__()
        self.store = store
        self.fire = fire
        self.trigger_for = trigger_for
        store.migrate("routines_jobs", MIGRATIONS)

    # -- reading --------------------------------------------------------------

    def lookup_job(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        row = self.store.one(
            "SELECT id, next_run_time, name, payload FROM routine_jobs WHERE id = ?", (job_id,)
        )
        return self._job(row) if row else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        """Jobs whose next run time is at or before `now`."""
        return self._jobs(
            "WHERE next_run_time IS NOT NULL AND next_run_time <= ?",
            (datetime_to_utc_timestamp(now),),
        )

    def get_next_run_time(self) -> datetime | None:
        """The earliest next run time of any job."""
        row = self.store.one("SELECT MIN(next_run_time) FROM routine_jobs")
        return utc_timestamp_to_datetime(row[0]) if row and row[0] is not None else None

    def get_all_jobs(self) -> list[Job]:
        """Every job, soonest first, paused ones last."""
        jobs = self._jobs("", ())
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    # -- writing --------------------------------------------------------------

    def add_job(self, job: Job) -> None:
        """Store a new job."""
        if self.store.one("SELECT 1 FROM routine_jobs WHERE id = ?", (job.id,)):
            raise ConflictingIdError(job.id)
        self.store.execute(
            "INSERT INTO routine_jobs(id, next_run_time, name, payload) VALUES (?, ?, ?, ?)",
            self._row(job),
        )

    def update_job(self, job: Job) -> None:
        """Store a changed job (usually a new next run time)."""
        cursor = self.store.execute(
            "UPDATE routine_jobs SET next_run_time = ?, name = ?, payload = ? WHERE id = ?",
            (*self._row(job)[1:], job.id),
        )
        if cursor.rowcount == 0:
            raise JobLookupError(job.id)

    def remove_job(self, job_id: str) -> None:
        """Delete a job."""
        cursor = self.store.execute("DELETE FROM routine_jobs WHERE id = ?", (job_id,))
        if cursor.rowcount == 0:
            raise JobLookupError(job_id)

    def remove_all_jobs(self) -> None:
        """Delete every job."""
        self.store.execute("DELETE FROM routine_jobs")

    def shutdown(self) -> None:
        """Nothing to close: the store belongs to the daemon."""

    # -- conversion -----------------------------------------------------------

    def _row(self, job: Job) -> tuple[str, float | None, str, str]:
        payload = job.kwargs.get("payload", {})
        return (
            job.id,
            datetime_to_utc_timestamp(job.next_run_time),
            job.name,
            json.dumps(payload, sort_keys=True),
        )

    def _jobs(self, where: str, params: tuple[Any, ...]) -> list[Job]:
        rows = self.store.query(
            f"SELECT id, next_run_time, name, payload FROM routine_jobs {where} "
            "ORDER BY next_run_time, id",
            params,
        )
        jobs = []
        for row in rows:
            job = self._job(row)
            if job is not None:
                jobs.append(job)
        return jobs

    def _job(self, row: Any) -> Job | None:
        try:
            payload = json.loads(row["payload"])
            trigger = self.trigger_for(payload)
        except Exception as err:  # a job we can no longer understand is dropped, loudly
            log.warning("dropping scheduled job %s that cannot be restored: %s", row["id"], err)
            self.store.execute("DELETE FROM routine_jobs WHERE id = ?", (row["id"],))
            return None
        job = Job(
            self._scheduler,
            id=row["id"],
            func=self.fire,
            args=(),
            kwargs={"payload": payload},
            trigger=trigger,
            executor="default",
            name=row["name"],
            misfire_grace_time=self._scheduler._job_defaults["misfire_grace_time"],
            coalesce=True,
            max_instances=1,
            next_run_time=(
                utc_timestamp_to_datetime(row["next_run_time"])
                if row["next_run_time"] is not None
                else None
            ),
        )
        job._jobstore_alias = self._alias
        return job
