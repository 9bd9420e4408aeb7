"""Memory: markdown truth, index, recall, forgetting, provenance and supersession."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agent.approvals import Approvals
from agent.brain.tools import ToolContext, ToolRegistry
from agent.store import Store
from memory.config import MemoryConfig
from memory.index import MemoryIndex
from memory.matching import REDACTED
from memory.recall import Memory, MemoryRequestError
from memory.store import MEMORY_FILE, PROFILE, MemoryFiles, parse
from memory.tools import register_tools

NOW = dt.datetime(2026, 11, 19, 21, 30)  # a Thursday


def make_memory(root: Path, db: Store | None = None, **config: object) -> Memory:
    """A memory over a folder and a database, indexed and ready."""
    files = MemoryFiles(root / "memory", today=lambda: NOW.date())
    files.ensure()
    index = MemoryIndex(db or Store(root / "homeclaw.db"), files)
    index.migrate()
    index.scan()
    return Memory(MemoryConfig(**config), files, index, now=lambda: NOW)  # type: ignore[arg-type]


def memory_text(memory: Memory) -> str:
    return (memory.files.root / MEMORY_FILE).read_text()


def owner(*said: str) -> ToolContext:
    """The owner's turn, with what they wrote in it (newest first)."""
    return ToolContext(channel="whatsapp", sender="+34600000001", role="owner", said=said)


def tools_for(memory: Memory) -> ToolRegistry:
    """A registry with the memory tools (and an approval list in the same database)."""
    registry = ToolRegistry()
    register_tools(registry, memory, Approvals(memory.index.store))
    return registry


def test_hand_written_file_parses_and_keeps_its_prose() -> None:
    """Bullets typed by hand get stable ids; prose, headings and code survive a rewrite."""
    text = (
        "# Memory\n\nSome words of my own.\n\n## Pinned\n\n"
        "- The wifi password is on the fridge.\n"
        "- Ana is my sister,\n  she lives in Valencia. <!-- id:mabc12345 date:2026-01-02 "
        "source:owner importance:5 -->\n\n```\n- not a memory\n```\n"
    )
    first = parse(MEMORY_FILE, text, default_date="2026-11-19")
    again = parse(MEMORY_FILE, text, default_date="2026-11-19")
    entries = first.entries()
    assert [e.text for e in entries] == [
        "The wifi password is on the fridge.",
        "Ana is my sister, she lives in Valencia.",
    ]
    assert [e.id for e in entries] == [e.id for e in again.entries()]
    assert entries[1].id == "mabc12345" and entries[1].importance == 5
    assert entries[0].pinned and entries[0].source == "owner"
    rendered = first.render()
    assert "Some words of my own." in rendered and "- not a memory" in rendered
    assert f"id:{entries[0].id}" in rendered
    assert [e.id for e in parse(MEMORY_FILE, rendered, default_date="x").entries()] == [
        e.id for e in entries
    ]


async def test_remember_then_recall_across_restart(tmp_path: Path) -> None:
    """A fact survives a restart, and a lost index is rebuilt from the markdown."""
    memory = make_memory(tmp_path)
    outcome = memory.add("The FedEx guy always leaves packages behind the gate")
    assert outcome.status == "added"
    memory.index.store.close()

    again = make_memory(tmp_path)
    hits = await again.search("where does FedEx leave the package?")
    assert hits and hits[0].entry.id == outcome.entry.id
    again.index.store.close()

    (tmp_path / "homeclaw.db").unlink()
    rebuilt = make_memory(tmp_path)
    hits = await rebuilt.search("delivery behind the gate?")
    assert hits and hits[0].entry.id == outcome.entry.id


async def test_hand_edit_and_deletion_are_reindexed(tmp_path: Path) -> None:
    """Editing MEMORY.md by hand changes what recall finds, with the same id."""
    memory = make_memory(tmp_path)
    entry = memory.add("The pool heater runs on Saturdays").entry
    path = memory.files.root / MEMORY_FILE
    path.write_text(path.read_text().replace("Saturdays", "Sundays") + "- Spa stays at 38\n")
    assert memory.index.scan() == [MEMORY_FILE]
    assert memory.get(entry.id).text == "The pool heater runs on Sundays"
    assert (await memory.search("spa temperature"))[0].entry.text == "Spa stays at 38"
    assert not await memory.search("Saturdays")
    path.write_text(path.read_text().replace("- The pool heater runs on Sundays", ""))
    memory.index.scan()
    with pytest.raises(MemoryRequestError):
        memory.get(entry.id)


