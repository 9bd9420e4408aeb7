"""What the local fast path plans from a matched sentence: commands on devices, or a
question back; and the media intents' plans (a table of simple ones, then the rest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.devices import Action, Command, Device, Feature
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
