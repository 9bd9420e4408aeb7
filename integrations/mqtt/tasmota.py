"""Tasmota relays: discovery under `tasmota/discovery/<mac>/config`, POWER commands."""

from __future__ import annotations

import json
from dataclasses import dataclass

from agent.devices import Device, Feature, Kind


@dataclass
class TasmotaRelay:
    """One relay of a Tasmota device."""

    topic: str
    index: int  # 0 when the device has a single relay (POWER), else 1.. (POWER1..)
    device: Device

    @property
    def power(self) -> str:
        """The POWER command/state suffix for this relay."""
        return "POWER" if self.index == 0 else f"POWER{self.index}"


def parse_discovery(payload: bytes) -> list[TasmotaRelay]:
    """Relays from a Tasmota discovery config message."""
    try:
        cfg = json.loads(payload)
    except ValueError:
        return []
    if not isinstance(cfg, dict) or "t" not in cfg or "mac" not in cfg:
        return []
    relays = [i for i, r in enumerate(cfg.get("rl") or [1]) if r]
    names = cfg.get("fn") or []
    single = len(relays) == 1
    out = []
    for i in relays:
        name = (names[i] if i < len(names) and names[i] else None) or cfg.get("dn") or cfg["t"]
        index = 0 if single else i + 1
        out.append(
            TasmotaRelay(
                topic=str(cfg["t"]),
                index=index,
                device=Device(
                    id=f"mqtt:tasmota_{cfg['mac']}" + ("" if single else f"_{index}"),
                    name=str(name),
                    kind=Kind.SWITCH,
                    integration="mqtt",
                    features=frozenset({Feature.ON_OFF}),
                    device_class="outlet",
                    info={"via": "tasmota", "model": cfg.get("md"), "host": cfg.get("ip")},
                ),
            )
        )
    return out
