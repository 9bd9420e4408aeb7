"""Core subcommands: init, run, demo, devices, doctor."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.cli.client import DaemonUnreachable, api, reachable_home
from agent.paths import EX_CONFIG, HomePaths

if TYPE_CHECKING:
    from agent.config import Config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the core subcommands."""
    init = sub.add_parser("init", help="create the home folder: config, soul.md, API token")
    init.add_argument("--force", action="store_true", help="overwrite config.yaml and soul.md")
    init.set_defaults(func=run_init)
    run = sub.add_parser("run", help="run the daemon (foreground)")
    run.set_defaults(func=run_daemon)
    demo = sub.add_parser("demo", help="run the daemon with a simulated home (no devices needed)")
    demo.add_argument("--port", type=int, help="dashboard port (default 8321, or a free one)")
    demo.add_argument("--llm", metavar="URL", help="an OpenAI-compatible server for the brain")
    demo.add_argument("--model", help="the model to use with --llm")
    demo.set_defaults(func=run_demo)
    devices = sub.add_parser("devices", help="list the devices of the running daemon")
    devices.add_argument("--json", action="store_true", help="print the documented JSON")
    devices.set_defaults(func=run_devices)
    dashboard = sub.add_parser("dashboard", help="print a fresh one-time link to the dashboard")
    dashboard.add_argument("--area", help="open it for a room (a wall tablet's room)")
    dashboard.set_defaults(func=run_dashboard)
    doctor = sub.add_parser("doctor", help="check the config, connections and optional parts")
    doctor.set_defaults(func=run_doctor)


def _paths(args: argparse.Namespace) -> HomePaths:
    return HomePaths.from_env(args.home)