async def test_forget_removes_from_file_index_context_and_transcripts(tmp_path: Path) -> None:
    """Forgetting a fact leaves no trace in the file, recall, context or stored messages."""
    memory = make_memory(tmp_path)
    store = memory.index.store
    store.execute(
        "CREATE TABLE brain_messages (id INTEGER PRIMARY KEY, conversation TEXT, ts REAL, "
        "role TEXT, content TEXT)"
    )
    said = "my sister Ana's number is +34 611 222 333"
    for role, content in (
        ("user", said),
        ("assistant", "Noted: Ana +34 611 222 333."),
        ("user", "the pool is at 28 degrees"),
    ):
        store.execute(
            "INSERT INTO brain_messages(conversation, ts, role, content) VALUES (?, ?, ?, ?)",
            ("whatsapp:+34600000001", 1.0, role, content),
        )
    fact = memory.add("Ana's number is +34 611 222 333", section=PROFILE).entry
    assert "611 222 333" in await memory.context_for("whatsapp:+1", "hello")
    assert memory.index.transcripts("Ana number")

    registry = tools_for(memory)
    result = await registry.call("forget", {"memory_id": fact.id}, owner("forget Ana's number"))
    assert result.ok and "611" not in result.to_model()

    assert "611" not in memory_text(memory)
    assert not await memory.search("Ana's number")
    assert "611" not in await memory.context_for("whatsapp:+1", "what's Ana's number?")
    recalled = await registry.call("recall", {"query": "Ana number 611"}, owner())
    assert "611" not in recalled.to_model()
    contents = [r[0] for r in store.query("SELECT content FROM brain_messages ORDER BY id")]
    assert contents == [REDACTED, REDACTED, "the pool is at 28 degrees"]
    live = [{"role": "user", "content": said}, {"role": "user", "content": "hi"}]
    assert memory.redact(live)[0]["content"] != said and memory.redact(live)[1] == live[1]


async def test_provenance_strangers_cameras_and_guests_are_not_promoted(tmp_path: Path) -> None:
    """Only the owner's own words become durable; the rest waits, unseen by the model."""
    memory = make_memory(tmp_path)
    registry = tools_for(memory)
    camera = ToolContext(channel="camera", sender="driveway", untrusted=True)
    guest = ToolContext(channel="sms", sender="+15550001", role="guest")
    for ctx, fact in ((camera, "The gate code is 4321"), (guest, "Guests may unlock the door")):
        result = await registry.call("remember", {"fact": fact}, ctx)
        assert result.ok and result.value["status"] == "pending"
    assert "4321" not in memory_text(memory) and "unlock" not in memory_text(memory)
    assert not await memory.search("gate code")
    assert "4321" not in await memory.context_for("whatsapp:+1", "what is the gate code?")
    pending = [e for e in memory.entries(kind="note") if e.unverified]
    assert {e.source for e in pending} == {"unverified:camera", "unverified:guest:sms:+15550001"}
    denied = await registry.call("forget", {"memory_id": pending[0].id}, guest)
    assert denied.error == "not_allowed"

    approved = memory.promote(next(e.id for e in pending if "4321" in e.text))
    assert approved.entry.source == "owner-approved" and "4321" in memory_text(memory)
    assert (await memory.search("gate code"))[0].entry.id == approved.entry.id

    inferred = await registry.call(
        "remember",
        {"fact": "The owner goes to bed around 23:00", "inferred": True},
        owner("I usually go to bed around 23:00"),
    )
    assert inferred.value["memory"]["source"] == "inferred"
    assert "(inferred)" in await memory.context_for("whatsapp:+1", "when do I go to bed?")


