"""The owner's lists: markdown files in the home folder, found by what people call
them, changed by local phrases, the model's tools, the API and WhatsApp."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.brain.tools import ToolContext
from agent.cli import main
from agent.demo.simulation import DemoContext
from agent.lists.items import ListItem, find_item, split_items
from agent.lists.markdown import MarkdownList
from agent.lists.registry import Lists, NoSuchList
from integrations.twilio import simulator as twilio_simulator
from integrations.twilio.simulator import Phone, TwilioFake
from tests.conftest import RunningDaemon
from tests.messaging_helpers import OWNER, people
from tests.util import eventually

pytestmark = pytest.mark.timeout(60)
StartDaemon = Callable[..., Awaitable[RunningDaemon]]


async def test_markdown_list_keeps_the_owners_lines(tmp_path: Path) -> None:
    """Notes and headings survive a rewrite; plain bullets are items; edits count at once."""
    path = tmp_path / "shopping.md"
    path.write_text("# Groceries\n\nFor the weekend:\n\n- [ ] apples\n* milk\n- [x] bread\n")
    todo = MarkdownList(path)
    assert todo.name == "Groceries"
    assert [(i.text, i.done) for i in await todo.items()] == [
        ("apples", False),
        ("milk", False),
        ("bread", True),
    ]
    await todo.add(["eggs", "bread", "apples"])  # bread is pending again, apples not doubled
    text = path.read_text()
    assert "For the weekend:" in text and text.startswith("# Groceries\n")
    assert text.count("apples") == 1 and "- [ ] bread" in text
    assert text.index("eggs") > text.index("bread")  # after the last item, not after notes
    removed, missing = await todo.remove(["apple", "caviar"])
    assert [i.text for i in removed] == ["apples"] and missing == ["caviar"]
    path.write_text(path.read_text() + "- [ ] coffee\n")  # the owner's editor
    done, _ = await todo.complete(["coffee"])
    assert done and "- [x] coffee" in path.read_text()


def test_items_are_found_the_way_people_say_them() -> None:
    """Plural/singular, case, articles, and one unique partial match."""
    items = [ListItem("Apples"), ListItem("oat milk"), ListItem("tomatoes")]
    assert find_item(items, "an apple") == items[0]
    assert find_item(items, "milk") == items[1]
    assert find_item(items, "tomato") == items[2]
    assert find_item(items, "bread") is None
    assert split_items("eggs, milk and bread") == ["eggs", "milk", "bread"]
    assert split_items("mac and cheese") == ["mac and cheese"]


async def test_lists_are_found_by_what_people_call_them(tmp_path: Path) -> None:
    """ "The list" is shopping; "my tasks" finds Personal Tasks; unknown names list the rest."""
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "personal-tasks.md").write_text("# Personal Tasks\n")
    lists = Lists(folder, ["Shopping", "To-do"])
    assert lists.find(None).name == "Shopping"
    assert lists.find("my shopping list").name == "Shopping"
    assert lists.find("groceries").name == "Shopping"
    assert lists.find("personal tasks").name == "Personal Tasks"
    assert lists.find("my tasks").name == "Personal Tasks"
    assert lists.find("todo").name == "To-do"
    with pytest.raises(NoSuchList, match="Personal Tasks"):
        lists.find("hardware store")
    edit = await lists.add("hardware store list", ["nails"], create=True)
    assert edit.todo.name == "hardware store"
    assert (folder / "hardware-store.md").read_text() == "# hardware store\n\n- [ ] nails\n"


@pytest.fixture
async def daemon(start_daemon: StartDaemon) -> AsyncIterator[RunningDaemon]:
    """A daemon with lists and no LLM."""
    yield await start_daemon({"brain": {"provider": "none"}})


async def chat(daemon: RunningDaemon, text: str) -> dict[str, Any]:
    """One message through /api/chat."""
    status, body = await daemon.api("POST", "/api/chat", {"text": text})
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_list_phrases_run_locally(daemon: RunningDaemon) -> None:
    """Add, read, remove and tick off by voice; the file in the home folder shows it."""
    body = await chat(daemon, "add apples to the shopping list")
    assert body["path"] == "local" and "apples added to the Shopping list" in body["reply"]
    await chat(daemon, "add eggs, milk and bread to my shopping list")
    body = await chat(daemon, "what's on my list?")
    assert body["path"] == "local"
    assert "apples, eggs, milk and bread" in body["reply"]
    body = await chat(daemon, "remove apples from the shopping list")
    assert body["path"] == "local" and "taken off" in body["reply"]
    await chat(daemon, "check off milk from the shopping list")
    text = (daemon.rt.paths.lists / "shopping.md").read_text()
    assert "apples" not in text and "- [x] milk" in text and "- [ ] bread" in text
    body = await chat(daemon, "remove caviar from the shopping list")
    assert "caviar is not on the Shopping list" in body["reply"]
    body = await chat(daemon, "Add clean the kitchen to my todo list")
    assert body["path"] == "local" and "To-do" in body["reply"]
    assert "- [ ] clean the kitchen" in (daemon.rt.paths.lists / "to-do.md").read_text()


async def test_lists_api_and_tools(daemon: RunningDaemon) -> None:
    """The API (dashboard, CLI) and the model's tools act on the same files."""
    status, body = await daemon.api("POST", "/api/lists/shopping", {"add": ["coffee"]})
    assert status == 200 and body["added"]["items"] == ["coffee"]
    status, body = await daemon.api("GET", "/api/lists")
    assert {"name": "Shopping", "pending": 1} in [
        {k: v for k, v in entry.items() if k in ("name", "pending")} for entry in body["lists"]
    ]
    status, body = await daemon.api("GET", "/api/lists/nope")
    assert status == 404 and body["error"] == "no_such_list"
    rt = daemon.rt
    ctx = ToolContext(channel="cli", sender="owner", runtime=rt)
    result = await rt.tools.call(
        "lists", {"name": "shopping", "add": ["tea"], "done": ["coffee"]}, ctx
    )
    assert result.ok, result.detail
    assert result.value["pending"] == ["tea"] and result.value["done"] == ["coffee"]
    result = await rt.tools.call("lists", {}, ctx)
    assert {"Shopping", "To-do"} <= {e["name"] for e in result.value["lists"]}
    untrusted = ToolContext(channel="camera", sender="cam", runtime=rt, untrusted=True)
    result = await rt.tools.call("lists", {"name": "shopping", "remove": ["tea"]}, untrusted)
    assert not result.ok and result.error == "not_allowed"
    result = await rt.tools.call("lists", {"name": "hardware store", "add": ["nails"]}, ctx)
    assert result.ok and result.value["list"] == "hardware store"
    status, body = await daemon.api("GET", "/api/lists/shopping")
    assert [i["text"] for i in body["items"]] == ["coffee", "tea"]


