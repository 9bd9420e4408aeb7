"""Memory inside a running daemon: API, file watching, restarts, CLI, vectors, and forgetting
as the model sees it."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any

import openai
import pytest

from agent.brain.simulator import FakeLLM, has_tool_results, last_user_text, tool_call
from agent.brain.tools import ToolContext
from agent.bus import Notice
from agent.cli.memory import register
from agent.config import load_config
from agent.daemon import Daemon, build_runtime
from agent.paths import HomePaths
from memory.extract import extract
from memory.simulator import FakeEmbeddings
from memory.store import MEMORY_FILE
from tests.conftest import write_config
from tests.util import eventually

FAST = {"memory": {"watch_interval": 0.05}}


async def test_api_create_search_edit_approve_delete(start_daemon: Any) -> None:
    """The dashboard's API does everything the owner needs, and rejects bad input clearly."""
    d = await start_daemon(FAST)
    status, body = await d.api(
        "POST", "/api/memory", {"text": "The spa stays at 38", "pinned": True}
    )
    assert status == 201 and body["memory"]["pinned"]
    entry_id = body["memory"]["id"]
    assert (await d.api("POST", "/api/memory", {"text": "  "}))[0] == 422
    assert (await d.api("POST", "/api/memory", ["x"]))[0] == 400
    sneaky = {"text": "one\n- two <!-- id:evil -->", "section": "Mine\n- three"}
    status, body = await d.api("POST", "/api/memory", sneaky)
    assert status == 201 and body["memory"]["id"] != "evil"
    assert len(d.rt.services["memory"].entries()) == 2  # one line stays one memory
    status, body = await d.api("GET", "/api/memory?q=spa temperature")
    assert body["memories"][0]["id"] == entry_id
    status, body = await d.api("PATCH", f"/api/memory/{entry_id}", {"text": "The spa stays at 37"})
    assert status == 200 and body["text"] == "The spa stays at 37" and body["id"] == entry_id
    assert (await d.api("PATCH", "/api/memory/nope", {"text": "x"}))[0] == 404

    memory = d.rt.services["memory"]
    assert memory.extractor is extract  # the component wires extraction into recall
    pending = memory.add("The gate code is 4321", source="camera").entry
    status, body = await d.api("GET", "/api/memory?kind=note")
    assert body["memories"][0]["unverified"]
    status, body = await d.api("POST", f"/api/memory/{pending.id}/approve")
    assert status == 200 and body["memory"]["source"] == "owner-approved"

    status, body = await d.api("DELETE", f"/api/memory/{entry_id}")
    assert status == 200 and body == {"forgotten": entry_id}
    # The words, not "37" alone: a random memory id may contain those digits.
    assert "spa stays at 37" not in (d.rt.paths.memory / MEMORY_FILE).read_text().lower()
    assert (await d.api("GET", f"/api/memory/{entry_id}"))[0] == 404
    async with d.http.get(d.url + "api/memory", headers={"Authorization": "Bearer no"}) as r:
        assert r.status == 401


async def test_hand_edits_are_picked_up_without_restart(start_daemon: Any) -> None:
    """Editing MEMORY.md in an editor changes what the daemon recalls within moments."""
    d = await start_daemon(FAST)
    path = d.rt.paths.memory / MEMORY_FILE
    path.write_text(path.read_text() + "\n- The recycling goes out on Tuesdays\n")

    async def found() -> bool:
        _, body = await d.api("GET", "/api/memory?q=recycling")
        return bool(body["memories"])

    await eventually(found, timeout=5)
    path.write_text(path.read_text().replace("- The recycling goes out on Tuesdays\n", ""))

    async def gone() -> bool:
        return not await found()

    await eventually(gone, timeout=5)