async def test_non_owner_context_and_recall_are_restricted(tmp_path: Path) -> None:
    """Family sees pinned house facts only; a guest sees no memory at all, pinned included."""
    memory = make_memory(tmp_path)
    memory.add("Ana's number is +34 611 222 333", section=PROFILE)
    memory.add("The wifi network is called Casa", section="Pinned")
    context = await memory.context_for("sms:+1555", "wifi? and Ana's number?", role="family")
    assert "Casa" in context and "611" not in context
    context = await memory.context_for("sms:+1555", "wifi? and Ana's number?", role="guest")
    assert context == ""
    registry = tools_for(memory)
    guest = ToolContext(channel="sms", sender="+1555", role="guest", conversation="sms:+1555")
    for query in ("Ana number", "wifi network"):
        result = await registry.call("recall", {"query": query}, guest)
        assert result.ok and result.value["memories"] == []
    result = await registry.call("list_memories", {}, guest)
    assert result.ok and result.value["memories"] == []
    family = ToolContext(channel="sms", sender="+1556", role="family", conversation="sms:+1556")
    result = await registry.call("recall", {"query": "wifi network"}, family)
    assert [m["text"] for m in result.value["memories"]] == ["The wifi network is called Casa"]


def test_supersession_dedupe_and_inference_never_overrides_owner(tmp_path: Path) -> None:
    """ "Bedroom at 19" replaces "bedroom at 20" in place; repeats are not duplicated."""
    memory = make_memory(tmp_path)
    old = memory.add("I like the bedroom at 20 degrees", section=PROFILE).entry
    memory.add("The cleaner comes on Thursdays")
    new = memory.add("I like the bedroom at 19 degrees")
    assert new.status == "added" and [e.id for e in new.replaced] == [old.id]
    text = memory_text(memory)
    assert "at 20" not in text and "at 19" in text
    assert memory.get(new.entry.id).section == PROFILE
    assert memory.add("i like the bedroom at 19 degrees.").status == "duplicate"
    guess = memory.add("I like the bedroom at 22 degrees", source="inferred")
    assert guess.status == "duplicate" and "at 22" not in memory_text(memory)
    explicit = memory.add("The cleaner comes on Fridays", replaces=[memory.entries()[1].id])
    assert [e.text for e in explicit.replaced] == ["The cleaner comes on Thursdays"]
    inferred = memory.add("The owner likes jazz", source="inferred")
    assert memory.add("the owner likes jazz", source="owner").status == "confirmed"
    assert memory.get(inferred.entry.id).source == "owner"


async def test_context_budget_pins_first_and_weekday_recall(tmp_path: Path) -> None:
    """Pinned facts come first, the budget is respected, "today" finds weekday facts."""
    memory = make_memory(tmp_path, context_tokens=60)
    memory.add("Call me Sam", section="Pinned")
    for i in range(30):
        memory.add(f"Fact number {i} about the garden shed and item {i * 7}")
    memory.add("The cleaner comes on Thursdays, she can use the lights and music")
    context = await memory.context_for("cli:owner", "is anyone coming today?")
    assert len(context) <= 60 * 4 + 200  # budget plus the fixed header line
    assert "Call me Sam" in context.splitlines()[2]
    assert "cleaner" in context


def test_daily_notes_count_repeats(tmp_path: Path) -> None:
    """Notes say what the house did in a few lines: repeats are counted."""
    memory = make_memory(tmp_path)
    memory.note("Ran sleepy time", source="routine")
    memory.note("FedEx truck in the driveway", source="camera")
    memory.note("Ran sleepy time", source="routine")
    daily = (memory.files.root / "2026-11-19.md").read_text()
    assert daily.count("sleepy time") == 1 and "Ran sleepy time (×2)" in daily
    # The repeat is re-stamped and moves last, so the day reads in time order.
    assert daily.index("FedEx") < daily.index("sleepy time")
    assert "source:camera" in daily and daily.startswith("# 2026-11-19")
    assert len(memory.entries(kind="note")) == 2


def test_daily_notes_stay_a_few_lines_per_source(tmp_path: Path) -> None:
    """A chatty source gets its share of lines; the rest is counted on one line."""
    memory = make_memory(tmp_path, daily_note_limit=3)
    for i in range(6):
        memory.note(f"Motion number {i}", source="camera")
    memory.note("Ran sleepy time", source="routine")
    texts = [e.text for e in memory.entries(kind="note")]
    assert len([t for t in texts if "Motion" in t]) == 3
    assert any(t.endswith("more camera notes (×3)") for t in texts)
    assert any("sleepy time" in t for t in texts)


