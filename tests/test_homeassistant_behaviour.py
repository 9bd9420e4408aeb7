"""The HA bridge against the simulator behaving as a real Home Assistant does:
range thermostats, jamming locks, declared features and modes, registry edits,
restarts and refused tokens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from agent.bus import Bus
from agent.devices import Action, Command, Feature
from agent.errors import AuthenticationFailed, NotConfirmed, UnsupportedCommand
from agent.home import Home
from agent.supervise import Supervisor
from integrations.homeassistant.adapter import HomeAssistantBridge
from integrations.homeassistant.config import HomeAssistantConfig
from integrations.homeassistant.sim_entities import FakeHass
from integrations.homeassistant.simulator import HomeAssistantSimulator
from tests.conftest import RunningDaemon
from tests.test_homeassistant import Bridged, _start, _stop, f_to_c
from tests.util import eventually

pytestmark = pytest.mark.timeout(40)

ECOBEE = "homeassistant:climate.ecobee"
SHED = "homeassistant:lock.shed_door"
TV = "homeassistant:media_player.tv"


@pytest.fixture
async def bridged() -> Bridged:  # type: ignore[misc]
    """The demo HA (locks take 0.2 s, as real ones take time) with the bridge connected."""
    b = await _start(hass=FakeHass.demo(lock_travel=0.2))
    try:
        await eventually(lambda: b.bridge.connects == 1)
        yield b
    finally:
        await _stop(b)


async def test_range_thermostat_has_both_setpoints_and_takes_a_range(bridged: Bridged) -> None:
    """The Ecobee in heat_cool shows heat-to/cool-to and sets them as a pair."""
    home, hass = bridged.home, bridged.sim.hass
    ecobee = home.get(ECOBEE)
    assert ecobee.state.hvac_mode == "heat_cool"
    assert ecobee.state.target_low_c == pytest.approx(f_to_c(70), abs=0.01)
    assert ecobee.state.target_high_c == pytest.approx(f_to_c(75), abs=0.01)
    assert Feature.TARGET_TEMPERATURE_RANGE in ecobee.features
    assert Feature.TARGET_TEMPERATURE not in ecobee.features
    assert ecobee.hvac_modes == ("off", "heat", "cool", "heat_cool")

    command = Command(
        action=Action.SET_TEMPERATURE, target_low_c=f_to_c(68), target_high_c=f_to_c(76)
    )
    device = await home.execute(ECOBEE, command, requested_by="t")
    attrs = hass.states["climate.ecobee"]["attributes"]
    assert (attrs["target_temp_low"], attrs["target_temp_high"]) == (68.0, 76.0)
    assert device.state.target_high_c == pytest.approx(f_to_c(76), abs=0.01)

    # Only the heating end: HA wants the pair, so the cooling end is kept as it is.
    await home.execute(
        ECOBEE, Command(action=Action.SET_TEMPERATURE, target_low_c=f_to_c(66)), requested_by="t"
    )
    assert hass.calls[-1][2] == {
        "entity_id": ["climate.ecobee"],
        "target_temp_low": 66.0,
        "target_temp_high": 76.0,
    }


async def test_what_an_entity_does_not_declare_is_refused_before_any_call(
    bridged: Bridged,
) -> None:
    """One setpoint on a range-only thermostat, a mode it lacks, a skip on a TV: refused here."""
    home, hass = bridged.home, bridged.sim.hass
    calls = len(hass.calls)
    with pytest.raises(UnsupportedCommand, match="heating and cooling range, not one setpoint"):
        await home.execute(
            ECOBEE, Command(action=Action.SET_TEMPERATURE, temperature_c=21), requested_by="t"
        )
    with pytest.raises(UnsupportedCommand, match=r"Spa has no cool mode \(it has off, heat\)"):
        await home.execute(
            "homeassistant:climate.spa",
            Command(action=Action.SET_HVAC_MODE, hvac_mode="cool"),
            requested_by="t",
        )
    with pytest.raises(UnsupportedCommand, match="TV can't skip tracks"):
        await home.execute(TV, Command(action=Action.NEXT), requested_by="t")
    assert len(hass.calls) == calls  # nothing reached Home Assistant
    # What it does declare still works.
    await home.execute(TV, Command(action=Action.PAUSE), requested_by="t")
    assert hass.states["media_player.tv"]["state"] == "paused"
    assert Feature.TRACKS in home.get("homeassistant:media_player.pool_speaker").features


async def test_a_jammed_lock_is_not_done(bridged: Bridged) -> None:
    """Locking the shed door goes locking → jammed: the command fails, saying so."""
    home = bridged.home
    with pytest.raises(NotConfirmed, match="Shed door is jammed: it did not lock"):
        await home.execute(SHED, Command(action=Action.LOCK), requested_by="t")
    shed = home.get(SHED)
    assert shed.state.lock_state == "jammed" and shed.state.locked is None
    # A lock that works waits through "locking" and is done when it reads locked.
    bridged.sim.hass.entities["lock.shed_door"].jams = False
    device = await home.execute(SHED, Command(action=Action.LOCK), requested_by="t")
    assert device.state.lock_state == "locked" and device.state.locked is True


async def test_api_does_not_answer_done_for_a_jammed_lock(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """POST lock on the jammed lock: 502 not_confirmed, and the command log says it failed."""
    sim = await HomeAssistantSimulator(FakeHass.demo(lock_travel=0.1)).start()
    try:
        daemon = await start_daemon(
            {
                "homeassistant": {"url": sim.url, "token": sim.token},
                "discovery": {"enabled": False},
            }
        )
        await eventually(lambda: daemon.rt.home.find(SHED) is not None)
        status, body = await daemon.api("POST", f"/api/devices/{SHED}/commands", {"action": "lock"})
        assert status == 502, body
        assert body["error"] == "not_confirmed" and "jammed" in body["detail"]
        assert daemon.rt.store is not None
        row = daemon.rt.store.one(
            "SELECT ok, error FROM command_log WHERE device_id = ? ORDER BY ts DESC", (SHED,)
        )
        assert row is not None and row[0] == 0 and "jammed" in row[1]
    finally:
        await sim.stop()


async def test_registry_edits_in_home_assistant_apply_while_connected(
    bridged: Bridged, caplog: pytest.LogCaptureFixture
) -> None:
    """Rename, area move, device move, area rename, hide, delete: each shows, and is logged."""
    caplog.set_level(logging.INFO, logger="integrations.homeassistant.adapter")
    home, registry = bridged.home, bridged.sim.hass.registry
    spa = "homeassistant:climate.spa"

    registry.rename_entity("climate.spa", "Hot tub")
    await eventually(lambda: home.get(spa).name == "Hot tub")
    registry.move_entity("climate.spa", "pool")
    await eventually(lambda: home.get(spa).area == "pool")
    registry.move_device("dev_pool_heater", "garage")
    await eventually(lambda: home.get("homeassistant:water_heater.pool_heater").area == "garage")
    registry.rename_area("garage", "Workshop")
    await eventually(lambda: home.get("homeassistant:water_heater.pool_heater").area == "workshop")

    registry.hide_entity("cover.bedroom_blinds")
    await eventually(lambda: home.find("homeassistant:cover.bedroom_blinds") is None)
    registry.hide_entity("cover.bedroom_blinds", hidden=False)
    await eventually(lambda: home.find("homeassistant:cover.bedroom_blinds") is not None)
    registry.remove_entity("sensor.pool_temperature")
    await eventually(lambda: home.find("homeassistant:sensor.pool_temperature") is None)
    registry.disable_entity("alarm_control_panel.alarm")
    await eventually(lambda: home.find("homeassistant:alarm_control_panel.alarm") is None)

    logged = caplog.text
    assert "name 'Spa' → 'Hot tub'" in logged
    assert "area 'Garden' → 'Pool'" in logged
    assert "entity sensor.pool_temperature remove" in logged
    assert "removed (hidden, disabled or filtered out" in logged


async def test_entities_deleted_while_disconnected_are_gone_after_reconnect(
    bridged: Bridged,
) -> None:
    """Deleted in HA during an outage: not left behind as an unavailable leftover."""
    sim = bridged.sim
    sim.accepting = False
    await sim.drop_connections()
    await eventually(lambda: not bridged.home.get(SHED).available)
    sim.hass.registry.remove_entity("lock.shed_door")
    sim.accepting = True
    await eventually(lambda: bridged.bridge.connects == 2, timeout=10)
    assert bridged.home.find(SHED) is None
    assert bridged.home.get(ECOBEE).available


async def test_back_within_a_probe_of_home_assistant_answering_after_a_long_outage() -> None:
    """After a long outage the backoff is long, but a cheap probe notices HA at once.

    Measured on a fake clock: the bridge's waits are counted, not slept.
    """
    b = await _start(probe_interval=1.0, reconnect_max_seconds=60)
    clock = {"now": 0.0}

    async def fake_sleep(seconds: float) -> None:
        clock["now"] += seconds
        await asyncio.sleep(0.005)

    b.bridge.sleep = fake_sleep
    try:
        await eventually(lambda: b.bridge.connects == 1)
        await b.sim.stop()  # HA restarting: nothing listens on its port
        # Let the backoff grow well past a minute of (fake) waiting.
        await eventually(lambda: clock["now"] > 200, timeout=20)
        await b.sim.start()
        answered = clock["now"]
        await eventually(lambda: b.bridge.connects == 2, timeout=10)
        assert clock["now"] - answered <= 1.0  # one probe interval, not the 60 s backoff
        assert b.home.get(ECOBEE).available
    finally:
        await _stop(b)


async def test_a_refused_token_is_logged_once_per_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every retry is refused again: one warning, no traceback, backing off meanwhile."""
    sim = await HomeAssistantSimulator().start()
    bus = Bus()
    supervisor = Supervisor(bus, initial_delay=0.01, max_delay=0.05)
    bridge = HomeAssistantBridge(HomeAssistantConfig(url=sim.url, token="wrong"))
    caplog.set_level(logging.DEBUG, logger="agent.supervise")
    task = supervisor.spawn("integration:homeassistant", lambda: bridge.run(Home(bus=bus)))
    try:
        await eventually(lambda: supervisor.health["integration:homeassistant"].restarts >= 4)
        health = supervisor.health["integration:homeassistant"]
        assert "refused the access token" in health.detail
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert not warnings[0].exc_info
        assert AuthenticationFailed.__name__ in warnings[0].getMessage()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await supervisor.stop()
        await sim.stop()