async def test_memory_survives_restart_and_cli_talks_to_daemon(tmp_path: Path) -> None:
    """Remember → stop → start → recall; the CLI lists, searches and forgets via the API."""
    home = tmp_path / "home"
    write_config(home, {"web": {"host": "127.0.0.1", "port": 0}, **FAST})
    paths = HomePaths(home)
    first = Daemon(build_runtime(load_config(paths.config), paths))
    try:
        await first.start()
        fact = first.rt.services["memory"].add("Ana's number is +34 611 222 333").entry
    finally:
        await first.stop()
    second = Daemon(build_runtime(load_config(paths.config), paths))
    try:
        url = await second.start()
        hits = await second.rt.services["memory"].search("what's Ana's number?")
        assert hits[0].entry.id == fact.id
        (home / "url").write_text(url)
        parser = argparse.ArgumentParser()
        parser.add_argument("--home")
        register(parser.add_subparsers())

        def cli(*argv: str) -> tuple[int, str]:
            import contextlib
            import io

            out = io.StringIO()
            args = parser.parse_args(["--home", str(home), "memory", *argv])
            with contextlib.redirect_stdout(out):
                status = args.func(args)
            return status, out.getvalue()

        status, out = await asyncio.to_thread(cli, "search", "Ana", "--json")
        assert status == 0 and json.loads(out)["memories"][0]["id"] == fact.id
        status, out = await asyncio.to_thread(cli, "list")
        assert status == 0 and fact.id in out and "owner" in out
        assert await asyncio.to_thread(cli) == (status, out)  # bare `memory` lists too
        status, out = await asyncio.to_thread(cli, "forget", fact.id, "nope")
        assert status == 1 and f"forgot {fact.id}" in out
        status, out = await asyncio.to_thread(cli, "list", "--json")
        assert json.loads(out)["memories"] == []

        # The approval list: a proposed memory and a change the model asked for.
        memory = second.rt.services["memory"]
        bins = memory.add("The bins go out on Mondays").entry
        gate = memory.add("The gate code is 9911", source="unverified:camera").entry
        pin = memory.add("The PIN is 7730", source="unverified:model").entry
        approvals = second.rt.services["approvals"]
        forget = approvals.propose("forget", f"Forget: {bins.text}", {"id": bins.id}, "model")
        status, out = await asyncio.to_thread(cli, "pending")
        assert status == 0 and all(x in out for x in (gate.id, pin.id, forget.id, "Forget: The"))
        status, out = await asyncio.to_thread(cli, "approve", gate.id, forget.id)
        assert status == 0, out
        status, out = await asyncio.to_thread(cli, "reject", pin.id)
        assert status == 0, out
        status, out = await asyncio.to_thread(cli, "pending", "--json")
        assert json.loads(out) == {"memories": [], "approvals": []}
        texts = [e.text for e in memory.entries(kind="fact")]
        assert texts == ["The gate code is 9911"]  # approved; the bins forgotten; PIN rejected
    finally:
        await second.stop()


async def test_hybrid_recall_with_embeddings_and_fallback(start_daemon: Any) -> None:
    """With /v1/embeddings configured, vectors find what words miss; if it fails, keywords."""
    fake = await FakeEmbeddings().start()
    try:
        d = await start_daemon(
            {
                "memory": {
                    "watch_interval": 0.05,
                    "embeddings_model": "fake-embed",
                    "embeddings_base_url": fake.base_url,
                }
            }
        )
        memory = d.rt.services["memory"]
        memory.add("Ana lives in Valencia")
        memory.add("The pool heater runs on Saturdays")
        await memory.vectors.catch_up()  # the background task may be mid-sleep
        assert fake.requests and memory.health_report()["vectors"]["model"] == "fake-embed"
        assert not memory.index.keyword("Valencian relatives")
        hits = await memory.search("Valencian relatives", limit=1)
        assert hits and hits[0].entry.text == "Ana lives in Valencia"
        fake.fail = True
        hits = await memory.search("pool heater", limit=1)
        assert hits[0].entry.text.startswith("The pool heater")
        assert memory.health_report()["vectors"]["error"]
    finally:
        await fake.stop()