def load_or_exit(paths: HomePaths) -> Config:
    """Load the config; on a problem print every error and exit 78 (EX_CONFIG)."""
    from agent.config import ConfigError, load_config

    try:
        return load_config(paths.config)
    except ConfigError as err:
        print("homeclaw: the configuration has problems:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        sys.exit(EX_CONFIG)


def run_init(args: argparse.Namespace) -> int:
    """Create the home folder."""
    from agent.cli.init import install_defaults

    paths = _paths(args)
    written = install_defaults(paths, overwrite=args.force)
    print(f"homeclaw home: {paths.root}")
    for path in written:
        print(f"  created {path.name}")
    if not written:
        print("  everything was already there (use --force to reset config.yaml and soul.md)")
    print(
        f"\nNext: edit {paths.config} (your MQTT broker, people, LLM), then\n"
        "  homeclaw doctor    # checks the config and every connection\n"
        "  homeclaw run       # starts the daemon and prints the dashboard link"
    )
    return 0


def cli_for(root: Path) -> str:
    """How to call the CLI so that it reaches the daemon of home folder `root`.

    Asked once the daemon serves (its `url` file written), so a demo in its
    default folder is found by a plain `homeclaw`.
    """
    if reachable_home(HomePaths.from_env(None)).root == root:
        return "homeclaw"
    return f"homeclaw --home {shlex.quote(str(root))}"


def _banner(link: str, demo: bool, root: Path) -> None:
    cli = cli_for(root)
    print(
        f"\n  homeclaw is running. Dashboard: {link}\n"
        f"  (a one-time login link; `{cli} dashboard` prints a fresh one)\n",
        flush=True,
    )
    if demo:
        print(
            "  Try, in another terminal:\n"
            f"    {cli} devices\n"
            f'    {cli} ask "turn off the kitchen lights"\n'
            f'    {cli} ask "sleepy time"\n'
            "  Ctrl-C stops the demo.\n",
            flush=True,
        )


def run_daemon(args: argparse.Namespace) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT."""
    from agent.daemon import build_runtime, serve
    from agent.logs import setup_logging

    paths = _paths(args)
    if not paths.config.exists():
        print(f"homeclaw: no config at {paths.config}; run `homeclaw init` first", file=sys.stderr)
        return EX_CONFIG
    config = load_or_exit(paths)
    setup_logging(config.logging.level, config.logging.json_lines)
    import asyncio  # not at the top: `ask` and `devices` start quicker

    from agent.process import EX_UNAVAILABLE, AlreadyRunning, HomeLock, PortInUse

    try:
        with HomeLock(paths.root, "run"):
            rt = build_runtime(config, paths)
            asyncio.run(serve(rt, lambda link: _banner(link, demo=False, root=paths.root)))
    except (AlreadyRunning, PortInUse) as err:
        print(f"homeclaw: {err}", file=sys.stderr)
        return EX_UNAVAILABLE
    except KeyboardInterrupt:  # Ctrl-C before the daemon's own handler was in place
        pass
    return 0


def demo_brain(llm: str | None, model: str | None) -> dict[str, str] | None:
    """The demo's `brain:` section for `--llm URL --model M` (None: no LLM)."""
    if not llm:
        return None
    from agent.brain.ollama import looks_like_ollama, ollama_root

    if looks_like_ollama(llm):
        # Ollama's OpenAI endpoint (/v1, what the README shows) silently cuts prompts past
        # its default context; its own API takes num_ctx per request.
        return {"provider": "ollama", "base_url": ollama_root(llm), "model": model or "default"}
    brain = {"provider": "openai", "base_url": llm, "model": model or "default"}
    if os.environ.get("OPENAI_API_KEY"):
        brain["api_key"] = "${OPENAI_API_KEY}"
    return brain


def run_demo(args: argparse.Namespace) -> int:
    """The daemon plus a simulated home."""
    from agent.config import ConfigError
    from agent.demo import NotADemoHome, demo_home
    from agent.demo import run_demo as demo_main
    from agent.logs import setup_logging
    from agent.process import EX_UNAVAILABLE, AlreadyRunning, HomeLock, PortInUse

    setup_logging("info")
    paths = demo_home(args.home)
    lock = HomeLock(paths.root, "demo")
    try:
        lock.acquire()  # before anything resets the folder another demo may be using
        paths.token(create=True)
        brain = demo_brain(args.llm, args.model)
        import asyncio

        asyncio.run(
            demo_main(
                args.port, lambda link: _banner(link, demo=True, root=paths.root), args.home, brain
            )
        )
    except (AlreadyRunning, PortInUse) as err:
        print(f"homeclaw demo: {err}", file=sys.stderr)
        return EX_UNAVAILABLE
    except KeyboardInterrupt:  # Ctrl-C before the daemon's own handler was in place
        pass
    except NotADemoHome as err:
        print(f"homeclaw demo: {err}", file=sys.stderr)
        return 2
    except ConfigError as err:  # the demo writes its own config: this is a bug, say so plainly
        print("homeclaw demo: the generated config is invalid:", *err.problems, sep="\n  ")
        return EX_CONFIG
    finally:
        lock.release()
    return 0


def _format_state(device: dict[str, Any], units: str) -> str:
    state = device.get("state", {})
    if not device.get("available", True):
        return "unavailable"
    parts = []
    if "on" in state:
        parts.append("on" if state["on"] else "off")
    if state.get("on") and "brightness" in state:
        parts.append(f"{state['brightness']}%")
    for key, label in (("current_temperature_c", "now"), ("target_temperature_c", "set")):
        if key in state:
            value = state[key] * 9 / 5 + 32 if units == "imperial" else state[key]
            parts.append(f"{label} {value:.1f}°{'F' if units == 'imperial' else 'C'}")
    if "hvac_mode" in state:
        parts.append(state["hvac_mode"])
    if "position" in state:
        position = state["position"]
        parts.append(
            "closed" if position == 0 else "open" if position == 100 else f"{position}% open"
        )
    if "activity" in state:
        parts.append(state["activity"])
    if "battery" in state and device.get("kind") == "vacuum":
        parts.append(f"battery {state['battery']}%")
    if "locked" in state:
        parts.append("locked" if state["locked"] else "UNLOCKED")
    if "alarm_state" in state:
        parts.append(state["alarm_state"])
    if "playback" in state:
        parts.append(
            state["playback"] + (f" · {state['media_title']}" if state.get("media_title") else "")
        )
    if "volume" in state:
        parts.append(f"vol {state['volume']}")
    if "motion" in state:
        parts.append("motion" if state["motion"] else "no motion")
    if "contact_open" in state and "position" not in state:  # a cover says it once
        parts.append("open" if state["contact_open"] else "closed")
    if "humidity" in state:
        parts.append(f"{state['humidity']:.0f}% RH")
    return ", ".join(parts) or "-"


def run_dashboard(args: argparse.Namespace) -> int:
    """Print a one-time login link to the running daemon's dashboard."""
    try:
        body = {"area": args.area} if args.area else {}
        data = api(_paths(args), "POST", "/api/login-link", body)
    except (DaemonUnreachable, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 1
    if not isinstance(data, dict) or "url" not in data:
        print(f"homeclaw: unexpected answer: {data}", file=sys.stderr)
        return 1
    print(data["url"])
    print("(one use, valid 15 minutes; it sets a cookie and opens the dashboard)", file=sys.stderr)
    return 0


def run_devices(args: argparse.Namespace) -> int:
    """Print the running daemon's devices, grouped by area (or as JSON)."""
    try:
        data = api(_paths(args), "GET", "/api/devices")
    except (DaemonUnreachable, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 1
    if not isinstance(data, dict) or "devices" not in data:
        print(f"homeclaw: unexpected answer: {data}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    areas = data.get("areas", {})
    current = object()
    for device in data["devices"]:
        if device["area"] != current:
            current = device["area"]
            name = areas.get(current, {}).get("name") if current else "Unassigned"
            print(f"\n{name or str(current).replace('_', ' ').title()}")
        print(
            f"  {device['name']:<24} {device['kind'].replace('_', ' '):<8} "
            f"{_format_state(device, data.get('units', 'metric')):<40} {device['id']}"
        )
    return 0


def run_doctor(args: argparse.Namespace) -> int:
    """Check config, connections, optional parts; exit 78 on a bad config, 1 on failures."""
    from agent.cli.doctor import run_checks

    paths = reachable_home(_paths(args))
    print(f"home folder: {paths.root}")
    if not paths.config.exists():
        print(f"  ✗ no config at {paths.config} (run `homeclaw init`)")
        return EX_CONFIG
    config = load_or_exit(paths)
    print(f"  ✓ config {paths.config} is valid")
    print(f"  {'✓' if paths.token_file.exists() else '✗'} API token {paths.token_file}")
    url_file = paths.root / "url"
    status = f"running at {url_file.read_text()}" if url_file.exists() else "not running"
    print(f"  {'✓' if url_file.exists() else '·'} daemon {status}")
    if not url_file.exists():
        from agent.process import who_listens

        holder = who_listens(config.web.port)
        if holder:
            print(
                f"  ✗ port {config.web.port} (web.port) is taken by {holder}: "
                "`homeclaw run` could not listen there"
            )
    import asyncio

    from agent.demo import is_demo_home

    checks = asyncio.run(run_checks(config, paths, demo=is_demo_home(paths)))
    for check in checks:
        print(f"  {'✓' if check.ok else '✗'} {check.name}: {check.detail}")
    return 0 if all(c.ok for c in checks) else 1
