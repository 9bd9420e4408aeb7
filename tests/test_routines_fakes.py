"""An in-process integration with the demo home's device names, for routine tests.

Routines work at the Home level (resolve, execute); the vendor wire protocols
are covered by each integration's own tests and by test_routines_mqtt.py.
No tests live here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from agent.bus import Bus
from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import DeviceUnavailable
from agent.home import Area, Home
from agent.store import Store

LIGHT = frozenset({Feature.ON_OFF, Feature.BRIGHTNESS})
SPEAKER = frozenset({Feature.PLAYBACK, Feature.VOLUME, Feature.PLAY_MEDIA})
CLIMATE = frozenset({Feature.TARGET_TEMPERATURE, Feature.HVAC_MODE})

AREAS = {
    "kitchen": Area("kitchen", "Kitchen", "downstairs"),
    "living_room": Area("living_room", "Living room", "downstairs"),
    "hallway": Area("hallway", "Hallway", "downstairs"),
    "bedroom": Area("bedroom", "Bedroom", "upstairs"),
    "study": Area("study", "Study", "upstairs"),
    "bathroom": Area("bathroom", "Bathroom", "upstairs"),
    "porch": Area("porch", "Porch", "outside"),
    "garage": Area("garage", "Garage", "outside"),
    "pool": Area("pool", "Pool", "outside"),
}


def demo_devices() -> list[Device]:
    """Devices named like the demo home's."""
    lights = [
        ("Kitchen ceiling", "kitchen", True),
        ("Kitchen pendant", "kitchen", False),
        ("Living room lamp", "living_room", True),
        ("Bedroom lamp", "bedroom", False),
        ("Bedroom ceiling", "bedroom", True),
        ("Study lamp", "study", True),
        ("Hallway light", "hallway", False),
        ("Bathroom light", "bathroom", False),
        ("Porch light", "porch", True),
    ]
    devices = [
        Device(
            f"fake:{name.lower().replace(' ', '_')}",
            name,
            Kind.LIGHT,
            "fake",
            area,
            features=LIGHT,
            state=DeviceState(on=on, brightness=80 if on else 0),
        )
        for name, area, on in lights
    ]
    for name, area, playing in (
        ("Study", "study", True),
        ("Kitchen", "kitchen", True),
        ("Living Room", "living_room", False),
    ):
        devices.append(
            Device(
                f"fake:speaker_{area}",
                name,
                Kind.SPEAKER,
                "fake",
                area,
                features=SPEAKER,
                state=DeviceState(playback="playing" if playing else "stopped", volume=20),
            )
        )
    devices += [
        Device(
            "fake:thermostat",
            "Thermostat",
            Kind.CLIMATE,
            "fake",
            "living_room",
            device_class="thermostat",
            features=CLIMATE,
            state=DeviceState(hvac_mode="heat", target_temperature_c=21.0),
        ),
        Device(
            "fake:front_door",
            "Front door",
            Kind.LOCK,
            "fake",
            "hallway",
            features=frozenset({Feature.LOCK}),
            state=DeviceState(locked=False),
        ),
        Device(
            "fake:hallway_motion",
            "Hallway motion",
            Kind.SENSOR,
            "fake",
            "hallway",
            device_class="motion",
            state=DeviceState(motion=False),
        ),
        Device(
            "fake:front_door_contact",
            "Front door contact",
            Kind.SENSOR,
            "fake",
            "hallway",
            device_class="door",
            state=DeviceState(contact_open=False),
        ),
        Device(
            "fake:bedroom_sensor",
            "Bedroom sensor",
            Kind.SENSOR,
            "fake",
            "bedroom",
            device_class="temperature",
            state=DeviceState(current_temperature_c=19.5, humidity=45),
        ),
        Device(
            "fake:garage_door",
            "Garage door",
            Kind.COVER,
            "fake",
            "garage",
            device_class="garage",
            features=frozenset({Feature.OPEN_CLOSE, Feature.POSITION}),
            state=DeviceState(position=0),
        ),
        Device(
            "fake:living_room_shade",
            "Living room shade",
            Kind.COVER,
            "fake",
            "living_room",
            device_class="shade",
            features=frozenset({Feature.POSITION}),
            state=DeviceState(position=0),
        ),
        Device(
            "fake:pool_heater",
            "Pool heater",
            Kind.CLIMATE,
            "fake",
            "pool",
            features=CLIMATE,
            state=DeviceState(hvac_mode="off", target_temperature_c=28.0),
        ),
    ]
    return devices


@dataclass
class FakeIntegration:
    """Acts on devices instantly; devices in `down` fail, devices in `silent` never answer."""

    name: str = "fake"
    home: Home | None = None
    down: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)
    delay: float = 0.0
    calls: list[tuple[str, Command]] = field(default_factory=list)

    async def run(self, home: Home) -> None:
        """Nothing to connect to."""
        await asyncio.Event().wait()

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Apply the command to the device's state like a well-behaved device."""
        self.calls.append((device.id, command))
        if device.id in self.down:
            raise DeviceUnavailable(f"{device.name} is not reachable right now.")
        if device.id in self.silent:
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        return device.state.merged(**apply(command, device.state))

    async def stop(self) -> None:
        """Nothing to close."""


def apply(command: Command, state: DeviceState) -> dict[str, Any]:
    """The state changes a command makes."""
    a = command.action
    if a == Action.TURN_ON:
        return {"on": True}
    if a == Action.TURN_OFF:
        return {"on": False}
    if a == Action.SET_BRIGHTNESS:
        return {"on": bool(command.brightness), "brightness": command.brightness}
    if a == Action.PAUSE:
        return {"playback": "paused"}
    if a == Action.PLAY:
        return {"playback": "playing"}
    if a == Action.PLAY_MEDIA:
        return {"playback": "playing", "media_title": command.media}
    if a == Action.SET_TEMPERATURE:
        return {"target_temperature_c": command.temperature_c}
    if a == Action.LOCK:
        return {"locked": True}
    if a == Action.UNLOCK:
        return {"locked": False}
    if a == Action.SET_POSITION:
        return {"position": command.position}
    if a in (Action.OPEN, Action.CLOSE):
        return {"position": 100 if a == Action.OPEN else 0}
    return {}


def demo_home(store: Store | None = None) -> tuple[Home, FakeIntegration]:
    """A Home with the demo devices on a FakeIntegration."""
    home = Home(bus=Bus(), store=store or Store(":memory:"), areas=dict(AREAS))
    fake = FakeIntegration(home=home)
    home.integrations["fake"] = fake  # type: ignore[assignment]
    for device in demo_devices():
        home.add(device)
    return home, fake
