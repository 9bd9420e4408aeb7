"""A home shaped like `homeclaw demo`'s, held in memory, for brain tests and benches.

The brain's boundary is `Home`, so its tests do not need a wire protocol:
`InMemoryDevices` is a tiny Integration that applies commands to state the way
a well-behaved device would. Device names and areas follow the demo home.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.bus import Bus
from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from agent.errors import DeviceUnavailable
from agent.home import Area, Home
from integrations.virtual.adapter import VACUUM_ACTIVITY

if TYPE_CHECKING:
    from agent.runtime import Runtime

LIGHT = frozenset({Feature.ON_OFF, Feature.BRIGHTNESS})
COLOUR_LIGHT = LIGHT | {Feature.COLOR, Feature.COLOR_TEMP}
SPEAKER = frozenset(
    {
        Feature.PLAYBACK,
        Feature.TRACKS,
        Feature.VOLUME,
        Feature.MUTE,
        Feature.PLAY_MEDIA,
        Feature.GROUPING,
    }
)
CLIMATE = frozenset({Feature.ON_OFF, Feature.TARGET_TEMPERATURE, Feature.HVAC_MODE})

AREAS = {
    "kitchen": Area("kitchen", "Kitchen", "downstairs"),
    "living_room": Area("living_room", "Living room", "downstairs", ("lounge",)),
    "hallway": Area("hallway", "Hallway", "downstairs"),
    "dining_room": Area("dining_room", "Dining room", "downstairs"),
    "bedroom": Area("bedroom", "Bedroom", "upstairs"),
    "study": Area("study", "Study", "upstairs", ("office",)),
    "bathroom": Area("bathroom", "Bathroom", "upstairs"),
    "porch": Area("porch", "Porch", "outside"),
    "garden": Area("garden", "Garden", "outside"),
    "garage": Area("garage", "Garage", "outside"),
    "pool": Area("pool", "Pool", "outside"),
    "basement": Area("basement", "Basement", None),
}

FAVOURITES = [
    {"title": "Radio Paradise", "kind": "radio"},
    {"title": "Dinner Jazz", "kind": "playlist"},
]


def demo_devices() -> list[Device]:
    """The demo home's devices (same names, areas and kinds)."""
    off = DeviceState(on=False, brightness=0)

    def light(slug: str, name: str, area: str, colour: bool = False) -> Device:
        return Device(
            f"mqtt:{slug}", name, Kind.LIGHT, "memory", area,
            features=COLOUR_LIGHT if colour else LIGHT, state=off,
        )  # fmt: skip

    return [
        light("kitchen_ceiling", "Kitchen ceiling", "kitchen"),
        light("kitchen_pendant", "Kitchen pendant", "kitchen", colour=True),
        light("living_room_lamp", "Living room lamp", "living_room", colour=True),
        light("bedroom_lamp", "Bedroom lamp", "bedroom"),
        light("bedroom_ceiling", "Bedroom ceiling", "bedroom"),
        light("study_lamp", "Study lamp", "study"),
        light("hallway_light", "Hallway light", "hallway"),
        light("bathroom_light", "Bathroom light", "bathroom"),
        light("porch_light", "Porch light", "porch"),
        light("dining_table", "Dining table", "dining_room", colour=True),
        light("dining_lamp", "Dining lamp", "dining_room"),
        light("desk_lamp", "Desk lamp", "study", colour=True),
        light("tv_backlight", "TV backlight", "living_room", colour=True),
        Device("mqtt:living_room_shade", "Living room shade", Kind.COVER, "memory",
               "living_room", features=frozenset({Feature.POSITION, Feature.OPEN_CLOSE}),
               device_class="shade", state=DeviceState(position=100)),
        Device("ha:bedroom_blinds", "Bedroom blinds", Kind.COVER, "memory", "bedroom",
               features=frozenset({Feature.POSITION, Feature.OPEN_CLOSE}),
               device_class="blind", state=DeviceState(position=0)),
        Device("ha:garage_door", "Garage door", Kind.COVER, "memory", "garage",
               features=frozenset({Feature.OPEN_CLOSE}), device_class="garage",
               state=DeviceState(position=0)),
        Device("mqtt:thermostat", "Thermostat", Kind.CLIMATE, "memory", "living_room",
               features=CLIMATE, device_class="thermostat",
               state=DeviceState(hvac_mode="heat", target_temperature_c=20.0,
                                 current_temperature_c=19.5)),
        Device("ha:upstairs_thermostat", "Upstairs thermostat", Kind.CLIMATE, "memory",
               "bedroom", features=CLIMATE, device_class="thermostat",
               state=DeviceState(hvac_mode="heat", target_temperature_c=19.0,
                                 current_temperature_c=18.5)),
        Device("ha:pool_heater", "Pool heater", Kind.CLIMATE, "memory", "pool",
               features=CLIMATE, state=DeviceState(hvac_mode="off", target_temperature_c=27.0,
                                                   current_temperature_c=24.0)),
        Device("ha:spa", "Spa", Kind.CLIMATE, "memory", "pool", features=CLIMATE,
               state=DeviceState(hvac_mode="heat", target_temperature_c=37.0,
                                 current_temperature_c=36.5)),
        Device("mqtt:bedroom_sensor", "Bedroom sensor", Kind.SENSOR, "memory", "bedroom",
               device_class="temperature",
               state=DeviceState(current_temperature_c=18.5, humidity=45)),
        Device("mqtt:hallway_motion", "Hallway motion", Kind.SENSOR, "memory", "hallway",
               device_class="motion", state=DeviceState(motion=False)),
        Device("mqtt:front_door", "Front door", Kind.LOCK, "memory", "hallway",
               features=frozenset({Feature.LOCK}),
               state=DeviceState(locked=True, lock_state="locked")),
        Device("mqtt:front_door_contact", "Front door contact", Kind.SENSOR, "memory",
               "hallway", device_class="door", state=DeviceState(contact_open=False)),
        Device("ha:alarm", "Alarm", Kind.ALARM, "memory", "hallway",
               features=frozenset({Feature.ALARM}), state=DeviceState(alarm_state="armed_away")),
        Device("ha:roborock", "Roborock Downstairs", Kind.VACUUM, "memory", "living_room",
               features=frozenset({Feature.CLEAN, Feature.PAUSE, Feature.RETURN_HOME}),
               state=DeviceState(activity="docked", battery=100)),
        Device("ha:irrigation_valve", "Irrigation valve", Kind.VALVE, "memory", "garden",
               features=frozenset({Feature.OPEN_CLOSE, Feature.POSITION}), device_class="water",
               state=DeviceState(position=0)),
        Device("mqtt:garden_fountain", "Garden fountain", Kind.SWITCH, "memory", "garden",
               features=frozenset({Feature.ON_OFF}), state=DeviceState(on=False)),
        Device("mqtt:dehumidifier", "Dehumidifier", Kind.SWITCH, "memory", "basement",
               features=frozenset({Feature.ON_OFF}), state=DeviceState(on=True)),
        Device("shelly:coffee_machine", "Coffee machine", Kind.SWITCH, "memory", "kitchen",
               features=frozenset({Feature.ON_OFF}), state=DeviceState(on=False)),
        *[
            Device(f"sonos:{slug}", name, Kind.SPEAKER, "memory", area, features=SPEAKER,
                   state=DeviceState(playback="stopped", volume=25),
                   info={"favorites": FAVOURITES})
            for slug, name, area in (
                ("study", "Study", "study"),
                ("kitchen", "Kitchen", "kitchen"),
                ("living_room", "Living Room", "living_room"),
            )
        ],
    ]  # fmt: skip


