"""`homeclaw routines list|run NAME|reload` and `homeclaw schedules list|cancel ID`.

`--json` prints the API's JSON unchanged: `{"routines": [{"name", "description",
"phrases", "steps", "schedules", "when", "last_run"}], "problems": [...]}` for
`routines list`, the run (`{"routine", "ok", "summary", "duration_s", "steps"...}`)
for `routines run`, and `{"schedules": [{"id", "name", "what", "when", "source",
"next_run"}]}` for `schedules list`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import datetime
from typing import Any

from agent.cli.client import DaemonUnreachable, api, error_of
from agent.paths import HomePaths


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `routines` and `schedules` commands."""
    routines = subparsers.add_parser(
        "routines",
        help="list and run routines",
        description="With no ACTION, lists them (as `routines list`).",
    )
    sub = routines.add_subparsers(dest="routines_command", metavar="ACTION")
    # A bare group command is what a person types first: show the list, not the usage.
    routines.set_defaults(func=_list_routines, json=False)
    listing = sub.add_parser("list", help="routines with phrases, steps and last result")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_list_routines)
    run = sub.add_parser("run", help="run a routine now")
    run.add_argument("name", nargs="+")
    run.add_argument("--json", action="store_true", help="machine-readable output")
    run.set_defaults(func=_run_routine)

    reload = sub.add_parser("reload", help="re-read routines.yaml after editing it by hand")
    reload.set_defaults(func=_reload)

    schedules = subparsers.add_parser(
        "schedules",
        help="list and cancel schedules",
        description="With no ACTION, lists them (as `schedules list`).",
    )
    sub_schedules = schedules.add_subparsers(dest="schedules_command", metavar="ACTION")
    schedules.set_defaults(func=_list_schedules, json=False)
    slist = sub_schedules.add_parser("list", help="schedules with their next run time")
    slist.add_argument("--json", action="store_true", help="machine-readable output")
    slist.set_defaults(func=_list_schedules)
    cancel = sub_schedules.add_parser("cancel", help="cancel a schedule by id")
    cancel.add_argument("id")
    cancel.set_defaults(func=_cancel_schedule)


def _call(args: argparse.Namespace, method: str, path: str) -> Any:
    try:
        return api(HomePaths.from_env(args.home), method, path, timeout=60)
    except DaemonUnreachable as err:
        print(err, file=sys.stderr)
        return None


def _failed(result: Any) -> bool:
    if (said := error_of(result)) is not None:
        print(said, file=sys.stderr)
        return True
    return result is None


def _list_routines(args: argparse.Namespace) -> int:
    result = _call(args, "GET", "/api/routines")
    if _failed(result):
        return 1
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if not result["routines"]:
        print("No routines yet (see config/routines.example.yaml).")
    for routine in result["routines"]:
        phrases = ", ".join(f"“{p}”" for p in routine["phrases"])
        print(f"{routine['name']}" + (f"  ({phrases})" if phrases else ""))
        for step in routine["steps"]:
            print(f"    - {step}")
        for when in routine["schedules"]:
            print(f"    at: {when}")
        for trigger in routine["when"]:
            condition = trigger.get("to") or (
                f"above {trigger['above']}"
                if "above" in trigger
                else f"below {trigger.get('below')}"
            )
            window = ""
            if trigger.get("after") or trigger.get("before"):
                window = f" ({trigger.get('after') or ''}–{trigger.get('before') or ''})"
            print(f"    when: {trigger['device']} {condition}{window}")
        last = routine.get("last_run")
        if last:
            print(f"    last run: {last['summary']}")
    for problem in result.get("problems", []):
        print(f"problem: {problem}", file=sys.stderr)
    return 0


def _run_routine(args: argparse.Namespace) -> int:
    name = " ".join(args.name)
    result = _call(args, "POST", f"/api/routines/{urllib.parse.quote(name, safe='')}/run")
    if _failed(result):
        return 1
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(result["summary"])
    return 0 if result["ok"] else 1


def _reload(args: argparse.Namespace) -> int:
    result = _call(args, "POST", "/api/routines/reload")
    if isinstance(result, dict) and result.get("problems") and "error" in result:
        for problem in result["problems"]:
            print(problem, file=sys.stderr)
        return 1
    if _failed(result):
        return 1
    print(f"Loaded {result['routines']} routines.")
    for problem in result.get("problems", []):
        print(f"problem: {problem}", file=sys.stderr)
    return 0


def _list_schedules(args: argparse.Namespace) -> int:
    result = _call(args, "GET", "/api/schedules")
    if _failed(result):
        return 1
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if not result["schedules"]:
        print("No schedules.")
    for item in result["schedules"]:
        label = item.get("name") or item["what"]
        print(f"{item['id']}  {label}  [{item['when']}]  next: {_when(item.get('next_run'))}")
    return 0


def _when(iso: str | None) -> str:
    """'Thu 12-03 07:00': the API gives the next run in the home's own offset already."""
    if not iso:
        return "—"
    try:
        return datetime.fromisoformat(iso).strftime("%a %m-%d %H:%M")
    except ValueError:
        return iso


def _cancel_schedule(args: argparse.Namespace) -> int:
    result = _call(args, "DELETE", f"/api/schedules/{urllib.parse.quote(args.id, safe='')}")
    if _failed(result):
        return 1
    print(f"Cancelled {args.id}.")
    return 0
