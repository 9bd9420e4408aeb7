"""What the routines' routes and tools ask of the component (`rt.services["routines"]`).

The component hands itself to `api.add_routes` and `tools.register`; they are typed against
this protocol instead of importing the component back, so imports go one way (component →
api, tools → service). mypy checks the component against it where it hands itself over.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from agent.routines.config import RoutineConfig, ScheduleConfig, WhenTime
    from agent.routines.executor import RunResult
    from agent.routines.heartbeat import Heartbeat
    from agent.routines.scheduler import Schedules


class RoutinesService(Protocol):
    """Routines, schedules and the heartbeat of one running daemon."""

    routines: dict[str, RoutineConfig]
    problems: list[str]
    schedules: Schedules
    heartbeat: Heartbeat
    timezone: ZoneInfo

    @property
    def heartbeat_enabled(self) -> bool:
        """On when configured so, else on exactly when an LLM is configured."""
        ...

    @property
    def heartbeat_how_to_enable(self) -> str:
        """What the owner does to turn the heartbeat on, in this home (a demo or not)."""
        ...

    def now(self) -> datetime:
        """The time in the home's timezone."""
        ...

    def reload(self) -> None:
        """Re-read routines and schedules after a hand edit."""
        ...

    def find(self, name: str) -> RoutineConfig | None:
        """A routine by name (any case), or by one of its phrases."""
        ...

    async def run(
        self, name: str, *, requested_by: str, role: str = "owner", notify: bool = False
    ) -> RunResult:
        """Run a routine now for someone (with their role); record and publish the result."""
        ...

    def last_run(self, name: str) -> dict[str, Any] | None:
        """The latest recorded run of a routine."""
        ...

    def save_routine(self, routine: RoutineConfig) -> RoutineConfig:
        """Validate a routine and write it to the file."""
        ...

    def delete_routine(self, name: str) -> str:
        """Remove a routine from the file."""
        ...

    def save_schedule(self, schedule: ScheduleConfig) -> dict[str, Any]:
        """Validate a standing schedule, write it to the file, and return its listing."""
        ...

    def add_once(self, when: WhenTime, what: ScheduleConfig) -> dict[str, Any]:
        """A one-shot schedule, kept in the store only."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Cancel a schedule."""
        ...
