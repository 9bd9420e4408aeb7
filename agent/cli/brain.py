"""`homeclaw ask` and `homeclaw chat`: talk to the running daemon's brain."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agent.cli.client import DaemonUnreachable, api
from agent.paths import HomePaths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `ask` and `chat` subcommands."""
    ask = sub.add_parser("ask", help="send one message to the house and print the reply")
    ask.add_argument("text", nargs="+", help="what to say")
    ask.add_argument("--json", action="store_true", help="print the documented JSON object")
    ask.add_argument("--conversation", help="conversation id (default cli:owner)")
    ask.add_argument("--area", help='the room you are in ("turn on the lights" means its lights)')
    ask.set_defaults(func=run_ask)
    chat = sub.add_parser("chat", help="an interactive conversation with the house")
    chat.add_argument("--conversation", help="conversation id (default cli:owner)")
    chat.add_argument("--area", help="the room you are in")
    chat.set_defaults(func=run_chat)


def _send(
    paths: HomePaths, text: str, conversation: str | None, area: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text, "channel": "cli"}
    if conversation:
        body["conversation"] = conversation
    if area:
        body["area"] = area
    result = api(paths, "POST", "/api/chat", body)
    if not isinstance(result, dict):
        return {"error": "bad_response", "detail": "the daemon sent no JSON object"}
    return result


def _show(result: dict[str, Any]) -> str:
    if "error" in result and "reply" not in result:
        return f"error: {result.get('detail') or result['error']}"
    return str(result.get("reply", ""))


def run_ask(args: argparse.Namespace) -> int:
    """One message, one reply."""
    paths = HomePaths.from_env(args.home)
    try:
        result = _send(paths, " ".join(args.text), args.conversation, args.area)
    except (DaemonUnreachable, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(_show(result))
    return 1 if "error" in result and "reply" not in result else 0


def run_chat(args: argparse.Namespace) -> int:
    """Read lines, send each, print the replies, until EOF or /quit."""
    paths = HomePaths.from_env(args.home)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Talking to the house (Ctrl-D or /quit to leave).")
    while True:
        try:
            line = input("you> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            if interactive:
                print()
            return 0
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            return 0
        try:
            result = _send(paths, text, args.conversation, args.area)
        except (DaemonUnreachable, FileNotFoundError) as err:
            print(err, file=sys.stderr)
            return 1
        print(("house> " if interactive else "") + _show(result), flush=True)
