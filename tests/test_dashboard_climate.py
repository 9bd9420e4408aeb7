"""The dashboard on Home Assistant's range thermostat and jamming lock, in a real browser."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from integrations.homeassistant.sim_entities import FakeHass
from integrations.homeassistant.simulator import HomeAssistantSimulator
from tests.conftest import RunningDaemon
from tests.util import eventually

pytestmark = pytest.mark.timeout(60)


async def test_range_thermostat_has_heat_and_cool_steppers_and_a_jam_shows(
    browser: Any, start_daemon: Callable[..., Awaitable[RunningDaemon]]
) -> None:
    """Heat-to + and cool-to − reach HA as a pair; a jammed lock says so on its tile."""
    sim = await HomeAssistantSimulator(FakeHass.demo()).start()
    try:
        daemon = await start_daemon(
            {
                "home": {"units": "imperial"},
                "homeassistant": {"url": sim.url, "token": sim.token},
                "discovery": {"enabled": False},
            }
        )
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        await page.goto(daemon.login_url())
        tile = page.locator('.tile[data-id="homeassistant:climate.ecobee"]')
        await tile.wait_for(timeout=10_000)
        assert "70°F–75°F" in await tile.locator(".state").inner_text()
        attrs = sim.hass.states["climate.ecobee"]["attributes"]

        await tile.locator('button[aria-label="heat to warmer"]').click()
        await eventually(
            lambda: sim.hass.states["climate.ecobee"]["attributes"]["target_temp_low"] == 71.0
        )
        await page.locator(
            '.tile[data-id="homeassistant:climate.ecobee"] .state', has_text="71°F"
        ).wait_for(timeout=5_000)
        await page.locator(
            '.tile[data-id="homeassistant:climate.ecobee"] button[aria-label="cool to cooler"]'
        ).click()
        await eventually(
            lambda: sim.hass.states["climate.ecobee"]["attributes"]["target_temp_high"] == 74.0
        )
        assert attrs is not None
        modes = tile.locator("select option")
        assert await modes.all_inner_texts() == ["off", "heat", "cool", "heat_cool"]

        shed = page.locator('.tile[data-id="homeassistant:lock.shed_door"]')
        await shed.locator("button", has_text="Lock").click()
        await shed.locator(".error", has_text="jammed").wait_for(timeout=5_000)
        assert "JAMMED" in await shed.locator(".state").inner_text()
        # The TV's tile has no Next button: its player cannot skip.
        tv = page.locator('.tile[data-id="homeassistant:media_player.tv"]')
        assert await tv.locator('button[aria-label="next"]').count() == 0
        assert errors == []
    finally:
        await sim.stop()
