"""Run a suite through a real daemon, sentence by sentence, the way `homeclaw ask` does.

For each fixture home a daemon is started on loopback with the home as
virtual devices and no LLM; every sentence is POSTed to `/api/chat` (the
`ask` route), a confirmation code is answered as the owner would, and the
house is judged before the next sentence resets it.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from agent.brain.component import CODE_FILE
from agent.bus import CommandExecuted
from agent.challenges import CODE_DIGITS
from agent.daemon import Daemon, build_runtime
from agent.devices import DeviceState
from agent.eval.fixtures import FixtureHome
from agent.eval.judge import Lists, Verdict, judge
from agent.eval.suites import Case, Suite

CODE = re.compile(rf"\bYES (\d{{{CODE_DIGITS}}})\b")


@dataclass
class Result:
    """One sentence's outcome, reply and latency through /api/chat: wall-clock ms, and
    the CPU ms this process spent on it (client and daemon share the process, so
    this is the cost of the request without other programs' load)."""

    case: Case
    verdict: Verdict
    reply: dict[str, Any]
    ms: float
    cpu_ms: float = 0.0
    # LLM calls and tokens the sentence cost (the brain's own count; empty without an LLM).
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class HomeUnderTest:
    """A running daemon holding one fixture home, and an authenticated session to it."""

    home: FixtureHome
    daemon: Daemon
    http: aiohttp.ClientSession
    url: str
    initial: dict[str, DeviceState]

    async def ask(self, text: str, conversation: str, area: str | None) -> dict[str, Any]:
        """POST /api/chat as `homeclaw ask` does; the reply object."""
        body: dict[str, Any] = {"text": text, "channel": "cli", "conversation": conversation}
        if area is not None:
            body["area"] = area
        async with self.http.post(self.url + "api/chat", json=body) as resp:
            result: dict[str, Any] = await resp.json()
            return result

    def code(self, reply: dict[str, Any]) -> str | None:
        """The one-time code the owner would type: from a phone reply, else the code file
        (asked through the API, the answer never carries it)."""
        found = CODE.search(str(reply.get("reply", "")))
        if found is not None:
            return found.group(1)
        path = self.daemon.rt.paths.root / CODE_FILE
        return path.read_text().split()[0] if path.exists() else None

    def reset(self, setup: dict[str, dict[str, Any]]) -> None:
        """Every device back to its fixture state, then the case's setup on top."""
        home = self.daemon.rt.home
        for device_id, state in self.initial.items():
            changes = setup.get(device_id)
            home.update(device_id, state.merged(**changes) if changes else state)

    def states(self) -> dict[str, DeviceState]:
        """Every device's current state."""
        return {d.id: d.state for d in self.daemon.rt.home.devices()}

    async def reset_lists(self, seed: dict[str, list[str]]) -> None:
        """Every list empty again (their files gone), then the case's items added."""
        lists = self.daemon.rt.service("lists")
        if lists is None:
            return
        for path in lists.folder.glob("*.md"):
            path.unlink()
        for name, items in seed.items():
            await lists.find(name).add(items)

    async def lists(self) -> Lists:
        """Each list's items as (text, done) pairs, by list name."""
        lists = self.daemon.rt.service("lists")
        if lists is None:
            return {}
        found: Lists = {}
        for todo in lists.all():
            found[todo.name] = tuple((i.text, i.done) for i in await todo.items())
        return found


def daemon_config(home: FixtureHome, brain: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole config for a daemon holding this home: loopback, no LLM (unless `brain`
    says which), nothing else."""
    return {
        **home.config(),
        "web": {"host": "127.0.0.1", "port": 0},
        "discovery": {"enabled": False, "interfaces": ["127.0.0.1"]},
        "memory": {"enabled": False},
        # One person asks hundreds of questions a minute here.
        "brain": {"rate_limit_per_minute": 1_000_000, **(brain or {})},
    }


@asynccontextmanager
async def running(
    home: FixtureHome, root: Path | None = None, brain: dict[str, Any] | None = None
) -> AsyncIterator[HomeUnderTest]:
    """A daemon with this home's virtual devices (and `brain` config), stopped on exit."""
    from agent.config import Config
    from agent.paths import HomePaths

    with tempfile.TemporaryDirectory(prefix="homeclaw-eval-") as tmp:
        paths = HomePaths(root or Path(tmp))
        rt = build_runtime(Config.model_validate(daemon_config(home, brain)), paths)
        daemon = Daemon(rt)
        url = await daemon.start()
        http = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {rt.token}"},
            # A small model on a CPU can take minutes over one sentence's rounds.
            timeout=aiohttp.ClientTimeout(total=600 if brain else 30),
        )
        try:
            expected = len(home.devices())
            deadline = time.monotonic() + 10
            while len(rt.home.devices()) < expected:
                if time.monotonic() > deadline:
                    raise RuntimeError("the virtual devices did not appear")
                await _sleep()
            initial = {d.id: d.state for d in rt.home.devices()}
            yield HomeUnderTest(home, daemon, http, url, initial)
        finally:
            await http.close()
            await daemon.stop()


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.01)


async def run_case(under: HomeUnderTest, case: Case) -> Result:
    """Say one sentence (answering a confirmation code) and judge the house."""
    if case.not_representable is not None or case.expect is None:
        verdict = Verdict("not_representable", case.not_representable or "")
        return Result(case, verdict, {}, 0.0)
    under.reset(case.setup)
    await under.reset_lists(case.expect.seed)
    before, lists_before = under.states(), await under.lists()
    sent: list[tuple[str, str]] = []
    bus = under.daemon.rt.bus

    def record(event: CommandExecuted) -> None:
        if event.ok:
            sent.append((event.device_id, str(event.command.get("action"))))

    unsubscribe = bus.on(CommandExecuted, record)
    conversation = f"eval:{uuid.uuid4().hex}"
    spent_before = _spent(under)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        reply = await under.ask(case.sentence, conversation, case.area)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
        code = under.code(reply) if reply.get("confirmation") else None
        if code is not None:
            confirmed = await under.ask(f"YES {code}", conversation, case.area)
            reply = {**confirmed, "asked_code": True}
    finally:
        unsubscribe()
    lists = (lists_before, await under.lists())
    verdict = judge(
        case.expect,
        reply,
        before,
        under.states(),
        sent,
        case.home,
        lists,
        answered_by=("local", "llm"),
    )
    spent = _spent(under)
    usage = {k: spent[k] - spent_before.get(k, 0) for k in spent}
    return Result(case, verdict, reply, ms, cpu_ms, usage)


def _spent(under: HomeUnderTest) -> dict[str, int]:
    """The brain's LLM counters today (calls, prompt and completion tokens)."""
    brain = under.daemon.rt.services.get("brain")
    guard = getattr(brain, "guard", None)
    return guard.usage() if guard is not None else {}


async def run_suite(
    suite: Suite,
    progress: Callable[[Result], None] | None = None,
    brain: dict[str, Any] | None = None,
) -> list[Result]:
    """Every case of a suite, home by home, in order (through `brain` when given)."""
    results: list[Result] = []
    for home in suite.homes():
        cases = [c for c in suite.cases if c.home is home]
        async with running(home, brain=brain) as under:
            for case in cases:
                result = await run_case(under, case)
                results.append(result)
                if progress is not None:
                    progress(result)
    return results


def tally(results: list[Result]) -> dict[str, int]:
    """Outcome counts."""
    counts = {"correct": 0, "handed_over": 0, "wrong": 0, "not_representable": 0}
    for r in results:
        counts[r.verdict.outcome] += 1
    return counts