@dataclass
class InMemoryDevices:
    """An Integration whose devices live in memory and obey commands at once."""

    name: str = "memory"
    devices: list[Device] = field(default_factory=demo_devices)
    executed: list[tuple[str, Command]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    home: Home | None = None

    async def run(self, home: Home) -> None:
        """Register the devices (nothing to keep current)."""
        self.home = home
        for device in self.devices:
            home.add(device)

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Apply a command to the device's state, as a real device would report it."""
        if device.id in self.fail:
            raise DeviceUnavailable(f"{device.name} is not answering.")
        self.executed.append((device.id, command))
        # Read the live state: parallel commands must not apply to a stale snapshot.
        s = self.home.get(device.id).state if self.home is not None else device.state
        a = command.action
        changes: dict[str, object] = {}
        if a == Action.TURN_ON:
            changes = {"on": True}
            if device.kind == Kind.LIGHT and not s.brightness:
                changes["brightness"] = 100
        elif a == Action.TURN_OFF:
            changes = {"on": False}
        elif a == Action.SET_BRIGHTNESS:
            changes = {"on": command.brightness != 0, "brightness": command.brightness}
        elif a == Action.SET_COLOR:
            changes = {"on": True, "color": command.color, "color_temp_k": None}
        elif a == Action.SET_COLOR_TEMP:
            changes = {"on": True, "color_temp_k": command.color_temp_k, "color": None}
        elif a == Action.SET_TEMPERATURE and command.temperature_c is None:
            changes = {
                "target_low_c": command.target_low_c or s.target_low_c,
                "target_high_c": command.target_high_c or s.target_high_c,
            }
        elif a == Action.SET_TEMPERATURE:
            changes = {"target_temperature_c": command.temperature_c}
        elif a == Action.SET_HVAC_MODE:
            changes = {"hvac_mode": command.hvac_mode}
        elif a in (Action.OPEN, Action.CLOSE, Action.SET_POSITION):
            position = {Action.OPEN: 100, Action.CLOSE: 0}.get(a, command.position)
            changes = {"position": position}
        elif s.activity is not None and a in VACUUM_ACTIVITY:
            changes = {"activity": VACUUM_ACTIVITY[a]}
        elif a in (Action.LOCK, Action.UNLOCK):
            locked = a == Action.LOCK
            changes = {"locked": locked, "lock_state": "locked" if locked else "unlocked"}
        elif a in (Action.ARM, Action.DISARM):
            state = f"armed_{command.arm_mode or 'away'}" if a == Action.ARM else "disarmed"
            changes = {"alarm_state": state}
        elif a in (Action.PLAY, Action.PAUSE):
            changes = {"playback": "playing" if a == Action.PLAY else "paused"}
        elif a == Action.PLAY_MEDIA:
            changes = {"playback": "playing", "media_title": command.media}
        elif a == Action.SET_VOLUME:
            changes = {"volume": command.volume}
        elif a == Action.MUTE:
            changes = {"muted": command.muted}
        new = s.merged(**changes)
        if self.home is not None:
            # Report at once, as a device pushing its state would.
            self.home.update(device.id, new)
        return new

    async def stop(self) -> None:
        """Nothing to close."""


async def sample_home(bus: Bus | None = None, store: object = None) -> tuple[Home, InMemoryDevices]:
    """A Home with the demo's devices registered through an in-memory integration."""
    home = Home(bus=bus or Bus(), store=store, areas=dict(AREAS))  # type: ignore[arg-type]
    devices = InMemoryDevices()
    home.integrations[devices.name] = devices
    await devices.run(home)
    return home, devices


async def sample_runtime(root: Path, config: dict[str, Any] | None = None) -> Runtime:
    """A Runtime on a home folder with the demo's devices in memory (no web server)."""
    from agent.config import Config
    from agent.daemon import build_runtime
    from agent.paths import HomePaths

    cfg = Config.model_validate(config or {})
    rt = build_runtime(cfg, HomePaths(root))
    rt.home.areas.update(AREAS)
    devices = InMemoryDevices()
    rt.home.integrations[devices.name] = devices
    await devices.run(rt.home)
    return rt
