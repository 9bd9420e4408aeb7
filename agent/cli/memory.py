"""`homeclaw memory list|search|add|forget`: the memory of the running daemon.

`--json` prints the API's JSON unchanged: `{"memories": [{"id", "text", "kind",
"source", "date", "section", "importance", "file", "pinned", "unverified"}...],
"counts": {...}, "folder": ...}` for list and search.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from typing import Any

from agent.cli.client import DaemonUnreachable, api, error_of
from agent.paths import HomePaths


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `memory` command and its subcommands."""
    parser = subparsers.add_parser(
        "memory",
        help="read, search, add to and prune the memory",
        description="With no ACTION, lists the durable facts (as `memory list`).",
    )
    sub = parser.add_subparsers(dest="memory_command", metavar="ACTION")
    # A bare `homeclaw memory` is what a person types first: show it, not the usage.
    parser.set_defaults(func=_list, notes=False, limit=200, json=False)

    listing = sub.add_parser("list", help="durable facts (and daily notes with --notes)")
    listing.add_argument("--notes", action="store_true", help="include daily notes")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_list)

    search = sub.add_parser("search", help="search memories by words")
    search.add_argument("query", nargs="+")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--json", action="store_true", help="machine-readable output")
    search.set_defaults(func=_search)

    add = sub.add_parser("add", help="tell the house a fact (as the owner)")
    add.add_argument("text", nargs="+")
    add.add_argument("--pin", action="store_true", help="always in the model's context")
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(func=_add)

    pending = sub.add_parser("pending", help="what waits for your approval")
    pending.add_argument("--json", action="store_true", help="machine-readable output")
    pending.set_defaults(func=_pending)

    for verb, helptext in (
        ("approve", "approve waiting memories or changes by id"),
        ("reject", "reject waiting memories or changes by id"),
    ):
        decide = sub.add_parser(verb, help=helptext)
        decide.add_argument("ids", nargs="+", metavar="ID")
        decide.set_defaults(func=_decide, verb=verb)

    forget = sub.add_parser("forget", help="forget memories by id (files, index, transcripts)")
    forget.add_argument("ids", nargs="+", metavar="ID")
    forget.add_argument("--json", action="store_true", help="machine-readable output")
    forget.set_defaults(func=_forget)


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    return api(HomePaths.from_env(args.home), method, path, body, timeout=30)


def _print_entries(result: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    memories = result.get("memories", [])
    if not memories:
        print("No memories.")
    for m in memories:
        flags = " (pinned)" if m.get("pinned") else ""
        if m.get("unverified"):
            flags += " (awaiting approval)"
        where = m["file"] if m["kind"] == "note" else m.get("section", "")
        print(f"{m['id']}  {m['date']}  {m['source']:<14} {m['text']}{flags}  [{where}]")
    return 0


def _run(fn: Any) -> int:
    try:
        status: int = fn()
        return status
    except DaemonUnreachable as err:
        print(err, file=sys.stderr)
        return 1


def _list(args: argparse.Namespace) -> int:
    def go() -> int:
        kind = "" if args.notes else "&kind=fact"
        result = _call(args, "GET", f"/api/memory?limit={args.limit}{kind}")
        if error := error_of(result):
            print(error, file=sys.stderr)
            return 1
        return _print_entries(result, args.json)

    return _run(go)


def _search(args: argparse.Namespace) -> int:
    def go() -> int:
        query = urllib.parse.quote(" ".join(args.query))
        result = _call(args, "GET", f"/api/memory?q={query}&limit={args.limit}")
        if error := error_of(result):
            print(error, file=sys.stderr)
            return 1
        return _print_entries(result, args.json)

    return _run(go)


def _add(args: argparse.Namespace) -> int:
    def go() -> int:
        result = _call(
            args, "POST", "/api/memory", {"text": " ".join(args.text), "pinned": args.pin}
        )
        if error := error_of(result):
            print(error, file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(result, indent=2, ensure_ascii=False))
        else:
            memory = result["memory"]
            print(f"{result['status']}: {memory['id']}  {memory['text']}")
        return 0

    return _run(go)


def _forget(args: argparse.Namespace) -> int:
    def go() -> int:
        status = 0
        done = []
        for entry_id in args.ids:
            result = _call(args, "DELETE", f"/api/memory/{urllib.parse.quote(entry_id)}")
            if error := error_of(result):
                print(f"{entry_id}: {error}", file=sys.stderr)
                status = 1
            else:
                done.append(entry_id)
                if not args.json:
                    print(f"forgot {entry_id}")
        if args.json:
            print(json.dumps({"forgotten": done}))
        return status

    return _run(go)


def _pending(args: argparse.Namespace) -> int:
    """Unverified memories and waiting changes (forgets, camera alerts), oldest first."""

    def go() -> int:
        notes = _call(args, "GET", "/api/memory?kind=note&limit=1000")
        changes = _call(args, "GET", "/api/approvals")
        if error := error_of(notes) or error_of(changes):
            print(error, file=sys.stderr)
            return 1
        memories = [m for m in notes.get("memories", []) if m.get("unverified")]
        if args.json:
            result = {"memories": memories, "approvals": changes.get("approvals", [])}
            print(json.dumps(result, indent=2, ensure_ascii=False))
            return 0
        if not memories and not changes.get("approvals"):
            print("Nothing waits for your approval.")
        for m in memories:
            print(f"{m['id']}  {m['date']}  {m['source']:<22} {m['text']}")
        for a in changes.get("approvals", []):
            print(f"{a['id']}  {a['kind']:<18} {a['proposed_by']:<22} {a['summary']}")
        return 0

    return _run(go)


def _decide(args: argparse.Namespace) -> int:
    """Approve or reject by id: approval ids start with "a", memory ids are the others."""

    def go() -> int:
        status = 0
        for entry_id in args.ids:
            quoted = urllib.parse.quote(entry_id)
            if entry_id.startswith("a"):
                path = f"/api/approvals/{quoted}/{args.verb}"
                result = _call(args, "POST", path)
            elif args.verb == "approve":
                result = _call(args, "POST", f"/api/memory/{quoted}/approve")
            else:  # rejecting a proposed memory is forgetting the note
                result = _call(args, "DELETE", f"/api/memory/{quoted}")
            if error := error_of(result):
                print(f"{entry_id}: {error}", file=sys.stderr)
                status = 1
            else:
                print(f"{args.verb}d {entry_id}")
        return status

    return _run(go)
