"""The brain inside a real daemon: virtual devices, the HTTP API and `homeclaw ask`."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from agent.cli import main
from tests.conftest import RunningDaemon
from tests.util import eventually

CONFIG: dict[str, Any] = {
    "home": {"units": "imperial", "areas": {"hallway": {"floor": "downstairs"}}},
    "virtual": {
        "devices": [
            {"id": "porch", "name": "Porch light", "kind": "light", "area": "porch"},
            {"id": "door", "name": "Front door", "kind": "lock", "area": "hallway"},
            {"id": "stat", "name": "Thermostat", "kind": "climate", "area": "living_room"},
        ]
    },
}


async def test_ask_json_and_confirmation_through_the_cli(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ask --json` prints the documented shape; a code from the CLI unlocks; chat works."""
    daemon = await start_daemon(CONFIG)
    rt = daemon.rt
    assert rt.service("brain") is not None and rt.service("policy") is not None
    await eventually(lambda: len(rt.home.devices()) == 3)
    home = str(rt.paths.root)
    (rt.paths.root / "url").write_text(daemon.url)

    async def ask(*words: str) -> dict[str, Any]:
        capsys.readouterr()
        status = await asyncio.to_thread(main, ["--home", home, "ask", "--json", *words])
        assert status == 0
        result: dict[str, Any] = json.loads(capsys.readouterr().out)
        return result

    result = await ask("turn on the porch light")
    assert set(result) == {"reply", "path", "actions", "confirmation"}
    assert result["path"] == "local" and result["actions"][0]["ok"] is True
    porch = next(d for d in rt.home.devices() if d.name == "Porch light")
    assert porch.state.on is True

    result = await ask("unlock", "the", "front", "door")
    assert result["confirmation"]["code_required"] is True
    assert result["confirmation"]["expires_at"]
    code = re.search(r"YES (\d{4})", result["reply"]).group(1)  # type: ignore[union-attr]
    door = next(d for d in rt.home.devices() if d.name == "Front door")
    assert rt.home.get(door.id).state.locked is True
    # The same code through the dashboard's channel is bound to another sender.
    status, body = await daemon.api("POST", "/api/confirm", {"code": code})
    assert status == 409 and rt.home.get(door.id).state.locked is True
    result = await ask("YES", code)
    assert result["reply"].startswith("Confirmed") and rt.home.get(door.id).state.locked is False

    status, body = await daemon.api("POST", "/api/chat", {"text": "set the thermostat to 70"})
    assert status == 200 and body["path"] == "local" and "70°F" in body["reply"]
    status, body = await daemon.api("POST", "/api/chat", {"text": "I'm cold"})
    assert status == 200 and body["path"] == "none" and "brain.provider" in body["reply"]

    # `homeclaw chat` reads lines until /quit (here from a pipe, not a terminal).
    monkeypatch.setattr("sys.stdin", io.StringIO("turn off the porch light\n\n/quit\n"))
    capsys.readouterr()
    status = await asyncio.to_thread(main, ["--home", home, "chat"])
    assert status == 0 and "Porch light off" in capsys.readouterr().out
    assert rt.home.get(porch.id).state.on is False
