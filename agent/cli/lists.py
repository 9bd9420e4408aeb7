"""`homeclaw lists [NAME] [--add ITEM…] [--remove ITEM…] [--done ITEM…]`: the owner's lists.

Without a name: every list and how many items wait. With a name ("shopping",
"to-do", a Home Assistant list): its items, after the changes asked for.
`--json` prints the API's JSON unchanged (`{"lists": [{"id", "name", "source",
"pending"}]}`, or `{"id", "name", "source", "items": [{"text", "done"}]}`).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse

from agent.cli.client import DaemonUnreachable, api, error_of
from agent.paths import HomePaths


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `lists` command."""
    parser = subparsers.add_parser("lists", help="the shopping list, the to-do list and others")
    parser.add_argument("name", nargs="?", help="a list (shopping, to-do, ...)")
    parser.add_argument("--add", nargs="+", default=[], metavar="ITEM", help="add items")
    parser.add_argument("--remove", nargs="+", default=[], metavar="ITEM", help="remove items")
    parser.add_argument("--done", nargs="+", default=[], metavar="ITEM", help="tick items off")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run_lists)


def run_lists(args: argparse.Namespace) -> int:
    """Show the lists, or change one and show it."""
    paths = HomePaths.from_env(args.home)
    try:
        if args.name is None:
            if args.add or args.remove or args.done:
                print("Say which list: homeclaw lists shopping --add milk", file=sys.stderr)
                return 2
            result = api(paths, "GET", "/api/lists", timeout=30)
            if problem := error_of(result):
                print(problem, file=sys.stderr)
                return 1
            if args.json:
                print(json.dumps(result, indent=2, ensure_ascii=False))
            for entry in [] if args.json else result.get("lists", []):
                where = " (Home Assistant)" if entry.get("source") == "homeassistant" else ""
                count = entry.get("error") or f"{entry.get('pending', 0)} to do"
                print(f"{entry['name']}{where}: {count}")
            return 0
        path = f"/api/lists/{urllib.parse.quote(args.name, safe='')}"
        if args.add or args.remove or args.done:
            edit = {"add": args.add, "remove": args.remove, "complete": args.done}
            result = api(paths, "POST", path, edit, timeout=30)
            if problem := error_of(result):
                print(problem, file=sys.stderr)
                return 1
            missing = [m for part in result.values() for m in part.get("not_found", [])]
            if missing:
                print(f"Not on the list: {', '.join(missing)}", file=sys.stderr)
        result = api(paths, "GET", path, timeout=30)
    except DaemonUnreachable as err:
        print(err, file=sys.stderr)
        return 1
    if problem := error_of(result):
        print(problem, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(result["name"] + (" (Home Assistant)" if result.get("source") == "homeassistant" else ""))
    if not result["items"]:
        print("  (empty)")
    for item in result["items"]:
        print(f"  [{'x' if item['done'] else ' '}] {item['text']}")
    return 0
