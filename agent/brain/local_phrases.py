"""More English phrasings for the local fast path, kept apart from the community
sentences: speakers named by their room plus "speaker" ("pause the living room
speaker"), and thermostats' heat/cool ranges ("set the heat to 68 and the cooling
to 76"), which the community sentences do not cover, with the plan for the latter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.brain.climate import heat_or_cool_command, range_command
from agent.brain.local_plan import Plan, Unclear
from agent.devices import Device, Feature, Kind

# Our own intent: hassil matches it like the community ones; `plan_range` acts on it.
RANGE_INTENT = "HomeclawClimateSetRange"

EXPANSION_RULES = {
    "hc_speaker": "(speaker[s]|player[s]|music|sonos|tv)",
    "hc_degrees": "[degrees|°|° F|° C|F|C]",
    "hc_heat": "(heat|heating|heater)",
    "hc_cool": "(cool|cooling|ac|a c|air conditioning|air conditioner)",
}

_PERCENT = "{volume:volume_level}[([ ]%)| percent]"
_MEDIA: dict[str, list[str]] = {
    "HassMediaPause": ["(pause|stop) [<the>] {target} <hc_speaker>"],
    "HassMediaUnpause": ["(resume|unpause|continue) [<the>] {target} [<hc_speaker>]"],
    "HassMediaPlayerMute": ["mute [<the>] {target} <hc_speaker>"],
    "HassMediaPlayerUnmute": ["unmute [<the>] {target} <hc_speaker>"],
    "HassMediaNext": [
        "(skip|next) [the|this] [track|song] (on|in) [<the>] {target} [<hc_speaker>]",
        "skip [<the>] {target} <hc_speaker> [to the next (track|song)]",
    ],
    "HassSetVolume": [
        "<numeric_value_set> [<the>] volume (of|on|for|in) [<the>] {target} [<hc_speaker>] "
        f"to {_PERCENT}",
        f"<numeric_value_set> [<the>] {{target}} <hc_speaker> [volume] to {_PERCENT}",
    ],
}

_RANGE_SENTENCES = [
    "[<set>] [<the>] [{name} ]<hc_heat> [setpoint] to {temperature:heat} <hc_degrees> and "
    "[<set>] [<the>] <hc_cool> [setpoint] to {temperature:cool} <hc_degrees>",
    "<set> [<the>] {name} to <hc_heat> [to] {temperature:heat} <hc_degrees> and <hc_cool> [to] "
    "{temperature:cool} <hc_degrees>",
    "(keep|<set>) [<the>] {name} between {temperature:heat} and {temperature:cool} <hc_degrees>",
    "<set> [<the>] [{name} ]<hc_heat> [setpoint] to {temperature:heat} <hc_degrees>",
    "<set> [<the>] [{name} ]<hc_cool> [setpoint] to {temperature:cool} <hc_degrees>",
]


def sentence_data() -> dict[str, Any]:
    """Intent blocks to add (intent → list of hassil data blocks), plus expansion rules."""
    intents: dict[str, list[dict[str, Any]]] = {}
    for intent, templates in _MEDIA.items():
        intents[intent] = [
            {
                "sentences": [t.replace("{target}", "{area}") for t in templates],
                "slots": {"domain": "media_player"},
            },
            {
                "sentences": [t.replace("{target}", "{name}") for t in templates],
                "requires_context": {"domain": ["media_player"]},
            },
        ]
    intents[RANGE_INTENT] = [{"sentences": _RANGE_SENTENCES}]
    return {"intents": intents, "expansion_rules": EXPANSION_RULES}


def add_to(data: dict[str, Any]) -> dict[str, Any]:
    """The community sentence data with these phrasings added (English only)."""
    extra = sentence_data()
    intents = dict(data["intents"])
    for intent, blocks in extra["intents"].items():
        known = intents.get(intent, {"data": []})
        intents[intent] = {**known, "data": [*known["data"], *blocks]}
    rules = {**data.get("expansion_rules", {}), **extra["expansion_rules"]}
    return {**data, "intents": intents, "expansion_rules": rules}


def plan_range(
    devices_named: Callable[[], list[Device]],
    all_climate: list[Device],
    entity: Callable[[str], Any],
    units: str,
    target_text: str,
) -> Plan:
    """ "heat to 68 and cool to 76" on the named thermostat, or the home's only one that fits."""
    heat, cool = entity("heat"), entity("cool")
    named = entity("name") is not None
    devices = devices_named() if named else all_climate
    devices = [d for d in devices if d.kind == Kind.CLIMATE]
    if heat is not None and cool is not None and not named:
        devices = [d for d in devices if Feature.TARGET_TEMPERATURE_RANGE in d.features]
    if not devices:
        raise Unclear("no thermostat takes a heat/cool range")
    if len(devices) > 1:
        raise Unclear(", ".join(d.name for d in devices), question=True)
    device = devices[0]
    if heat is not None and cool is not None:
        command = range_command(float(heat), float(cool), units)
    else:
        which = "heat" if heat is not None else "cool"
        command = heat_or_cool_command(
            device, which, float(heat if heat is not None else cool), units
        )
    return Plan(RANGE_INTENT, devices, [command], target_text=target_text)
