"""Home Assistant's vacuums, valves and to-do lists through the bridge, against the
HA simulator (websocket `call_service`, `return_response`, state_changed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from agent.devices import Action, Command, Feature, Kind
from agent.errors import UnsupportedCommand
from integrations.homeassistant.simulator import HomeAssistantSimulator
from tests.conftest import RunningDaemon
from tests.util import eventually

pytestmark = pytest.mark.timeout(40)

VACUUM = "homeassistant:vacuum.roborock_downstairs"
VALVE = "homeassistant:valve.irrigation_valve"
StartDaemon = Callable[..., Awaitable[RunningDaemon]]


async def _daemon(start_daemon: StartDaemon, sim: HomeAssistantSimulator) -> RunningDaemon:
    daemon = await start_daemon(
        {
            "brain": {"provider": "none"},
            "homeassistant": {"url": sim.url, "token": sim.token, "request_timeout": 3},
        }
    )
    await eventually(lambda: daemon.rt.home.find(VALVE) is not None, timeout=10)
    return daemon


async def chat(daemon: RunningDaemon, text: str) -> dict[str, Any]:
    """One message through /api/chat."""
    status, body = await daemon.api("POST", "/api/chat", {"text": text})
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_vacuum_and_valve_from_home_assistant(start_daemon: StartDaemon) -> None:
    """Kinds and features from supported_features; commands are HA's own services; the
    state HA reports back (by push) is what homeclaw shows."""
    sim = await HomeAssistantSimulator().start()
    try:
        daemon = await _daemon(start_daemon, sim)
        home = daemon.rt.home
        robot = home.get(VACUUM)
        assert robot.kind is Kind.VACUUM and robot.state.activity == "docked"
        assert robot.state.battery == 100
        assert {Feature.CLEAN, Feature.PAUSE, Feature.RETURN_HOME} <= robot.features
        valve = home.get(VALVE)
        assert (valve.kind, valve.device_class, valve.state.position) == (
            Kind.VALVE,
            "water",
            0,
        )
        body = await chat(daemon, "start Roborock Downstairs")
        assert body["path"] == "local" and "cleaning" in body["reply"]
        assert home.get(VACUUM).state.activity == "cleaning"
        assert sim.hass.calls[-1][:2] == ("vacuum", "start")
        await chat(daemon, "return the vacuum to base")
        assert home.get(VACUUM).state.activity == "returning"
        assert sim.hass.calls[-1][:2] == ("vacuum", "return_to_base")
        await chat(daemon, "set the irrigation valve to 50%")
        assert sim.hass.states["valve.irrigation_valve"]["attributes"]["current_position"] == 50
        assert home.get(VALVE).state.position == 50
        await chat(daemon, "close the irrigation valve")
        assert sim.hass.calls[-1][:2] == ("valve", "close_valve")
        assert home.get(VALVE).state.position == 0
        # Someone docks the robot from HA's app: it shows here by push.
        sim.hass.set_state("vacuum.roborock_downstairs", "docked", battery_level=80)
        await eventually(lambda: home.get(VACUUM).state.activity == "docked")
        assert home.get(VACUUM).state.battery == 80
    finally:
        await sim.stop()


async def test_a_vacuum_without_pause_is_told_so(start_daemon: StartDaemon) -> None:
    """Features come from what the entity declares: no PAUSE bit, no pause sent."""
    sim = await HomeAssistantSimulator().start()
    attrs = sim.hass.states["vacuum.roborock_downstairs"]["attributes"]
    attrs["supported_features"] = 8192 | 16  # start, return home
    try:
        daemon = await _daemon(start_daemon, sim)
        robot = daemon.rt.home.get(VACUUM)
        assert Feature.PAUSE not in robot.features
        calls = len(sim.hass.calls)
        with pytest.raises(UnsupportedCommand):
            await daemon.rt.home.execute(VACUUM, Command(action=Action.PAUSE), requested_by="t")
        assert len(sim.hass.calls) == calls
    finally:
        await sim.stop()


async def test_home_assistant_todo_lists_are_the_owners_lists(
    start_daemon: StartDaemon,
) -> None:
    """HA's shopping list stands in for the local one: items read with get_items, added,
    ticked off and removed with HA's services; its count (the state) follows."""
    sim = await HomeAssistantSimulator().start()
    try:
        daemon = await _daemon(start_daemon, sim)
        lists = daemon.rt.service("lists")
        await eventually(lambda: any(t.source == "homeassistant" for t in lists.all()))
        assert [t.name for t in lists.all()] == ["To-do", "Shopping List"]
        body = await chat(daemon, "what's on my shopping list?")
        assert body["path"] == "local"
        assert "Coffee beans and Pool chlorine" in body["reply"]
        body = await chat(daemon, "add apples to the shopping list")
        assert "apples added to the Shopping List" in body["reply"], body
        assert sim.hass.states["todo.shopping_list"]["state"] == "3"
        await chat(daemon, "check off coffee beans from the shopping list")
        await chat(daemon, "remove the pool chlorine from my shopping list")
        items = sim.hass.todo_items["todo.shopping_list"]
        assert [(i["summary"], i["status"]) for i in items] == [
            ("Coffee beans", "completed"),
            ("Light bulbs", "completed"),
            ("apples", "needs_action"),
        ]
        assert sim.hass.states["todo.shopping_list"]["state"] == "1"
        status, body = await daemon.api("GET", "/api/lists")
        assert status == 200
        shopping = next(e for e in body["lists"] if e["name"] == "Shopping List")
        assert shopping["pending"] == 1 and shopping["source"] == "homeassistant"
        assert not (daemon.rt.paths.lists / "shopping.md").exists()
    finally:
        await sim.stop()