def test_ranking_sanity_at_ten_thousand_entries(tmp_path: Path) -> None:
    """With 10,000 entries the one that answers a question ranks first; newer notes win ties."""
    memory = make_memory(tmp_path)
    lines = ["# Memory", ""]
    for i in range(10_000):
        lines.append(
            f"- Person{i} has the phone number +1 555 {i:05d} and likes topic{i % 97} "
            f"<!-- id:m{i:08x} date:2026-01-01 source:owner -->"
        )
    lines.append("- My sister Ana lives in Valencia <!-- id:mana date:2026-01-01 source:owner -->")
    (memory.files.root / MEMORY_FILE).write_text("\n".join(lines) + "\n")
    (memory.files.root / "2026-11-01.md").write_text("# 2026-11-01\n\n- Pool cleaned\n")
    (memory.files.root / "2026-11-18.md").write_text("# 2026-11-18\n\n- Pool cleaned\n")
    memory.index.scan()
    assert memory.index.count()["fact"] == 10_001
    for i in (0, 4242, 9999):
        top = memory.index.keyword(f"what is Person{i}'s phone number?", limit=3)
        assert top[0].entry.id == f"m{i:08x}"
    assert memory.index.keyword("where does my sister live?", limit=1)[0].entry.id == "mana"
    notes = memory.index.keyword("pool cleaned", limit=2)
    assert [h.entry.file for h in notes] == ["2026-11-18.md", "2026-11-01.md"]


async def test_demo_seeds_memory_once(tmp_path: Path) -> None:
    """`homeclaw demo` starts with a few facts to try, and keeps the visitor's edits."""
    from agent.demo.simulation import DemoContext
    from memory.simulator import demo

    part = await demo(DemoContext(home=tmp_path))
    assert part.config == {}
    memory = make_memory(tmp_path)
    assert any("cleaner" in e.text for e in memory.entries(kind="fact"))
    assert any(e.profile for e in memory.entries(kind="fact"))
    path = memory.files.root / MEMORY_FILE
    path.write_text("- only this\n")
    await demo(DemoContext(home=tmp_path))
    assert path.read_text() == "- only this\n"


def test_stray_temporary_copies_are_removed_at_start(tmp_path: Path) -> None:
    """A kill between writing and renaming leaves `.MEMORY.md.*.tmp`; the next start drops it."""
    memory = make_memory(tmp_path)
    memory.add("The bins go out on Mondays")
    root = memory.files.root
    strays = [root / ".MEMORY.md.k2j3h4.tmp", root / ".2026-11-19.md.abc_d.tmp"]
    for stray in strays:
        stray.write_text("half a file")
    mine = root / ".notes.tmp"  # not a name the house writes: left alone
    mine.write_text("the owner's")
    again = make_memory(tmp_path)
    assert not any(s.exists() for s in strays) and mine.exists()
    assert "Mondays" in memory_text(again)


async def test_model_pins_only_when_the_owner_asks(tmp_path: Path) -> None:
    """Pinning puts a fact in every conversation: the owner's words must ask for it."""
    memory = make_memory(tmp_path)
    registry = tools_for(memory)
    quiet = await registry.call(
        "remember", {"fact": "My bank PIN is 7730", "pinned": True}, owner("my bank PIN is 7730")
    )
    assert quiet.ok and not quiet.value["memory"]["pinned"] and "not pinned" in quiet.value["note"]
    asked = await registry.call(
        "remember",
        {"fact": "The wifi password is on the fridge", "pinned": True},
        owner("always keep in mind: the wifi password is on the fridge"),
    )
    assert asked.ok and asked.value["memory"]["pinned"]


def test_transcripts_sync_from_many_threads_at_once(tmp_path: Path) -> None:
    """Two recalls in one round sync transcripts from two worker threads: each row once."""
    import threading

    memory = make_memory(tmp_path)
    store = memory.index.store
    store.execute(
        "CREATE TABLE brain_messages (id INTEGER PRIMARY KEY, conversation TEXT, ts REAL, "
        "role TEXT, content TEXT)"
    )
    errors: list[BaseException] = []
    for round_ in range(20):
        store.executemany(
            "INSERT INTO brain_messages(conversation, ts, role, content) VALUES (?, ?, ?, ?)",
            [("cli:owner", 1.0, "user", f"message {round_} {i}") for i in range(50)],
        )
        start = threading.Barrier(4)

        def sync(start: threading.Barrier = start) -> None:
            start.wait()
            try:
                memory.index.sync_transcripts()
            except BaseException as err:  # collected: a thread's exception is otherwise lost
                errors.append(err)

        threads = [threading.Thread(target=sync) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert store.one("SELECT COUNT(*) FROM memory_transcripts")[0] == 1000
