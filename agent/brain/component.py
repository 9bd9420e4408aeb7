"""The brain component: policy gate → confirmation codes → local fast path → LLM loop.

Published as `rt.services["brain"]` (`await brain.handle(msg, identity)`) and
the policy as `rt.services["policy"]`. Routes: `POST /api/chat`,
`GET /api/chat`, `POST /api/confirm`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from agent.brain.budget import GuardedProvider, LLMGuard
from agent.brain.device_tools import register_device_tools
from agent.brain.history import History, estimate_tokens
from agent.brain.llm import make_provider
from agent.brain.local import LocalPath, PhraseHandler
from agent.brain.local_missing import missing_target
from agent.brain.loop import AgentLoop
from agent.brain.ollama import OLLAMA_DEFAULT_CTX, looks_like_ollama
from agent.brain.prompt import Soul, system_prompt
from agent.brain.providers import LLMError, Provider
from agent.brain.reply import Reply
from agent.brain.tools import ToolContext
from agent.bus import InboundMessage
from agent.challenges import Challenge, redact_codes
from agent.policy import Policy, RateLimited

if TYPE_CHECKING:
    from agent.messaging.people import Identity
    from agent.runtime import Runtime

log = logging.getLogger(__name__)
WEB_CHANNELS = ("web", "cli")
CODE_FILE = "confirm-code"
CHANNEL_NAMES = {"whatsapp": "WhatsApp", "sms": "phone (SMS)", "telegram": "Telegram"}


class Brain:
    """Understands messages and acts on the house, safely."""

    name = "brain"
    policy: Policy
    history: History

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.config = rt.config.brain
        self.soul = Soul(rt.paths.soul)
        self.local = LocalPath(
            rt.home, self.soul, language=rt.config.home.language, units=rt.config.home.units
        )
        self.local.lists = lambda: rt.service("lists")
        self.provider: Provider | None = None
        self.provider_problem: str | None = None
        try:
            self.provider = make_provider(self.config)
        except LLMError as err:
            self.provider_problem = str(err)
            log.error("brain: %s", err)
        self.loop: AgentLoop | None = None
        self._locks: dict[str, asyncio.Lock] = {}

    # -- lifecycle -------------------------------------------------------------------

    def setup(self, rt: Runtime) -> None:
        """Publish the brain and the policy, register device tools and routes."""
        # Each owns its SQLite tables (migrations are local and quick).
        self.policy = Policy(
            rt.store, rt.home, self.config, deliver=self._deliver_code, notify=self._notify_owner
        )
        self.history = History(rt.store)
        self.guard = LLMGuard(
            rt.store,
            daily_tokens=self.config.daily_token_budget,
            breaker_after=self.config.breaker_after,
            breaker_cooldown=self.config.breaker_cooldown_minutes * 60,
            timezone=rt.config.home.timezone,
        )
        if self.provider is not None:
            # Every user of brain.provider (turns, the heartbeat's judge) is counted here.
            self.provider = GuardedProvider(self.provider, self.guard)
            self.loop = AgentLoop(
                self.provider,
                rt.tools,
                self.history,
                self.config,
                self.system_prompt,
                memory=lambda: rt.service("memory"),
                timezone=rt.config.home.timezone,
                kind_of=self._kind_of,
                english=rt.config.home.language == "en",
            )
        rt.services["policy"] = self.policy
        rt.services["brain"] = self
        register_device_tools(rt.tools, rt.home)
        rt.app.router.add_post("/api/chat", self._chat_route)
        rt.app.router.add_get("/api/chat", self._history_route)
        rt.app.router.add_post("/api/confirm", self._confirm_route)

    async def start(self) -> None:
        """Load the local sentence data (≈0.1 s) before the first message."""
        self.local.load()
        warning = self.context_warning()
        if warning:
            log.warning("brain: %s", warning)

    def prompt_tokens(self) -> int:
        """The fixed part of every request (system prompt + tool block), estimated."""
        schemas = self.rt.tools.schemas()
        return estimate_tokens(self.system_prompt()) + estimate_tokens(schemas)

    def context_warning(self) -> str | None:
        """Why the prompt may be cut by the server (Ollama's OpenAI endpoint), or None."""
        if self.config.provider != "openai" or not looks_like_ollama(self.config.base_url):
            return None
        return (
            "Ollama's OpenAI-compatible endpoint runs the model with Ollama's default context "
            f"({OLLAMA_DEFAULT_CTX:,} tokens on most machines, 2,048 on older versions) and "
            "silently drops the start of a longer prompt; this house's prompt is "
            f"~{self.prompt_tokens():,} tokens before any conversation. Use `provider: ollama` "
            "(homeclaw then sets num_ctx on every request) or start Ollama with "
            "OLLAMA_CONTEXT_LENGTH=8192."
        )

    async def stop(self) -> None:
        """Close the LLM client."""
        if self.provider is not None:
            await self.provider.close()

    def health_report(self) -> dict[str, Any]:
        """What /api/health shows for the brain."""
        return {
            "provider": self.config.provider,
            "model": getattr(self.provider, "model", None),
            "problem": self.provider_problem,
            "prefer_local": self.config.prefer_local,
            "llm": self.guard.report(),
            "prompt_tokens": self.prompt_tokens() if self.provider is not None else None,
            # Set by provider ollama only (the guard wraps the real provider).
            "num_ctx": getattr(getattr(self.provider, "inner", None), "num_ctx", None),
            "warning": self.context_warning(),
        }

    def _kind_of(self, name: str) -> str | None:
        """The kind of the device with this name (for "2 of 3 lights off")."""
        device = next((d for d in self.rt.home.devices() if d.name == name), None)
        return device.kind.value if device is not None else None

    # -- the contract ------------------------------------------------------------------

    def system_prompt(self) -> str:
        """The stable system prompt for the LLM."""
        return system_prompt(
            self.soul,
            self.rt.home,
            home_name=self.rt.config.home.name,
            units=self.rt.config.home.units,
        )

    def register_phrases(
        self, intent_name: str, phrases: list[str], handler: PhraseHandler
    ) -> None:
        """Let another component answer its own phrases locally ("sleepy time")."""
        self.local.register_phrases(intent_name, phrases, handler)

    async def handle(
        self,
        msg: InboundMessage,
        identity: Identity | None,
        *,
        untrusted: bool = False,
        conversation: str | None = None,
    ) -> Reply:
        """Answer one message from a person (or from the house itself, untrusted)."""
        conversation = conversation or f"{msg.channel}:{msg.sender}"
        # One turn at a time per conversation, whichever path answers it.
        async with self._locks.setdefault(conversation, asyncio.Lock()):
            try:
                return await self._handle(msg, identity, untrusted, conversation)
            except Exception as err:  # a bug must cost one reply, not the channel
                log.exception("brain failed on message %s", msg.msg_id)
                return Reply(f"Something went wrong inside me ({type(err).__name__}).", "none")

    async def _handle(
        self,
        msg: InboundMessage,
        identity: Identity | None,
        untrusted: bool,
        conversation: str,
    ) -> Reply:
        if identity is None:
            return Reply("Sorry, I only take orders from the people of this house.", "none")
        # The owner's own CLI and dashboard are limited only where a turn would cost
        # an LLM call; every message over a paid or public channel counts.
        metered_early = msg.channel not in WEB_CHANNELS
        if metered_early and (refusal := self._over_rate(msg)) is not None:
            return refusal
        ctx = ToolContext(
            channel=msg.channel,
            sender=msg.sender,
            role=identity.role,
            conversation=conversation,
            person=identity.name,
            runtime=self.rt,
            untrusted=untrusted,
            said=()
            if untrusted
            else (msg.text, *self.history.said_recently(conversation, msg.channel, msg.sender)),
        )
        if not untrusted:
            outcome = await self.policy.confirm(msg.channel, msg.sender, msg.text, identity.role)
            if outcome is not None:
                # The typed code stays out of the history the model reads later.
                typed = redact_codes(msg.text, everything=True)
                return self._remember(
                    conversation, msg, Reply(outcome.text, "local", outcome.actions), typed
                )
        area = self._area(msg, identity)
        if self.config.prefer_local or self.loop is None:
            local = await self.local.handle(
                msg, ctx, can_hand_over=self.loop is not None, area=area
            )
            if local is not None:
                return self._remember(conversation, msg, local)
        blocked = self.guard.blocked() if self.loop is not None else None
        if blocked is not None:
            # Budget spent or breaker open: the house keeps working locally and says why.
            local = await self.local.handle(msg, ctx, can_hand_over=False, area=area)
            if local is not None:
                return self._remember(conversation, msg, local)
            return Reply(self.soul.reply("llm_down", problem=_clause(blocked)), "none")
        if self.loop is not None:
            if not metered_early and (refusal := self._over_rate(msg)) is not None:
                return refusal
            if not untrusted:
                # What the person's own words ask for, read by the matcher: the only
                # high-risk commands the model's tool calls may ask a code for.
                asked = self.local.asked(msg.text)
                if asked is not None:
                    ctx.extras["asked"] = asked
            # The model hears where it was said, so "the lights" can mean that room's.
            said = f"[in the {self.rt.home.area_name(area)}] {msg.text}" if area else msg.text
            try:
                return await self.loop.run(conversation, said, ctx)
            except LLMError as err:
                log.warning("LLM turn failed: %s", err)
                if not self.config.prefer_local:
                    ctx.extras.pop("asked", None)
                    local = await self.local.handle(msg, ctx, can_hand_over=False, area=area)
                    if local is not None:
                        return local
                return Reply(self.soul.reply("llm_down", problem=_clause(str(err))), "none")
        if self.provider_problem:
            return Reply(
                self.soul.reply("llm_down", problem=_clause(self.provider_problem)), "none"
            )
        missing = missing_target(msg.text, self.rt.home)
        if missing is not None:
            return Reply(missing, "local")
        how = (
            "restart the demo with one, e.g. `homeclaw demo --llm "
            "http://127.0.0.1:11434/v1 --model qwen2.5:7b-instruct` (a local Ollama)"
            if self.rt.demo
            else "set `brain.provider` in config.yaml (any OpenAI-compatible server such as "
            "Ollama, or Anthropic) and restart"
        )
        return Reply(self.soul.reply("no_llm", how=how), "none")

    def _over_rate(self, msg: InboundMessage) -> Reply | None:
        """Count a message against its sender's limit; the refusal once past it."""
        try:
            self.policy.check_rate(msg.channel, msg.sender)
        except RateLimited as err:
            return Reply(str(err), "none")
        return None

    def _area(self, msg: InboundMessage, identity: Identity) -> str | None:
        """The room a message is said in: the message's own (a tablet's), the person's,
        else the channel's default; None when nobody knows."""
        for said in (msg.area, identity.area, self.config.channel_areas.get(msg.channel)):
            if said:
                area = self.rt.home.find_area(said)
                if area is not None:
                    return area
                log.warning("brain: unknown area %r (for %s); ignored", said, msg.channel)
        return None

    def _remember(
        self, conversation: str, msg: InboundMessage, reply: Reply, said: str | None = None
    ) -> Reply:
        """Keep locally answered turns in the history, so the LLM sees them later."""
        self.history.append(
            conversation,
            {"role": "user", "content": msg.text if said is None else said},
            msg.channel,
            msg.sender,
        )
        self.history.append(
            conversation, {"role": "assistant", "content": reply.text}, msg.channel, msg.sender
        )
        return reply

    # -- codes out of band -------------------------------------------------------------

    def _deliver_code(self, challenge: Challenge) -> str:
        """Send the code of a dashboard/CLI request to the owner's phone (else a 0600 file).

        The HTTP answer never carries it: a page riding the owner's cookie would read it.
        """
        where = "the dashboard" if challenge.channel == "web" else "the command line"
        text = (
            f"Code {challenge.code} confirms: {challenge.prompt} (asked from {where}). "
            "Type it there, not here. If that wasn't you, don't: nothing happens without it."
        )
        outbox = self.rt.service("outbox")
        target = outbox.owner_target() if outbox is not None else None
        if target is not None:
            outbox.enqueue(target[0], target[1], text, dedupe_key=f"code:{challenge.id}")
            where = f"your {CHANNEL_NAMES.get(target[0], target[0])}"
            # A newcomer in the demo has no phone: say where its simulated one is.
            if self.rt.demo:
                where += " (in the demo: the Phone panel on the dashboard)"
            return where
        path = self.rt.paths.root / CODE_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{challenge.code}\n{text}\n")
        os.replace(tmp, path)
        return f"the file {path} (readable only by you)"

    def _notify_owner(self, text: str, dedupe_key: str) -> None:
        """A security notice to the owner through the outbox (logged when there is none)."""
        log.warning("policy: %s", text)
        outbox = self.rt.service("outbox")
        if outbox is not None:
            outbox.notify_owner(text, dedupe_key=dedupe_key)

    # -- routes ------------------------------------------------------------------------

    async def _chat_route(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        text = body.get("text")
        channel = body.get("channel", "web")
        if not isinstance(text, str) or not text.strip():
            return _bad("text is required")
        if channel not in WEB_CHANNELS:
            return _bad("channel must be web or cli")
        conversation = body.get("conversation")
        if conversation is not None and not isinstance(conversation, str):
            return _bad("conversation must be a string")
        area = body.get("area")
        if area is not None:
            if not isinstance(area, str) or not area.strip():
                return _bad("area must be a string")
            area = self.rt.home.find_area(area)
            if area is None:
                return _bad(f"unknown area {body['area']!r}")
        identity = self.rt.people.identify(channel, "owner")
        msg = InboundMessage(
            channel=channel,
            sender="owner",
            text=text.strip(),
            msg_id=uuid.uuid4().hex,
            area=area,
        )
        reply = await self.handle(msg, identity, conversation=conversation)
        return web.json_response(reply.to_json())

    async def _history_route(self, request: web.Request) -> web.Response:
        conversation = request.query.get("conversation", "web:owner")
        rows = self.rt.store.query(
            "SELECT ts, role, content FROM brain_messages WHERE conversation = ? "
            "AND role IN ('user', 'assistant') AND content IS NOT NULL AND content != '' "
            "ORDER BY id DESC LIMIT 50",
            (conversation,),
        )
        return web.json_response(
            {"conversation": conversation, "messages": [dict(r) for r in reversed(rows)]}
        )

    async def _confirm_route(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        code = str(body.get("code", "")).strip()
        channel = body.get("channel", "web")
        if not code.isdigit() or channel not in WEB_CHANNELS:
            return _bad("code (digits) is required")
        outcome = await self.policy.confirm(channel, "owner", f"YES {code}", "owner")
        if outcome is None:
            return _bad("not a confirmation code")
        status = 200 if outcome.status in ("done", "partial") else 409
        return web.json_response(
            {"status": outcome.status, "reply": outcome.text, "actions": outcome.actions},
            status=status,
        )


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _bad("body must be JSON")
    if not isinstance(body, dict):
        return _bad("body must be an object")
    return body


def _bad(detail: str) -> web.Response:
    return web.json_response({"error": "bad_request", "detail": detail}, status=400)


def create(rt: Runtime) -> Brain:
    """The brain component (COMPONENTS entry "agent.brain.component:create")."""
    return Brain(rt)


def _clause(problem: str) -> str:
    """A problem sentence as it reads inside the soul's reply (no closing full stop)."""
    return problem.strip().rstrip(".")
