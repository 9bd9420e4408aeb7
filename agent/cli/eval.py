"""`homeclaw eval`: measure the configured brain on a sandbox copy of this house.

The sandbox holds virtual devices with the names, areas and kinds of the devices
homeclaw knows (real devices are never touched); the sentences come from this
house's device graph and from the public suites in tests/data. Each sentence goes
through `/api/chat` of a daemon holding the sandbox, through the brain the path
asks for: `local` (no LLM), `llm` (the configured model, every sentence), or
`both` (local first, the model for the rest, as `homeclaw run` does).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from agent.paths import HomePaths

if TYPE_CHECKING:  # pydantic and asyncio load only when `eval` runs: every command imports this
    from agent.config import Config

DEFAULT_SUITES = "generated,assist-mini"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `eval` subcommand."""
    ev = sub.add_parser("eval", help="measure the brain on a sandbox copy of this house")
    ev.add_argument(
        "--path",
        choices=("local", "llm", "both"),
        help="default: both with an LLM configured, else local",
    )
    ev.add_argument(
        "--suite",
        default=DEFAULT_SUITES,
        help="comma-separated: generated (from this house), assist-mini, ha-intents",
    )
    ev.add_argument("--limit", type=int, default=0, help="at most N sentences per suite")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.add_argument(
        "--demo", action="store_true", help="use the demo home instead of this house's devices"
    )
    ev.set_defaults(func=run_eval)


def brain_for(config: Config, path: str) -> dict[str, Any]:
    """The brain config of the sandbox daemon for one path."""
    if path == "local":
        return {"provider": "none"}
    brain = config.brain.model_dump(exclude_none=True)
    brain.pop("daily_token_budget", None)  # a measurement is not the house's daily spend
    brain["prefer_local"] = path == "both"
    return brain


def sandbox(paths: HomePaths, config: Config, demo: bool) -> tuple[Any, str]:
    """This house as virtual devices (or the demo home), and a sentence saying which."""
    from agent.brain.sample_home import AREAS, demo_devices
    from agent.eval.sandbox import home_of, owner_home

    database = paths.root / "homeclaw.db"
    units = config.home.units
    if not demo and database.exists():
        areas = {k: v.model_dump() for k, v in config.home.areas.items()}
        home = owner_home(database, areas, units)
        if home.entities:
            return home, f"sandbox copy of this house ({len(home.entities)} devices)"
    rows = [(d.id, d.name, d.area, d.kind.value) for d in demo_devices()]
    areas = {a.id: {"name": a.name, "floor": a.floor} for a in AREAS.values()}
    note = "" if demo else " (homeclaw has not seen any device here yet: run the daemon once)"
    return home_of(rows, areas, units), f"the demo home ({len(rows)} devices){note}"


def suites(names: list[str], home: Any, limit: int) -> list[Any]:
    """The suites to run, each cut to `limit` representable sentences."""
    from agent.eval.catalogue import SUITES
    from agent.eval.sandbox import scenarios
    from agent.eval.suites import Suite

    chosen = []
    for name in names:
        if name == "generated":
            suite = scenarios(home)
        elif name in SUITES:
            suite = SUITES[name]()
        else:
            raise SystemExit(f"unknown suite {name!r} (generated, {', '.join(SUITES)})")
        if limit:
            kept = [c for c in suite.cases if c.not_representable is None][:limit]
            suite = Suite(suite.name, kept)
        chosen.append(suite)
    return chosen


async def evaluate(
    chosen: list[Any], brain: dict[str, Any], progress: bool = True
) -> dict[str, Any]:
    """Run every suite through a sandbox daemon; the summary."""
    from agent.eval.report import summarise
    from agent.eval.run import Result, run_suite
    from agent.eval.sandbox import category

    results: list[Result] = []

    def dot(result: Result) -> None:
        if progress:
            mark = {"correct": ".", "handed_over": "h", "wrong": "x"}
            sys.stderr.write(mark.get(result.verdict.outcome, "-"))
            sys.stderr.flush()

    for suite in chosen:
        results += await run_suite(suite, dot, brain=brain)
    if progress:
        sys.stderr.write("\n")
    return summarise(results, category)


def run_eval(args: argparse.Namespace) -> int:
    """Build the sandbox, run the suites, print the figures."""
    import asyncio

    from agent.cli.core import load_or_exit
    from agent.config import Config
    from agent.eval.report import table

    paths = HomePaths.from_env(args.home)
    config = load_or_exit(paths) if paths.config.exists() else Config()
    if args.path is None:
        args.path = "local" if config.brain.provider == "none" else "both"
    if args.path != "local" and config.brain.provider == "none":
        print("no LLM configured (brain.provider): only --path local can run", file=sys.stderr)
        return 2
    home, which = sandbox(paths, config, args.demo)
    chosen = suites([s.strip() for s in args.suite.split(",") if s.strip()], home, args.limit)
    brain = brain_for(config, args.path)
    summary = asyncio.run(evaluate(chosen, brain, progress=not args.json))
    model = "no LLM" if args.path == "local" else f"{brain.get('provider')} {brain.get('model')}"
    summary = {"home": which, "path": args.path, "brain": model, **summary}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    total = summary["total"]
    print(f"{model} on {which}, path {args.path}:")
    print(table(summary))
    print(
        f"{total['correct']}/{total['cases']} correct, {total['wrong']} wrong, "
        f"{total['handed_over']} handed over; p50 {total['p50_ms'] or 0:.0f} ms"
    )
    for wrong in summary["wrong"][:10]:
        print(f"  wrong: {wrong['sentence']!r}: {wrong['why']}")
    return 0