async def test_forgotten_fact_appears_in_no_later_model_request(start_daemon: Any) -> None:
    """The memory side of the brain contract: context per request plus `redact` on history.

    A minimal loop stands in for the brain (context_for before every request,
    memory.redact over the history, tools through the registry); once the
    forget tool has run, no request to the model carries the number again.
    """
    llm = await FakeLLM().start()
    try:
        owner = {"name": "Sam", "role": "owner", "whatsapp": "+34600000001"}
        d = await start_daemon({**FAST, "people": [owner]})
        memory = d.rt.services["memory"]
        conv = "whatsapp:+34600000001"

        def decide(request: dict[str, Any]) -> Any:
            text = last_user_text(request)
            if has_tool_results(request):
                return "Done."
            if "number is" in text:
                return tool_call(
                    "remember", {"fact": "Ana's number is +34 611 222 333", "about_owner": True}
                )
            if text.startswith("forget"):
                system = request["messages"][1]["content"]
                match = re.search(r"\[(\w+)\] Ana's number", system)
                return tool_call("forget", {"memory_id": match.group(1) if match else "?"})
            return "I don't know Ana's number."

        llm.rule(decide)
        client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0)
        history: list[dict[str, Any]] = []
        forgot_at: int | None = None

        async def turn(text: str) -> None:
            nonlocal forgot_at
            history.append({"role": "user", "content": text})
            for _ in range(4):
                context = await memory.context_for(conv, text)
                messages = [
                    {"role": "system", "content": "You are the house."},
                    {"role": "system", "content": context},
                    *memory.redact(history),
                ]
                response = await client.chat.completions.create(
                    model="fake",
                    messages=messages,
                    tools=d.rt.tools.schemas(),  # type: ignore[arg-type]
                )
                message = response.choices[0].message
                if not message.tool_calls:
                    history.append({"role": "assistant", "content": message.content})
                    return
                history.append(message.model_dump(exclude_none=True))
                for call in message.tool_calls:
                    ctx = ToolContext(
                        channel="whatsapp", sender="+34600000001", conversation=conv, said=(text,)
                    )
                    function = call.function  # type: ignore[union-attr]
                    result = await d.rt.tools.call(function.name, function.arguments, ctx)
                    if function.name == "forget":
                        assert result.ok, result
                        forgot_at = len(llm.requests)
                    history.append(
                        {"role": "tool", "tool_call_id": call.id, "content": result.to_model()}
                    )

        await turn("my sister Ana's number is +34 611 222 333")
        await turn("what's Ana's number?")
        assert "611 222 333" in llm.requests[-1]["messages"][1]["content"]  # recalled
        await turn("forget Ana's number")
        await turn("what's Ana's number?")
        assert forgot_at is not None and len(llm.requests) > forgot_at
        later = [llm.request_text(i) for i in range(forgot_at, len(llm.requests))]
        assert all("611" not in text for text in later)
        await client.close()
    finally:
        await llm.stop()


async def test_camera_messages_become_daily_notes_not_facts(start_daemon: Any) -> None:
    """What the cameras told the owner is in the daily note, unverified and out of the
    model's memory block until the owner approves it."""
    d = await start_daemon(FAST)
    memory = d.rt.services["memory"]
    text = "Driveway: FedEx truck just pulled up — looks like a delivery"
    d.rt.bus.publish(Notice(topic="camera_message", data={"camera": "driveway", "text": text}))
    d.rt.bus.publish(Notice(topic="camera_message", data={"text": "Driveway: motion — looking…"}))
    notes = await eventually(lambda: memory.entries(kind="note"))
    assert len(notes) == 1 and notes[0].source == "unverified:camera" and "FedEx" in notes[0].text
    assert memory.entries(kind="fact") == []
    # The dashboard finds it; the model's memory block does not, until the owner approves it.
    hits = await memory.search("was there a delivery today?", include_unverified=True)
    assert hits and hits[0].entry.id == notes[0].id
    assert "FedEx" not in await memory.context_for("web:owner", "was there a delivery today?")
    memory.promote(notes[0].id)
    assert "FedEx" in await memory.context_for("web:owner", "was there a delivery today?")


@pytest.mark.parametrize("enabled", [False])
async def test_disabled_memory_registers_nothing(start_daemon: Any, enabled: bool) -> None:
    """memory.enabled: false keeps the service object but adds no tools or routes."""
    d = await start_daemon({"memory": {"enabled": enabled}})
    assert "remember" not in d.rt.tools.tools
    assert await d.rt.services["memory"].context_for("x", "anything") == ""
