"""The composition root: builds every part of the daemon from the config and runs it."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import importlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from agent.brain.tools import ToolRegistry
from agent.bus import Bus
from agent.config import Config
from agent.home import Area, DeviceOverride, Home
from agent.messaging.people import People
from agent.paths import HomePaths
from agent.process import PortInUse
from agent.roles import Roles
from agent.runtime import Component, Runtime
from agent.store import Store
from agent.supervise import Supervisor
from agent.web.limits import CONNECTIONS, ConnectionGuard, body_deadline, fit_file_limit
from integrations.base import Integration
from integrations.vendors import VENDORS

log = logging.getLogger("homeclaw")

# Components in start order ("module:factory" taking the runtime's config).
COMPONENTS: list[str] = [
    "agent.brain.component:create",
    "agent.routines.component:create",
    "memory.component:create",
    "agent.lists.component:create",
    "agent.messaging.bridge:create",
    "vision.component:create",
    "integrations.frigate.adapter:create",  # registers its cameras with vision
    "integrations.discovery:create",
]


def _load(ref: str) -> Callable[..., Any]:
    module, _, attr = ref.partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return factory


def build_runtime(config: Config, paths: HomePaths, *, demo: bool = False) -> Runtime:
    """Wire the shared services; integrations and components are added by `Daemon`."""
    from agent.web.app import create_app

    paths.root.mkdir(parents=True, exist_ok=True)
    bus = Bus()
    store = Store(paths.database)
    areas = {
        area_id: Area(
            area_id, a.name or area_id.replace("_", " ").title(), a.floor, tuple(a.aliases)
        )
        for area_id, a in config.home.areas.items()
    }
    overrides = {
        device_id: DeviceOverride(o.name, o.area, tuple(o.aliases), o.hidden)
        for device_id, o in config.devices.items()
    }
    home = Home(bus=bus, store=store, areas=areas, overrides=overrides, roles=Roles(config.guests))
    supervisor = Supervisor(bus)
    tools = ToolRegistry(default_timeout=config.brain.tool_timeout)
    rt = Runtime(
        config=config,
        paths=paths,
        bus=bus,
        store=store,
        home=home,
        supervisor=supervisor,
        tools=tools,
        people=People(config.people),
        app=web.Application(),
        token=paths.token(create=True),
        demo=demo,
    )
    rt.app = create_app(rt)
    return rt


class Daemon:
    """Runs integrations, components and the web server until told to stop."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.components: list[Component] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    def _integrations(self) -> list[Integration]:
        built: list[Integration] = []
        for key, package in VENDORS.items():
            # Imported lazily so an optional vendor library never breaks startup of the rest.
            ref = f"{package}.adapter:create"
            section = getattr(self.rt.config, key, None)
            if section is None or (key == "virtual" and not section.devices):
                continue
            try:
                built.append(_load(ref)(section, self.rt))
            except ImportError as err:
                log.error("integration %s cannot load: %s", key, err)
                self.rt.supervisor.set_status(f"integration:{key}", "failed", str(err))
        return built

    async def start(self) -> str:
        """Start everything; returns the dashboard URL (PortInUse when the port is taken)."""
        rt = self.rt
        _check_port(rt.config.web.host, rt.config.web.port)  # before devices are touched
        for ref in COMPONENTS:
            try:
                component: Component = _load(ref)(rt)
                component.setup(rt)
            except Exception as err:  # one broken part must not take the daemon down
                log.exception("component %s failed to set up; running without it", ref)
                rt.supervisor.set_status(f"component:{ref.split(':')[0]}", "failed", str(err))
                continue
            self.components.append(component)
        for integration in self._integrations():
            rt.home.integrations[integration.name] = integration
            rt.supervisor.spawn(
                f"integration:{integration.name}",
                functools.partial(integration.run, rt.home),
                on_failure=functools.partial(rt.home.set_available, integration.name, False),
            )
        for component in list(self.components):
            try:
                await component.start()
            except Exception as err:
                log.exception("component %s failed to start; running without it", component.name)
                rt.supervisor.set_status(f"component:{component.name}", "failed", str(err))
                self.components.remove(component)
        limits = rt.config.web
        guard = ConnectionGuard(fit_file_limit(limits.max_connections))
        rt.app[CONNECTIONS] = guard
        rt.app.middlewares.insert(0, body_deadline(limits.request_timeout))
        rt.services["connections"] = guard
        # aiohttp's keep-alive timer also runs from the moment a connection opens, so
        # it is the header timeout: a connection without a complete request is closed.
        self.runner = web.AppRunner(
            rt.app,
            access_log=None,
            shutdown_timeout=2.0,
            keepalive_timeout=limits.request_timeout,
        )
        await self.runner.setup()
        assert self.runner.server is not None
        guard.install(self.runner.server)
        site = web.TCPSite(self.runner, rt.config.web.host, rt.config.web.port)
        try:
            await site.start()
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise
            raise PortInUse(rt.config.web.host, rt.config.web.port) from None
        port = self.runner.addresses[0][1] if self.runner.addresses else rt.config.web.port
        host = rt.config.web.host if rt.config.web.host not in ("0.0.0.0", "::") else "127.0.0.1"
        self.url = f"http://{host}:{port}/"
        rt.services["url"] = self.url
        log.info("dashboard at %s", self.url)
        if not rt.config.web.loopback_only:
            log.warning(
                "web.host is %s: the dashboard, API and webhooks are reachable from the network "
                "(port %s); every request needs the token, so keep it secret and prefer TLS "
                "in front (web.public_url https://…)",
                rt.config.web.host,
                port,
            )
        return self.url

    async def stop(self) -> None:
        """Stop in reverse order: web, components, integrations, store; each step bounded."""
        if self.runner is not None:
            await _bounded("web server", self.runner.cleanup(), 5)
        for component in reversed(self.components):
            await _bounded(f"component {component.name}", component.stop(), 5)
        await _bounded("background tasks", self.rt.supervisor.stop(), 5)
        for integration in self.rt.home.integrations.values():
            await _bounded(f"integration {integration.name}", integration.stop(), 5)
        self.rt.store.close()


def _check_port(host: str, port: int) -> None:
    """Raise PortInUse when another program listens on the web server's port."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise


async def _bounded(what: str, step: Awaitable[Any], timeout: float) -> None:
    """Await one shutdown step; one that hangs or fails is logged and left behind.

    `asyncio.wait` rather than `wait_for`: a step that swallows cancellation
    must not hold the whole shutdown hostage.
    """
    task = asyncio.ensure_future(step)
    done, _pending = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        log.warning("shutdown: %s did not stop within %.0fs", what, timeout)
    elif task.exception() is not None:
        log.warning("shutdown: %s failed to stop: %s", what, task.exception())


async def serve(rt: Runtime, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the daemon until SIGTERM or SIGINT, then shut down gracefully.

    `on_ready` gets a one-time dashboard link (never the token: the banner may
    end up in a journal).
    """
    daemon = Daemon(rt)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    url_file = rt.paths.root / "url"  # how the CLI finds this daemon
    try:
        url = await daemon.start()
        url_file.write_text(url)
        if on_ready is not None:
            from agent.web.app import login_link

            on_ready(login_link(rt))
        await stop.wait()
        log.info("shutting down")
    finally:
        url_file.unlink(missing_ok=True)
        await daemon.stop()
