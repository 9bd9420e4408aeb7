"""The dashboard's memory page in a real browser (Debian chromium via playwright)."""

from __future__ import annotations

from typing import Any


async def test_browse_search_edit_approve_forget(browser: Any, start_daemon: Any) -> None:
    """The owner finds a memory, fixes it, approves a proposal and forgets one."""
    from playwright.async_api import expect

    d = await start_daemon({"memory": {"watch_interval": 0.05}})
    memory = d.rt.services["memory"]
    memory.add("The cleaner comes on Thursdays")
    ana = memory.add("Ana's number is +34 611 222 333").entry
    memory.add("<img src=x onerror=alert(1)> the gate code is 4321", source="camera")
    page = await browser.new_page()
    page.set_default_timeout(10_000)
    dialogs: list[str] = []

    async def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await page.goto(d.login_url())
    panel = page.locator("#memory")
    await panel.locator("li", has_text="cleaner").wait_for()

    await panel.locator("input[type=search]").fill("Ana number")
    await panel.locator("li", has_text="Ana").wait_for()
    # Not wait_for_function: the dashboard's CSP forbids the eval it uses.
    await expect(page.locator("#memory li")).to_have_count(1)

    row = panel.locator("li", has_text="Ana")
    await row.get_by_role("button", name="Edit").click()
    await row.locator("input.edit").fill("Ana's number is +34 600 000 000")
    await row.get_by_role("button", name="Save").click()
    await panel.locator("li", has_text="600 000 000").wait_for()
    assert memory.get(ana.id).text.endswith("600 000 000")

    await panel.locator("select").select_option("note")
    await panel.locator("input[type=search]").fill("")
    proposal = panel.locator("li", has_text="gate code")
    await proposal.wait_for()
    assert "proposed by camera" in await proposal.inner_text()
    await proposal.get_by_role("button", name="Approve").click()
    await panel.locator("select").select_option("fact")
    await panel.locator("li", has_text="gate code").wait_for()

    await panel.locator("li", has_text="600 000 000").get_by_role("button", name="Forget").click()
    await panel.locator("li", has_text="600 000 000").wait_for(state="detached")
    assert dialogs and "600 000 000" in dialogs[0]  # the confirm(), not an alert(1)
    assert "600 000 000" not in (d.rt.paths.memory / "MEMORY.md").read_text()

    await panel.locator(".mem-add input[type=text]").fill("The spa stays at 38")
    await panel.get_by_role("button", name="Remember").click()
    await panel.locator("li", has_text="spa stays at 38").wait_for()

    # A forget the model asked for without the owner's words waits in its own list.
    cleaner = next(e for e in memory.entries(kind="fact") if "cleaner" in e.text)
    approvals = d.rt.services["approvals"]
    approvals.propose("forget", f"Forget: {cleaner.text}", {"id": cleaner.id}, "model:web:owner")
    waiting = panel.locator(".mem-waiting li", has_text="Forget: The cleaner")
    await waiting.wait_for()
    await waiting.get_by_role("button", name="Approve").click()
    await waiting.wait_for(state="detached")
    assert "cleaner" not in (d.rt.paths.memory / "MEMORY.md").read_text()
    assert approvals.pending() == []
