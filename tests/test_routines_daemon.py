"""Routines in a real daemon: phrases on the local path, tools writing routines.yaml,
persisted schedules across restarts (one-shots, coalesced missed runs), API and CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import re
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

import agent.daemon
from agent.brain.local import LocalPath
from agent.brain.prompt import Soul
from agent.brain.tools import ToolContext
from agent.bus import InboundMessage
from agent.config import load_config
from agent.daemon import Daemon, build_runtime
from agent.paths import HomePaths
from agent.routines import EXAMPLE_ROUTINES
from agent.routines.component import Routines
from tests.conftest import write_config
from tests.test_routines_fakes import AREAS, FakeIntegration, demo_devices
from tests.util import eventually

REF = "agent.routines.component:create"
CONFIG: dict[str, Any] = {
    "home": {
        "timezone": "Europe/London",
        "latitude": 51.5074,
        "longitude": -0.1278,
        "units": "imperial",
        "areas": {a.id: {"name": a.name, "floor": a.floor} for a in AREAS.values()},
    },
}


@dataclass
class Outbox:
    """Stands in for the outbox: records what the owner would be told."""

    sent: list[str] = field(default_factory=list)

    def notify_owner(self, text: str) -> int:
        """Record one message."""
        self.sent.append(text)
        return len(self.sent)


@dataclass
class House:
    """One daemon run with fake devices, an outbox stand-in and the brain's local path."""

    daemon: Daemon
    fake: FakeIntegration
    outbox: Outbox
    local: LocalPath
    url: str

    @property
    def routines(self) -> Routines:
        """The routines component."""
        routines: Routines = self.daemon.rt.services["routines"]
        return routines

    async def tool(self, name: str, args: dict[str, Any], **ctx_args: Any) -> Any:
        """Call a brain tool as the owner would through chat."""
        ctx = ToolContext(channel="cli", sender="owner", runtime=self.daemon.rt, **ctx_args)
        return await self.daemon.rt.tools.call(name, args, ctx)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder with the example routines; only the routines component runs."""
    monkeypatch.setattr(agent.daemon, "COMPONENTS", [REF])
    root = tmp_path / "home"
    write_config(root, CONFIG)
    shutil.copyfile(EXAMPLE_ROUTINES, root / "routines.yaml")
    return root


@pytest.fixture
async def start(home: Path) -> AsyncIterator[Callable[[], Awaitable[House]]]:
    """Start (and, after the test, stop) daemons on the home folder."""
    running: list[House] = []

    async def go() -> House:
        config = load_config(home / "config.yaml")
        config = config.model_copy(update={"web": config.web.model_copy(update={"port": 0})})
        rt = build_runtime(config, HomePaths(home))
        fake = FakeIntegration(home=rt.home)
        rt.home.integrations["fake"] = fake  # type: ignore[assignment]
        for device in demo_devices():
            rt.home.add(device)
        outbox = Outbox()
        local = LocalPath(rt.home, Soul(home / "soul.md"), units="imperial")
        rt.services["outbox"] = outbox
        rt.services["brain"] = SimpleNamespace(local=local)
        daemon = Daemon(rt)
        url = await daemon.start()
        house = House(daemon, fake, outbox, local, url)
        running.append(house)
        return house

    try:
        yield go
    finally:
        for house in running:
            with contextlib.suppress(Exception):
                await house.daemon.stop()


async def stop(house: House) -> None:
    """Stop a daemon (as a restart would)."""
    await house.daemon.stop()


def _stored_jobs(home: Path) -> dict[str, float | None]:
    with contextlib.closing(sqlite3.connect(home / "homeclaw.db")) as db:
        return dict(db.execute("SELECT id, next_run_time FROM routine_jobs").fetchall())


def _set_next_run(home: Path, job_id: str, ts: float) -> None:
    with contextlib.closing(sqlite3.connect(home / "homeclaw.db")) as db:
        db.execute("UPDATE routine_jobs SET next_run_time = ? WHERE id = ?", (ts, job_id))
        db.commit()


# -- phrases ------------------------------------------------------------------------


async def test_phrases_run_the_routine_on_the_local_path(
    start: Callable[[], Awaitable[House]],
) -> None:
    house = await start()
    ctx = ToolContext(channel="cli", sender="owner", runtime=house.daemon.rt)
    for text in ("Dobby, it's sleepy time", "good night", "sleepy time"):
        msg = InboundMessage(channel="cli", sender="owner", text=text, msg_id=text)
        reply = await house.local.handle(msg, ctx, can_hand_over=False)
        assert reply is not None and reply.path == "local", text
        assert reply.text.startswith("Sleepy time:"), reply.text
        assert reply.actions and reply.actions[0]["tool"] == "run_routine"
    home = house.daemon.rt.home
    assert home.get("fake:front_door").state.locked is True
    assert home.get("fake:bedroom_lamp").state.brightness == 10
    assert home.get("fake:kitchen_ceiling").state.on is False
    last = house.routines.last_run("sleepy time")
    assert last is not None and last["ok"] is True


# -- tools and write-back -------------------------------------------------------------


async def test_chat_changes_are_validated_and_written_back(
    start: Callable[[], Awaitable[House]], home: Path
) -> None:
    house = await start()
    before = (home / "routines.yaml").read_text()
    step = {"target": "Porch light", "action": "turn_off"}
    injected = await house.tool("schedule", {"step": step, "in_minutes": 5}, untrusted=True)
    assert not injected.ok and injected.error == "not_allowed"
    guest = await house.tool(
        "create_or_update_routine", {"name": "x", "steps": [step]}, role="guest"
    )
    assert not guest.ok and guest.error == "not_allowed"
    bad = await house.tool(
        "create_or_update_routine",
        {"name": "sleepy time", "steps": [{"target": "Front door", "action": "unlock"}]},
    )
    assert not bad.ok and "never unlock" in bad.detail
    garage = await house.tool(
        "create_or_update_routine",
        {"name": "leave", "steps": [{"target": "Garage door", "action": "open"}]},
    )
    assert not garage.ok and "Garage door" in garage.detail
    assert (home / "routines.yaml").read_text() == before
    added = await house.tool(
        "create_or_update_routine",
        {
            "name": "sleepy time",
            "steps": [{"target": "Living room shade", "action": "close"}],
            "append_steps": True,
        },
    )
    assert added.ok, added.detail
    assert added.value["steps"][-1] == "close Living room shade"
    text = (home / "routines.yaml").read_text()
    assert "# only the ones playing" in text  # the owner's comments survive
    assert "target: Living room shade" in text
    assert load_config(home / "config.yaml").routines[0].steps[-1].target == "Living room shade"

    made = await house.tool(
        "schedule", {"routine": "good morning", "at": "07:15", "days": ["weekdays"]}
    )
    assert made.ok, made.detail
    assert made.value["when"] == "weekdays at 07:15" and made.value["next_run"]
    assert "07:15" in (home / "routines.yaml").read_text()
    listed = await house.tool("list_schedules", {})
    assert made.value["id"] in {s["id"] for s in listed.value}
    gone = await house.tool("cancel_schedule", {"id": made.value["id"]})
    assert gone.ok, gone.detail
    assert "07:15" not in (home / "routines.yaml").read_text()
    missing = await house.tool("schedule", {"routine": "no such routine", "at": "07:00"})
    assert not missing.ok
    deleted = await house.tool("delete_routine", {"name": "bedroom too warm"})
    assert deleted.ok, deleted.detail
    assert "bedroom too warm" not in (home / "routines.yaml").read_text()
    assert house.routines.find("bedroom too warm") is None


# -- schedules across restarts ---------------------------------------------------------


async def test_one_shot_made_before_a_restart_fires_after_it(
    start: Callable[[], Awaitable[House]], home: Path
) -> None:
    house = await start()
    made = await house.tool(
        "schedule",
        {"step": {"target": "Porch light", "action": "turn_off"}, "in_minutes": 20},
    )
    assert made.ok, made.detail
    job_id = made.value["id"]
    due = datetime.fromisoformat(made.value["next_run"])
    assert timedelta(minutes=19) < due - datetime.now(due.tzinfo) <= timedelta(minutes=20)
    reminder = await house.tool("schedule", {"say": "take the bins out", "at": "18:00"})
    assert reminder.ok and reminder.value["id"].startswith("once:")
    await stop(house)
    assert job_id in _stored_jobs(home)
    # The daemon was down when the job was due (five minutes ago): it runs once on start.
    _set_next_run(home, job_id, time.time() - 300)
    house = await start()
    porch = house.daemon.rt.home
    await eventually(lambda: porch.get("fake:porch_light").state.on is False)
    assert job_id not in _stored_jobs(home)  # a one-shot is gone once fired
    assert reminder.value["id"] in _stored_jobs(home)


async def test_missed_runs_fire_once_within_the_grace_period(
    start: Callable[[], Awaitable[House]], home: Path
) -> None:
    routines = home / "routines.yaml"
    routines.write_text(
        routines.read_text() + "  - name: every 5 min\n    cron: '*/5 * * * *'\n    say: tick\n"
    )
    house = await start()
    jobs = {s["name"]: s["id"] for s in house.routines.schedules.list()}
    stale = await house.tool("schedule", {"say": "stale", "in_minutes": 30})
    await stop(house)
    # Ten runs of the five-minute job were missed (all within the hour of grace, so
    # only coalescing keeps it to one); the one-shot is five hours late.
    _set_next_run(home, jobs["every 5 min"], time.time() - 50 * 60)
    _set_next_run(home, stale.value["id"], time.time() - 5 * 3600)
    house = await start()
    await eventually(lambda: "Reminder: tick" in house.outbox.sent)
    await asyncio.sleep(0.1)  # uncoalesced runs would arrive right behind the first
    assert house.outbox.sent.count("Reminder: tick") == 1
    assert "Reminder: stale" not in house.outbox.sent
    listing = {s["name"]: s for s in house.routines.schedules.list()}
    next_run = datetime.fromisoformat(listing["every 5 min"]["next_run"])
    assert (
        datetime.now(next_run.tzinfo)
        < next_run
        <= datetime.now(next_run.tzinfo) + timedelta(hours=1)
    )


async def test_sunset_schedule_uses_the_configured_location(
    start: Callable[[], Awaitable[House]],
) -> None:
    house = await start()
    porch = next(s for s in house.routines.schedules.list() if s["name"] == "porch light on")
    assert porch["when"] == "sunset -15 min every day"
    from agent.routines.sun import sun_time

    next_run = datetime.fromisoformat(porch["next_run"])
    sunset = sun_time("sunset", next_run, 51.5074, -0.1278, next_run.tzinfo)  # type: ignore[arg-type]
    assert sunset is not None
    assert next_run == sunset.replace(microsecond=0) - timedelta(minutes=15)


# -- event triggers in the daemon ----------------------------------------------------


async def test_motion_at_night_dims_the_hallway_light_then_puts_it_back(
    start: Callable[[], Awaitable[House]],
) -> None:
    house = await start()
    routines = house.routines
    routines.now = lambda: datetime(2026, 1, 10, 23, 45, tzinfo=routines.timezone)  # type: ignore[method-assign]
    home = house.daemon.rt.home
    home.update("fake:hallway_motion", motion=True)
    await eventually(lambda: home.get("fake:hallway_light").state.brightness == 10)
    undo = routines.schedules.get("undo:fake:hallway_light")
    assert undo is not None
    left = undo.next_run_time - datetime.now(undo.next_run_time.tzinfo)
    assert timedelta(minutes=1, seconds=50) < left <= timedelta(minutes=2)
    routines.schedules.scheduler.modify_job(undo.id, next_run_time=datetime.now(routines.timezone))
    await eventually(lambda: home.get("fake:hallway_light").state.on is False)
    home.update("fake:front_door_contact", contact_open=True)
    await eventually(lambda: "The front door just opened." in house.outbox.sent)


# -- API and CLI ---------------------------------------------------------------------


async def test_api_and_cli(start: Callable[[], Awaitable[House]], home: Path) -> None:
    house = await start()
    headers = {"Authorization": f"Bearer {house.daemon.rt.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(house.url + "api/routines/good%20morning/run") as resp:
            run = await resp.json()
        assert resp.status == 200 and run["routine"] == "good morning"
        assert house.daemon.rt.home.get("fake:living_room_shade").state.position == 100
        async with http.get(house.url + "api/routines") as resp:
            listing = await resp.json()
        good = next(r for r in listing["routines"] if r["name"] == "good morning")
        assert good["last_run"]["summary"] == run["summary"]
        async with http.get(house.url + "api/schedules") as resp:
            schedules = (await resp.json())["schedules"]
        assert all(s["next_run"] for s in schedules)
        async with http.post(house.url + "api/routines/nope/run") as resp:
            assert resp.status == 404
    (home / "url").write_text(house.url)
    from agent.cli import routines as cli_routines

    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    cli_routines.register(parser.add_subparsers())

    def cli(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        args = parser.parse_args(["--home", str(home), *argv])
        with contextlib.redirect_stdout(out):
            status: int = args.func(args)
        return status, out.getvalue()

    status, text = await asyncio.to_thread(cli, "routines", "list")
    assert status == 0 and "sleepy time" in text and "good morning" in text
    # A bare group command lists, as a person typing it first expects (not the usage).
    assert await asyncio.to_thread(cli, "routines") == (status, text)
    status, text = await asyncio.to_thread(cli, "schedules")
    assert status == 0 and "porch light on" in text and "next:" in text
    status, text = await asyncio.to_thread(cli, "routines", "run", "away")
    assert text.startswith("Away:"), text
    status, text = await asyncio.to_thread(cli, "schedules", "list")
    assert status == 0 and "porch light on" in text and "next:" in text
    # Times as the home's clock shows them, not ISO: "next: Sat 01-10 19:00".
    assert re.search(r"next: \w{3} \d\d-\d\d \d\d:\d\d$", text, re.M), text
    assert not re.search(r"next: \d{4}-", text), text
    # A hand edit, then reload: a broken file is refused with its line, a good one loads.
    original = (home / "routines.yaml").read_text()
    (home / "routines.yaml").write_text(original.replace("action: lock", "action: unlock", 1))
    status, _ = await asyncio.to_thread(cli, "routines", "reload")
    assert status == 1 and house.routines.find("sleepy time") is not None
    (home / "routines.yaml").write_text(original.replace("name: away", "name: off we go"))
    status, text = await asyncio.to_thread(cli, "routines", "reload")
    assert status == 0 and house.routines.find("off we go") is not None


async def test_heartbeat_through_the_api(start: Callable[[], Awaitable[House]], home: Path) -> None:
    (home / "HEARTBEAT.md").write_text(
        "# Heartbeat\n\n- Tell me if the garage door is open after 10pm.\n- Is anything odd?\n"
    )
    house = await start()
    routines = house.routines
    routines.now = lambda: datetime(2026, 1, 10, 22, 30, tzinfo=routines.timezone)  # type: ignore[method-assign]
    assert not routines.heartbeat_enabled  # no LLM configured: off by default
    house.daemon.rt.home.update("fake:garage_door", position=100)
    headers = {"Authorization": f"Bearer {house.daemon.rt.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(house.url + "api/heartbeat") as resp:
            info = await resp.json()
        assert [c["checked_by"] for c in info["concerns"]] == ["rule", "llm"]
        assert "heartbeat.enabled in config.yaml" in info["how_to_enable"]
        house.daemon.rt.demo = True  # the demo rewrites its config: only its flags help
        async with http.get(house.url + "api/heartbeat") as resp:
            assert "homeclaw demo --llm" in (await resp.json())["how_to_enable"]
        house.daemon.rt.demo = False
        async with http.post(house.url + "api/heartbeat/beat") as resp:
            report = await resp.json()
    assert report["judged"] == 0  # no LLM: the judgement concern waits
    assert len(house.outbox.sent) == 1 and "Garage door is open" in house.outbox.sent[0]
