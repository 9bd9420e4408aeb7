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

    def __init__(self, message: str, question: bool = False) -> None:
        super().__init__(message)
        self.question = question


@dataclass
class Plan:
    """What a matched sentence asks for: commands on devices, or a question."""

    intent: str
    devices: list[Device]
    commands: list[Command] = field(default_factory=list)
    query: str | None = None
    state: Any = None
    target_text: str = ""


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
        plans = [
            Command(
                action=Action.SET_VOLUME, volume=max(0, min(100, (d.state.volume or 0) + delta))
            )
            for d in devices[:1]
        ]
        if len(devices) > 1 or not plans:
            raise Unclear("relative volume on several speakers")
        return Plan(intent, devices, plans, target_text=target_text)
    raise Unclear(f"intent {intent}")
