"""Finding Frigate: it advertises nothing on mDNS, so its API port is asked on likely hosts.

Frigate usually runs beside the home's other servers (the MQTT broker, Home
Assistant) or as the Docker host name `frigate`. `probe` asks each candidate
for `/api/version` and, when one answers, reads `/api/config` for its cameras
and the broker it publishes to: the config snippet is then complete.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import aiohttp

from integrations.discovery_scan import DiscoveredDevice

PORT = 5000  # the API port inside Docker (8971 is the authenticated one)


async def _ask(session: aiohttp.ClientSession, host: str, port: int) -> DiscoveredDevice | None:
    base = f"http://{host}:{port}"
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError, OSError):
        async with session.get(f"{base}/api/version") as resp:
            if resp.status != 200:
                return None
            version = (await resp.text()).strip()[:40]
        if not version or not version[0].isdigit():
            return None  # something else answering on that port
        config: dict[str, Any] = {}
        async with session.get(f"{base}/api/config") as resp:
            if resp.status == 200:
                config = await resp.json(content_type=None)
        cameras = sorted((config.get("cameras") or {}).keys())
        mqtt = config.get("mqtt") or {}
        snippet: dict[str, Any] = {"url": base, "cameras": cameras}
        if mqtt.get("host"):
            snippet["mqtt"] = {"host": mqtt["host"], "port": int(mqtt.get("port") or 1883)}
            if mqtt.get("topic_prefix", "frigate") != "frigate":
                snippet["mqtt"]["topic_prefix"] = mqtt["topic_prefix"]
        return DiscoveredDevice(
            "frigate",
            f"Frigate {version} ({len(cameras)} cameras)",
            host,
            port,
            f"{host}:{port}",
            {"version": version, "cameras": ", ".join(cameras)},
            {"frigate": snippet},
            source="http",
        )
    return None


async def probe(
    candidates: Iterable[tuple[str, int]], timeout: float = 1.5
) -> list[DiscoveredDevice]:
    """Frigate instances answering on any of (host, port)."""
    unique = list(dict.fromkeys(candidates))
    if not unique:
        return []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        found = await asyncio.gather(*(_ask(session, h, p) for h, p in unique))
    return [f for f in found if f is not None]


async def beside(found: list[DiscoveredDevice], lan: bool) -> list[DiscoveredDevice]:
    """The scan's findings plus any Frigate answering beside a broker or Home Assistant.

    On the LAN (`lan`: no interfaces were pinned, as tests pin loopback) also
    under its Docker name and on this machine.
    """
    hosts = {d.host for d in found if d.kind in ("mqtt", "homeassistant")}
    if lan:
        hosts |= {"frigate", "127.0.0.1"}
    known = {(d.kind, d.host, d.port) for d in found}
    extra = [
        d
        for d in await probe((host, PORT) for host in sorted(hosts))
        if (d.kind, d.host, d.port) not in known
    ]
    return sorted([*found, *extra], key=lambda d: (d.kind, d.name.lower()))
