"""Routines by chat: the brain (fake LLM through the openai SDK) calls the routine tools,
and the changes land in routines.yaml and the scheduler."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

import agent.daemon
from agent.brain.simulator import FakeLLM, tool_call
from agent.config import load_config
from agent.routines import EXAMPLE_ROUTINES
from tests.conftest import RunningDaemon

COMPONENTS = ["agent.brain.component:create", "agent.routines.component:create"]


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """The fake OpenAI-compatible server."""
    async with FakeLLM() as fake:
        yield fake


async def test_the_brain_schedules_and_edits_routines(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    llm: FakeLLM,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agent.daemon, "COMPONENTS", COMPONENTS)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(EXAMPLE_ROUTINES, home / "routines.yaml")
    daemon = await start_daemon(
        {
            "home": {"units": "imperial", "timezone": "America/Los_Angeles"},
            "brain": {"provider": "openai", "base_url": llm.base_url, "model": "fake-model"},
        },
        home=home,
    )
    llm.script(
        tool_call("schedule", {"routine": "good morning", "at": "07:00", "days": ["weekdays"]}),
        "Every weekday at 7 I'll run good morning.",
        tool_call(
            "create_or_update_routine",
            {
                "name": "sleepy time",
                "steps": [{"target": "Living room shade", "action": "close"}],
                "append_steps": True,
            },
        ),
        "Added closing the shades to sleepy time.",
        tool_call("schedule", {"say": "take the bins out", "at": "18:00"}),
        "I'll remind you at 6.",
    )
    status, reply = await daemon.api(
        "POST", "/api/chat", {"text": "every weekday at 7 run good morning"}
    )
    assert status == 200 and reply["path"] == "llm", reply
    assert reply["actions"][0]["ok"], reply["actions"]
    status, reply = await daemon.api(
        "POST", "/api/chat", {"text": "add closing the shades to sleepy time"}
    )
    assert reply["actions"][0]["ok"], reply["actions"]
    status, reply = await daemon.api(
        "POST", "/api/chat", {"text": "remind me at 6 to take the bins out"}
    )
    assert reply["actions"][0]["ok"], reply["actions"]

    # The model was offered the tools, and saw their results.
    offered = {t["function"]["name"] for t in llm.requests[0]["tools"]}
    assert {"run_routine", "schedule", "create_or_update_routine", "cancel_schedule"} <= offered
    config = load_config(home / "config.yaml")
    sleepy = next(r for r in config.routines if r.name == "sleepy time")
    assert sleepy.steps[-1].target == "Living room shade"
    assert any(s.routine == "good morning" and s.at == "07:00" for s in config.schedules)
    status, listing = await daemon.api("GET", "/api/schedules")
    reminders = [s for s in listing["schedules"] if s["what"] == "remind: take the bins out"]
    assert len(reminders) == 1 and reminders[0]["next_run"].endswith(("-08:00", "-07:00"))
    assert "T18:00:00" in reminders[0]["next_run"]
    tool_results = [m for r in llm.requests for m in r["messages"] if m.get("role") == "tool"]
    assert json.loads(tool_results[-1]["content"])["id"].startswith("once:")
