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

from agent.brain import local_phrases
from agent.brain.local_answers import answer_state, answer_temperature
from agent.brain.local_compound import split_compound
from agent.brain.local_data import HANDLED, domain_of, plain
from agent.brain.local_help import help_text, is_help
from agent.brain.local_intents import plan_intent
from agent.brain.local_kinds import KIND_INTENTS, merge_sentences
from agent.brain.local_lists import (
    LIST_INTENTS,
    ListPlan,
    ListsSource,
    list_slot_values,
    merge_list_sentences,
    plan_list,
    run_list_plan,
)
from agent.brain.local_plan import CannotDo, Plan, Unclear, plan_imperative
from agent.brain.local_run import combine, execute_plan
from agent.brain.local_sensors import answer_sensor_question
from agent.brain.local_sentences import OWN_INTENTS, merge
from agent.brain.local_setpoint import Implausible, PendingSetpoints, suggested_plan
from agent.brain.local_targets import UNKNOWN_AREA, Resolver, entity
from agent.brain.reply import Reply
from agent.devices import Device, Kind
from agent.naming import normalise
from agent.policy import Asked

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
        self.resolver = Resolver(home)
        self.pending = PendingSetpoints()
        self._phrases: dict[str, _Phrases] = {}
        self._phrase_index: dict[str, str] = {}
        # The owner's lists (set by the brain; None when the lists service is off).
        self.lists: ListsSource = lambda: None

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
        data = merge(merge_sentences(data, self.language), self.language)
        data = merge_list_sentences(data, self.language)
        if self.language == "en":
            data = local_phrases.add_to(data)  # heat/cool ranges, "the X speaker"
        wanted = HANDLED | KIND_INTENTS | OWN_INTENTS | LIST_INTENTS | {local_phrases.RANGE_INTENT}
        data = {**data, "intents": {k: v for k, v in data["intents"].items() if k in wanted}}
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
        """Add custom phrases (matched before everything else) with their handler.

        A phrase ending in " *" matches itself followed by any words ("stop
        telling me about *"); the handler reads the rest from the message.
        """
        cleaned = [plain(p) + (" *" if p.rstrip().endswith(" *") else "") for p in phrases]
        cleaned = [p for p in cleaned if p.strip(" *")]
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
        list_names = list_slot_values(self.lists())
        key = (
            tuple((d.id, d.name, d.aliases, d.area, d.kind, d.device_class) for d in devices),
            tuple(sorted((a.id, a.name, a.floor, a.aliases) for a in self.home.areas.values())),
            tuple(v.value_out for v in list_names),
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
                context = {"domain": domain_of(device)}
                names.append(TextSlotValue(TextChunk(spoken), spoken, context))
                if not spoken.endswith("s"):
                    # "close the smart curtains" for a device called "Smart curtain".
                    names.append(TextSlotValue(TextChunk(spoken + "s"), spoken, context))
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
        names.extend(list_names)
        floor_values = [TextSlotValue(TextChunk(normalise(f.replace("_", " "))), f) for f in floors]
        self.resolver.floors = floors
        self.resolver.by_name = by_name
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
        for phrase, intent in self._phrase_index.items():
            if phrase.endswith(" *") and any(
                c.startswith(phrase[:-1]) and len(c) > len(phrase) - 1 for c in candidates
            ):
                return intent
        return None

    def match(self, text: str, area: str | None = None) -> RecognizeResult | None:
        """The best matching built-in sentence for a message, if any.

        Sentences that need the speaker's room ("turn on the lights") get the
        conversation's area, or a placeholder that makes the house ask which room.
        """
        if not self.load() or self._intents is None:
            return None
        self._refresh_lists()
        room = area if area is not None else UNKNOWN_AREA
        return recognize_best(
            self.strip_address(text),
            self._intents,
            slot_lists=self._lists,
            intent_context={"area": {"value": room, "text": self.home.area_name(area)}},
            language=self.language,
            best_slot_name="name",
        )

    def plan(self, text: str, area: str | None = None) -> Plan | None:
        """What a message asks for, or None; raises Unclear for "which one?" cases."""
        result = self.match(text, area)
        if result is None:
            return None
        if result.intent.name in LIST_INTENTS:
            return plan_list(result, self.strip_address(text))
        if result.intent.name == local_phrases.RANGE_INTENT:
            return local_phrases.plan_range(
                lambda: self.resolver.targets(result, {Kind.CLIMATE}, here=area),
                self.home.devices(kind=Kind.CLIMATE),
                lambda name: entity(result, name),
                self.units,
                " ".join(e.text for k, e in result.entities.items() if k == "name" and e.text),
            )
        try:
            return plan_intent(result, self.resolver, self.units, area)
        except Implausible as err:
            err.plan = suggested_plan(result, self.resolver, self.units, area, err)
            raise

    def plans(self, text: str, area: str | None = None) -> list[Plan]:
        """One plan, or one per part of "do this and that" when every part is understood."""
        whole = self.plan(text, area)
        if whole is not None:
            return [whole]
        parts = split_compound(self.strip_address(text))
        if len(parts) < 2:
            return []
        found: list[Plan] = []
        for part in parts:
            try:
                plan = self.plan(part, area)
            except Unclear:
                return []
            if plan is None or plan.query is not None:
                return []  # commands only: a half-answered question must not act first
            found.append(plan)
        return found

    def asked(self, text: str) -> Asked | None:
        """The command a person's message literally asks for, read by the matcher, not a model.

        The policy sends a one-time code only for a command this names (see Policy.request).
        """
        try:
            plan = self.plan(text)
        except (Unclear, CannotDo, Implausible):
            plan = None
        if plan is not None and plan.commands and plan.devices:
            commands = [*plan.commands, *(command for _, command in plan.groups())]
            return Asked.of(plan.devices, commands)
        imperative = plan_imperative(self.strip_address(text), self._resolve)
        return Asked.of(*imperative) if imperative is not None else None

    def _resolve(self, target: str, kind: Kind) -> list[Device]:
        found = self.home.resolve(target, kind)
        return found.devices if found.ok else []

    # -- handling ------------------------------------------------------------------

    async def handle(
        self,
        msg: InboundMessage,
        ctx: ToolContext,
        *,
        can_hand_over: bool,
        area: str | None = None,
    ) -> Reply | None:
        """Answer a message locally, or return None to hand it to the LLM.

        `area` is the room the conversation is in (a tablet's, a person's): it
        resolves "the lights" and "what's the temperature?".
        """
        self.soul.refresh()
        custom = self.match_phrase(msg.text)
        if custom is not None:
            reply = await self._phrases[custom].handler(msg, ctx)
            reply.path = "local"
            return reply
        started = time.perf_counter()
        pending = self.pending.take(ctx.conversation, msg.text)
        if pending is not None:
            return await execute_plan(pending, ctx, self.soul, self.units)
        if is_help(plain(self.strip_address(msg.text))):
            return Reply(self.soul.reply("state", answer=help_text(self.home, self.units)), "local")
        try:
            plans = self.plans(msg.text, area)
        except Implausible as err:
            if err.suggested_c is not None:
                self.pending.ask(ctx.conversation, err.plan)
            return Reply(str(err), path="local")
        except CannotDo as err:
            return Reply(self.soul.reply("failed", problem=str(err)), path="local")
        except Unclear as err:
            if err.room:
                return Reply(self.soul.reply("room"), path="local")
            # "Is the pet door open?" when a door sensor and a lock share the name:
            # the state word says which one is meant.
            answer = answer_sensor_question(self.strip_address(msg.text), self.home, self.units)
            if answer is not None:
                return Reply(self.soul.reply("state", answer=answer), path="local")
            if err.question and not can_hand_over:
                return Reply(self.soul.reply("which", options=str(err)), path="local")
            log.debug("local path unsure (%s); handing over", err)
            return None
        if not plans:
            answer = answer_sensor_question(self.strip_address(msg.text), self.home, self.units)
            if answer is None:
                return None
            return Reply(self.soul.reply("state", answer=answer), path="local")
        replies = [await self._run(plan, ctx) for plan in plans]
        if any(r is None for r in replies):
            answer = answer_sensor_question(self.strip_address(msg.text), self.home, self.units)
            if answer is None:
                return None
            return Reply(self.soul.reply("state", answer=answer), path="local")
        reply = combine([r for r in replies if r is not None])
        log.info(
            "local path: %s in %.1f ms",
            "+".join(p.intent for p in plans),
            (time.perf_counter() - started) * 1000,
        )
        return reply

    async def _run(self, plan: Plan, ctx: ToolContext) -> Reply | None:
        if isinstance(plan, ListPlan):
            lists = self.lists()
            return None if lists is None else await run_list_plan(plan, lists, self.soul)
        if plan.query is None:
            return await execute_plan(plan, ctx, self.soul, self.units)
        if not all(self.home.roles.may_touch(ctx.role, d) for d in plan.devices):
            return Reply(f"That isn't shared with a {ctx.role}.", path="local")
        if plan.intent == "HassClimateGetTemperature":
            answer = answer_temperature(plan.devices, self.units, self.home, plan.area)
        else:
            answer = answer_state(plan.devices, plan.query, plan.state, self.units)
        if answer is None:
            return None
        return Reply(self.soul.reply("state", answer=answer), path="local")
