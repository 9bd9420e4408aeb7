"""The dashboard's chat panel in a real browser (Debian chromium through playwright)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import RunningDaemon
from tests.util import eventually

CONFIG = {
    "virtual": {
        "devices": [
            {"id": "porch", "name": "Porch light", "kind": "light", "area": "porch"},
            {"id": "door", "name": "Front door", "kind": "lock", "area": "hallway"},
        ]
    }
}


@pytest.mark.timeout(90)
async def test_chat_panel_talks_and_confirms(
    browser: Any,
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """Type a command, see the reply; unlock asks for the code and the panel confirms it."""
    daemon = await start_daemon(CONFIG)
    rt = daemon.rt
    await eventually(lambda: len(rt.home.devices()) == 2)
    page = await browser.new_page()
    await page.goto(daemon.login_url())
    box = page.locator("#chat input[name=text]")
    await box.fill("turn on the porch light")
    await box.press("Enter")
    await page.locator("#chat .chat-house", has_text="Porch light on").wait_for(timeout=10000)
    porch = next(d for d in rt.home.devices() if d.name == "Porch light")
    assert rt.home.get(porch.id).state.on is True

    await box.fill("unlock the front door")
    await box.press("Enter")
    prompt = page.locator("#chat .chat-house", has_text="reply YES and the code")
    await prompt.wait_for(timeout=10000)
    # The page never sees the code: it went out of band (here: a file only the owner reads).
    code = (rt.paths.root / "confirm-code").read_text().split()[0]
    assert code not in await page.content()
    door = next(d for d in rt.home.devices() if d.name == "Front door")
    assert rt.home.get(door.id).state.locked is True
    await page.locator("#chat .chat-confirm input").fill(code)
    await page.locator("#chat .chat-confirm button").click()
    await page.locator("#chat .chat-house", has_text="Confirmed").wait_for(timeout=10000)
    assert rt.home.get(door.id).state.locked is False

    # A reload shows the conversation so far.
    await page.reload()
    await page.locator("#chat .chat-user", has_text="turn on the porch light").wait_for(
        timeout=10000
    )


@pytest.mark.timeout(90)
async def test_a_wall_tablet_opened_for_a_room(
    browser: Any,
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """`/?area=porch`: "turn on the lights" there means the porch's, not the hallway's."""
    config = {
        "virtual": {
            "devices": [
                *CONFIG["virtual"]["devices"],
                {"id": "hall", "name": "Hallway light", "kind": "light", "area": "hallway"},
            ]
        }
    }
    daemon = await start_daemon(config)
    rt = daemon.rt
    await eventually(lambda: len(rt.home.devices()) == 3)
    page = await browser.new_page()
    await page.goto(daemon.login_url())
    await page.goto(daemon.url + "?area=porch")
    box = page.locator("#chat input[name=text]")
    await box.fill("turn on the lights")
    await box.press("Enter")
    await page.locator("#chat .chat-house", has_text="Porch light on").wait_for(timeout=10000)
    assert rt.home.get("virtual:porch").state.on is True
    assert rt.home.get("virtual:hall").state.on is False


@pytest.mark.timeout(90)
async def test_chat_panel_says_what_the_llm_spent_and_why_it_pauses(
    browser: Any,
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """With a daily budget spent, the panel shows the spend and that the LLM is paused."""
    from agent.brain.simulator import FakeLLM, Reply

    async with FakeLLM(default=Reply(text="A poem.", prompt_tokens=3000)) as llm:
        brain = {
            "provider": "openai",
            "base_url": llm.base_url,
            "model": "fake-model",
            "api_key": "k",
            "max_retries": 0,
            "daily_token_budget": 2000,
        }
        daemon = await start_daemon({**CONFIG, "brain": brain})
        page = await browser.new_page()
        await page.goto(daemon.login_url())
        status = page.locator("#chat-llm")
        await status.filter(has_text="0 calls, 0 tokens today of 2,000").wait_for(timeout=10000)
        box = page.locator("#chat input[name=text]")
        await box.fill("write me a poem")
        await box.press("Enter")
        await page.locator("#chat .chat-house", has_text="A poem.").wait_for(timeout=10000)
        await status.filter(has_text="paused: today's LLM budget").wait_for(timeout=10000)
        assert "fake-model: 1 calls" in (await status.text_content() or "")
