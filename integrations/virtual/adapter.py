"""Virtual devices: declared in config, state kept in SQLite across restarts.

Useful for things with no hardware ("guest mode", "vacation") and for tests.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agent.devices import Action, Command, Device, DeviceState, Feature, Kind
from integrations.virtual.config import VirtualConfig, VirtualDeviceConfig

if TYPE_CHECKING:
    from agent.home import Home
    from agent.runtime import Runtime
    from agent.store import Store

FEATURES: dict[Kind, frozenset[Feature]] = {
    Kind.LIGHT: frozenset({Feature.ON_OFF, Feature.BRIGHTNESS, Feature.COLOR, Feature.COLOR_TEMP}),
    Kind.SWITCH: frozenset({Feature.ON_OFF}),
    Kind.FAN: frozenset({Feature.ON_OFF}),
    Kind.CLIMATE: frozenset({Feature.TARGET_TEMPERATURE, Feature.HVAC_MODE}),
    Kind.COVER: frozenset({Feature.OPEN_CLOSE, Feature.POSITION}),
    Kind.LOCK: frozenset({Feature.LOCK}),
    Kind.ALARM: frozenset({Feature.ALARM}),
    Kind.SPEAKER: frozenset(
        {Feature.PLAYBACK, Feature.TRACKS, Feature.VOLUME, Feature.MUTE, Feature.PLAY_MEDIA}
    ),
    Kind.VACUUM: frozenset({Feature.CLEAN, Feature.PAUSE, Feature.RETURN_HOME}),
    Kind.VALVE: frozenset({Feature.OPEN_CLOSE, Feature.POSITION}),
}
INITIAL: dict[Kind, dict[str, Any]] = {
    Kind.LIGHT: {"on": False, "brightness": 100},
    Kind.SWITCH: {"on": False},
    Kind.FAN: {"on": False},
    Kind.CLIMATE: {
        "target_temperature_c": 20.0,
        "current_temperature_c": 20.0,
        "hvac_mode": "heat",
    },
    Kind.COVER: {"position": 0},
    Kind.LOCK: {"locked": True, "lock_state": "locked"},
    Kind.ALARM: {"alarm_state": "disarmed"},
    Kind.SPEAKER: {"playback": "stopped", "volume": 20, "muted": False},
    Kind.VACUUM: {"activity": "docked", "battery": 100},
    Kind.VALVE: {"position": 0},
}
# Where a vacuum goes on each command (an obedient one: it starts returning at once).
VACUUM_ACTIVITY: dict[Action, str] = {
    Action.START: "cleaning",
    Action.PLAY: "cleaning",
    Action.PAUSE: "paused",
    Action.STOP: "idle",
    Action.RETURN_TO_BASE: "returning",
}


def apply(state: DeviceState, command: Command) -> DeviceState:
    """The state a simple, obedient device reaches after a command."""
    a, changes = command.action, dict[str, Any]()
    if state.activity is not None and a in VACUUM_ACTIVITY:
        return state.merged(activity=VACUUM_ACTIVITY[a])
    if a in (Action.TURN_ON, Action.TURN_OFF, Action.TOGGLE):
        changes["on"] = a == Action.TURN_ON or (a == Action.TOGGLE and not state.on)
    elif a == Action.SET_BRIGHTNESS:
        changes.update(
            on=bool(command.brightness), brightness=command.brightness or state.brightness
        )
    elif a == Action.SET_COLOR:
        changes.update(on=True, color=command.color)
    elif a == Action.SET_COLOR_TEMP:
        changes.update(on=True, color_temp_k=command.color_temp_k)
    elif a == Action.SET_TEMPERATURE:
        changes["target_temperature_c"] = command.temperature_c
    elif a == Action.SET_HVAC_MODE:
        changes["hvac_mode"] = command.hvac_mode
    elif a in (Action.SET_POSITION, Action.OPEN, Action.CLOSE):
        changes["position"] = {Action.OPEN: 100, Action.CLOSE: 0}.get(a, command.position)
    elif a in (Action.LOCK, Action.UNLOCK):
        changes.update(
            locked=a == Action.LOCK, lock_state="locked" if a == Action.LOCK else "unlocked"
        )
    elif a == Action.ARM:
        changes["alarm_state"] = f"armed_{command.arm_mode or 'away'}"
    elif a == Action.DISARM:
        changes["alarm_state"] = "disarmed"
    elif a in (Action.PLAY, Action.PAUSE):
        changes["playback"] = "playing" if a == Action.PLAY else "paused"
    elif a == Action.SET_VOLUME:
        changes["volume"] = command.volume
    elif a == Action.MUTE:
        changes["muted"] = command.muted
    elif a == Action.PLAY_MEDIA:
        changes.update(playback="playing", media_title=command.media)
    return state.merged(**changes)


class VirtualIntegration:
    """Devices that exist only in homeclaw."""

    name = "virtual"

    def __init__(self, config: VirtualConfig, store: Store | None) -> None:
        self.config = config
        self.store = store

    def _device(self, cfg: VirtualDeviceConfig) -> Device:
        saved = self.store.get_json(f"virtual:{cfg.id}") if self.store else None
        state = DeviceState.model_validate(saved or {**INITIAL.get(cfg.kind, {}), **cfg.state})
        info: dict[str, Any] = {}
        if cfg.min_temp_c is not None:
            info["min_temp_c"] = cfg.min_temp_c
        if cfg.max_temp_c is not None:
            info["max_temp_c"] = cfg.max_temp_c
        if cfg.favorites:
            info["favorites"] = list(cfg.favorites)
        return Device(
            id=f"virtual:{cfg.id}",
            name=cfg.name,
            kind=cfg.kind,
            integration=self.name,
            area=cfg.area,
            aliases=tuple(cfg.aliases),
            features=frozenset(cfg.features)
            if cfg.features is not None
            else FEATURES.get(cfg.kind, frozenset()),
            device_class=cfg.device_class,
            state=state,
            info=info,
        )

    async def run(self, home: Home) -> None:
        """Register the devices, then idle: nothing external to watch."""
        for cfg in self.config.devices:
            home.add(self._device(cfg))
        await asyncio.Event().wait()

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Apply the command and persist the new state."""
        state = apply(device.state, command)
        if self.store is not None:
            self.store.put_json(f"virtual:{device.id.removeprefix('virtual:')}", state.to_json())
        return state

    async def stop(self) -> None:
        """Nothing to close."""


def create(config: VirtualConfig, rt: Runtime) -> VirtualIntegration:
    """Build the integration from its config section."""
    return VirtualIntegration(config, rt.store)
