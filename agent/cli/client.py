"""A small client for the running daemon's API (used by the CLI)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from datetime import UTC, datetime, tzinfo
from typing import Any

from agent.paths import HomePaths
from agent.process import lock_holder


class DaemonUnreachable(Exception):
    """The daemon is not running (or not where the config says)."""


def reachable_home(paths: HomePaths) -> HomePaths:
    """The home folder of the daemon to talk to.

    With no daemon running from the default home and no `--home`/`HOMECLAW_HOME`
    given, a running `homeclaw demo` (which keeps its own home) is used, so the
    README's commands work against the demo as they are.
    """
    if (paths.root / "url").exists() or os.environ.get("HOMECLAW_HOME"):
        return paths
    default = HomePaths.from_env("~/.homeclaw")
    demo = HomePaths.from_env("~/.homeclaw-demo")
    if paths.root == default.root and ((demo.root / "url").exists() or lock_holder(demo.root)):
        return demo  # serving, or still starting (it holds its folder from its first second)
    return paths


def base_url(paths: HomePaths) -> str:
    """Where the daemon listens, from the config (or a `url` file a demo wrote)."""
    url_file = paths.root / "url"
    if url_file.exists():
        return url_file.read_text().strip().rstrip("/")
    from agent.config import ConfigError, load_config  # only without a url file: keep `ask` quick

    try:
        web = load_config(paths.config).web
        host = "127.0.0.1" if web.host in ("0.0.0.0", "::") else web.host
        return f"http://{host}:{web.port}"
    except ConfigError:
        return "http://127.0.0.1:8321"


def api(
    paths: HomePaths, method: str, path: str, body: Any = None, *, timeout: float = 120.0
) -> Any:
    """Call the API with the home folder's token; raise DaemonUnreachable or return JSON."""
    paths = reachable_home(paths)
    url = base_url(paths) + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        token = paths.token()
    except FileNotFoundError:
        raise DaemonUnreachable(
            f"no homeclaw home at {paths.root} (run `homeclaw init`, or start `homeclaw demo`)."
        ) from None
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        if err.code == 401:
            raise DaemonUnreachable(
                f"the daemon at {base_url(paths)} refused the token in {paths.token_file}; "
                "it belongs to another home folder (use --home or HOMECLAW_HOME)."
            ) from None
        try:
            return json.loads(err.read() or b"null")
        except ValueError:
            return {"error": "http", "detail": f"HTTP {err.code}"}
    except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
        if holder := lock_holder(paths.root):  # started, not serving yet: don't say "start it"
            raise DaemonUnreachable(
                f"homeclaw is starting: {holder} holds {paths.root} but does not answer at "
                f"{base_url(paths)} yet. Try again in a few seconds (it prints the dashboard "
                "link when it is ready)."
            ) from None
        raise DaemonUnreachable(
            f"homeclaw is not running at {base_url(paths)} ({_why(err)}). Start it with "
            "`homeclaw run` (or `homeclaw demo`)."
        ) from None


def _why(err: OSError) -> str:
    """'connection refused', not urllib's '<urlopen error [Errno 111] Connection refused>'."""
    reason = getattr(err, "reason", err)
    if isinstance(reason, OSError) and reason.errno:
        return os.strerror(reason.errno).lower()
    return str(reason)


def home_zone(paths: HomePaths) -> tzinfo:
    """The home's timezone (config `home.timezone`): every time the CLI shows is in it."""
    from zoneinfo import ZoneInfo

    from agent.config import ConfigError, load_config

    try:
        return ZoneInfo(load_config(reachable_home(paths).config).home.timezone)
    except (ConfigError, OSError, ValueError):
        return UTC


def home_time(ts: float | None, zone: tzinfo, fmt: str = "%m-%d %H:%M:%S") -> str:
    """A Unix time as the home's clock shows it ("-" for none)."""
    return datetime.fromtimestamp(ts, zone).strftime(fmt) if ts else "-"


def error_of(result: Any) -> str | None:
    """The daemon's error sentence in an API answer, or None when it went well."""
    if isinstance(result, dict) and "error" in result:
        return str(result.get("detail") or result["error"])
    return None
