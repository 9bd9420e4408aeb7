"""`homeclaw doctor`: check the config, every connection and the optional parts, without
starting the daemon."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from agent.config import Config
from agent.paths import HomePaths


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str


async def _http(url: str, headers: dict[str, str] | None = None, timeout: float = 4.0) -> str:
    """GET a URL; returns a short description or raises."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.get(url, headers=headers or {}) as resp,
    ):
        if resp.status in (401, 403):
            raise PermissionError(f"HTTP {resp.status}: credentials refused")
        if resp.status >= 400:
            raise ConnectionError(f"HTTP {resp.status}")
        return f"HTTP {resp.status}"


async def _mqtt(config: Config) -> str:
    import aiomqtt

    section = config.mqtt
    assert section is not None
    try:
        async with aiomqtt.Client(
            section.host,
            section.port,
            username=section.username,
            password=section.password,
            timeout=4,
        ):
            return f"connected to {section.host}:{section.port}"
    except aiomqtt.MqttError as err:
        if not isinstance(err.__context__, ConnectionRefusedError):
            raise
        # `homeclaw init` writes an `mqtt:` section: a new home without a broker lands here.
        raise RuntimeError(
            f"nothing answers at {section.host}:{section.port} (connection refused) — is your "
            "MQTT broker running? (no broker: remove the `mqtt:` section from config.yaml)"
        ) from None


async def _homeassistant(config: Config) -> str:
    section = config.homeassistant
    assert section is not None
    headers = {"Authorization": f"Bearer {section.token}"}
    return await _http(section.url.rstrip("/") + "/api/", headers)


async def _hue(config: Config) -> str:
    assert config.hue is not None
    results = []
    for bridge in config.hue.bridges:
        await _http(f"http://{bridge.host}/api/config")
        results.append(bridge.host + ("" if bridge.app_key else " (not paired: homeclaw hue-pair)"))
    return ", ".join(results) or "no bridges configured"


async def _hosts(url: Callable[[str], str], hosts: list[Any]) -> str:
    names = [h if isinstance(h, str) else h.host for h in hosts]
    for host in names:
        await _http(url(host))
    return f"{len(names)} reachable"


async def _brain(config: Config) -> str:
    brain = config.brain
    if brain.provider == "none":
        return "no LLM configured: the local fast path handles simple commands"
    if brain.provider == "openai":
        from agent.brain.ollama import looks_like_ollama

        base = (brain.base_url or "https://api.openai.com/v1").rstrip("/")
        headers = {"Authorization": f"Bearer {brain.api_key}"} if brain.api_key else {}
        await _http(base + "/models", headers)
        if looks_like_ollama(brain.base_url):
            raise RuntimeError(
                f"{base} answers, but Ollama's OpenAI endpoint runs the model with its default "
                "context (4,096 tokens; 2,048 on older versions) and silently drops the start "
                "of a longer prompt: use `provider: ollama` (sets num_ctx per request)"
            )
        return f"{base} answers (model {brain.model or '?'})"
    if brain.provider == "ollama":
        from agent.brain.ollama import DEFAULT_NUM_CTX, ollama_root

        root = ollama_root(brain.base_url)
        await _http(root + "/api/tags")
        num_ctx = brain.num_ctx or DEFAULT_NUM_CTX
        return f"Ollama at {root} answers (model {brain.model}, num_ctx {num_ctx})"
    if importlib.util.find_spec("anthropic") is None:
        raise RuntimeError("provider anthropic needs `pip install 'homeclaw[anthropic]'`")
    return "anthropic SDK installed"


def _vision(config: Config) -> str:
    describer = config.vision.describer
    if describer == "transformers" and importlib.util.find_spec("transformers") is None:
        raise RuntimeError("describer transformers needs `pip install 'homeclaw[vision]'`")
    return f"describer {describer}, {len(config.cameras)} camera(s)"


