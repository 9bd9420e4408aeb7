"""The routines component: routines, schedules, event triggers and the heartbeat, wired in.

Published as `rt.services["routines"]`. Trigger phrases go to the brain's
local fast path; tools go to `rt.tools`; routes to the web app.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.bus import InboundMessage, Notice, StateChanged
from agent.devices import Command
from agent.routines import api, tools
from agent.routines.config import (
    RoutineConfig,
    ScheduleConfig,
    StepConfig,
    WhenTime,
    dump,
    routine_problems,
    same_schedule,
)
from agent.routines.executor import (
    RoutineError,
    RoutineRunner,
    RunFor,
    RunResult,
    check_step_risk,
)
from agent.routines.heartbeat import Heartbeat
from agent.routines.judge import make_judge
from agent.routines.routinefile import RoutineFile
from agent.routines.scheduler import ScheduleError, Schedules, job_id_for
from agent.routines.triggers import EventTriggers

if TYPE_CHECKING:
    from agent.brain.reply import Reply
    from agent.brain.tools import ToolContext
    from agent.config import Config
    from agent.runtime import Runtime

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE routine_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        routine TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        ok INTEGER NOT NULL,
        summary TEXT NOT NULL,
        result TEXT NOT NULL
    );
    CREATE INDEX routine_runs_routine ON routine_runs(routine, ts);
    """,
]
HEARTBEAT_FILE = "HEARTBEAT.md"
RUN_HISTORY_DAYS = 90


def create(rt: Runtime) -> Routines:
    """Component factory for `agent.daemon.COMPONENTS`."""
    return Routines(rt)


