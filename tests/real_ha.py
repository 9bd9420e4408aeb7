"""A real Home Assistant (its `demo:` integration) for the real-HA test tier and bench.

HA runs from its own virtual environment (`.ci/realha` builds it): point
HOMECLAW_HA_HASS at that environment's `hass`. It listens on 127.0.0.1 only,
is onboarded through its own onboarding API (owner account → auth code →
access token), and is stopped again by whoever started it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.demo.simulation import free_port

CONFIG = """\
homeassistant:
  name: Real HA
  latitude: 32.87
  longitude: -117.22
  elevation: 0
  unit_system: us_customary
  time_zone: UTC
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
websocket_api:
onboarding:
config:
demo:
"""


@dataclass
class RealHomeAssistant:
    """One real HA process: `start()`, `.url`, `.token`, `stop()`; restartable on its port."""

    hass: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hc-realha-")))
    port: int = field(default_factory=free_port)
    token: str = ""
    proc: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0  # seconds from launch to RUNNING with the demo's entities

    @property
    def url(self) -> str:
        """Base URL (http://127.0.0.1:port)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 240.0) -> RealHomeAssistant:
        """Launch HA, onboard it on first start, and wait until the demo is loaded."""
        config = self.root / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "configuration.yaml").write_text(CONFIG.format(port=self.port))
        began = time.monotonic()
        log = (self.root / "hass.out").open("ab")
        self.proc = subprocess.Popen(
            [self.hass, "-c", str(config), "--skip-pip", "--log-file", str(self.root / "hass.log")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = began + timeout
        while not self._answers("/api/onboarding"):
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"Home Assistant did not answer in {timeout:.0f}s")
            time.sleep(0.2)
        if not self.token:
            self.token = self._onboard()
        while not self._running():
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"Home Assistant's demo did not load in {timeout:.0f}s")
            time.sleep(0.2)
        self.started_in = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop HA (SIGTERM, then SIGKILL after 30 s)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def cleanup(self) -> None:
        """Stop and delete the config folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        """One authenticated REST call; the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def state(self, entity_id: str) -> dict[str, Any]:
        """The entity's state object as HA serves it."""
        result: dict[str, Any] = self.rest("GET", f"/api/states/{entity_id}")
        return result

    def log_tail(self, lines: int = 40) -> str:
        """The end of HA's log (for a failing test's message)."""
        path = self.root / "hass.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    # -- internals ----------------------------------------------------------------

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(
                f"Home Assistant exited ({self.proc.returncode}):\n{self.log_tail()}"
            )

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as resp:
                return bool(resp.status < 500)
        except urllib.error.HTTPError as err:
            return err.code < 500
        except OSError:
            return False

    def _running(self) -> bool:
        try:
            config = self.rest("GET", "/api/config")
            return config.get("state") == "RUNNING" and bool(self.state("climate.ecobee"))
        except (OSError, ValueError):
            return False

    def _onboard(self) -> str:
        """Create the owner through the onboarding API and trade its code for a token."""
        client_id = self.url + "/"
        created = _post_json(
            self.url + "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": "Owner",
                "username": "owner",
                "password": "homeclaw-test-owner",
                "language": "en",
            },
        )
        form = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": created["auth_code"],
                "client_id": client_id,
            }
        ).encode()
        with urllib.request.urlopen(self.url + "/auth/token", data=form, timeout=30) as resp:
            token: str = json.loads(resp.read())["access_token"]
        return token


def _post_json(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def hass_executable() -> str | None:
    """The `hass` of the real-HA venv, from HOMECLAW_HA_HASS, if set and present."""
    hass = os.environ.get("HOMECLAW_HA_HASS")
    return hass if hass and os.access(hass, os.X_OK) else None
