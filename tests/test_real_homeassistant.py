"""The bridge against a real Home Assistant (2024.3.3, `demo:`), not our simulator.

Skipped unless HOMECLAW_HA_HASS names the `hass` of the real-HA venv; `bash
.ci/realha` builds that venv and runs this file. One HA serves the module.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from agent.bus import Bus
from agent.devices import Action, Command, Feature, Kind
from agent.errors import NotConfirmed, UnsupportedCommand
from agent.home import Home
from integrations.homeassistant.adapter import HomeAssistantBridge
from integrations.homeassistant.config import HomeAssistantConfig
from tests.real_ha import RealHomeAssistant, hass_executable
from tests.util import eventually

pytestmark = pytest.mark.timeout(300)

ECOBEE = "homeassistant:climate.ecobee"


def f_to_c(value: float) -> float:
    """°F → °C."""
    return (value - 32) * 5 / 9


@pytest.fixture(scope="module")
def real_ha() -> Iterator[RealHomeAssistant]:
    """A real HA with its demo, started once for this module."""
    hass = hass_executable()
    if hass is None:
        pytest.skip("no real Home Assistant: run `bash .ci/realha` (sets HOMECLAW_HA_HASS)")
    ha = RealHomeAssistant(hass)
    try:
        ha.start()
        print(f"real HA started in {ha.started_in:.1f}s")
        yield ha
    finally:
        ha.cleanup()


@dataclass
class Linked:
    """The bridge following the real HA, and the Home it fills."""

    ha: RealHomeAssistant
    bridge: HomeAssistantBridge
    home: Home


@pytest.fixture
async def linked(real_ha: RealHomeAssistant) -> AsyncIterator[Linked]:
    """A fresh bridge connected to the shared real HA."""
    home = Home(bus=Bus())
    bridge = HomeAssistantBridge(
        HomeAssistantConfig(url=real_ha.url, token=real_ha.token, request_timeout=10)
    )
    home.integrations[bridge.name] = bridge
    task = asyncio.create_task(bridge.run(home))
    try:
        await eventually(lambda: bridge.connects >= 1, timeout=30)
        yield Linked(real_ha, bridge, home)
    finally:
        await bridge.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_demo_entities_import_with_their_declared_abilities(linked: Linked) -> None:
    """The Ecobee is a range thermostat; the YouTube player can't skip; modes as declared."""
    home = linked.home
    assert len(home.devices()) >= 40
    ecobee = home.get(ECOBEE)
    assert ecobee.kind is Kind.CLIMATE and ecobee.state.hvac_mode == "heat_cool"
    assert Feature.TARGET_TEMPERATURE_RANGE in ecobee.features
    assert Feature.TARGET_TEMPERATURE not in ecobee.features
    assert ecobee.state.target_low_c is not None and ecobee.state.target_high_c is not None
    assert "heat_cool" in ecobee.hvac_modes
    assert Feature.TRACKS not in home.get("homeassistant:media_player.living_room").features
    assert Feature.TRACKS in home.get("homeassistant:media_player.walkman").features
    assert home.get("homeassistant:lock.poorly_installed_door").kind is Kind.LOCK


async def test_range_setpoints_reach_home_assistant(linked: Linked) -> None:
    """Heat-to 68 / cool-to 76 as one call; HA shows both, and so does the Home."""
    command = Command(
        action=Action.SET_TEMPERATURE, target_low_c=f_to_c(68), target_high_c=f_to_c(76)
    )
    device = await linked.home.execute(ECOBEE, command, requested_by="t")
    attrs = linked.ha.state("climate.ecobee")["attributes"]
    assert (attrs["target_temp_low"], attrs["target_temp_high"]) == (68, 76)
    assert device.state.target_low_c == pytest.approx(f_to_c(68), abs=0.05)
    with pytest.raises(UnsupportedCommand, match="range, not one setpoint"):
        await linked.home.execute(
            ECOBEE, Command(action=Action.SET_TEMPERATURE, temperature_c=21), requested_by="t"
        )


async def test_jammed_lock_is_not_done(linked: Linked) -> None:
    """HA's poorly installed door jams on locking: NotConfirmed, never "locked"."""
    lock = "homeassistant:lock.poorly_installed_door"
    with pytest.raises(NotConfirmed, match="jammed"):
        await linked.home.execute(lock, Command(action=Action.LOCK), requested_by="t")
    assert linked.ha.state("lock.poorly_installed_door")["state"] == "jammed"
    front = await linked.home.execute(
        "homeassistant:lock.kitchen_door", Command(action=Action.LOCK), requested_by="t"
    )
    assert front.state.lock_state == "locked"


async def test_what_the_entity_does_not_declare_is_refused_here(linked: Linked) -> None:
    """Next track on the YouTube player, cool on the heat pump: refused with a sentence."""
    with pytest.raises(UnsupportedCommand, match="Living Room can't skip tracks"):
        await linked.home.execute(
            "homeassistant:media_player.living_room", Command(action=Action.NEXT), requested_by="t"
        )
    with pytest.raises(UnsupportedCommand, match="no cool mode"):
        await linked.home.execute(
            "homeassistant:climate.heatpump",
            Command(action=Action.SET_HVAC_MODE, hvac_mode="cool"),
            requested_by="t",
        )
    await linked.home.execute(
        "homeassistant:media_player.walkman", Command(action=Action.NEXT), requested_by="t"
    )


async def test_renames_and_area_moves_in_home_assistant_follow(linked: Linked) -> None:
    """Edits in HA's entity registry (over its websocket) show in the Home."""
    ha = linked.ha
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ha.url + "/api/websocket") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": ha.token})
        assert (await ws.receive_json())["type"] == "auth_ok"

        async def call(msg_id: int, **body: object) -> object:
            await ws.send_json({"id": msg_id, **body})
            while True:
                reply = await ws.receive_json(timeout=10)
                if reply.get("id") == msg_id:
                    assert reply["success"], reply
                    return reply["result"]

        area = await call(1, type="config/area_registry/create", name="Attic")
        assert isinstance(area, dict)
        await call(
            2, type="config/entity_registry/update", entity_id="climate.hvac", name="Attic AC"
        )
        await eventually(lambda: linked.home.get("homeassistant:climate.hvac").name == "Attic AC")
        await call(
            3,
            type="config/entity_registry/update",
            entity_id="climate.hvac",
            area_id=area["area_id"],
        )
        await eventually(lambda: linked.home.get("homeassistant:climate.hvac").area == "attic")
        await call(
            4, type="config/entity_registry/update", entity_id="climate.hvac", hidden_by="user"
        )
        await eventually(lambda: linked.home.find("homeassistant:climate.hvac") is None)
        await call(
            5, type="config/entity_registry/update", entity_id="climate.hvac", hidden_by=None
        )
        await eventually(lambda: linked.home.find("homeassistant:climate.hvac") is not None)
