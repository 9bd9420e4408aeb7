"""CLI for the messaging bridge: `homeclaw pair …`, `homeclaw messages`, `homeclaw notify`,
and the channel checks `homeclaw doctor` runs (`channel_checks`)."""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from agent.cli.client import DaemonUnreachable, api, home_time, home_zone, reachable_home
from agent.paths import HomePaths

if TYPE_CHECKING:
    import aiohttp

    from agent.config import Config

# The CLI stays light to import (agent.roles pulls in pydantic): the same three roles.
ROLES = ("owner", "family", "guest")
CHANNELS = ("sms", "whatsapp", "telegram")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the pair, messages and notify subcommands."""
    pair = sub.add_parser("pair", help="let a new person talk to the house (pairing codes)")
    pair_sub = pair.add_subparsers(dest="pair_command", metavar="ACTION")
    new = pair_sub.add_parser("new", help="create a one-time code the person texts to the house")
    new.add_argument("name")
    new.add_argument("--role", choices=ROLES, default="guest")
    new.add_argument("--json", action="store_true")
    add = pair_sub.add_parser("add", help="approve an address directly (e.g. a stranger)")
    add.add_argument("channel", choices=CHANNELS)
    add.add_argument("address", help="phone number (E.164) or Telegram user id")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=ROLES, default="guest")
    listing = pair_sub.add_parser("list", help="everyone the house knows, and pending codes")
    listing.add_argument("--json", action="store_true")
    remove = pair_sub.add_parser("remove", help="forget a paired person on a channel")
    remove.add_argument("channel", choices=CHANNELS)
    remove.add_argument("address")
    pair.set_defaults(func=run_pair)

    messages = sub.add_parser("messages", help="recent messages, failures and strangers")
    messages.add_argument("--status", help="only outbound messages in this state (e.g. failed)")
    messages.add_argument("--strangers", action="store_true", help="only unknown senders")
    messages.add_argument("--limit", type=int, default=20)
    messages.add_argument("--json", action="store_true")
    messages.set_defaults(func=run_messages)

    notify = sub.add_parser("notify", help="send a message (to the owner unless --to is given)")
    notify.add_argument("text")
    notify.add_argument("--channel", choices=CHANNELS)
    notify.add_argument("--to")
    notify.add_argument("--image", action="append", default=[], help="path of an image to attach")
    notify.set_defaults(func=run_notify)


def _paths(args: argparse.Namespace) -> HomePaths:
    return HomePaths.from_env(getattr(args, "home", None))


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    try:
        result = api(_paths(args), method, path, body, timeout=30)
    except (DaemonUnreachable, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        raise SystemExit(1) from None
    if isinstance(result, dict) and "error" in result:
        print(f"error: {result.get('detail') or result['error']}", file=sys.stderr)
        raise SystemExit(1)
    return result


def _into_home(args: argparse.Namespace, images: list[str]) -> list[str]:
    """Copy the owner's images into the home's media folder: the daemon attaches only
    files there (so no request can make it send, say, the token file)."""
    if not images:
        return []
    outgoing = reachable_home(_paths(args)).media / "outgoing"
    outgoing.mkdir(parents=True, exist_ok=True)
    copies = []
    for image in images:
        source = Path(image).expanduser()
        if not source.is_file():
            print(f"error: no file at {source}", file=sys.stderr)
            raise SystemExit(1)
        copy = outgoing / f"{uuid.uuid4().hex[:12]}-{source.name}"
        shutil.copyfile(source, copy)
        copies.append(str(copy))
    return copies


def run_pair(args: argparse.Namespace) -> int:
    """homeclaw pair new|add|list|remove."""
    command = args.pair_command or "list"
    zone = home_zone(_paths(args))
    if command == "new":
        result = _call(args, "POST", "/api/people/pairing", {"name": args.name, "role": args.role})
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(f"Pairing code for {result['name']} ({result['role']}): {result['code']}")
            print(f"{result['instructions']} (valid until {home_time(result['expires'], zone)}).")
        return 0
    if command == "add":
        body = {
            "channel": args.channel,
            "address": args.address,
            "name": args.name,
            "role": args.role,
        }
        result = _call(args, "POST", "/api/people", body)
        for item in result["added"]:
            print(f"added {item['name']} ({item['role']}) on {item['channel']} {item['address']}")
        return 0
    if command == "remove":
        _call(args, "DELETE", f"/api/people/{args.channel}/{args.address}")
        print(f"removed {args.address} on {args.channel}")
        return 0
    result = _call(args, "GET", "/api/people")
    if getattr(args, "json", False):
        print(json.dumps(result, indent=2))
        return 0
    for person in result["people"]:
        print(
            f"{person['name']:<16} {person['role']:<7} {person['channel']:<9} "
            f"{person['address']:<16} {person['source']}"
        )
    for pending in result["pending"]:
        print(
            f"pending code for {pending['name']} ({pending['role']}), "
            f"expires {home_time(pending['expires'], zone)}"
        )
    return 0


def run_messages(args: argparse.Namespace) -> int:
    """homeclaw messages: the outbox, inbound messages and strangers."""
    query = f"/api/messages?limit={max(1, args.limit)}"
    if args.status:
        query += f"&status={args.status}"
    result = _call(args, "GET", query)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    zone = home_zone(_paths(args))
    if not args.strangers:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(result["counts"].items())) or "empty"
        print(f"Outbox ({counts}); channels: {', '.join(result['channels']) or 'none'}")
        for m in result["outbound"]:
            extra = m["error"] or m["note"] or ""
            print(
                f"  #{m['id']:<5} {home_time(m['created'], zone)} {m['status']:<10} "
                f"{m['sent_channel'] or m['channel']:<9} {m['to']:<14} "
                f"{_short(m['text'])}{'  — ' + extra if extra else ''}"
            )
        print("Inbound:")
        for m in result["inbound"]:
            if m["status"] != "stranger":
                print(
                    f"  {home_time(m['ts'], zone)} {m['status']:<11} {m['channel']:<9} "
                    f"{m['name'] or m['sender']:<14} {_short(m['text'])}"
                )
    if not result["strangers"]:  # an empty heading reads as if something failed to load
        print("Strangers: none (a message from an unknown sender is listed here, unanswered).")
        return 0
    print("Strangers (no reply sent; approve with `homeclaw pair add CHANNEL ADDRESS --name …`):")
    for m in result["strangers"]:
        print(
            f"  {home_time(m['ts'], zone)} {m['channel']:<9} {m['sender']:<16} {_short(m['text'])}"
        )
    return 0


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def run_notify(args: argparse.Namespace) -> int:
    """homeclaw notify TEXT [--channel C --to X] [--image PATH]."""
    body: dict[str, Any] = {"text": args.text, "media": _into_home(args, args.image or [])}
    if args.channel or args.to:
        if not (args.channel and args.to):
            print("error: --channel and --to go together", file=sys.stderr)
            return 2
        body.update(channel=args.channel, to=args.to)
    result = _call(args, "POST", "/api/messages", body)
    print(
        f"queued message #{result['id']} ({result['message']['channel']} {result['message']['to']})"
    )
    return 0


# -- doctor ---------------------------------------------------------------------


async def channel_checks(config: Config, *, demo: bool = False) -> list[tuple[str, bool, str]]:
    """What `homeclaw doctor` reports about the messaging channels: (name, ok, detail)."""
    checks: list[tuple[str, bool, str]] = []
    if config.twilio is None and config.telegram is None:
        return [
            (
                "channels",
                True,
                "none configured: the house can only be reached via the "
                "dashboard and CLI (add `telegram:` or `twilio:` to config.yaml)",
            )
        ]
    import aiohttp  # doctor only: keep the other commands quick to start

    timeout = aiohttp.ClientTimeout(total=6)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        if config.twilio is not None:
            checks += await _twilio_checks(config, http, demo=demo)
        if config.telegram is not None:
            checks.append(await _telegram_check(config, http))
    owners = [p for p in config.people if p.role == "owner"]
    reachable = [
        p.name
        for p in owners
        if (config.twilio and (p.phone or p.whatsapp)) or (config.telegram and p.telegram)
    ]
    checks.append(
        (
            "owner reachable",
            bool(reachable),
            f"notifications go to {', '.join(reachable)}"
            if reachable
            else "no owner in `people:` has a phone/whatsapp/telegram id on a configured channel",
        )
    )
    return checks


async def _twilio_checks(
    config: Config, http: aiohttp.ClientSession, *, demo: bool = False
) -> list[tuple[str, bool, str]]:
    twilio = config.twilio
    assert twilio is not None
    import aiohttp

    checks: list[tuple[str, bool, str]] = []
    base = twilio.api_base_url or "https://api.twilio.com"
    token = base64.b64encode(f"{twilio.account_sid}:{twilio.auth_token}".encode()).decode()
    try:
        async with http.get(
            f"{base}/2010-04-01/Accounts/{twilio.account_sid}.json",
            headers={"Authorization": f"Basic {token}"},
        ) as resp:
            if resp.status == 200:
                data = await resp.json(content_type=None)
                checks.append(
                    (
                        "twilio credentials",
                        True,
                        f"account {data.get('friendly_name') or twilio.account_sid} "
                        f"({data.get('status', 'active')})",
                    )
                )
            elif resp.status in (401, 403):
                checks.append(
                    ("twilio credentials", False, "account SID / auth token refused by Twilio")
                )
            else:
                checks.append(("twilio credentials", False, f"Twilio answered HTTP {resp.status}"))
    except (aiohttp.ClientError, TimeoutError) as err:
        checks.append(("twilio credentials", False, f"cannot reach {base}: {err}"))
    public = twilio.public_url or config.web.public_url
    if not public:
        checks.append(
            (
                "twilio webhook",
                False,
                "set twilio.public_url to the https URL your tunnel exposes; Twilio "
                "signs requests with it and must be able to reach /webhooks/twilio",
            )
        )
    else:
        checks.append(_public_url_check(public, demo=demo))
        checks.append(await _reachable(http, public + "/webhooks/twilio"))
    checks.append(
        (
            "twilio signatures",
            True,
            "every webhook is checked (X-Twilio-Signature over "
            f"{public or '<public_url>'}/webhooks/twilio + the form, auth token as key); "
            "MessageSids are deduplicated across restarts",
        )
    )
    if twilio.whatsapp_from:
        fallback = (
            "the approved template " + twilio.whatsapp_template_sid
            if twilio.whatsapp_template_sid
            else "SMS from " + twilio.sms_from
            if twilio.sms_from
            else None
        )
        checks.append(
            (
                "whatsapp 24-hour window",
                fallback is not None,
                "WhatsApp allows free-form messages only within 24 h of the person's last "
                "message; outside it the house uses "
                + (fallback or "nothing: set whatsapp_template_sid or sms_from, or alerts fail"),
            )
        )
    return checks


def _public_url_check(public: str, *, demo: bool = False) -> tuple[str, bool, str]:
    parsed = urlparse(public)
    host = parsed.hostname or ""
    try:
        private = ipaddress.ip_address(host).is_private or host == "localhost"
    except ValueError:
        private = host == "localhost"
    if private and demo:
        return (
            "twilio public url",
            True,
            f"{public} is local, as expected in the demo: its simulated Twilio runs on this "
            "machine (a real home needs an https tunnel here)",
        )
    if private:
        return (
            "twilio public url",
            False,
            f"{public} is a local address: Twilio cannot reach it (use a tunnel)",
        )
    if parsed.scheme != "https":
        return ("twilio public url", False, f"{public} is not https; Twilio media needs https")
    return (
        "twilio public url",
        True,
        f"configure {public}/webhooks/twilio as the messaging "
        "webhook (POST) of your number / WhatsApp sender",
    )


async def _reachable(http: aiohttp.ClientSession, url: str) -> tuple[str, bool, str]:
    import aiohttp

    try:
        async with http.get(url, allow_redirects=False) as resp:
            # Our route only accepts POST: 405 means the daemon answered through the tunnel.
            if resp.status == 405:
                return ("twilio webhook", True, f"{url} reaches the daemon")
            return ("twilio webhook", False, f"{url} answered HTTP {resp.status}, not the daemon")
    except (aiohttp.ClientError, TimeoutError) as err:
        return (
            "twilio webhook",
            False,
            f"{url} is not reachable from here ({err}); is the daemon running and the tunnel up?",
        )


async def _telegram_check(config: Config, http: aiohttp.ClientSession) -> tuple[str, bool, str]:
    import aiohttp

    telegram = config.telegram
    assert telegram is not None
    url = f"{telegram.api_base_url}/bot{telegram.bot_token}/getMe"
    try:
        async with http.post(url) as resp:
            data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        return ("telegram bot", False, f"cannot reach {telegram.api_base_url}: {err}")
    if isinstance(data, dict) and data.get("ok"):
        name = (data.get("result") or {}).get("username", "?")
        return ("telegram bot", True, f"@{name} (long polling: no public URL needed)")
    return ("telegram bot", False, "the bot token was refused (ask @BotFather for a new one)")
