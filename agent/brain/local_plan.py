"""What the local fast path plans from a matched sentence: commands on devices, or a
question back; and the media intents' plans (a table of simple ones, then the rest)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.devices import Action, Command, Device, Feature, Kind
from agent.errors import HomeError


class Unclear(Exception):
    """The match cannot be acted on confidently: hand over (or ask back)."""

    def __init__(self, message: str, question: bool = False, room: bool = False) -> None:
        super().__init__(message)
        self.question = question
        # The sentence needs the speaker's room and none is known: ask which room.
        self.room = room


class CannotDo(Exception):
    """Understood, but the devices can't do it ("Porch light can't show colours")."""


@dataclass
class Plan:
    """What a matched sentence asks for: commands on devices, or a question."""

    intent: str
    devices: list[Device]
    commands: list[Command] = field(default_factory=list)
    query: str | None = None
    state: Any = None
    target_text: str = ""
    # The room a question is about, when nothing there can answer it.
    area: str | None = None
    # A device's own command where they differ ("brighter" from each one's level).
    per_device: dict[str, Command] = field(default_factory=dict)

    def groups(self) -> list[tuple[list[Device], Command]]:
        """Devices grouped by the command each gets (its own, else the first it supports)."""
        grouped: dict[str, tuple[list[Device], Command]] = {}
        for device in self.devices:
            command = self.per_device.get(device.id) or next(
                (c for c in self.commands if device.supports(c)), self.commands[0]
            )
            key = repr(command.to_json())
            grouped.setdefault(key, ([], command))[0].append(device)
        return list(grouped.values())


def plan_media(
    intent: str, devices: list[Device], entity: Callable[[str], Any], target_text: str
) -> Plan:
    """The plan for a media intent on the speakers it targets."""
    simple = {
        "HassMediaPause": Command(action=Action.PAUSE),
        "HassMediaUnpause": Command(action=Action.PLAY),
        "HassMediaNext": Command(action=Action.NEXT),
        "HassMediaPrevious": Command(action=Action.PREVIOUS),
        "HassMediaPlayerMute": Command(action=Action.MUTE, muted=True),
        "HassMediaPlayerUnmute": Command(action=Action.MUTE, muted=False),
    }
    if intent in simple:
        return Plan(intent, devices, [simple[intent]], target_text=target_text)
    if intent == "HassMediaSearchAndPlay":
        from agent.brain.device_tools import pick_favourite

        able = [d for d in devices if Feature.PLAY_MEDIA in d.features]
        try:
            media = pick_favourite(able, str(entity("search_query")))
        except HomeError as err:
            raise Unclear(str(err)) from None
        return Plan(
            intent,
            able,
            [Command(action=Action.PLAY_MEDIA, media=media)],
            target_text=target_text,
        )
    if intent == "HassSetVolume":
        level = int(entity("volume_level"))
        return Plan(
            intent,
            devices,
            [Command(action=Action.SET_VOLUME, volume=level)],
            target_text=target_text,
        )
    if intent == "HassSetVolumeRelative":
        step = entity("volume_step")
        delta = 10 if step == "up" else -10 if step == "down" else int(step)
        per_device = {
            d.id: Command(
                action=Action.SET_VOLUME, volume=max(0, min(100, (d.state.volume or 0) + delta))
            )
            for d in devices
        }
        if not per_device:
            raise Unclear("no speakers")
        first = per_device[devices[0].id]
        return Plan(intent, devices, [first], target_text=target_text, per_device=per_device)
    raise Unclear(f"intent {intent}")


# A request that starts with a high-risk verb, after politeness: "can you open the
# garage for the car", "please unlock the back door now". English only; other
# languages rely on the community sentences (and the dashboard).
_POLITE = r"(?:(?:hey|hi|ok|okay)\s+)?(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+)?"
_HIGH_RISK_VERB = re.compile(
    rf"^\s*{_POLITE}(?:please\s+)?(unlock|open|raise|disarm)\s+(.+)$", re.IGNORECASE
)
# Where the target phrase ends: a reason, a time, a second request.
_TARGET_END = re.compile(
    r"[,.;!?]|\b(for|because|so|since|then|and|but|please|now|when|if|before|after|"
    r"right|asap|quickly)\b",
    re.IGNORECASE,
)
_VERB_ACTIONS: dict[str, tuple[Action, frozenset[Kind]]] = {
    "unlock": (Action.UNLOCK, frozenset({Kind.LOCK})),
    "open": (Action.OPEN, frozenset({Kind.COVER, Kind.VALVE})),
    "raise": (Action.OPEN, frozenset({Kind.COVER})),
    "disarm": (Action.DISARM, frozenset({Kind.ALARM})),
}


def plan_imperative(
    text: str, resolve: Callable[[str, Kind], list[Device]]
) -> tuple[list[Device], list[Command]] | None:
    """The devices and commands of a request that starts with unlock/open/disarm, if any.

    `resolve` is the Home's own name resolution; the verb, not a model, picks the action.
    """
    match = _HIGH_RISK_VERB.match(text)
    if match is None:
        return None
    target = _TARGET_END.split(match.group(2), maxsplit=1)[0].strip()
    if not target:
        return None
    action, kinds = _VERB_ACTIONS[match.group(1).lower()]
    for kind in sorted(kinds):
        devices = resolve(target, kind)
        if devices and all(d.kind == kind for d in devices):
            break
    else:
        return None
    commands = [Command(action=action)]
    if action == Action.OPEN:
        commands.append(Command(action=Action.SET_POSITION, position=100))
    return devices, commands
