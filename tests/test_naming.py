"""Name resolution: names, aliases, plurals, areas, floors and kinds."""

from __future__ import annotations

import pytest

from agent.bus import Bus
from agent.devices import Device, Feature, Kind
from agent.home import Area, Home


@pytest.fixture
def home() -> Home:
    areas = {
        "kitchen": Area("kitchen", "Kitchen", "downstairs"),
        "living_room": Area("living_room", "Living room", "downstairs", ("lounge",)),
        "bedroom": Area("bedroom", "Bedroom", "upstairs"),
        "study": Area("study", "Study", "upstairs", ("office",)),
        "pool": Area("pool", "Pool", "outside"),
    }
    h = Home(bus=Bus(), areas=areas)
    light = frozenset({Feature.ON_OFF, Feature.BRIGHTNESS})
    rows = [
        ("Kitchen ceiling", "kitchen", Kind.LIGHT, None, ()),
        ("Kitchen pendant", "kitchen", Kind.LIGHT, None, ()),
        ("Living room lamp", "living_room", Kind.LIGHT, None, ("big lamp",)),
        ("Bedroom lamp", "bedroom", Kind.LIGHT, None, ()),
        ("Study lamp", "study", Kind.LIGHT, None, ()),
        ("Thermostat", "living_room", Kind.CLIMATE, "thermostat", ("heating",)),
        ("Pool heater", "pool", Kind.CLIMATE, "pool", ()),
        ("Living room shade", "living_room", Kind.COVER, "shade", ()),
        ("Front door", "living_room", Kind.LOCK, None, ()),
        ("Study", "study", Kind.SPEAKER, None, ()),
    ]
    for i, (name, area, kind, cls, aliases) in enumerate(rows):
        h.add(
            Device(
                id=f"t:{i}",
                name=name,
                kind=kind,
                integration="t",
                area=area,
                features=light,
                device_class=cls,
                aliases=aliases,
            )
        )
    return h


def names(home: Home, text: str) -> list[str]:
    resolution = home.resolve(text)
    assert resolution.ok, resolution.message
    return sorted(d.name for d in resolution.devices)


def test_exact_name_and_alias(home: Home) -> None:
    assert names(home, "Bedroom lamp") == ["Bedroom lamp"]
    assert names(home, "the big lamp") == ["Living room lamp"]
    assert names(home, "heating") == ["Thermostat"]


def test_area_plus_kind_plural_and_singular(home: Home) -> None:
    assert names(home, "kitchen lights") == ["Kitchen ceiling", "Kitchen pendant"]
    assert names(home, "the kitchen light") == ["Kitchen ceiling", "Kitchen pendant"]
    assert names(home, "lounge lights") == ["Living room lamp"]


def test_floors_and_quantifiers(home: Home) -> None:
    assert names(home, "all the lights downstairs") == [
        "Kitchen ceiling",
        "Kitchen pendant",
        "Living room lamp",
    ]
    assert names(home, "upstairs lights") == ["Bedroom lamp", "Study lamp"]


def test_kind_with_device_class_preference(home: Home) -> None:
    assert names(home, "the thermostat") == ["Thermostat"]
    assert names(home, "the pool heater") == ["Pool heater"]


def test_kind_filter_separates_same_names(home: Home) -> None:
    resolution = home.resolve("study", kind=Kind.SPEAKER)
    assert [d.name for d in resolution.devices] == ["Study"]


def test_no_such_device(home: Home) -> None:
    resolution = home.resolve("the garage sauna")
    assert resolution.status == "none"
    assert "garage sauna" in resolution.message


def test_which_one(home: Home) -> None:
    resolution = home.resolve("the light")
    assert resolution.status == "ambiguous"
    assert "Which one" in resolution.message
    assert len(resolution.devices) == 5


def test_everything(home: Home) -> None:
    assert len(home.resolve("everything").devices) == 10
    assert len(home.resolve("all the lights").devices) == 5
