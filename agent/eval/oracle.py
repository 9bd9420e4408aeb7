"""What a Home Assistant intent (name + slots) should do in a fixture home.

The intent suite states, for each sentence, the intent and slots HA's own
matcher produces. We do not compare intent names: we work out which devices
that intent targets and what their state must be afterwards (or, for a
question, what the answer must say), and judge homeclaw by that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.brain.vocab import COLORS, to_celsius
from agent.eval.fixtures import Entity, FixtureHome, has_lists, slug

# Intents homeclaw has no counterpart for (no timers, weather, clock, broadcast...).
OUT_OF_SCOPE = {
    "HassBroadcast": "no broadcast to satellites",
    "HassCancelAllTimers": "no timers",
    "HassCancelTimer": "no timers",
    "HassDecreaseTimer": "no timers",
    "HassIncreaseTimer": "no timers",
    "HassPauseTimer": "no timers",
    "HassUnpauseTimer": "no timers",
    "HassStartTimer": "no timers",
    "HassTimerStatus": "no timers",
    "HassGetCurrentDate": "no clock questions on the local path",
    "HassGetCurrentTime": "no clock questions on the local path",
    "HassGetWeather": "no weather entities",
    "HassNevermind": "no-op intent",
    "HassRespond": "no-op intent",
}
QUESTIONS = {"HassGetState", "HassClimateGetTemperature"}
# The domains an intent acts on when its slots name none (HA's own requirements).
IMPLIED_DOMAINS = {
    "HassLightSet": ["light"],
    "HassClimateSetTemperature": ["climate"],
    "HassClimateGetTemperature": ["climate", "sensor"],
    "HassSetPosition": ["cover", "valve"],
    "HassMediaPause": ["media_player"],
    "HassMediaUnpause": ["media_player"],
    "HassMediaNext": ["media_player"],
    "HassMediaPrevious": ["media_player"],
    "HassSetVolume": ["media_player"],
    "HassMediaSearchAndPlay": ["media_player"],
    "HassVacuumStart": ["vacuum"],
    "HassVacuumReturnToBase": ["vacuum"],
}


@dataclass
class Expect:
    """What must be true after a sentence: device fields, commands sent, or an answer."""

    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    answer: str | None = None
    question: bool = False
    # List name → ("added", item) / ("done", item) / ("count", pending items).
    lists: dict[str, tuple[str, Any]] = field(default_factory=dict)
    # Items a list holds before the sentence (to tick one off).
    seed: dict[str, list[str]] = field(default_factory=dict)


class NotRepresentable(Exception):
    """The sentence needs something homeclaw's home cannot hold."""


def targets(home: FixtureHome, slots: dict[str, Any]) -> list[Entity]:
    """The fixture entities an intent's slots name (HA's matching rules, simplified)."""
    found = list(home.entities)
    if "name" in slots:
        wanted = slug(str(slots["name"]))
        found = [e for e in found if slug(e.name) == wanted]
    if "area" in slots:
        area = home.area_id(str(slots["area"]))
        found = [e for e in found if e.area == area]
    if "floor" in slots:
        floor = home.floors.get(str(slots["floor"]).lower())
        in_floor = {i for i, a in home.areas.items() if a.get("floor") == floor}
        found = [e for e in found if e.area in in_floor]
    if "domain" in slots:
        domains = slots["domain"] if isinstance(slots["domain"], list) else [slots["domain"]]
        found = [e for e in found if e.domain in domains]
    if "device_class" in slots:
        classes = slots["device_class"]
        classes = classes if isinstance(classes, list) else [classes]
        found = [e for e in found if e.device_class in classes]
    return found


def _on_off(entity: Entity, on: bool) -> dict[str, Any]:
    domain = entity.domain
    if domain in ("light", "switch", "fan"):
        return {"on": on}
    if domain in ("cover", "valve"):
        return {"position": 100 if on else 0}
    if domain == "lock":
        return {"locked": on}
    if domain == "media_player":
        return {"playback": "playing" if on else "paused"}
    raise NotRepresentable(f"turning {domain} on/off")