def _checks(config: Config) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
    checks: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        ("brain", lambda: _brain(config)),
    ]
    if config.mqtt:
        checks.append(("mqtt", lambda: _mqtt(config)))
    if config.homeassistant:
        checks.append(("homeassistant", lambda: _homeassistant(config)))
    if config.hue:
        checks.append(("hue", lambda: _hue(config)))
    if config.sonos and config.sonos.hosts:
        hosts = config.sonos.hosts
        checks.append(
            (
                "sonos",
                lambda: _hosts(lambda h: f"http://{h}:1400/xml/device_description.xml", hosts),
            )
        )
    if config.wled and config.wled.hosts:
        wled_hosts = list(config.wled.hosts)
        checks.append(("wled", lambda: _hosts(lambda h: f"http://{h}/json/info", wled_hosts)))
    if config.shelly and config.shelly.hosts:
        shelly_hosts = list(config.shelly.hosts)
        checks.append(("shelly", lambda: _hosts(lambda h: f"http://{h}/shelly", shelly_hosts)))
    return checks


async def _llm_today(paths: HomePaths) -> str:
    """What the running daemon's LLM spent today, its budget, breaker and measured prompt."""
    url = (paths.root / "url").read_text().strip().rstrip("/")
    token = paths.token_file.read_text().strip()
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=4)) as session,
        session.get(url + "/api/health", headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        data = await resp.json()
    brain = data.get("components", {}).get("brain") or {}
    llm = brain.get("llm") or {}
    if brain.get("provider") in (None, "none"):
        return "no LLM configured"
    if llm.get("blocked"):
        raise RuntimeError(f"paused: {llm['blocked']}")
    if brain.get("warning"):
        raise RuntimeError(brain["warning"])
    spent = llm.get("prompt_tokens", 0) + llm.get("completion_tokens", 0)
    budget = llm.get("daily_token_budget")
    return (
        f"{llm.get('calls', 0)} calls, {spent:,} tokens today"
        f"{f' of {budget:,}' if budget else ' (no daily budget)'}; breaker "
        f"{llm.get('breaker', {}).get('state', '?')}; prompt ~{brain.get('prompt_tokens') or 0:,}"
        " tokens (system + tools)"
    )


CHECK_TIMEOUT = 8.0


def plain_failure(name: str, err: Exception) -> str:
    """A failed check in a sentence: what did not answer, not the library's exception."""
    if isinstance(err, RuntimeError) and str(err):
        return str(err)  # our own sentence, already plain
    if isinstance(err, aiohttp.ClientConnectorError):
        hint = " — is the LLM server running? (Ollama: `ollama serve`)" if name == "brain" else ""
        code = err.os_error.errno  # asyncio's own strerror repeats the address
        why = os.strerror(code).lower() if code else err.os_error.strerror
        return f"nothing answers at {err.host}:{err.port} ({why}){hint}"
    if isinstance(err, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:.0f} s"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


async def run_checks(
    config: Config, paths: HomePaths | None = None, *, demo: bool = False
) -> list[Check]:
    """Every check, concurrently, each with its own timeout (`demo`: the simulated home's)."""
    checks = _checks(config)
    if paths is not None and (paths.root / "url").exists() and config.brain.provider != "none":
        checks.append(("llm today", lambda: _llm_today(paths)))

    async def one(name: str, fn: Callable[[], Awaitable[str]]) -> Check:
        try:
            return Check(name, True, await asyncio.wait_for(fn(), CHECK_TIMEOUT))
        except Exception as err:  # each failure is reported, none stops the others
            return Check(name, False, plain_failure(name, err))

    results = list(await asyncio.gather(*(one(n, f) for n, f in checks)))
    try:
        results.append(Check("vision", True, _vision(config)))
    except RuntimeError as err:
        results.append(Check("vision", False, str(err)))
    try:
        from agent.cli.messaging import channel_checks

        for name, ok, detail in await _maybe_await(channel_checks(config, demo=demo)):
            results.append(Check(name, ok, detail))
    except ImportError:
        pass
    if config.mqtt is None and not shutil.which("mosquitto"):
        results.append(
            Check("mosquitto", True, "not installed (only `homeclaw demo` would use one)")
        )
    return results


async def _maybe_await(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) else value
