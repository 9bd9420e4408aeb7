"""mDNS advertisements for the demo's simulated devices, so `homeclaw discover` finds them.

Simulators expose `service_info()` (one advertisement) or `service_infos()`
(several); a handle may also hold several simulators (`speakers`). Sonos
players get their `_sonos._tcp` advertisement built here from their uid, room
and address; the MQTT broker gets `_mqtt._tcp` from the demo's broker address.
Everything is registered on loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterable, Iterator
from typing import Any

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from agent.demo.simulation import DemoPart

log = logging.getLogger(__name__)


def _simulators(handle: Any) -> Iterator[Any]:
    if handle is None:
        return
    if isinstance(handle, dict):
        for value in handle.values():
            yield from _simulators(value)
    elif isinstance(handle, list | tuple | set):
        for item in handle:
            yield from _simulators(item)
    else:
        yield handle
        speakers = getattr(handle, "speakers", None)
        if isinstance(speakers, dict):
            yield from speakers.values()


def sonos_info(uid: str, room: str, ip: str, household: str = "") -> AsyncServiceInfo:
    """The `_sonos._tcp` advertisement of a player (instance name `uid@Room`)."""
    return AsyncServiceInfo(
        "_sonos._tcp.local.",
        f"{uid}@{room}._sonos._tcp.local.",
        addresses=[socket.inet_aton(ip)],
        port=1400,
        properties={
            "location": f"http://{ip}:1400/xml/device_description.xml",
            "hhid": household,
            "uid": uid,
        },
        server=f"sonos-{uid[7:19].lower()}.local.",
    )


def mqtt_info(host: str, port: int) -> AsyncServiceInfo:
    """The `_mqtt._tcp` advertisement of a broker."""
    return AsyncServiceInfo(
        "_mqtt._tcp.local.",
        f"Mosquitto on {host.replace('.', '-')}._mqtt._tcp.local.",
        addresses=[socket.inet_aton(host)],
        port=port,
        properties={},
        server="mosquitto.local.",
    )


def service_infos(parts: Iterable[DemoPart]) -> list[AsyncServiceInfo]:
    """Every advertisement the demo's simulators should make."""
    infos: list[AsyncServiceInfo] = []
    for part in parts:
        for sim in _simulators(part.handle):
            if hasattr(sim, "service_infos"):
                infos.extend(sim.service_infos())
            elif hasattr(sim, "service_info"):
                infos.append(sim.service_info())
            elif part.name == "sonos" and all(hasattr(sim, a) for a in ("uid", "room", "ip")):
                household = str(getattr(getattr(sim, "household", None), "household_id", ""))
                infos.append(sonos_info(sim.uid, sim.room, sim.ip, household))
        mqtt = part.config.get("mqtt") if part.name == "mqtt" else None
        if isinstance(mqtt, dict) and mqtt.get("host"):
            infos.append(mqtt_info(str(mqtt["host"]), int(mqtt.get("port", 1883))))
    return infos


class DemoAdvertiser:
    """Registers the demo's advertisements on loopback and withdraws them on close."""

    def __init__(self, interfaces: list[str] | None = None) -> None:
        self.interfaces = interfaces or ["127.0.0.1"]
        self._zc: AsyncZeroconf | None = None
        self.registered: list[AsyncServiceInfo] = []

    async def start(self, parts: Iterable[DemoPart]) -> DemoAdvertiser:
        """Register every advertisement concurrently (probing takes ~1 s)."""
        self._zc = AsyncZeroconf(interfaces=self.interfaces, ip_version=IPVersion.V4Only)
        infos = service_infos(parts)
        zc = self._zc

        async def register(info: AsyncServiceInfo) -> None:
            # Renames on a clash (another demo or test on this machine) rather than fail.
            announced = await zc.async_register_service(info, allow_name_change=True)
            await announced

        results = await asyncio.gather(
            *(asyncio.wait_for(register(i), 15) for i in infos), return_exceptions=True
        )
        for info, result in zip(infos, results, strict=True):
            if isinstance(result, BaseException):  # a name clash must not stop the demo
                log.warning("demo: cannot advertise %s: %r", info.name, result)
            else:
                self.registered.append(info)
        log.info("demo: advertising %d services on %s", len(self.registered), self.interfaces)
        return self

    async def close(self) -> None:
        """Withdraw the advertisements and close zeroconf."""
        zc, self._zc = self._zc, None
        if zc is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await zc.async_unregister_all_services()
            await zc.async_close()


async def advertise(
    parts: Iterable[DemoPart], interfaces: list[str] | None = None
) -> DemoAdvertiser:
    """Advertise the demo's simulated devices on loopback; `await adv.close()` at the end."""
    return await DemoAdvertiser(interfaces).start(parts)
