"""The devices dashboard in a real browser: controls reach the device, device changes
reach the page live."""

from __future__ import annotations

from typing import Any

from tests.conftest import SimulatedHome
from tests.util import eventually


async def test_toggle_a_light_and_see_a_wall_switch(
    browser: Any, simulated_home: SimulatedHome
) -> None:
    daemon, sim = simulated_home.daemon, simulated_home.sim
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    await page.goto(daemon.login_url())
    study = page.locator(f'.tile[data-id="{simulated_home.device_id("Study lamp")}"]')
    await study.wait_for(timeout=10_000)
    assert await study.locator(".state").inner_text() == "off"

    # Dashboard → device: the switch reaches the simulated zigbee lamp over MQTT.
    await study.locator("button.switch").click()
    await eventually(lambda: sim.device("Study lamp").state["state"] == "ON", timeout=5)
    await page.locator(f'.tile.lit[data-id="{simulated_home.device_id("Study lamp")}"]').wait_for(
        timeout=5_000
    )

    # Device → dashboard: someone presses the hallway light's wall switch; the page
    # updates without a reload.
    hallway_id = simulated_home.device_id("Hallway light")
    await sim.press("Hallway light", state="ON", brightness=127)
    hallway = page.locator(f'.tile.lit[data-id="{hallway_id}"]')
    await hallway.wait_for(timeout=2_000)
    assert "50%" in await hallway.locator(".state").inner_text()

    # The thermostat's + button sends a new setpoint in the owner's units.
    thermostat_id = simulated_home.device_id("Thermostat")
    before = sim.device("Thermostat").state["occupied_heating_setpoint"]
    await page.locator(f'.tile[data-id="{thermostat_id}"] button[aria-label="warmer"]').click()
    await eventually(
        lambda: sim.device("Thermostat").state["occupied_heating_setpoint"] > before, timeout=5
    )
    assert errors == []


async def test_dashboard_needs_the_token(browser: Any, simulated_home: SimulatedHome) -> None:
    page = await browser.new_page()
    await page.goto(simulated_home.daemon.url)
    assert page.url.endswith("/login")
    assert await page.locator("input[name=token]").count() == 1
