"""`homeclaw demo`: the daemon plus a simulated home, all on loopback.

Starts an MQTT broker (Mosquitto when installed, otherwise the pure-Python
amqtt), every vendor simulator (the same ones the tests use), writes a demo
config into its own home folder (never the owner's), and runs the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from agent.config import Config, load_config
from agent.demo.simulation import DemoContext, DemoPart, free_port
from agent.paths import HomePaths
from integrations.vendors import VENDORS

log = logging.getLogger("homeclaw.demo")

# Every simulator of the demo home ("module:function" returning a DemoPart).
# Each vendor's simulator, when its package has one, then the channels, cameras and memory.
DEMO_PARTS = [
    *(
        f"{package}.simulator:demo"
        for package in VENDORS.values()
        if importlib.util.find_spec(f"{package}.simulator") is not None
    ),
    "integrations.twilio.simulator:demo",
    "integrations.telegram.simulator:demo",
    "vision.simulator:demo",
    "integrations.frigate.simulator:demo",
    "memory.simulator:demo",
]

DEMO_CONFIG: dict[str, Any] = {
    "home": {
        "name": "Demo house",
        "units": "imperial",
        "timezone": "America/Los_Angeles",
        "latitude": 37.77,
        "longitude": -122.42,
        "areas": {
            "kitchen": {"name": "Kitchen", "floor": "downstairs"},
            "living_room": {"name": "Living room", "floor": "downstairs", "aliases": ["lounge"]},
            "dining_room": {"name": "Dining room", "floor": "downstairs"},
            "hallway": {"name": "Hallway", "floor": "downstairs", "aliases": ["hall", "entrance"]},
            "bedroom": {"name": "Bedroom", "floor": "upstairs"},
            "study": {"name": "Study", "floor": "upstairs", "aliases": ["office"]},
            "bathroom": {"name": "Bathroom", "floor": "upstairs"},
            "basement": {"name": "Basement", "floor": "basement"},
            "porch": {"name": "Porch", "floor": "outside"},
            "garden": {"name": "Garden", "floor": "outside"},
            "garage": {"name": "Garage", "floor": "outside"},
            "pool": {"name": "Pool", "floor": "outside"},
            "driveway": {"name": "Driveway", "floor": "outside"},
        },
    },
    "people": [
        {
            "name": "Alex",
            "role": "owner",
            "phone": "+15550100",
            "whatsapp": "+15550100",
            "telegram": 1001,
        },
    ],
    "discovery": {"interfaces": ["127.0.0.1"]},
}


class DemoBroker:
    """An MQTT broker for the demo: Mosquitto if installed, else amqtt in-process."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._proc: asyncio.subprocess.Process | None = None
        self._amqtt: Any = None
        self._tmp: Path | None = None

    async def start(self) -> DemoBroker:
        """Start the broker and wait until it accepts connections."""
        # Debian installs it in sbin, which a normal user's PATH may lack.
        exe = shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin")
        if exe:
            self._tmp = Path(tempfile.mkdtemp(prefix="homeclaw-mosquitto-"))
            conf = self._tmp / "mosquitto.conf"
            # Started as root, mosquitto switches user, which clears the parent-death
            # signal; staying the demo's own user keeps "dies with the demo" working.
            same_user = "user root\n" if os.geteuid() == 0 else ""
            conf.write_text(
                f"listener {self.port} {self.host}\nallow_anonymous true\npersistence false\n"
                f"log_dest none\nset_tcp_nodelay true\n{same_user}"
            )
            # Its own session: Ctrl-C in the terminal reaches the demo, which then
            # stops the broker itself (it still dies with the demo: _die_with_parent).
            self._proc = await asyncio.create_subprocess_exec(
                exe,
                "-c",
                str(conf),
                stderr=asyncio.subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
                start_new_session=True,
            )
            kind = "mosquitto"
        else:
            from amqtt.broker import Broker

            self._amqtt = Broker(
                {
                    "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
                    "sys_interval": 0,
                    "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
                    "topic-check": {"enabled": False},
                }
            )
            await self._amqtt.start()
            kind = "amqtt"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                log.info("demo: %s broker on %s:%d", kind, self.host, self.port)
                return self
            await asyncio.sleep(0.05)
        raise RuntimeError("the demo MQTT broker did not start")

    async def stop(self) -> None:
        """Stop the broker."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                self._proc.terminate()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._proc.wait()
        if self._amqtt is not None:
            await self._amqtt.shutdown()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge config fragments (mappings merge, lists extend, scalars replace)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + value
        else:
            out[key] = value
    return out


DEMO_MARKER = "# Written by `homeclaw demo`"


class NotADemoHome(Exception):
    """The folder holds a real home; the demo refuses to reset it."""


def demo_home(override: str | None = None) -> HomePaths:
    """The demo's own folder: `--home` if given, else ~/.homeclaw-demo.

    $HOMECLAW_HOME is deliberately ignored: it names the owner's real home.
    """
    return HomePaths.from_env(Path(override or "~/.homeclaw-demo"))


def is_demo_home(paths: HomePaths) -> bool:
    """Whether a home folder is one `homeclaw demo` wrote (and rewrites on every run)."""
    return paths.config.exists() and paths.config.read_text().startswith(DEMO_MARKER)


def prepare_home(paths: HomePaths) -> None:
    """A fresh demo home: new database each run, the token kept."""
    if paths.config.exists() and not is_demo_home(paths):
        raise NotADemoHome(
            f"{paths.root} holds a real homeclaw home; the demo resets its folder on every "
            "run, so give it another one (homeclaw --home /tmp/demo demo)."
        )
    paths.root.mkdir(parents=True, exist_ok=True)
    for name in ("homeclaw.db", "homeclaw.db-wal", "homeclaw.db-shm", "routines.yaml"):
        (paths.root / name).unlink(missing_ok=True)
    from agent.cli.init import install_defaults

    install_defaults(paths, overwrite=False)


async def start_parts(ctx: DemoContext, refs: list[str]) -> list[DemoPart]:
    """Start every simulator; one that fails is reported and left out."""
    parts: list[DemoPart] = []
    for ref in refs:
        module, _, attr = ref.partition(":")
        try:
            factory: Callable[[DemoContext], Awaitable[DemoPart]] = getattr(
                importlib.import_module(module), attr
            )
            parts.append(await asyncio.wait_for(factory(ctx), 30))
        except Exception as err:  # one broken simulator must not stop the demo
            log.warning("demo: simulator %s did not start: %s", ref, err)
    return parts


async def run_demo(
    port: int | None,
    on_ready: Callable[[str], None],
    home: str | None = None,
    brain: dict[str, Any] | None = None,
) -> None:
    """Run the simulated home and the daemon until interrupted."""
    from agent.daemon import build_runtime, serve

    paths = demo_home(home)
    prepare_home(paths)
    web_port = port or (8321 if _port_free(8321) else free_port())
    broker = await DemoBroker().start()
    ctx = DemoContext(home=paths.root, mqtt=(broker.host, broker.port), story=True)
    ctx.web_url = f"http://127.0.0.1:{web_port}"
    parts: list[DemoPart] = []
    advertising: asyncio.Task[Any] | None = None
    try:
        parts = await start_parts(ctx, DEMO_PARTS)
        config = dict(DEMO_CONFIG)
        for part in parts:
            fragment = part.config
            if not set(fragment) <= set(Config.model_fields):  # a bare section: file it by name
                fragment = {part.name: fragment}
            config = merge(config, fragment)
        config = merge(config, {"web": {"host": "127.0.0.1", "port": web_port}})
        if brain:
            config["brain"] = brain
        if "twilio" in config:
            config["twilio"].setdefault("public_url", ctx.web_url)
        with paths.config.open("w") as fh:
            fh.write(f"{DEMO_MARKER} for its simulated home; rewritten on every run.\n")
            YAML().dump(config, fh)
        examples = Path(__file__).parent.parent / "routines" / "routines.example.yaml"
        if examples.exists():
            shutil.copy(examples, paths.root / "routines.yaml")
        # mDNS probing takes seconds and only `homeclaw discover` needs it: background.
        advertising = asyncio.create_task(_advertise(parts), name="demo-advertise")
        rt = build_runtime(load_config(paths.config), paths, demo=True)
        rt.services["demo"] = {part.name: part.handle for part in parts}
        await serve(rt, on_ready)
    finally:
        if advertising is not None:
            advertiser = advertising.result() if advertising.done() else None
            advertising.cancel()
            if advertiser is not None:
                with contextlib.suppress(Exception):
                    await advertiser.close()
        for part in reversed(parts):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await part.stop()
        await broker.stop()


async def _advertise(parts: list[DemoPart]) -> Any:
    """Advertise the simulated devices on loopback; None when zeroconf cannot."""
    try:
        from integrations.demo_advertise import advertise

        return await advertise(parts, ["127.0.0.1"])
    except Exception as err:  # discovery is a nicety of the demo, not a requirement
        log.warning("demo: mDNS advertisements unavailable: %s", err)
        return None


def _die_with_parent() -> None:
    """In the broker's child process: get SIGTERM when the demo dies, even by kill -9."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: the broker is stopped on a normal exit only


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
