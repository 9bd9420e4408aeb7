"""The devices dashboard in a real browser: controls reach the device, device changes
reach the page live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import RunningDaemon, SimulatedHome
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


LAYOUT_HOME = {
    "virtual": {
        "devices": [
            {"id": f"lamp{i}", "name": f"Lamp {i}", "kind": "light", "area": area}
            for i, area in enumerate(["kitchen", "bedroom", "study", "hallway"] * 3)
        ]
        + [{"id": "stat", "name": "Upstairs thermostat", "kind": "climate", "area": "bedroom"}]
    },
    "routines": [
        {
            "name": "a routine with a long name that must wrap on a phone",
            "phrases": ["long"],
            "schedules": [{"at": "07:00", "days": ["weekdays"]}],
            "steps": [{"say": "A long reminder that would widen a table on a phone"}],
        }
    ],
}


@pytest.mark.parametrize("width", [390, 1280])
async def test_layout_at_phone_and_desktop_width(
    browser: Any, start_daemon: Callable[..., Awaitable[RunningDaemon]], width: int
) -> None:
    """Every section reachable in the nav, nothing wider than the screen, chat before devices."""
    daemon = await start_daemon(LAYOUT_HOME)
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    await page.goto(daemon.login_url())
    await page.locator(".tile").first.wait_for(state="attached", timeout=10_000)
    assert await page.evaluate("document.documentElement.scrollWidth") <= width

    links = page.locator("#nav a")
    names = await links.all_inner_texts()
    assert {"Chat", "Devices", "Routines", "Memory"} <= set(names)
    for i in range(await links.count()):
        box = await links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, names[i]

    async def top(selector: str) -> float:
        box = await page.locator(selector).bounding_box()
        assert box is not None
        return box["y"]

    assert await top("#chat") < await top("#devices")

    # Rooms fold on a phone (each says what it holds) and stay open on a desktop.
    rooms = page.locator("#devices details.area")
    assert await rooms.count() == 4
    opened = await page.locator("#devices details.area[open]").count()
    assert opened == (0 if width < 640 else 4)
    bedroom = page.locator('#devices details.area[data-area="bedroom"]')
    assert "4 devices" in await bedroom.locator("summary").inner_text()
    if width < 640:
        await bedroom.locator("summary").click()
    minus = await bedroom.get_by_role("button", name="cooler").bounding_box()
    plus = await bedroom.get_by_role("button", name="warmer").bounding_box()
    assert minus and plus and abs(minus["y"] - plus["y"]) < 2  # "+" stays on its line

    # Tables fit their card: on a phone each row is a small labelled card.
    table = page.locator("#routines table").first
    await table.wait_for(timeout=10_000)
    fits = await table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
    assert fits
    if width < 640:
        assert await table.locator("td").first.get_attribute("data-label") == "What"

    # The health badge explains itself on a tap (no hover on phones).
    detail = page.locator("#health-detail")
    assert await detail.is_hidden()
    await page.locator("#health").click()
    await detail.wait_for(state="visible")
    await context.close()


async def test_times_are_the_homes_clock_not_the_browsers(
    browser: Any, start_daemon: Callable[..., Awaitable[RunningDaemon]]
) -> None:
    """A 07:00 schedule shows 07:00 in a browser 22 hours away from the home."""
    daemon = await start_daemon(
        {
            "home": {"timezone": "Pacific/Kiritimati"},  # UTC+14
            "routines": [
                {
                    "name": "wake up",
                    "phrases": ["wake up"],
                    "schedules": [{"at": "07:00"}],
                    "steps": [{"say": "Good morning"}],
                }
            ],
        }
    )
    context = await browser.new_context(timezone_id="America/Los_Angeles")  # UTC-8
    page = await context.new_page()
    await page.goto(daemon.login_url())
    row = page.locator("#routines tr", has_text="wake up").first
    await row.wait_for(timeout=10_000)
    next_run = await row.locator("td").nth(2).inner_text()
    assert "07:00" in next_run, next_run
    await context.close()


KINDS_HOME = {
    "virtual": {
        "devices": [
            {"id": "robot", "name": "Robot", "kind": "vacuum", "area": "living_room"},
            {"id": "valve", "name": "Irrigation valve", "kind": "valve", "area": "garden"},
        ]
    }
}


async def test_vacuum_valve_and_lists_on_the_dashboard(
    browser: Any, start_daemon: Callable[..., Awaitable[RunningDaemon]]
) -> None:
    """Start and dock the vacuum, open the valve halfway, and keep the shopping list."""
    daemon = await start_daemon(KINDS_HOME)
    home = daemon.rt.home
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    await page.goto(daemon.login_url())
    robot = page.locator('.tile[data-id="virtual:robot"]')
    await robot.wait_for(timeout=10_000)
    assert "docked" in await robot.locator(".state").inner_text()
    await robot.get_by_role("button", name="Start").click()
    await eventually(lambda: home.get("virtual:robot").state.activity == "cleaning", timeout=5)
    await page.locator('.tile.lit[data-id="virtual:robot"]').wait_for(timeout=5_000)
    await robot.get_by_role("button", name="Dock").click()
    await eventually(lambda: home.get("virtual:robot").state.activity == "returning", timeout=5)
    valve = page.locator('.tile[data-id="virtual:valve"] input[type=range]')
    await valve.fill("50")
    await eventually(lambda: home.get("virtual:valve").state.position == 50, timeout=5)

    # Lists: add from the panel; a chat message's change shows without a reload.
    shopping = page.locator('#lists .list-card[data-list="Shopping"]')
    await shopping.wait_for(timeout=10_000)
    await shopping.get_by_label("add to Shopping").fill("oat milk")
    await shopping.get_by_role("button", name="Add").click()
    await eventually(
        lambda: "oat milk" in (daemon.rt.paths.lists / "shopping.md").read_text(), timeout=5
    )
    status, _ = await daemon.api("POST", "/api/chat", {"text": "add bread to the shopping list"})
    assert status == 200
    await shopping.get_by_text("bread").wait_for(timeout=5_000)
    await shopping.get_by_label("tick off oat milk").check()
    await eventually(
        lambda: "- [x] oat milk" in (daemon.rt.paths.lists / "shopping.md").read_text(), timeout=5
    )
    assert errors == []
