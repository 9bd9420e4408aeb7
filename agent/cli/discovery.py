"""`homeclaw discover` (what is on the LAN, and the config to add it) and
`homeclaw hue-pair HOST` (guided link-button pairing).

Both run in the CLI process, on the interfaces from `discovery.interfaces` in
the config (or `--interface`). `discover --json` prints
`{"interfaces": [...], "seconds": s, "found": [{"kind", "name", "host", "port",
"unique_id", "properties", "config", "needs_pairing", "source", "configured",
"supported"}...]}`.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from typing import TYPE_CHECKING, Any

from agent.cli.client import reachable_home
from agent.paths import HomePaths

if TYPE_CHECKING:
    from agent.config import Config

KIND_NAMES = {
    "sonos": "Sonos",
    "hue": "Hue bridge",
    "wled": "WLED",
    "shelly": "Shelly",
    "homeassistant": "Home Assistant",
    "mqtt": "MQTT broker",
    "frigate": "Frigate NVR",
    "googlecast": "Google Cast",
    "homekit": "HomeKit",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `discover` and `hue-pair`."""
    discover = subparsers.add_parser(
        "discover", help="find devices on the LAN and show the config to add each"
    )
    discover.add_argument(
        "--interface",
        action="append",
        metavar="IP",
        help="IPv4 address of an interface to search on (repeatable; default from config)",
    )
    discover.add_argument("--seconds", type=float, help="how long to listen (default from config)")
    discover.add_argument("--json", action="store_true", help="machine-readable output")
    discover.set_defaults(func=_discover)

    pair = subparsers.add_parser("hue-pair", help="pair with a Hue bridge (press its link button)")
    pair.add_argument("host", help="the bridge's address (ip or ip:port, as `discover` shows)")
    pair.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")
    pair.add_argument("--json", action="store_true", help="machine-readable output")
    pair.set_defaults(func=_hue_pair)


def _config(args: argparse.Namespace) -> Config:
    from agent.config import Config, load_config

    # A running `homeclaw demo` keeps its own home: its config says to search loopback.
    paths = reachable_home(HomePaths.from_env(args.home))
    if not paths.config.exists():
        return Config()
    return load_config(paths.config)


def _running_device_ids(args: argparse.Namespace) -> list[str]:
    """Device ids of the running daemon, if any (a device at a new IP is not "new")."""
    from agent.cli.client import DaemonUnreachable, api

    try:
        paths = reachable_home(HomePaths.from_env(args.home))
        listed = api(paths, "GET", "/api/devices", timeout=3)
    except (DaemonUnreachable, FileNotFoundError, OSError):
        return []
    devices = listed.get("devices", []) if isinstance(listed, dict) else []
    return [str(d.get("id")) for d in devices if isinstance(d, dict)]


def to_yaml(data: Any) -> str:
    """YAML text of a config fragment."""
    out = io.StringIO()
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(data, out)
    return out.getvalue()


def merge_snippets(snippets: list[dict[str, Any]]) -> dict[str, Any]:
    """One config fragment from several (lists under the same key are joined)."""
    merged: dict[str, Any] = {}
    for snippet in snippets:
        for section, body in snippet.items():
            target = merged.setdefault(section, {})
            for key, value in body.items():
                if isinstance(value, list):
                    target.setdefault(key, [])
                    target[key].extend(v for v in value if v not in target[key])
                else:
                    target.setdefault(key, value)
    return merged


def _discover(args: argparse.Namespace) -> int:
    from agent.config import ConfigError
    from integrations.discovery import describe
    from integrations.discovery_scan import scan

    try:
        config = _config(args)
    except ConfigError as err:
        print(f"homeclaw: bad configuration:\n{err}")
        return 78
    interfaces = args.interface or config.discovery.interfaces or None
    seconds = args.seconds or config.discovery.scan_seconds
    started = time.monotonic()
    try:
        import asyncio  # not at the top: `ask` and `devices` start quicker

        async def everything() -> list[Any]:
            from integrations.frigate.discovery import beside

            found = await scan(interfaces, seconds, ssdp=config.discovery.ssdp)
            return await beside(found, lan=not interfaces)

        found = asyncio.run(everything())
    except OSError as err:
        print(f"homeclaw: cannot search on {interfaces or 'all interfaces'}: {err}")
        return 1
    elapsed = time.monotonic() - started
    known = _running_device_ids(args)
    described = [describe(d, config, device_ids=known) for d in found]
    if args.json:
        report = {"interfaces": interfaces or [], "seconds": round(elapsed, 2), "found": described}
        print(json.dumps(report, indent=2))
        return 0
    where = ", ".join(interfaces) if interfaces else "all interfaces"
    if not described:
        print(f"Nothing found on {where} in {elapsed:.1f} s.")
        print("Devices must be on the same network; try --interface <this machine's LAN IP>.")
        return 0
    print(f"Found {len(described)} on {where} in {elapsed:.1f} s:\n")
    for item in described:
        _print_item(item)
    new = [i["config"] for i in described if i["supported"] and not i["configured"]]
    if len(new) > 1:
        print("All new devices together (merge into config.yaml):\n")
        print(_indent(to_yaml(merge_snippets(new)), 2))
    if config.discovery.auto_add and new:
        print("discovery.auto_add is on: the running daemon adds new devices on its next scan.")
    return 0


def _print_item(item: dict[str, Any]) -> None:
    kind = KIND_NAMES.get(item["kind"], item["kind"])
    address = f"{item['host']}:{item['port']}"
    if item["configured"]:
        status = "configured"
    elif not item["supported"]:
        status = "not supported yet"
    else:
        status = "new"
    print(f"  {kind:<15} {item['name']:<22} {address:<21} {status}")
    print(f"  {'':<15} id {item['unique_id']}")
    if item["configured"] or not item["supported"]:
        print()
        return
    if item["kind"] == "hue" and item["needs_pairing"]:
        host = item["config"]["hue"]["bridges"][0]["host"]
        print(f"  {'':<15} pair first: homeclaw hue-pair {host}")
    if item["kind"] == "homeassistant":
        print(
            f"  {'':<15} needs a long-lived token (HA → your profile → Security); "
            "put it in .env as HA_TOKEN"
        )
    print(f"  {'':<15} add to config.yaml:")
    print(_indent(to_yaml(item["config"]), 19))


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line if line else line for line in text.splitlines()) + "\n"


def _hue_pair(args: argparse.Namespace) -> int:
    from integrations.hue.adapter import pair

    host: str = args.host
    timeout: float = args.timeout
    if not args.json:
        print(f"Press the round link button on the Hue bridge at {host} now.")
        print(f"I'll wait {timeout:.0f} s…", flush=True)
    last_said = [time.monotonic()]

    def waiting(seconds_left: float) -> None:
        if not args.json and time.monotonic() - last_said[0] >= 5:
            print(f"  still waiting for the button… {seconds_left:.0f} s left", flush=True)
            last_said[0] = time.monotonic()

    from agent.errors import HomeError

    try:
        import asyncio

        app_key = asyncio.run(pair(host, timeout, on_waiting=waiting))
    except HomeError as err:
        if args.json:
            print(json.dumps({"error": err.kind, "detail": str(err)}))
        else:
            print(f"Not paired: {err}")
        return 1
    snippet = {"hue": {"bridges": [{"host": host, "app_key": app_key}]}}
    if args.json:
        print(json.dumps({"host": host, "app_key": app_key, "config": snippet}))
        return 0
    print("Paired. Add this to config.yaml (keep the key secret), then restart homeclaw:\n")
    print(_indent(to_yaml(snippet), 2))
    return 0