async def test_whatsapp_adds_to_the_shopping_list(
    tmp_path: Path, start_daemon: StartDaemon
) -> None:
    """The owner texts the house over WhatsApp (Twilio fake); the list file changes."""
    ctx = DemoContext(home=tmp_path / "demo")
    twilio = await twilio_simulator.demo(ctx)
    try:
        daemon = await start_daemon(
            {"people": people(), "brain": {"provider": "none"}, **twilio.config}
        )
        ctx.web_url = daemon.url
        fake: TwilioFake = twilio.handle
        phone: Phone = fake.phones[OWNER]
        assert await phone.send("add oat milk to the shopping list") == 200
        reply = (await eventually(phone.replies, timeout=10))[0]
        assert reply.to == f"whatsapp:{OWNER}" and "oat milk" in reply.body
        assert "- [ ] oat milk" in (daemon.rt.paths.lists / "shopping.md").read_text()
    finally:
        await twilio.stop()


async def test_lists_from_the_command_line(
    daemon: RunningDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    """`homeclaw lists` shows the lists; with a name it changes and shows one."""
    home = str(daemon.rt.paths.root)
    (daemon.rt.paths.root / "url").write_text(daemon.url)
    capsys.readouterr()
    status = await asyncio.to_thread(
        main, ["--home", home, "lists", "shopping", "--add", "eggs", "milk"]
    )
    assert status == 0
    assert capsys.readouterr().out == "Shopping\n  [ ] eggs\n  [ ] milk\n"
    status = await asyncio.to_thread(main, ["--home", home, "lists", "shopping", "--done", "egg"])
    assert status == 0 and "[x] eggs" in capsys.readouterr().out
    status = await asyncio.to_thread(main, ["--home", home, "lists"])
    assert status == 0 and "Shopping: 1 to do" in capsys.readouterr().out
    status = await asyncio.to_thread(main, ["--home", home, "lists", "hardware", "--add", "x"])
    assert status == 1 and "no list called" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [
        "Put history homework on personal tasks todo list",
        "Add history homework to my personal tasks",
        "Add history homework to my tasks",
        "Add history homework to my todo list",
    ],
)
async def test_assist_mini_todo_sentences(start_daemon: StartDaemon, text: str) -> None:
    """HA's assist-mini to-do task: every phrasing lands in the one "Personal Tasks" list."""
    daemon = await start_daemon(
        {"brain": {"provider": "none"}, "lists": {"defaults": ["Personal Tasks"]}}
    )
    body = await chat(daemon, text)
    assert body["path"] == "local", body
    status, listed = await daemon.api("GET", "/api/lists")
    assert status == 200
    assert [(e["name"], e["pending"]) for e in listed["lists"]] == [("Personal Tasks", 1)]
    assert "history homework" in (daemon.rt.paths.lists / "personal-tasks.md").read_text()
