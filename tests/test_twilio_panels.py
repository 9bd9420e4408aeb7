"""The demo phone and messages panels in a real browser (Debian chromium through playwright)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.demo.simulation import DemoContext
from integrations.twilio import simulator as twilio_simulator
from integrations.twilio.simulator import TwilioFake
from tests.conftest import RunningDaemon
from tests.messaging_helpers import COMPONENTS, OWNER, people
from tests.util import eventually

LIGHTS = {
    "devices": [
        {"id": "kitchen", "name": "Kitchen ceiling", "kind": "light", "area": "kitchen"},
        {"id": "lamp", "name": "Living room lamp", "kind": "light", "area": "living_room"},
    ]
}


@pytest.fixture(autouse=True)
def _components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agent.daemon.COMPONENTS", COMPONENTS)


@pytest.fixture
async def twilio_demo(tmp_path: Path) -> AsyncIterator[tuple[DemoContext, Any]]:
    ctx = DemoContext(home=tmp_path / "demo")
    part = await twilio_simulator.demo(ctx)
    try:
        yield ctx, part
    finally:
        await part.stop()


@pytest.mark.timeout(90)
async def test_phone_and_messages_panels(
    browser: Any,
    twilio_demo: tuple[DemoContext, Any],
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """Text the house from the phone panel; the reply and the stranger show up safely."""
    ctx, part = twilio_demo
    daemon = await start_daemon(
        {"people": people(), "brain": {"provider": "none"}, "virtual": LIGHTS, **part.config}
    )
    ctx.web_url = daemon.url
    daemon.rt.demo = True
    for device_id in ("virtual:kitchen", "virtual:lamp"):
        await daemon.api("POST", f"/api/devices/{device_id}/commands", {"action": "turn_on"})
    fake: TwilioFake = part.handle
    stranger = fake.phone("+15550777")
    stranger.webhook_url_fn = fake.phones[OWNER].webhook_url_fn
    await stranger.send("<img src=x onerror=\"document.title='pwned'\">hi")

    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    await page.goto(daemon.login_url())
    box = page.locator("#phone input")
    await box.fill("turn off all the lights")
    await box.press("Enter")
    await page.locator("#phone .bubble.mine", has_text="turn off all the lights").wait_for(
        timeout=10000
    )
    await page.locator("#phone .bubble.theirs").first.wait_for(timeout=10000)
    await eventually(lambda: not any(d.state.on for d in daemon.rt.home.devices()), timeout=10)
    # The messages panel lists the reply and the stranger, whose text stays text.
    await page.locator("#messages tbody tr", has_text="whatsapp").first.wait_for(timeout=10000)
    row = page.locator("#messages tbody tr", has_text="+15550777")
    await row.wait_for(timeout=10000)
    assert "<img" in await row.inner_text()
    assert await row.locator("img").count() == 0
    assert await page.title() != "pwned"
    assert errors == []
