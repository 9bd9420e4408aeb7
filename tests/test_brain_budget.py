"""Idle and budget: no LLM call while nothing happens, a daily token budget, a breaker.

Time is a fake clock (a list holding "now"); the LLM is the fake server on loopback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.brain.component import Brain
from agent.brain.simulator import Failure, FakeLLM, Reply
from agent.devices import Action, Command
from agent.runtime import Runtime
from tests.conftest import RunningDaemon
from tests.test_brain_llm import OWNER, llm_config, message, start
from tests.util import eventually

UTC = ZoneInfo("UTC")


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake LLM server on loopback."""
    fake = await FakeLLM().start()
    try:
        yield fake
    finally:
        await fake.stop()


async def brain_on_clock(
    root: Path, llm: FakeLLM, clock: list[float], **brain: Any
) -> tuple[Runtime, Brain]:
    """A started brain whose budget and breaker read the fake clock."""
    rt, started = await start(root, llm_config(llm, **brain))
    started.guard.clock = lambda: clock[0]
    return rt, started


async def test_daily_budget_then_local_then_midnight(tmp_path: Path, llm: FakeLLM) -> None:
    clock = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp()]
    rt, brain = await brain_on_clock(tmp_path / "h", llm, clock, daily_token_budget=1000)
    try:
        llm.default = Reply(text="A poem about lamps.", prompt_tokens=1200)
        first = await brain.handle(message("write me a poem"), OWNER)
        assert first.text == "A poem about lamps." and len(llm.requests) == 1
        assert brain.guard.spent() >= 1200
        # Spent: the model is not asked again today; the owner hears why.
        second = await brain.handle(message("write me another poem"), OWNER)
        assert len(llm.requests) == 1
        assert "budget of 1,000 tokens is spent" in second.text
        # Simple commands keep working locally.
        local = await brain.handle(message("turn on the porch light"), OWNER)
        assert local.path == "local" and rt.home.get("mqtt:porch_light").state.on is True
        report = brain.health_report()["llm"]
        assert report["blocked"] and report["calls"] == 1 and report["daily_token_budget"] == 1000
        # A new day: the model answers again.
        clock[0] += timedelta(hours=16).total_seconds()
        third = await brain.handle(message("write me a third poem"), OWNER)
        assert third.text == "A poem about lamps." and len(llm.requests) == 2
    finally:
        await brain.stop()


@pytest.mark.parametrize(
    "failure",
    [
        Failure(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
        Failure(429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
    ],
)
async def test_repeated_auth_or_quota_errors_open_the_breaker(
    tmp_path: Path, llm: FakeLLM, failure: Failure
) -> None:
    clock = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp()]
    _, brain = await brain_on_clock(tmp_path / "h", llm, clock, breaker_after=3)
    try:
        llm.default = failure
        for n in range(3):
            await brain.handle(message(f"write poem {n}"), OWNER)
        assert len(llm.requests) == 3
        assert brain.health_report()["llm"]["breaker"]["state"] == "open"
        for n in range(5):  # open: no call goes out
            reply = await brain.handle(message(f"another poem {n}"), OWNER)
        assert len(llm.requests) == 3
        assert "paused after repeated errors" in reply.text
        # After the cooldown one call goes through; it succeeds and closes the breaker.
        clock[0] += 15 * 60
        llm.default = "Here is a poem."
        reply = await brain.handle(message("one more poem"), OWNER)
        assert reply.text == "Here is a poem." and len(llm.requests) == 4
        assert brain.health_report()["llm"]["breaker"]["state"] == "closed"
    finally:
        await brain.stop()


async def test_passing_errors_do_not_open_the_breaker(tmp_path: Path, llm: FakeLLM) -> None:
    clock = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp()]
    _, brain = await brain_on_clock(tmp_path / "h", llm, clock, breaker_after=2)
    try:
        llm.default = Failure(429, "Rate limit reached", "requests", "rate_limit_exceeded")
        for n in range(4):
            await brain.handle(message(f"write poem {n}"), OWNER)
        assert len(llm.requests) == 4
        assert brain.health_report()["llm"]["breaker"]["state"] == "closed"
    finally:
        await brain.stop()


CONFIG: dict[str, Any] = {
    "home": {"units": "imperial", "timezone": "UTC"},
    "heartbeat": {"enabled": True, "every_minutes": 30, "quiet_hours": None},
    "virtual": {
        "devices": [
            {"id": "porch", "name": "Porch light", "kind": "light", "area": "porch"},
            {"id": "garage", "name": "Garage door", "kind": "cover", "area": "garage"},
        ]
    },
}


async def test_an_idle_day_costs_no_llm_call(
    start_daemon: Callable[..., Awaitable[RunningDaemon]], llm: FakeLLM, tmp_path: Path
) -> None:
    """A whole daemon with the heartbeat on, a concern only the LLM can judge, 24 h idle."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "HEARTBEAT.md").write_text(
        "# Heartbeat\n\n- Tell me if the garage door is open after 10pm.\n"
        "- Does the Porch light being on look wasteful?\n"
    )
    llm.default = '{"alert": false}'
    config = {**CONFIG, "brain": llm_config(llm)["brain"]}
    daemon = await start_daemon(config, home=home)
    rt = daemon.rt
    await eventually(lambda: len(rt.home.devices()) == 2)
    routines = rt.services["routines"]
    brain = rt.services["brain"]
    clock = [datetime(2026, 3, 1, 7, 0, tzinfo=UTC)]
    routines.heartbeat.clock = lambda: clock[0]
    brain.guard.clock = lambda: clock[0].timestamp()
    # The first beat after start reads the concern once (the house as it is now).
    await routines.heartbeat.beat()
    baseline = len(llm.requests)
    assert baseline == 1
    for _ in range(48):  # a simulated day, a beat every 30 minutes
        clock[0] += timedelta(minutes=30)
        report = await routines.heartbeat.beat()
        assert report.judged == 0
    assert len(llm.requests) == baseline
    assert brain.health_report()["llm"]["calls"] == 0  # the new day has no call at all
    # A change the concern looks at is read again: one call, no more.
    await rt.home.execute("virtual:porch", Command(action=Action.TURN_ON), requested_by="test")
    await routines.heartbeat.beat()
    await routines.heartbeat.beat()
    assert len(llm.requests) == baseline + 1
    status, health = await daemon.api("GET", "/api/health")
    assert status == 200 and health["components"]["brain"]["llm"]["calls"] == 1


async def test_doctor_shows_what_the_llm_spent(
    start_daemon: Callable[..., Awaitable[RunningDaemon]], llm: FakeLLM
) -> None:
    from tests.test_cli import homeclaw

    llm.default = Reply(text="A poem.", prompt_tokens=3000)
    config = {**CONFIG, "brain": {**llm_config(llm)["brain"], "daily_token_budget": 2000}}
    daemon = await start_daemon(config)
    home = daemon.rt.paths.root
    (home / "url").write_text(daemon.url)  # as `homeclaw run` does
    status, body = await daemon.api("POST", "/api/chat", {"text": "write me a poem"})
    assert status == 200 and body["reply"] == "A poem."
    result = await homeclaw("doctor", home=home)
    assert "✓ brain:" in result.stdout, result.stdout
    assert "✗ llm today: paused: today's LLM budget of 2,000 tokens is spent" in result.stdout
    assert result.returncode == 1
