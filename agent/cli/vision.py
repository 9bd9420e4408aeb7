"""`homeclaw cameras` and `homeclaw events`: the cameras of the running daemon.

`--json` prints the API's JSON unchanged: `{"cameras": [{"name", "area",
"enabled", "health": {"status", "fps", "last_frame_age", "reconnects",
"error", ...}, "notify", "masks", "hushed", "latest_event", "snapshot"}]}` and
`{"events": [{"id", "camera", "started", "ended", "quiet", "facts",
"keyframes", "title", "description", "labels", "notable", "carrier",
"backend", "notified"}]}` (times are Unix seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from typing import Any

from agent.cli.client import DaemonUnreachable, api, error_of, home_time, home_zone
from agent.paths import HomePaths


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `cameras` and `events` commands."""
    cameras = subparsers.add_parser("cameras", help="cameras, their health and latest event")
    cameras.add_argument("--json", action="store_true", help="machine-readable output")
    cameras.add_argument(
        "--unhush", metavar="ID", help="tell me again about alerts I called not useful"
    )
    cameras.set_defaults(func=_cameras)

    events = subparsers.add_parser("events", help="what the cameras saw")
    events.add_argument("--camera", help="one camera only")
    events.add_argument(
        "--since", default="today", help="today (default), yesterday, 3h, 30m or an ISO time"
    )
    events.add_argument("--limit", type=int, default=50)
    events.add_argument("--all", action="store_true", help="include ignored events")
    events.add_argument("--json", action="store_true", help="machine-readable output")
    events.set_defaults(func=_events)


def _call(args: argparse.Namespace, path: str) -> Any:
    return api(HomePaths.from_env(args.home), "GET", path, timeout=30)


def _told(how: str | None) -> str:
    """What the owner was told of an event, in words ("notified" holds a short code)."""
    if not how:
        return "not sent (yet)"
    if how == "yes":
        return "sent to you"
    if how.startswith("no: "):
        return f"not sent: {how[4:]}"
    return f"sent to you ({how})"


def _cameras(args: argparse.Namespace) -> int:
    if args.unhush:
        try:
            done = api(
                HomePaths.from_env(args.home), "DELETE", f"/api/cameras/hushed/{args.unhush}"
            )
        except DaemonUnreachable as err:
            print(err, file=sys.stderr)
            return 1
        if error := error_of(done):
            print(error, file=sys.stderr)
            return 1
        print(f"Alerts like that will be sent again ({args.unhush} removed).")
        return 0
    try:
        result = _call(args, "/api/cameras")
    except DaemonUnreachable as err:
        print(err, file=sys.stderr)
        return 1
    if error := error_of(result):
        print(error, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if not result["cameras"]:
        print("No cameras configured (add them under `cameras:` in config.yaml).")
    zone = home_zone(HomePaths.from_env(args.home))
    for cam in result["cameras"]:
        health = cam["health"]
        line = f"{cam['name']:<16} {health.get('status', '?'):<12}"
        if health.get("fps"):
            line += f" {health['fps']:>5.1f} fps"
        if health.get("error"):
            line += f"  {health['error']}"
        latest = cam.get("latest_event")
        if latest:
            when = home_time(latest["started"], zone, "%H:%M")
            line += f"  last: {when} {latest.get('title') or '(motion)'}"
        print(line)
    hushed = {r["id"]: r for cam in result["cameras"] for r in cam.get("hushed", [])}
    if hushed:
        print("\nNot telling you about (you said so; `homeclaw cameras --unhush ID` to undo):")
    for rule in hushed.values():
        since = home_time(rule["created"], zone, "%d %b %H:%M")
        where = rule["camera"] or "all cameras"
        print(f"  {rule['id']}  {where}: {rule['summary']}  — “{rule['said']}”, {since}")
    return 0


def _events(args: argparse.Namespace) -> int:
    from vision.tools import parse_since

    try:
        zone = home_zone(HomePaths.from_env(args.home))
        since = parse_since(args.since, str(zone))
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    query: dict[str, Any] = {"limit": args.limit}
    if since is not None:
        query["since"] = since
    if args.camera:
        query["camera"] = args.camera
    try:
        result = _call(args, "/api/cameras/events?" + urllib.parse.urlencode(query))
    except DaemonUnreachable as err:
        print(err, file=sys.stderr)
        return 1
    if error := error_of(result):
        print(error, file=sys.stderr)
        return 1
    events = [e for e in result["events"] if args.all or not e.get("quiet")]
    if args.json:
        print(json.dumps({"events": events}, indent=2, ensure_ascii=False))
        return 0
    if not events:
        print("No camera events.")
    for e in reversed(events):
        when = home_time(e["started"], zone, "%Y-%m-%d %H:%M:%S")
        title = e.get("title") or "(being described)"
        flag = f" [{e['quiet']}]" if e.get("quiet") else ""
        print(f"{when}  {e['camera']:<12} {title}{flag}  — {_told(e.get('notified'))}")
    return 0
