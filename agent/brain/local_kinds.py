"""The local fast path for robot vacuums and valves: which intents and extra
phrasings it adds ("start Roborock Downstairs", "return the vacuum to base",
"open the front yard valve") and the commands they plan.

Kept apart from the general sentence data so each kind's phrases live in one
place; `LocalPath` merges them in when it loads and hands these intents here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.brain.local_plan import Plan, Unclear
from agent.devices import Action, Command, Device, Kind

if TYPE_CHECKING:
    from hassil import RecognizeResult

Targets = Callable[["RecognizeResult", "set[Kind] | None"], list[Device]]

# Intents of the community sentences, and our own, that end here.
VACUUM_COMMANDS: dict[str, Command] = {
    "HassVacuumStart": Command(action=Action.START),
    "HassVacuumCleanArea": Command(action=Action.START),
    "HassVacuumReturnToBase": Command(action=Action.RETURN_TO_BASE),
    "HomeclawVacuumPause": Command(action=Action.PAUSE),
    "HomeclawVacuumStop": Command(action=Action.STOP),
}
KIND_INTENTS = frozenset(VACUUM_COMMANDS)
# Kinds "open"/"close" (and HassTurnOn/Off) move rather than switch.
OPENABLE = frozenset({Kind.COVER, Kind.VALVE})

_VACUUM = "(vacuum [cleaner]|robot [vacuum]|hoover|roomba)"
_BASE = "[(its|the)] (base|dock|charger|charging station)"
_VALVE = "(valve|valves|water|irrigation|sprinkler|sprinklers)"
_PERCENT = "{position}[([ ]%)| percent]"

# Phrasings the community sentences lack (English), merged into their intents.
KIND_SENTENCES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "en": {
        "HassVacuumStart": [
            {
                "sentences": [
                    f"(start|run) [<the>] {_VACUUM}",
                    f"(start|run) [<the>] {_VACUUM} <in> [<the>] {{area}}",
                    f"(start|run) [<the>] {{area}} {_VACUUM}",
                    "start vacuuming",
                ],
                "slots": {"domain": "vacuum"},
            },
            {
                "sentences": [
                    f"(start|run) [<the>] {{name}} {_VACUUM}",
                    "(run|resume) [<the>] {name}",
                ],
                "requires_context": {"domain": ["vacuum"]},
            },
        ],
        "HassVacuumReturnToBase": [
            {
                "sentences": [
                    f"return [<the>] {_VACUUM} [<in> [<the>] {{area}}] [to {_BASE}]",
                    f"send [<the>] {_VACUUM} [<in> [<the>] {{area}}] "
                    f"(home|back [to {_BASE}]|to {_BASE})",
                    f"dock [<the>] {_VACUUM} [<in> [<the>] {{area}}]",
                ],
                "slots": {"domain": "vacuum"},
            },
            {
                "sentences": [
                    f"return [<the>] {{name}} {_VACUUM} [to {_BASE}]",
                    f"send [<the>] {{name}} [{_VACUUM}] (home|back [to {_BASE}]|to {_BASE})",
                    f"dock [<the>] {{name}} [{_VACUUM}]",
                ],
                "requires_context": {"domain": ["vacuum"]},
            },
        ],
        "HomeclawVacuumPause": [
            {
                "sentences": [f"pause [<the>] {_VACUUM} [<in> [<the>] {{area}}]"],
                "slots": {"domain": "vacuum"},
            },
            {
                "sentences": [f"pause [<the>] {{name}} [{_VACUUM}]"],
                "requires_context": {"domain": ["vacuum"]},
            },
        ],
        "HomeclawVacuumStop": [
            {
                "sentences": [f"stop [<the>] {_VACUUM} [<in> [<the>] {{area}}]"],
                "slots": {"domain": "vacuum"},
            },
            {
                "sentences": [f"stop [<the>] {{name}} [{_VACUUM}]"],
                "requires_context": {"domain": ["vacuum"]},
            },
        ],
        "HassGetState": [
            {
                "sentences": [
                    f"(what is|what's|whats) [<the>] {_VACUUM} doing",
                    f"<what_is> [the] (state|status) of [<the>] {_VACUUM}",
                    f"where is [<the>] {_VACUUM}",
                ],
                "slots": {"domain": "vacuum"},
                "response": "one",
            },
            {
                "sentences": [
                    "(what is|what's|whats) [<the>] {name} doing",
                    "<what_is> [the [current] (state|status) of] [<the>] {name}",
                    "where is [<the>] {name}",
                ],
                "requires_context": {"domain": ["vacuum"]},
                "response": "one",
            },
        ],
        "HassTurnOn": [
            {
                "sentences": [
                    f"<open> [<the>] {{area}} {_VALVE}",
                    f"<open> [<the>] {_VALVE} <in> [<the>] {{area}}",
                    f"turn on [<the>] {{area}} {_VALVE}",
                ],
                "slots": {"domain": "valve"},
            },
        ],
        "HassTurnOff": [
            {
                "sentences": [
                    f"<close> [<the>] {{area}} {_VALVE}",
                    f"<close> [<the>] {_VALVE} <in> [<the>] {{area}}",
                    f"turn off [<the>] {{area}} {_VALVE}",
                ],
                "slots": {"domain": "valve"},
            },
        ],
        "HassSetPosition": [
            {
                "sentences": [
                    f"(<numeric_value_set>|<open>|<close>) [<the>] {{area}} {_VALVE} to {_PERCENT}",
                    f"(<numeric_value_set>|<open>|<close>) [<the>] {_VALVE} <in> [<the>] {{area}} "
                    f"to {_PERCENT}",
                ],
                "slots": {"domain": "valve"},
            },
        ],
    }
}


def merge_sentences(data: dict[str, Any], language: str) -> dict[str, Any]:
    """The sentence data with this module's phrasings added (new intents created)."""
    intents = dict(data["intents"])
    for intent, extra in KIND_SENTENCES.get(language, {}).items():
        known = intents.get(intent, {"data": []})
        intents[intent] = {**known, "data": [*known["data"], *extra]}
    return {**data, "intents": intents}


def plan_vacuum(intent: str, result: RecognizeResult, targets: Targets, target_text: str) -> Plan:
    """The plan for a vacuum intent: one named or placed vacuum, or ask which."""
    devices = targets(result, {Kind.VACUUM})
    devices = [d for d in devices if d.kind == Kind.VACUUM]
    if not devices:
        raise Unclear("no vacuum there")
    named = any(k in result.entities for k in ("name", "area", "floor"))
    if len(devices) > 1 and not named:
        # "Start the vacuum" with two robots: which one is a real question.
        raise Unclear(", ".join(d.name for d in devices), question=True)
    return Plan(intent, devices, [VACUUM_COMMANDS[intent]], target_text=target_text)


def on_off_vacuum(on: bool, devices: list[Device]) -> list[Command] | None:
    """What "turn on/off" means for vacuums (start, back to base); None for other kinds."""
    if not devices or any(d.kind != Kind.VACUUM for d in devices):
        return None
    return [Command(action=Action.START if on else Action.RETURN_TO_BASE)]
