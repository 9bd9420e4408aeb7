"""The owner's home as a sandbox, and scenarios generated from its device graph.

`owner_home` copies the names, areas and kinds of the devices homeclaw knows
(the `device_registry` table, read-only) into a `FixtureHome` of virtual
devices: `homeclaw eval` never touches a real device. `scenarios` writes what a
person would say to that home ("turn off the porch light", "set the
thermostat to 70 degrees", "is the desk lamp on?") with the state each must
leave behind, as `Case`s the public suites' judge already knows how to judge.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

from agent.brain.vocab import to_celsius
from agent.devices import Kind
from agent.eval.fixtures import Entity, FixtureHome, slug
from agent.eval.oracle import Expect
from agent.eval.suites import Case, Suite

SUITE = "generated"
# How many devices of one kind get sentences (a 200-device home stays a short run).
PER_KIND = 3
ACTING_KINDS = (Kind.LIGHT, Kind.SWITCH, Kind.FAN, Kind.COVER, Kind.CLIMATE, Kind.LOCK)


def owner_home(database: Path, areas: dict[str, Any], units: str) -> FixtureHome:
    """The devices homeclaw has seen (names, areas, kinds) as virtual devices."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT id, name, area, kind FROM device_registry ORDER BY name"
        ).fetchall()
    return home_of([(str(i), str(n), a, str(k)) for i, n, a, k in rows], areas, units)


def home_of(
    devices: list[tuple[str, str, str | None, str]], areas: dict[str, Any], units: str
) -> FixtureHome:
    """A sandbox home from (id, name, area, kind) rows."""
    entities = []
    used: set[str] = set()
    for device_id, name, area, kind in devices:
        try:
            known = Kind(kind)
        except ValueError:
            continue
        entity_id = slug(device_id.replace(":", "_"))
        if entity_id in used:
            continue
        used.add(entity_id)
        entities.append(Entity(entity_id, name, area, {}, None, known, {}))
    area_map: dict[str, dict[str, Any]] = {}
    for area in sorted({e.area for e in entities if e.area}):
        given = areas.get(area)
        config: dict[str, Any] = given if isinstance(given, dict) else {}
        entry: dict[str, Any] = {"name": config.get("name") or area.replace("_", " ").title()}
        if config.get("floor"):
            entry["floor"] = config["floor"]
        area_map[area] = entry
    return FixtureHome(units, area_map, {}, entities)


def _case(
    home: FixtureHome, key: str, sentence: str, setup: dict[str, dict[str, Any]], expect: Expect
) -> Case:
    return Case(SUITE, key, sentence, home, None, setup, expect)


def scenarios(home: FixtureHome) -> Suite:
    """What a person would say to this home, with the state each sentence must leave."""
    cases: list[Case] = []
    by_kind: dict[Kind, list[Entity]] = defaultdict(list)
    for entity in home.representable():
        if entity.kind is not None:
            by_kind[entity.kind].append(entity)
    for kind in ACTING_KINDS:
        for e in by_kind.get(kind, [])[:PER_KIND]:
            cases.extend(_for_device(home, e))
    for e in by_kind.get(Kind.SPEAKER, [])[:PER_KIND]:
        cases.append(
            _case(
                home,
                f"media: pause {e.name}",
                f"pause the {e.name}",
                {e.device_id: {"playback": "playing"}},
                Expect(changes={e.device_id: {"is_quiet": True}}),
            )
        )
    rooms: dict[str, list[Entity]] = defaultdict(list)
    for e in by_kind.get(Kind.LIGHT, []):
        if e.area:
            rooms[e.area].append(e)
    for area, lights in sorted(rooms.items()):
        if len(lights) < 2 or len([c for c in cases if c.key.startswith("rooms")]) >= PER_KIND:
            continue
        name = home.areas[area]["name"]
        cases.append(
            _case(
                home,
                f"rooms: {name} lights off",
                f"turn off the lights in the {name}",
                {e.device_id: {"on": True, "brightness": 80} for e in lights},
                Expect(changes={e.device_id: {"on": False} for e in lights}),
            )
        )
    for e in by_kind.get(Kind.LIGHT, [])[:PER_KIND]:
        cases.append(
            _case(
                home,
                f"questions: is {e.name} on",
                f"is the {e.name} on?",
                {e.device_id: {"on": True, "brightness": 60}},
                Expect(question=True, answer=f"Yes, {e.name} is on"),
            )
        )
    return Suite(SUITE, cases)


def category(case: Case) -> str:
    """The report line a case counts in: its kind for generated ones, else the suite."""
    if case.suite == SUITE:
        return case.key.split(":", 1)[0]
    return case.suite


def _for_device(home: FixtureHome, e: Entity) -> list[Case]:
    d = e.device_id
    if e.kind in (Kind.LIGHT, Kind.SWITCH, Kind.FAN):
        group = "lights" if e.kind == Kind.LIGHT else "switches"
        cases = [
            _case(home, f"{group}: on {e.name}", f"turn on the {e.name}",
                  {d: {"on": False}}, Expect(changes={d: {"on": True}})),
            _case(home, f"{group}: off {e.name}", f"turn off the {e.name}",
                  {d: {"on": True}}, Expect(changes={d: {"on": False}})),
        ]  # fmt: skip
        if e.kind == Kind.LIGHT:
            cases.append(
                _case(home, f"lights: dim {e.name}", f"set the {e.name} to 30%",
                      {d: {"on": True, "brightness": 90}},
                      Expect(changes={d: {"on": True, "brightness": 30}}))
            )  # fmt: skip
        return cases
    if e.kind == Kind.COVER:
        return [
            _case(home, f"covers: open {e.name}", f"open the {e.name}",
                  {d: {"position": 0}}, Expect(changes={d: {"is_open": True}})),
            _case(home, f"covers: close {e.name}", f"close the {e.name}",
                  {d: {"position": 100}}, Expect(changes={d: {"is_open": False}})),
        ]  # fmt: skip
    if e.kind == Kind.CLIMATE:
        degrees = 70 if home.units == "imperial" else 21
        return [
            _case(home, f"climate: set {e.name}", f"set the {e.name} to {degrees} degrees",
                  {d: {"target_temperature_c": to_celsius(degrees - 4, home.units)}},
                  Expect(changes={d: {"target_temperature_c": to_celsius(degrees, home.units)}}))
        ]  # fmt: skip
    if e.kind == Kind.LOCK:
        return [
            _case(home, f"locks: lock {e.name}", f"lock the {e.name}",
                  {d: {"locked": False, "lock_state": "unlocked"}},
                  Expect(changes={d: {"locked": True}}))
        ]  # fmt: skip
    return []