class Routines:
    """Runs routines on command, on a clock, on events; and keeps the heartbeat."""

    name = "routines"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.timezone = ZoneInfo(rt.config.home.timezone)
        self.units = rt.config.home.units
        self.routines: dict[str, RoutineConfig] = {}
        self.schedule_configs: list[ScheduleConfig] = []
        self.problems: list[str] = []
        self.file = RoutineFile(rt.paths)
        self.runner = RoutineRunner(
            rt.home, self.find, units=self.units, revert=self._schedule_undo
        )
        # Through a lambda, so a test (or a replay) can swap `self.now` for its own clock.
        self.triggers = EventTriggers(rt.home, lambda: self.now(), self._fire_trigger, self.units)
        self.schedules = Schedules(
            rt.store,
            self._fire_job,
            timezone=self.timezone,
            latitude=rt.config.home.latitude,
            longitude=rt.config.home.longitude,
        )
        self.heartbeat = Heartbeat(
            rt.home,
            rt.store,
            rt.config.heartbeat,
            rt.paths.root / HEARTBEAT_FILE,
            clock=lambda: self.now(),
            notify=self.notify_owner,
            judge=None,
            units=self.units,
        )
        self._phrase_intents: set[str] = set()
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: list[Any] = []

    # -- lifecycle ------------------------------------------------------------------

    def setup(self, rt: Runtime) -> None:
        """Create tables, register tools and routes, publish the service."""
        rt.store.migrate("routines", MIGRATIONS)
        tools.register(rt.tools, self)
        api.add_routes(rt.app, self)
        rt.services["routines"] = self

    async def start(self) -> None:
        """Load routines, start the scheduler, listen for events, start the heartbeat."""
        self.schedules.start()
        self.apply(self.rt.config)
        # The run history is for the dashboard and "what happened last night", not an archive.
        self.rt.store.execute(
            "DELETE FROM routine_runs WHERE ts < ?", (time.time() - RUN_HISTORY_DAYS * 86400,)
        )
        self._unsubscribe.append(self.rt.bus.on(StateChanged, self.triggers.on_state))
        self._unsubscribe.append(self.rt.bus.on(StateChanged, self.heartbeat.observe))
        if self.heartbeat_enabled:
            self.heartbeat.judge = make_judge(self.rt)
            self.rt.supervisor.spawn("routines:heartbeat", self.heartbeat.run_forever)

    async def stop(self) -> None:
        """Stop the scheduler and any routine still running."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.schedules.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def heartbeat_enabled(self) -> bool:
        """On when configured so, else on exactly when an LLM is configured."""
        enabled = self.rt.config.heartbeat.enabled
        return enabled if enabled is not None else self.rt.config.brain.provider != "none"

    @property
    def heartbeat_how_to_enable(self) -> str:
        """What the owner does to turn the heartbeat on, in this home (a demo or not)."""
        if self.rt.demo:  # the demo rewrites config.yaml on every run: only its flags last
            return "restart the demo with a language model: `homeclaw demo --llm URL --model MODEL`"
        return "set heartbeat.enabled in config.yaml, or configure an LLM (brain.provider)"

    def now(self) -> datetime:
        """The time in the home's timezone (tests replace this clock)."""
        return datetime.now(self.timezone)

    # -- loading --------------------------------------------------------------------

    def apply(self, config: Config) -> None:
        """Take routines and schedules from a (validated) config: phrases, triggers, jobs."""
        self.routines = {r.name.lower(): r for r in config.routines}
        self.schedule_configs = list(config.schedules)
        self.problems = routine_problems(config.routines, config.schedules)
        for problem in self.problems:
            log.warning("routines: %s", problem)
        self.triggers.load(config.routines)
        self._register_phrases()
        wanted: dict[str, dict[str, Any]] = {}
        for payload in self._config_payloads():
            try:
                self.schedules.trigger(WhenTime.model_validate(payload["when"]))
            except ScheduleError as err:
                self.problems.append(str(err))
                continue
            wanted[job_id_for(payload)] = payload
        self.schedules.sync(wanted)

    def reload(self) -> None:
        """Re-read routines and schedules after a hand edit (ConfigError keeps the old ones)."""
        from agent.config import load_config

        self.apply(load_config(self.rt.paths.config))

    def health_report(self) -> dict[str, Any]:
        """What /api/health shows for routines."""
        return {
            "routines": len(self.routines),
            "schedules": len(self.schedules.list()),
            "problems": self.problems,
            "heartbeat": self.heartbeat_enabled,
        }

    def _config_payloads(self) -> list[dict[str, Any]]:
        payloads = []
        for schedule in self.schedule_configs:
            when = WhenTime.model_validate(schedule.model_dump(include=set(WhenTime.model_fields)))
            payloads.append(self._payload(when, schedule, source="config"))
        for routine in self.routines.values():
            for when in routine.schedules:
                payloads.append(self._payload(when, routine.name, source="config"))
        return payloads

    def _payload(
        self, when: WhenTime, what: ScheduleConfig | str, *, source: str
    ) -> dict[str, Any]:
        """A job's JSON payload: when, what (a routine name, or a schedule's action)."""
        name: str | None = None
        if isinstance(what, str):
            doing: dict[str, Any] = {"routine": what}
            text = f"run {what}"
        else:
            name, text = what.name, what.what()
            if what.routine:
                doing = {"routine": what.routine}
            elif what.say:
                doing = {"say": what.say}
            else:
                assert what.step is not None
                doing = {"step": dump(what.step)}
        payload = {
            "when": when.model_dump(mode="json", exclude_defaults=True),
            "what": doing,
            "what_text": text,
            "name": name,
            "source": source,
        }
        if not isinstance(what, str) and (what.by is not None or what.role != "owner"):
            payload["by"] = {"requested_by": what.by, "role": what.role}
        return payload

    def _register_phrases(self) -> None:
        local = self._local_path()
        if local is None:
            return
        for intent in self._phrase_intents:
            local.unregister_phrases(intent)
        self._phrase_intents.clear()
        for routine in self.routines.values():
            intent = f"routine:{routine.name}"
            local.register_phrases(
                intent, [routine.name, *routine.phrases], self._phrase_handler(routine.name)
            )
            self._phrase_intents.add(intent)

    def _local_path(self) -> Any:
        brain = self.rt.service("brain")
        local = getattr(brain, "local", None)
        if local is None or not hasattr(local, "register_phrases"):
            if self.routines:
                log.warning("routines: no local fast path; trigger phrases go through the LLM")
            return None
        return local

    def _phrase_handler(self, name: str) -> Any:
        async def handle(msg: InboundMessage, ctx: ToolContext) -> Reply:
            from agent.brain.reply import Reply, action_record

            # Run as the person who said the phrase: their role, their name in the log.
            result = await self.run(name, requested_by=ctx.requested_by, role=ctx.role)
            return Reply(
                result.summary,
                path="local",
                actions=[action_record("run_routine", {"name": name}, result.ok, result.to_json())],
            )

        return handle

    # -- running --------------------------------------------------------------------

    def find(self, name: str) -> RoutineConfig | None:
        """A routine by name (any case), or by one of its phrases."""
        key = name.strip().lower()
        if key in self.routines:
            return self.routines[key]
        for routine in self.routines.values():
            if key in (p.lower() for p in routine.phrases):
                return routine
        return None

    async def run(
        self, name: str, *, requested_by: str, role: str = "owner", notify: bool = False
    ) -> RunResult:
        """Run a routine now for someone (with their role); record and publish the result."""
        routine = self.find(name)
        if routine is None:
            known = ", ".join(r.name for r in self.routines.values()) or "none yet"
            raise RoutineError(f"There's no routine called “{name}” (routines: {known}).")
        say = self.notify_owner if notify else None
        self._running.add(routine.name)
        try:
            result = await self.runner.run(routine, requested_by=requested_by, say=say, role=role)
        finally:
            self._running.discard(routine.name)
        self._record(result)
        if notify and not result.ok:
            await self.notify_owner(result.summary)
        return result

    def _record(self, result: RunResult) -> None:
        self.rt.store.execute(
            "INSERT INTO routine_runs(ts, routine, requested_by, ok, summary, result) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                result.started,
                result.routine,
                result.requested_by,
                int(result.ok),
                result.summary,
                json.dumps(result.to_json()),
            ),
        )
        self.rt.bus.publish(Notice(topic="routine", data=result.to_json()))
        log.info(
            "routine %s by %s in %.0f ms: %s",
            result.routine,
            result.requested_by,
            result.duration * 1000,
            result.summary,
        )
        memory = self.rt.service("memory")
        if memory is not None and hasattr(memory, "note"):
            try:
                noted = memory.note(f"Ran {result.routine}: {result.summary}", source="routine")
                if inspect.isawaitable(noted):
                    self._spawn(noted)
            except Exception as err:  # memory is a nicety; the routine already ran
                log.debug("memory note failed: %s", err)

    def last_run(self, name: str) -> dict[str, Any] | None:
        """The latest recorded run of a routine."""
        row = self.rt.store.one(
            "SELECT result FROM routine_runs WHERE routine = ? ORDER BY ts DESC, id DESC LIMIT 1",
            (name,),
        )
        return json.loads(row[0]) if row else None

    async def notify_owner(self, text: str) -> None:
        """Message the owner through the outbox (logged when there is none)."""
        outbox = self.rt.service("outbox")
        if outbox is None:
            log.warning("routines: no outbox; the owner was not told: %s", text)
            return
        sent = outbox.notify_owner(text)
        if inspect.isawaitable(sent):
            await sent

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _fire_trigger(self, routine: str, why: str) -> None:
        if routine in self._running:
            return  # already on it; motion sensors repeat themselves
        self._spawn(self.run(routine, requested_by=f"trigger:{why}", notify=True))

    async def _fire_job(self, payload: dict[str, Any]) -> None:
        what = payload["what"]
        # A schedule runs for whoever set it up (chat: that person; config: the owner).
        by = payload.get("by") or {}
        requested_by = str(by.get("requested_by") or "schedule")
        role = str(by.get("role") or "owner")
        if "routine" in what:
            await self.run(what["routine"], requested_by=requested_by, role=role, notify=True)
        elif "say" in what:
            await self.notify_owner(f"Reminder: {what['say']}")
        elif "step" in what:
            step = StepConfig.model_validate(what["step"])
            routine = RoutineConfig(name=step.describe()[:80], steps=[step])
            result = await self.runner.run(
                routine, requested_by=requested_by, say=self.notify_owner, role=role
            )
            self._record(result)
            if not result.ok:
                await self.notify_owner(result.summary)
        elif "undo" in what:
            undo = what["undo"]
            try:
                await self.rt.home.execute(
                    undo["device_id"],
                    Command.model_validate(undo["command"]),
                    requested_by=undo.get("requested_by", "routine:undo"),
                    role=undo.get("role", "owner"),
                )
            except Exception as err:
                log.warning("undo on %s failed: %s", undo["device_id"], err)

    async def _schedule_undo(
        self, device_id: str, command: Command, seconds: float, run: RunFor
    ) -> None:
        job_id = f"undo:{device_id}"
        existing = self.schedules.get(job_id)
        if existing is not None:
            # Motion again before the light went back: keep the original "before" state.
            command = Command.model_validate(existing.kwargs["payload"]["what"]["undo"]["command"])
        once = datetime.fromtimestamp(time.time() + seconds, self.timezone)
        payload = {
            "when": {"once": once.isoformat()},
            "what": {
                "undo": {
                    "device_id": device_id,
                    "command": command.to_json(),
                    "requested_by": run.requested_by,
                    "role": run.role,
                }
            },
            "what_text": f"put {self._device_name(device_id)} back",
            "name": None,
            "source": "undo",
        }
        self.schedules.add(payload, job_id=job_id)

    def _device_name(self, device_id: str) -> str:
        """What people call a device (its id only if it has left the home)."""
        device = self.rt.home.find(device_id)
        return device.name if device is not None else device_id

    # -- changes by chat ------------------------------------------------------------

    def save_routine(self, routine: RoutineConfig) -> RoutineConfig:
        """Validate a routine (like config, plus device checks) and write it to the file."""
        for step in routine.steps:
            if step.target is not None:
                resolution = self.rt.home.resolve(step.target)
                if resolution.ok:
                    check_step_risk(step, resolution.devices, self.units)
            if step.routine and self.find(step.routine) is None:
                raise RoutineError(f"There's no routine called “{step.routine}”.")
        others = [r for r in self.routines.values() if r.name.lower() != routine.name.lower()]
        problems = routine_problems([*others, routine], [])
        if problems:
            raise RoutineError("; ".join(problems))
        data = dump(routine)
        config = self.file.upsert(
            "routines",
            data,
            lambda old: str(old.get("name", "")).lower() == routine.name.lower(),
        )
        self.apply(config)
        saved = self.find(routine.name)
        assert saved is not None
        return saved

    def delete_routine(self, name: str) -> str:
        """Remove a routine from the file (refused while a schedule or routine uses it)."""
        routine = self.find(name)
        if routine is None:
            raise RoutineError(f"There's no routine called “{name}”.")
        users = [
            r.name
            for r in self.routines.values()
            if any(s.routine and s.routine.lower() == routine.name.lower() for s in r.steps)
        ] + [s.name or s.what() for s in self.schedule_configs if s.routine == routine.name]
        if users:
            raise RoutineError(f"{routine.name} is still used by: {', '.join(users)}.")
        config, _ = self.file.remove(
            "routines", lambda old: str(old.get("name", "")).lower() == routine.name.lower()
        )
        self.apply(config)
        return routine.name

    def _check_what(self, what: ScheduleConfig) -> None:
        """A schedule must name a routine that exists and a step that is safe unattended."""
        if what.routine and self.find(what.routine) is None:
            raise RoutineError(f"There's no routine called “{what.routine}”.")
        if what.step is not None and what.step.target is not None:
            resolution = self.rt.home.resolve(what.step.target)
            if resolution.ok:
                check_step_risk(what.step, resolution.devices, self.units)

    def save_schedule(self, schedule: ScheduleConfig) -> dict[str, Any]:
        """Validate a standing schedule, write it to the file, and return its listing."""
        self._check_what(schedule)
        when = WhenTime.model_validate(schedule.model_dump(include=set(WhenTime.model_fields)))
        self.schedules.trigger(when)  # a sun schedule without a location fails here
        config = self.file.upsert("schedules", dump(schedule), partial(same_schedule, schedule))
        self.apply(config)
        job = self.schedules.get(job_id_for(self._payload(when, schedule, source="config")))
        listing = self.schedules.listing(job) if job is not None else {}
        return listing

    def add_once(self, when: WhenTime, what: ScheduleConfig) -> dict[str, Any]:
        """A one-shot (a reminder, a command in 20 minutes): kept in the store only."""
        self._check_what(what)
        return self.schedules.add(self._payload(when, what, source="chat"))

    def cancel(self, job_id: str) -> bool:
        """Cancel a schedule: config ones are removed from the file, others from the store."""
        if not job_id.startswith("cfg:"):
            return self.schedules.cancel(job_id)
        for schedule in self.schedule_configs:
            when = WhenTime.model_validate(schedule.model_dump(include=set(WhenTime.model_fields)))
            if job_id_for(self._payload(when, schedule, source="config")) == job_id:
                config, removed = self.file.remove("schedules", partial(same_schedule, schedule))
                self.apply(config)
                return removed > 0
        for routine in self.routines.values():
            for when in routine.schedules:
                payload = self._payload(when, routine.name, source="config")
                if job_id_for(payload) == job_id:
                    kept = [w for w in routine.schedules if w != when]
                    self.save_routine(routine.model_copy(update={"schedules": kept}))
                    return True
        return False
