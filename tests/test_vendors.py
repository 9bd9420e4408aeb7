"""Adding a vendor is one package under integrations/ plus one line in integrations/vendors.py
(README, "Adding a vendor"): every vendor package has that shape, and a copied package runs."""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import typing
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.config import Config, ConfigError, config_model, load_config
from agent.configbase import Section
from agent.devices import Action, Command
from integrations.vendors import VENDORS
from tests.conftest import RunningDaemon, write_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(VENDORS))
def test_every_vendor_package_has_the_shape(name: str) -> None:
    """adapter.create, config.SECTION (the type of Config's field when the core declares one),
    and a simulator.demo when there is a simulator."""
    package = VENDORS[name]
    assert callable(importlib.import_module(f"{package}.adapter").create)
    section = importlib.import_module(f"{package}.config").SECTION
    assert issubclass(section, Section)
    if name in Config.model_fields:
        assert section in typing.get_args(Config.model_fields[name].annotation) or (
            Config.model_fields[name].annotation is section
        )
    if importlib.util.find_spec(f"{package}.simulator") is not None:
        assert callable(importlib.import_module(f"{package}.simulator").demo)


def _copy_vendor(source: str, into: Path, name: str) -> None:
    """What a person does: copy a vendor's folder and rename it inside."""
    target = into / name
    shutil.copytree(ROOT / "integrations" / source, target)
    for path in target.glob("*.py"):
        text = path.read_text()
        text = text.replace(f"integrations.{source}", name)
        text = re.sub(source, name, text)
        text = re.sub(source.title(), name.title(), text)
        path.write_text(text)


async def test_a_copied_vendor_runs_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """Copy integrations/virtual/ as `acme`, add one line to the vendor table: its config
    section loads (typos still caught), the daemon runs it and its devices obey commands."""
    _copy_vendor("virtual", tmp_path / "pkgs", "acme")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    config = {"acme": {"devices": [{"id": "lamp", "name": "Desk lamp", "kind": "light"}]}}

    bad = write_config(tmp_path / "bad", {"acme": {"devicez": []}})
    with pytest.raises(ConfigError):
        load_config(bad)  # without the line, `acme` is an unknown section
    monkeypatch.setitem(VENDORS, "acme", "acme")  # the one line
    assert "acme" in config_model().model_fields
    with pytest.raises(ConfigError, match="did you mean 'devices'"):
        load_config(bad)

    running = await start_daemon(config)
    home = running.rt.home
    lamp = home.get("acme:lamp")
    assert lamp.name == "Desk lamp" and home.integrations["acme"].name == "acme"
    done = await home.execute("acme:lamp", Command(action=Action.TURN_ON), requested_by="test")
    assert done.state.on and home.get("acme:lamp").state.on
    status, listed = await running.api("GET", "/api/devices")
    assert status == 200 and any(d["id"] == "acme:lamp" for d in _devices(listed))


def _devices(body: Any) -> list[dict[str, Any]]:
    return list(body["devices"] if isinstance(body, dict) else body)
