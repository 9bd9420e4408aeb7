"""The local fast path: Home Assistant's sentence matcher (hassil) and its
community sentences (home-assistant-intents), with slot lists built from the
Home, so simple commands run in milliseconds with no LLM.

It covers on/off, brightness, colour, colour temperature, thermostat setpoints,
cover positions, lock state questions, media pause/resume/next/volume and
device-state questions, and answers with the soul's short replies. It returns
None (hand over to the LLM) when nothing matches or the target is unclear.
Other components add their own phrases with `register_phrases` (routine
triggers like "sleepy time"); those are matched first.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hassil import Intents, TextSlotList, TextSlotValue, recognize_best
from hassil.expression import TextChunk

from agent.brain.local_answers import answer_state, answer_temperature, describe_action
from agent.brain.local_data import (
    EXTRA_SENTENCES,
    HANDLED,
    KINDS_OF_DOMAIN,
    domain_of,
    plain,
    tool_for,
)
from agent.brain.local_kinds import (
    KIND_INTENTS,
    OPENABLE,
    merge_sentences,
    on_off_vacuum,
    plan_vacuum,
)
from agent.brain.local_plan import Plan, Unclear, plan_media
from agent.brain.reply import Reply, action_record
from agent.devices import Action, Command, Device, Feature, Kind
from agent.errors import AmbiguousTarget, HomeError, NoSuchDevice
from agent.naming import normalise

if TYPE_CHECKING:
    from hassil import RecognizeResult

    from agent.brain.prompt import Soul
    from agent.brain.tools import ToolContext
    from agent.bus import InboundMessage
    from agent.home import Home

log = logging.getLogger(__name__)

PhraseHandler = Callable[["InboundMessage", "ToolContext"], Awaitable[Reply]]


@dataclass
class _Phrases:
    handler: PhraseHandler
    phrases: list[str]


class LocalPath:
    """Understands simple commands without an LLM."""

    def __init__(
        self, home: Home, soul: Soul, *, language: str = "en", units: str = "metric"
    ) -> None:
        self.home = home
        self.soul = soul
        self.language = language
        self.units = units
        self._intents: Intents | None = None
        self._skip_words: list[str] = []
        self._lists: dict[str, Any] = {}
        self._lists_key: Any = None
        # Spoken name -> device ids. Never Device objects: Home replaces a device's
        # object on every state change, so a cached one answers with a stale state.
        self._by_name: dict[str, list[str]] = {}
        self._phrases: dict[str, _Phrases] = {}
        self._phrase_index: dict[str, str] = {}
        self._floors: dict[str, set[str]] = {}

    # -- building ------------------------------------------------------------------

    def load(self) -> bool:
        """Load the sentence data for the language (once); False when unavailable."""
        if self._intents is not None:
            return True
        from home_assistant_intents import get_intents

        data = get_intents(self.language)
        if data is None:
            log.warning(
                "no local sentences for language %r; everything goes to the LLM", self.language
            )
            return False
        data = merge_sentences(data, self.language)
        wanted = HANDLED | KIND_INTENTS
        data = {**data, "intents": {k: v for k, v in data["intents"].items() if k in wanted}}
        for intent, extra in EXTRA_SENTENCES.get(self.language, {}).items():
            if intent in data["intents"]:
                data["intents"][intent] = {
                    **data["intents"][intent],
                    "data": [*data["intents"][intent]["data"], *extra],
                }
        self._intents = Intents.from_dict(data)
        self._skip_words = list(data.get("skip_words", []))
        # The first match compiles the templates; do it now, not on the owner's time.
        self._refresh_lists()
        recognize_best(
            "turn on the light", self._intents, slot_lists=self._lists, language=self.language
        )
        return True

    def register_phrases(
        self, intent_name: str, phrases: list[str], handler: PhraseHandler
    ) -> None:
        """Add custom phrases (matched before everything else) with their handler."""
        cleaned = [plain(p) for p in phrases if plain(p)]
        if not cleaned:
            raise ValueError(f"no usable phrases for {intent_name}")
        self.unregister_phrases(intent_name)
        self._phrases[intent_name] = _Phrases(handler, cleaned)
        for phrase in cleaned:
            self._phrase_index[phrase] = intent_name

    def unregister_phrases(self, intent_name: str) -> None:
        """Remove custom phrases added earlier."""
        entry = self._phrases.pop(intent_name, None)
        if entry is not None:
            for phrase in entry.phrases:
                if self._phrase_index.get(phrase) == intent_name:
                    del self._phrase_index[phrase]

    def _refresh_lists(self) -> None:
        devices = self.home.devices()
        key = (
            tuple((d.id, d.name, d.aliases, d.area, d.kind, d.device_class) for d in devices),
            tuple(sorted((a.id, a.name, a.floor, a.aliases) for a in self.home.areas.values())),
        )
        if key == self._lists_key:
            return
        names: list[TextSlotValue] = []
        by_name: dict[str, list[str]] = {}
        for device in devices:
            for text in dict.fromkeys((device.name, *device.aliases)):
                spoken = normalise(text)
                if not spoken:
                    continue
                by_name.setdefault(spoken, []).append(device.id)
                names.append(
                    TextSlotValue(TextChunk(spoken), spoken, {"domain": domain_of(device)})
                )
        areas: list[TextSlotValue] = []
        floors: dict[str, set[str]] = {}
        seen_areas: set[str] = set()
        for area in self.home.areas.values():
            seen_areas.add(area.id)
            for text in dict.fromkeys((area.name, area.id.replace("_", " "), *area.aliases)):
                areas.append(TextSlotValue(TextChunk(normalise(text)), area.id))
            if area.floor:
                floors.setdefault(area.floor, set()).add(area.id)
        for device in devices:
            if device.area and device.area not in seen_areas:
                seen_areas.add(device.area)
                areas.append(TextSlotValue(TextChunk(device.area.replace("_", " ")), device.area))
        floor_values = [TextSlotValue(TextChunk(normalise(f.replace("_", " "))), f) for f in floors]
        self._floors = floors
        self._by_name = by_name
        self._lists = {
            "name": TextSlotList(name="name", values=names),
            "area": TextSlotList(name="area", values=areas),
            "floor": TextSlotList(name="floor", values=floor_values),
        }
        self._lists_key = key

    # -- matching ------------------------------------------------------------------

    def strip_address(self, text: str) -> str:
        """Drop a leading "Dobby," (the soul's name) from a message."""
        name = re.escape(self.soul.name.lower())
        return re.sub(
            rf"^\s*(?:(?:hey|ok|okay|hi)\s+)?{name}\b[\s,:!.]*", "", text, flags=re.I
        ).strip()

    def match_phrase(self, text: str) -> str | None:
        """The registered custom intent a message matches, if any.

        Phrases are compared whole, after dropping punctuation, the soul's name,
        politeness ("please", "can you") and a leading "it's".
        """
        if not self._phrase_index:
            return None
        said = plain(text)
        candidates = [said, plain(self.strip_address(text))]
        for candidate in list(candidates):
            for skip in self._skip_words:
                word = plain(skip)
                candidate = re.sub(rf"(^| ){re.escape(word)}( |$)", " ", candidate).strip()
            candidates.append(candidate)
            candidates.append(re.sub(r"^(its|it is) ", "", candidate))
        for candidate in candidates:
            if candidate in self._phrase_index:
                return self._phrase_index[candidate]
        return None

    def match(self, text: str) -> RecognizeResult | None:
        """The best matching built-in sentence for a message, if any."""
        if not self.load() or self._intents is None:
            return None
        self._refresh_lists()
        return recognize_best(
            self.strip_address(text),
            self._intents,
            slot_lists=self._lists,
            language=self.language,
            best_slot_name="name",
        )

    def plan(self, text: str) -> Plan | None:
        """What a message asks for, or None; raises Unclear for "which one?" cases."""
        result = self.match(text)
        if result is None:
            return None
        return self._plan(result)

    # -- planning ------------------------------------------------------------------

    def _entity(self, result: RecognizeResult, name: str) -> Any:
        entity = result.entities.get(name)
        return None if entity is None else entity.value

    def _one_climate(self, devices: list[Device], result: RecognizeResult) -> list[Device]:
        """For "set the pool to 84": the area's heater named after it, or ask which one.

        One setpoint rarely suits several heaters (a pool and a spa share an area).
        """
        area = self._entity(result, "area")
        if len(devices) <= 1 or area is None or self._entity(result, "name") is not None:
            return devices
        area_name = self.home.area_name(str(area)).lower()
        named = [d for d in devices if area_name in d.name.lower()]
        if len(named) == 1:
            return named
        listed = ", ".join(d.name for d in devices)
        raise Unclear(listed, question=True)

    def _targets(self, result: RecognizeResult, kinds: set[Kind] | None = None) -> list[Device]:
        name = self._entity(result, "name")
        area = self._entity(result, "area")
        floor = self._entity(result, "floor")
        domain = self._entity(result, "domain")
        device_class = self._entity(result, "device_class")
        if kinds is None and isinstance(domain, str) and domain in KINDS_OF_DOMAIN:
            kinds = KINDS_OF_DOMAIN[domain]
        area_ids: set[str] | None = None
        if area is not None:
            area_ids = {str(area)}
        elif floor is not None:
            area_ids = self._floors.get(str(floor), set())
        if name is not None:
            found = (self.home.find(i) for i in self._by_name.get(str(name), []))
            devices = [d for d in found if d is not None]
            if area_ids is not None:
                devices = [d for d in devices if d.area in area_ids]
            if kinds:
                devices = [d for d in devices if d.kind in kinds] or devices
            if len(devices) > 1:
                listed = ", ".join(f"{d.name} ({self.home.area_name(d.area)})" for d in devices)
                raise Unclear(listed, question=True)
            if not devices:
                raise Unclear(f"nothing called {name}")
            return devices
        devices = [
            d
            for d in self.home.devices()
            if (area_ids is None or d.area in area_ids) and (not kinds or d.kind in kinds)
        ]
        if device_class is not None:
            devices = [
                d
                for d in devices
                if d.device_class == device_class or str(device_class) in d.name.lower()
            ]
        if area_ids is None and kinds is None:
            raise Unclear("no target")
        if not devices:
            raise Unclear("no such devices")
        return devices

    def _plan(self, result: RecognizeResult) -> Plan:
        intent = result.intent.name
        target_text = " ".join(
            e.text for k, e in result.entities.items() if k in ("name", "area", "floor") and e.text
        )
        if intent in KIND_INTENTS:
            return plan_vacuum(intent, result, self._targets, target_text)
        if intent in ("HassTurnOn", "HassTurnOff"):
            on = intent == "HassTurnOn"
            devices = self._targets(result)
            commands: list[Command] = []
            kinds = {d.kind for d in devices}
            vacuum = on_off_vacuum(on, devices)
            if vacuum is not None:
                return Plan(intent, devices, vacuum, target_text=target_text)
            if kinds <= OPENABLE:
                commands = [
                    Command(action=Action.OPEN if on else Action.CLOSE),
                    Command(action=Action.SET_POSITION, position=100 if on else 0),
                ]
                # Devices with open/close take the first; position-only ones the second.
                return Plan(intent, devices, commands, target_text=target_text)
            if kinds <= {Kind.LOCK}:
                return Plan(
                    intent,
                    devices,
                    [Command(action=Action.LOCK if on else Action.UNLOCK)],
                    target_text=target_text,
                )
            devices = [
                d
                for d in devices
                if d.kind not in (Kind.LOCK, Kind.COVER, Kind.ALARM, Kind.VACUUM, Kind.VALVE)
            ]
            return Plan(
                intent,
                devices,
                [Command(action=Action.TURN_ON if on else Action.TURN_OFF)],
                target_text=target_text,
            )
        if intent == "HassLightSet":
            devices = self._targets(result, {Kind.LIGHT})
            brightness = self._entity(result, "brightness")
            color = self._entity(result, "color")
            kelvin = self._entity(result, "temperature")
            if brightness is not None:
                level = int(brightness)
                command = (
                    Command(action=Action.SET_BRIGHTNESS, brightness=level)
                    if level > 0
                    else Command(action=Action.TURN_OFF)
                )
            elif color is not None:
                from agent.brain.vocab import COLORS

                if str(color) not in COLORS:
                    raise Unclear(f"colour {color}")
                command = Command(action=Action.SET_COLOR, color=COLORS[str(color)])
            elif kelvin is not None:
                command = Command(action=Action.SET_COLOR_TEMP, color_temp_k=int(kelvin))
            else:
                raise Unclear("no setting")
            return Plan(intent, devices, [command], target_text=target_text)
        if intent == "HassClimateSetTemperature":
            from agent.brain.vocab import to_celsius

            devices = self._one_climate(self._targets(result, {Kind.CLIMATE}), result)
            value = float(self._entity(result, "temperature"))
            celsius = to_celsius(value, self.units)
            if not -20 <= celsius <= 60:
                raise Unclear(f"temperature {value}")
            return Plan(
                intent,
                devices,
                [Command(action=Action.SET_TEMPERATURE, temperature_c=celsius)],
                target_text=target_text,
            )
        if intent == "HassSetPosition":
            devices = self._targets(result, set(OPENABLE))
            position = int(self._entity(result, "position"))
            return Plan(
                intent,
                devices,
                [Command(action=Action.SET_POSITION, position=position)],
                target_text=target_text,
            )
        if intent in ("HassGetState", "HassClimateGetTemperature"):
            wanted = {Kind.CLIMATE, Kind.SENSOR} if intent == "HassClimateGetTemperature" else None
            devices = self._targets(result, wanted)
            response = result.response or "one"
            return Plan(
                intent,
                devices,
                query=response,
                state=self._entity(result, "state"),
                target_text=target_text,
            )
        devices = self._targets(result, {Kind.SPEAKER})
        return plan_media(intent, devices, lambda name: self._entity(result, name), target_text)

    # -- handling ------------------------------------------------------------------

    async def handle(
        self, msg: InboundMessage, ctx: ToolContext, *, can_hand_over: bool
    ) -> Reply | None:
        """Answer a message locally, or return None to hand it to the LLM."""
        self.soul.refresh()
        custom = self.match_phrase(msg.text)
        if custom is not None:
            reply = await self._phrases[custom].handler(msg, ctx)
            reply.path = "local"
            return reply
        started = time.perf_counter()
        try:
            plan = self.plan(msg.text)
        except Unclear as err:
            if err.question and not can_hand_over:
                return Reply(self.soul.reply("which", options=str(err)), path="local")
            log.debug("local path unsure (%s); handing over", err)
            return None
        if plan is None:
            return None
        if plan.query is not None:
            if plan.intent == "HassClimateGetTemperature":
                answer = answer_temperature(plan.devices, self.units, self.home)
            else:
                answer = answer_state(plan.devices, plan.query, plan.state, self.units)
            if answer is None:
                return None
            return Reply(self.soul.reply("state", answer=answer), path="local")
        reply = await self._execute(plan, ctx)
        log.info("local path: %s in %.1f ms", plan.intent, (time.perf_counter() - started) * 1000)
        return reply

    async def _execute(self, plan: Plan, ctx: ToolContext) -> Reply:
        from agent.brain.device_tools import run_commands

        # Covers get either open/close or a position, whichever they support.
        commands = plan.commands
        if len(commands) == 2 and commands[1].action == Action.SET_POSITION:
            with_open = [d for d in plan.devices if Feature.OPEN_CLOSE in d.features]
            without = [d for d in plan.devices if d not in with_open]
            groups = [(with_open, [commands[0]]), (without, [commands[1]])]
        else:
            groups = [(plan.devices, commands)]
        tool = tool_for(commands[0])
        args = {"target": plan.target_text or ", ".join(d.name for d in plan.devices)}
        actions: list[dict[str, Any]] = []
        done: list[str] = []
        problems: list[str] = []
        confirmation = None
        for devices, group_commands in groups:
            if not devices:
                continue
            try:
                result = await run_commands(ctx, devices, group_commands)
            except (HomeError, NoSuchDevice, AmbiguousTarget) as err:
                actions.append(
                    action_record(tool, args, False, {"error": err.kind, "detail": str(err)})
                )
                problems.append(str(err))
                continue
            actions.append(action_record(tool, args, True, result))
            done.extend(result.get("done", {}))
            problems.extend(f["detail"] for f in result.get("failed", []))
            if "confirmation" in ctx.extras:
                confirmation = ctx.extras.pop("confirmation")
        if confirmation is not None:
            return Reply(confirmation.prompt, "local", actions, confirmation.to_json())
        what = describe_action(done, group_commands[0] if done else commands[0], self.units)
        if done and problems:
            text = self.soul.reply("partial", what=what, problem="; ".join(problems))
        elif done:
            text = self.soul.reply("done", what=what)
        else:
            text = self.soul.reply("failed", problem="; ".join(problems) or "nothing could do that")
        return Reply(text, "local", actions)
