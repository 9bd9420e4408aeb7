"""Recall quality and latency of the memory at home scale.

Generates ≥10,000 memories (durable facts in MEMORY.md plus daily notes) about
synthetic people, rooms, objects and schedules, and ≥200 questions whose
answering memory is known; prints recall@5 and latency percentiles for the
keyword path (SQLite FTS5/BM25) and for the hybrid path against the fake
hashed-trigram embeddings server (which measures the plumbing and fusion, not a
semantic model).

    /work/venv/bin/python bench/recall.py [--facts 10000] [--questions 300]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from agent.store import Store
from memory.config import MemoryConfig
from memory.index import MemoryIndex
from memory.recall import Memory
from memory.simulator import FakeEmbeddings
from memory.store import MEMORY_FILE, MemoryFiles
from memory.vectors import Embedder, VectorIndex

SYLLABLES = "ka lo mi ra ne to su vi da pe lu ri ko sa mo ve na zu ti be".split()
ROOMS = "bedroom kitchen office nursery studio attic basement lounge library".split()
ADJECTIVES = "red blue spare old brass tiny heavy green folding silver wooden".split()
NOUNS = (
    "ladder drill umbrella toolbox passport charger blanket kettle tripod suitcase "
    "lantern thermos hammer stapler backpack helmet"
).split()
PLACES = "garage shed attic closet pantry hallway cupboard basement drawer".split()
RELATIONS = "sister brother cousin neighbour colleague plumber dentist gardener friend".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
TASKS = "clean the house|walk the dog|fix the boiler|mow the lawn|water the plants".split("|")


def names(rng: random.Random, count: int) -> list[str]:
    """Distinct made-up first names."""
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).title())
    return sorted(out)


def generate(rng: random.Random, facts: int) -> tuple[list[str], list[tuple[str, int]]]:
    """Fact texts, and (question, index of the answering fact) pairs for some of them."""
    people = names(rng, facts // 3 + 10)
    texts: list[str] = []
    questions: list[tuple[str, int]] = []
    for i in range(facts):
        name = people[i % len(people)]
        kind = i % 5
        if kind == 0:
            number = f"+34 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
            texts.append(f"{name}'s phone number is {number}")
            asks = [
                f"what's {name}'s number?",
                f"how do I call {name}?",
                f"whose number is {number}?",
            ]
        elif kind == 1:
            relation = rng.choice(RELATIONS)
            texts.append(f"{name} is my {relation} and lives near the {rng.choice(PLACES)}")
            asks = [f"who is {name}?", f"where does {name} live?"]
        elif kind == 2:
            room = rng.choice(ROOMS)
            texts.append(f"{name} likes the {room} at {rng.randint(17, 24)} degrees")
            asks = [f"what temperature does {name} want in the {room}?"]
        elif kind == 3:
            thing = f"{name}'s {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
            texts.append(f"{thing} is kept in the {rng.choice(PLACES)}")
            asks = [f"where is {thing}?", f"where did we put {thing}?"]
        else:
            texts.append(f"{name} comes on {rng.choice(DAYS)}s to {rng.choice(TASKS)}")
            asks = [f"when does {name} come round?"]
        questions.append((rng.choice(asks), i))
    return texts, questions


def write_files(root: Path, texts: list[str], notes: int, rng: random.Random) -> None:
    """MEMORY.md with every fact, and daily notes spread over two months."""
    lines = ["# Memory", "", "## Facts", ""]
    for i, text in enumerate(texts):
        lines.append(f"- {text} <!-- id:m{i:08x} date:2026-0{1 + i % 9}-15 source:owner -->")
    root.mkdir(parents=True, exist_ok=True)
    (root / MEMORY_FILE).write_text("\n".join(lines) + "\n")
    start = dt.date(2026, 9, 1)
    per_day: dict[str, list[str]] = {}
    for j in range(notes):
        day = (start + dt.timedelta(days=j % 60)).isoformat()
        line = rng.choice(
            [
                f"Ran sleepy time at 22:{j % 60:02d}",
                f"Camera: delivery van in the driveway ({j})",
                f"Pool heater set to {24 + j % 6} degrees",
                f"Motion in the {rng.choice(ROOMS)} at night ({j})",
            ]
        )
        per_day.setdefault(day, []).append(f"- {line}")
    for day, day_lines in per_day.items():
        (root / f"{day}.md").write_text(f"# {day}\n\n" + "\n".join(day_lines) + "\n")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def measure(memory: Memory, questions: list[tuple[str, int]]) -> tuple[float, list[float]]:
    """recall@5 and per-question latencies (ms)."""
    found = 0
    latencies = []
    for question, answer in questions:
        started = time.perf_counter()
        hits = await memory.search(question, limit=5)
        latencies.append((time.perf_counter() - started) * 1000)
        found += any(h.entry.id == f"m{answer:08x}" for h in hits)
    return found / len(questions), latencies


def report(label: str, recall: float, latencies: list[float]) -> None:
    """One line of figures."""
    print(
        f"{label:<9} recall@5 {recall:.3f}   latency ms p50 {statistics.median(latencies):.2f} "
        f"p95 {percentile(latencies, 95):.2f} max {max(latencies):.2f}"
    )


async def main() -> None:
    """Generate, index, ask, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=int, default=10_000)
    parser.add_argument("--notes", type=int, default=2_000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    texts, questions = generate(rng, args.facts)
    questions = rng.sample(questions, k=min(args.questions, len(questions)))
    with tempfile.TemporaryDirectory(prefix="hc-bench-memory-") as tmp:
        root = Path(tmp)
        write_files(root / "memory", texts, args.notes, rng)
        files = MemoryFiles(root / "memory")
        index = MemoryIndex(Store(root / "homeclaw.db"), files)
        index.migrate()
        started = time.perf_counter()
        index.scan()
        indexed = time.perf_counter() - started
        counts = index.count()
        print(
            f"memories: {counts.get('fact', 0)} facts + {counts.get('note', 0)} notes "
            f"(indexed in {indexed:.2f} s); questions: {len(questions)}"
        )
        memory = Memory(MemoryConfig(), files, index)
        report("keyword", *await measure(memory, questions))

        started = time.perf_counter()
        context_ms = []
        for question, _ in questions[:100]:
            t0 = time.perf_counter()
            await memory.context_for("cli:owner", question)
            context_ms.append((time.perf_counter() - t0) * 1000)
        print(
            f"context  per turn ms p50 {statistics.median(context_ms):.2f} "
            f"p95 {percentile(context_ms, 95):.2f}"
        )

        fake = await FakeEmbeddings().start()
        try:
            embedder = Embedder(fake.base_url, "fake-embed", None, timeout=30)
            memory.vectors = VectorIndex(index, embedder, batch=256)
            started = time.perf_counter()
            embedded = await memory.vectors.catch_up()
            print(
                f"embedded {embedded} texts in {time.perf_counter() - started:.2f} s "
                "(fake hashed-trigram embeddings over HTTP)"
            )
            report("hybrid", *await measure(memory, questions))
            await embedder.close()
        finally:
            await fake.stop()
        index.store.close()


if __name__ == "__main__":
    asyncio.run(main())