def expect_intent(home: FixtureHome, intent: str, slots: dict[str, Any], response: str) -> Expect:
    """The expected outcome of one intent in this home; NotRepresentable when it has none."""
    if intent in OUT_OF_SCOPE:
        raise NotRepresentable(OUT_OF_SCOPE[intent])
    if intent in LIST_INTENTS:
        return _list_intent(home, intent, slots)
    if "domain" not in slots and intent in IMPLIED_DOMAINS:
        slots = {**slots, "domain": IMPLIED_DOMAINS[intent]}
    found = targets(home, slots)
    missing = [e for e in found if e not in home.representable()]
    if missing:
        kinds = sorted({e.domain for e in missing})
        raise NotRepresentable(f"needs {', '.join(kinds)}")
    if intent in QUESTIONS:
        return Expect(answer=response, question=True)
    if not found:
        raise NotRepresentable("names nothing in the fixture home")
    by_id: dict[str, dict[str, Any]] = {}
    commands: dict[str, str] = {}
    for e in found:
        if intent in ("HassTurnOn", "HassTurnOff"):
            by_id[e.device_id] = _on_off(e, intent == "HassTurnOn")
        elif intent == "HassLightSet":
            by_id[e.device_id] = _light_set(slots)
        elif intent == "HassClimateSetTemperature":
            celsius = to_celsius(float(slots["temperature"]), home.units)
            by_id[e.device_id] = {"target_temperature_c": celsius}
        elif intent == "HassSetPosition":
            by_id[e.device_id] = {"position": int(slots["position"])}
        elif intent == "HassMediaPause":
            by_id[e.device_id] = {"playback": "paused"}
        elif intent == "HassMediaUnpause":
            by_id[e.device_id] = {"playback": "playing"}
        elif intent in ("HassMediaNext", "HassMediaPrevious"):
            commands[e.device_id] = "next" if intent == "HassMediaNext" else "previous"
        elif intent == "HassSetVolume":
            by_id[e.device_id] = {"volume": int(slots["volume_level"])}
        elif intent == "HassMediaSearchAndPlay":
            by_id[e.device_id] = {"playback": "playing", "media_title": str(slots["search_query"])}
        elif intent == "HassVacuumStart":
            by_id[e.device_id] = {"activity": "cleaning"}
        elif intent == "HassVacuumReturnToBase":
            by_id[e.device_id] = {"activity": "returning"}
        else:
            raise NotRepresentable(f"intent {intent}")
    return Expect(changes=by_id, commands=commands)


LIST_INTENTS = {
    "HassListAddItem",
    "HassListCompleteItem",
    "HassShoppingListAddItem",
    "HassShoppingListCompleteItem",
}


def _list_intent(home: FixtureHome, intent: str, slots: dict[str, Any]) -> Expect:
    """Adding to or ticking off a list: the item must be there (or done) afterwards."""
    if not has_lists():
        raise NotRepresentable("needs lists")
    wanted = slug(str(slots.get("name", "shopping")).replace("'", ""))
    name = next((n for n in home.lists if slug(n.replace("'", "")) == wanted), None)
    if name is None:
        raise NotRepresentable("names a list the fixture home lacks")
    item = str(slots["item"])
    if "Complete" in intent:
        return Expect(lists={name: ("done", item)}, seed={name: [item]})
    return Expect(lists={name: ("added", item)})


def _light_set(slots: dict[str, Any]) -> dict[str, Any]:
    if "brightness" in slots:
        level = int(slots["brightness"])
        return {"on": level > 0, "brightness": level} if level else {"on": False}
    if "color" in slots:
        name = str(slots["color"])
        if name not in COLORS:
            raise NotRepresentable(f"colour {name}")
        return {"on": True, "color": COLORS[name]}
    if "temperature" in slots:
        return {"on": True, "color_temp_k": int(slots["temperature"])}
    raise NotRepresentable("light setting")
