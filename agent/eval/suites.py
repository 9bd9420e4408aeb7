"""The public suites as cases: one sentence, the home it is said in, what must follow.

Two formats: Home Assistant's intent tests (`tests/en/*.yaml`: sentences with
the intent and slots HA's matcher gives; the expected effect comes from
`oracle`) and the assist datasets (`assist-mini/<home>/*.yaml`: sentences
with a setup and the entity states expected afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.eval.fixtures import FixtureHome, list_name, load_home, state_fields
from agent.eval.oracle import Expect, NotRepresentable, expect_intent


@dataclass
class Case:
    """One sentence to say, in which home and room, and what must follow."""

    suite: str
    key: str  # stable and unique within the suite: "file: sentence"
    sentence: str
    home: FixtureHome
    area: str | None = None  # the room the speaker is in (conversation area)
    setup: dict[str, dict[str, Any]] = field(default_factory=dict)  # device id → fields
    expect: Expect | None = None
    not_representable: str | None = None


@dataclass
class Suite:
    """A named list of cases (possibly over several homes)."""

    name: str
    cases: list[Case]

    def homes(self) -> list[FixtureHome]:
        """The distinct homes its cases are said in, in order."""
        seen: dict[int, FixtureHome] = {}
        for case in self.cases:
            seen.setdefault(id(case.home), case.home)
        return list(seen.values())


def _unique(keys: set[str], key: str) -> str:
    n, candidate = 1, key
    while candidate in keys:
        n += 1
        candidate = f"{key} #{n}"
    keys.add(candidate)
    return candidate


def intent_suite(folder: Path, units: str = "imperial") -> Suite:
    """HA's intent tests for one language (the per-intent template folders are skipped:
    they test sentence templates against placeholder homes)."""
    home = load_home(folder / "_fixtures.yaml", units)
    home.lists.append("Shopping")  # Home Assistant always has its shopping list
    cases: list[Case] = []
    keys: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        data = yaml.safe_load(path.read_text()) or {}
        for test in data.get("tests") or []:
            intent = test.get("intent") or {}
            slots = dict(intent.get("slots") or {})
            context = intent.get("context") or {}
            area = home.area_id(str(context["area"])) if "area" in context else None
            expect: Expect | None = None
            reason: str | None = None
            try:
                expect = expect_intent(home, str(intent.get("name")), slots, test.get("response"))
            except NotRepresentable as err:
                reason = str(err)
            for sentence in test.get("sentences") or []:
                key = _unique(keys, f"{path.stem}: {sentence}")
                cases.append(Case("ha-intents", key, str(sentence), home, area, {}, expect, reason))
    return Suite("ha-intents", cases)


def _expected_fields(domain: str, state: Any, attrs: dict[str, Any], units: str) -> dict[str, Any]:
    """An assist-mini `expect_changes` entry as the fields (and predicates) to check."""
    text = None if state is None else str(state).lower()
    if domain in ("cover", "valve") and text in ("open", "closed"):
        fields: dict[str, Any] = {"is_open": text == "open"}
        if "current_position" in attrs:
            fields["position"] = int(attrs["current_position"])
        return fields
    if domain == "media_player":
        fields = {}
        if text == "off":
            fields["is_quiet"] = True
        elif text in ("playing", "paused"):
            fields["playback"] = text
        volume = attrs.get("volume_level")
        if volume is not None:
            fields["volume" if float(volume) > 0 else "muted"] = (
                round(float(volume) * 100) if float(volume) > 0 else True
            )
        return fields
    if domain == "light":
        fields = {"on": text == "on"}
        if text == "on" and attrs.get("brightness"):
            fields["brightness"] = round(float(attrs["brightness"]) * 100 / 255)
        return fields
    if domain == "fan":
        return {"on": text == "on"}
    if domain == "vacuum" and text:
        return {"activity": text}
    return state_fields(domain, state, {}, units)


def assist_suite(folder: Path) -> Suite:
    """An assist-format dataset: one home per sub-folder, each with its sentences."""
    cases: list[Case] = []
    keys: set[str] = set()
    for home_dir in sorted(p for p in folder.iterdir() if (p / "_fixtures.yaml").exists()):
        units = "imperial" if "-us-" in home_dir.name else "metric"
        home = load_home(home_dir / "_fixtures.yaml", units)
        by_entity = {e.entity_id: e for e in home.entities}
        representable = {e.entity_id for e in home.representable()}
        for path in sorted(home_dir.glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            data = yaml.safe_load(path.read_text()) or {}
            for test in data.get("tests") or []:
                touched = set(test.get("setup") or {}) | set(test.get("expect_changes") or {})
                lacking = sorted(
                    {by_entity[t].domain if t in by_entity else t for t in touched - representable}
                )
                setup = {
                    f"virtual:{entity_id}": state_fields(
                        entity_id.split(".")[0],
                        s.get("state"),
                        s.get("attributes") or {},
                        units,
                    )
                    for entity_id, s in (test.get("setup") or {}).items()
                    if entity_id in representable
                }
                expect = Expect()
                for entity_id, s in (test.get("expect_changes") or {}).items():
                    domain = entity_id.split(".")[0]
                    if domain == "todo" and entity_id in by_entity:
                        # A to-do entity's state is its count of pending items.
                        name = list_name(by_entity[entity_id].name)
                        expect.lists[name] = ("count", int(s.get("state") or 0))
                        continue
                    attrs = dict(s.get("attributes") or {})
                    if "media_track" in attrs:
                        expect.commands[f"virtual:{entity_id}"] = "next"
                        attrs.pop("media_track")
                    for ignored in (test.get("ignore_changes") or {}).get(entity_id, []):
                        attrs.pop(ignored, None)
                    fields = _expected_fields(domain, s.get("state"), attrs, units)
                    if fields:
                        expect.changes[f"virtual:{entity_id}"] = fields
                reason = f"needs {', '.join(lacking)}" if lacking else None
                for sentence in test.get("sentences") or []:
                    key = _unique(keys, f"{home_dir.name}: {sentence}")
                    cases.append(
                        Case("assist-mini", key, str(sentence), home, None, setup, expect, reason)
                    )
    return Suite("assist-mini", cases)
