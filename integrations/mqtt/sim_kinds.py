"""The MQTT simulator's robot vacuum and water valve, announced through Home
Assistant MQTT discovery the way Valetudo and ESPHome-style valves do (`vacuum`
with the state schema, `valve` reporting its position), reacting to commands."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

VACUUM_BASE = "valetudo/upstairs_robot"
VALVE_BASE = "esphome/garden_tap"


@dataclass
class KindsOnMqtt:
    """A vacuum and a valve speaking HA discovery on the simulator's broker."""

    vacuum: dict[str, Any] = field(
        default_factory=lambda: {"state": "docked", "battery_level": 88, "fan_speed": "max"}
    )
    valve_position: int = 0

    def topics(self) -> list[str]:
        """What to subscribe to."""
        return [f"{VACUUM_BASE}/command", f"{VALVE_BASE}/set"]

    async def announce(self, client: aiomqtt.Client) -> None:
        """Retained discovery configs and the current states."""
        vacuum_config = {
            "name": "Upstairs robot",
            "uniq_id": "valetudo_upstairs_robot",
            "~": VACUUM_BASE,
            "cmd_t": "~/command",
            "stat_t": "~/state",
            "sup_feat": ["start", "pause", "stop", "return_home", "battery", "status"],
            "dev": {"ids": ["valetudo_upstairs_robot"], "name": "Upstairs robot", "sa": "Bedroom"},
        }
        valve_config = {
            "name": "Garden tap",
            "uniq_id": "esphome_garden_tap",
            "~": VALVE_BASE,
            "cmd_t": "~/set",
            "stat_t": "~/state",
            "pos": True,
            "dev_cla": "water",
            "dev": {"ids": ["esphome_garden_tap"], "name": "Garden tap", "sa": "Garden"},
        }
        for component, unique, config in (
            ("vacuum", "upstairs_robot", vacuum_config),
            ("valve", "garden_tap", valve_config),
        ):
            await client.publish(
                f"homeassistant/{component}/{unique}/config", json.dumps(config), qos=1, retain=True
            )
        await self._vacuum_state(client)
        await self._valve_state(client, None)

    async def _vacuum_state(self, client: aiomqtt.Client) -> None:
        await client.publish(f"{VACUUM_BASE}/state", json.dumps(self.vacuum), qos=1, retain=True)

    async def _valve_state(self, client: aiomqtt.Client, moving: str | None) -> None:
        body = {"state": moving or ("open" if self.valve_position else "closed"),
                "position": self.valve_position}  # fmt: skip
        await client.publish(f"{VALVE_BASE}/state", json.dumps(body), qos=1, retain=True)

    async def handle(self, client: aiomqtt.Client, topic: str, text: str) -> bool:
        """React to a command; False when the topic is not ours."""
        if topic == f"{VACUUM_BASE}/command":
            states = {"start": "cleaning", "pause": "paused", "stop": "idle"}
            self.vacuum["state"] = states.get(text, "returning" if text == "return_to_base" else
                                              self.vacuum["state"])  # fmt: skip
            await self._vacuum_state(client)
            return True
        if topic == f"{VALVE_BASE}/set":
            try:
                wanted = max(0, min(100, int(float(text))))
            except ValueError:
                return True  # a real valve ignores what it cannot parse
            moving = "opening" if wanted > self.valve_position else "closing"
            await self._valve_state(client, moving)
            self.valve_position = wanted
            await self._valve_state(client, None)
            return True
        return False

    async def robot_docks(self, client: aiomqtt.Client | None, battery: int) -> None:
        """The robot reaches its dock by itself (a change made outside homeclaw)."""
        self.vacuum.update(state="docked", battery_level=battery)
        if client is not None:
            await self._vacuum_state(client)
