"""The device model: kinds, features, state snapshots, the command vocabulary, and the areas
devices are in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Kind(StrEnum):
    """What a device is, in the home's language."""

    LIGHT = "light"
    SWITCH = "switch"
    FAN = "fan"
    SPEAKER = "speaker"
    CLIMATE = "climate"
    COVER = "cover"
    LOCK = "lock"
    ALARM = "alarm"
    SENSOR = "sensor"
    CAMERA = "camera"
    VACUUM = "vacuum"
    VALVE = "valve"


class Feature(StrEnum):
    """A capability a device supports; commands require features."""

    ON_OFF = "on_off"
    BRIGHTNESS = "brightness"
    COLOR = "color"
    COLOR_TEMP = "color_temp"
    TARGET_TEMPERATURE = "target_temperature"
    TARGET_TEMPERATURE_RANGE = "target_temperature_range"  # heat/cool setpoints (heat_cool)
    HVAC_MODE = "hvac_mode"
    POSITION = "position"
    OPEN_CLOSE = "open_close"
    LOCK = "lock"
    ALARM = "alarm"
    PLAYBACK = "playback"
    TRACKS = "tracks"  # next / previous track
    VOLUME = "volume"
    MUTE = "mute"
    PLAY_MEDIA = "play_media"
    GROUPING = "grouping"
    PRESET = "preset"
    CLEAN = "clean"
    PAUSE = "pause"
    RETURN_HOME = "return_home"


class Action(StrEnum):
    """The command vocabulary shared by every integration."""

    TURN_ON = "turn_on"
    TURN_OFF = "turn_off"
    TOGGLE = "toggle"
    SET_BRIGHTNESS = "set_brightness"
    SET_COLOR = "set_color"
    SET_COLOR_TEMP = "set_color_temp"
    SET_TEMPERATURE = "set_temperature"
    SET_HVAC_MODE = "set_hvac_mode"
    SET_POSITION = "set_position"
    OPEN = "open"
    CLOSE = "close"
    STOP = "stop"
    LOCK = "lock"
    UNLOCK = "unlock"
    ARM = "arm"
    DISARM = "disarm"
    PLAY = "play"
    PAUSE = "pause"
    NEXT = "next"
    PREVIOUS = "previous"
    SET_VOLUME = "set_volume"
    MUTE = "mute"
    PLAY_MEDIA = "play_media"
    JOIN = "join"
    UNJOIN = "unjoin"
    ACTIVATE_PRESET = "activate_preset"
    START = "start"
    RETURN_TO_BASE = "return_to_base"


class Risk(StrEnum):
    """How careful the house must be before acting."""

    LOW = "low"
    HIGH = "high"


HvacMode = Literal["off", "heat", "cool", "auto", "heat_cool", "fan_only", "dry"]
ArmMode = Literal["home", "away", "night", "vacation"]
# What a robot vacuum is doing (Home Assistant's vacuum states).
VacuumActivity = Literal["cleaning", "docked", "returning", "paused", "idle", "error"]

# Which feature each action needs, and which Command fields it requires.
ACTIONS: dict[Action, tuple[Feature, tuple[str, ...]]] = {
    Action.TURN_ON: (Feature.ON_OFF, ()),
    Action.TURN_OFF: (Feature.ON_OFF, ()),
    Action.TOGGLE: (Feature.ON_OFF, ()),
    Action.SET_BRIGHTNESS: (Feature.BRIGHTNESS, ("brightness",)),
    Action.SET_COLOR: (Feature.COLOR, ("color",)),
    Action.SET_COLOR_TEMP: (Feature.COLOR_TEMP, ("color_temp_k",)),
    # One setpoint (temperature_c) or a heat/cool range (target_low_c/target_high_c):
    # checked by Command itself, and the feature follows from which was given.
    Action.SET_TEMPERATURE: (Feature.TARGET_TEMPERATURE, ()),
    Action.SET_HVAC_MODE: (Feature.HVAC_MODE, ("hvac_mode",)),
    Action.SET_POSITION: (Feature.POSITION, ("position",)),
    Action.OPEN: (Feature.OPEN_CLOSE, ()),
    Action.CLOSE: (Feature.OPEN_CLOSE, ()),
    Action.STOP: (Feature.OPEN_CLOSE, ()),
    Action.LOCK: (Feature.LOCK, ()),
    Action.UNLOCK: (Feature.LOCK, ()),
    Action.ARM: (Feature.ALARM, ()),
    Action.DISARM: (Feature.ALARM, ()),
    Action.PLAY: (Feature.PLAYBACK, ()),
    Action.PAUSE: (Feature.PLAYBACK, ()),
    Action.NEXT: (Feature.TRACKS, ()),
    Action.PREVIOUS: (Feature.TRACKS, ()),
    Action.SET_VOLUME: (Feature.VOLUME, ("volume",)),
    Action.MUTE: (Feature.MUTE, ("muted",)),
    Action.PLAY_MEDIA: (Feature.PLAY_MEDIA, ("media",)),
    Action.JOIN: (Feature.GROUPING, ("group_with",)),
    Action.UNJOIN: (Feature.GROUPING, ()),
    Action.ACTIVATE_PRESET: (Feature.PRESET, ("preset",)),
    Action.START: (Feature.CLEAN, ()),
    Action.RETURN_TO_BASE: (Feature.RETURN_HOME, ()),
}
# Actions other features also accept: a vacuum pauses and stops too.
ALSO_ACCEPTED_BY: dict[Action, frozenset[Feature]] = {
    Action.PAUSE: frozenset({Feature.PAUSE}),
    Action.STOP: frozenset({Feature.CLEAN}),
}

# What a device "can't ..." when it lacks the feature (the owner hears this sentence).
CANT: dict[Action, str] = {
    Action.TURN_ON: "turn on",
    Action.TURN_OFF: "turn off",
    Action.SET_BRIGHTNESS: "dim",
    Action.SET_COLOR: "change colour",
    Action.SET_COLOR_TEMP: "change colour temperature",
    Action.SET_TEMPERATURE: "set a temperature",
    Action.SET_HVAC_MODE: "change mode",
    Action.SET_POSITION: "move to a position",
    Action.PLAY: "play",
    Action.PAUSE: "pause",
    Action.NEXT: "skip tracks",
    Action.PREVIOUS: "go back a track",
    Action.SET_VOLUME: "change its volume",
    Action.MUTE: "mute",
    Action.PLAY_MEDIA: "play music",
    Action.JOIN: "join other speakers",
    Action.ACTIVATE_PRESET: "use presets",
    Action.START: "start cleaning",
    Action.RETURN_TO_BASE: "go back to its dock",
}

# Cover device classes whose opening lets someone in.
ENTRY_COVER_CLASSES = frozenset({"garage", "gate", "door"})
# Valve device classes whose opening is dangerous.
HAZARD_VALVE_CLASSES = frozenset({"gas"})
# How much of the house each arm mode guards: going down the ladder (away → home)
# leaves doors and rooms unwatched, so it needs the code like a disarm.
ARM_STRENGTH = {"home": 1, "night": 2, "away": 3, "vacation": 3}
# Alarm states in which any re-arm could silence or reset an alarm going off.
ALARM_SOUNDING = frozenset({"triggered", "pending"})


class Command(BaseModel):
    """One command from the shared vocabulary, with its (validated) arguments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    brightness: int | None = Field(default=None, ge=0, le=100)
    color: tuple[int, int, int] | None = None
    color_temp_k: int | None = Field(default=None, ge=1000, le=10000)
    temperature_c: float | None = Field(default=None, ge=-20, le=60)
    target_low_c: float | None = Field(default=None, ge=-20, le=60)
    target_high_c: float | None = Field(default=None, ge=-20, le=60)
    hvac_mode: HvacMode | None = None
    position: int | None = Field(default=None, ge=0, le=100)
    volume: int | None = Field(default=None, ge=0, le=100)
    muted: bool | None = None
    media: str | None = Field(default=None, min_length=1, max_length=2000)
    group_with: str | None = None
    preset: str | None = None
    arm_mode: ArmMode | None = None

    @model_validator(mode="after")
    def _required_args(self) -> Command:
        _, required = ACTIONS[self.action]
        missing = [name for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.action.value} needs {', '.join(missing)}")
        if self.color is not None and any(not 0 <= c <= 255 for c in self.color):
            raise ValueError("color components must be 0-255")
        if self.action == Action.SET_TEMPERATURE:
            ranged = self.target_low_c is not None or self.target_high_c is not None
            if self.temperature_c is None and not ranged:
                raise ValueError("set_temperature needs temperature_c or target_low_c/high_c")
            if self.temperature_c is not None and ranged:
                raise ValueError("set_temperature takes temperature_c or a range, not both")
            low, high = self.target_low_c, self.target_high_c
            if low is not None and high is not None and low > high:
                raise ValueError("target_low_c must not be above target_high_c")
        return self

    @property
    def feature(self) -> Feature:
        """The feature a device needs to accept this command."""
        if self.target_low_c is not None or self.target_high_c is not None:
            return Feature.TARGET_TEMPERATURE_RANGE
        return ACTIONS[self.action][0]

    @property
    def accepted_by(self) -> frozenset[Feature]:
        """Every feature that lets a device take this command."""
        return ALSO_ACCEPTED_BY.get(self.action, frozenset()) | {self.feature}

    def to_json(self) -> dict[str, Any]:
        """The command as compact JSON (unset arguments left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class DeviceState(BaseModel):
    """An immutable snapshot of a device's state in normalised units.

    Brightness, position and volume are percent; temperatures are °C; colours
    are RGB 0-255; colour temperature is kelvin.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    on: bool | None = None
    brightness: int | None = None
    color: tuple[int, int, int] | None = None
    color_temp_k: int | None = None
    current_temperature_c: float | None = None
    target_temperature_c: float | None = None
    target_low_c: float | None = None  # heat to (heat_cool range)
    target_high_c: float | None = None  # cool to (heat_cool range)
    hvac_mode: str | None = None
    hvac_action: str | None = None
    humidity: float | None = None
    position: int | None = None
    moving: str | None = None
    locked: bool | None = None
    lock_state: str | None = None
    alarm_state: str | None = None
    playback: str | None = None
    volume: int | None = None
    muted: bool | None = None
    media_title: str | None = None
    media_artist: str | None = None
    media_source: str | None = None
    group: tuple[str, ...] | None = None
    motion: bool | None = None
    contact_open: bool | None = None
    battery: int | None = None
    illuminance: float | None = None
    power_w: float | None = None
    value: float | str | None = None
    unit: str | None = None
    preset: str | None = None
    activity: VacuumActivity | None = None

    def to_json(self) -> dict[str, Any]:
        """The state as compact JSON (unknown fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)

    def satisfies(self, command: Command) -> bool:
        """Whether this state shows the command took effect (used to confirm commands)."""
        a = command.action
        checks: dict[Action, bool | None] = {
            Action.TURN_ON: self.on is True,
            Action.TURN_OFF: self.on is False,
            Action.SET_BRIGHTNESS: (self.on is False)
            if command.brightness == 0
            else (
                self.on is True
                and self.brightness is not None
                and abs(self.brightness - (command.brightness or 0)) <= 1
            ),
            Action.SET_COLOR: self.on is True and self.color is not None,
            Action.SET_COLOR_TEMP: self.on is True
            and self.color_temp_k is not None
            and abs(self.color_temp_k - (command.color_temp_k or 0)) <= 100,
            Action.SET_TEMPERATURE: all(
                have is not None and abs(have - wanted) < 0.3
                for have, wanted in (
                    (self.target_temperature_c, command.temperature_c),
                    (self.target_low_c, command.target_low_c),
                    (self.target_high_c, command.target_high_c),
                )
                if wanted is not None
            ),
            Action.SET_HVAC_MODE: self.hvac_mode == command.hvac_mode,
            Action.SET_POSITION: self.position == command.position,
            Action.OPEN: self.position == 100 if self.position is not None else None,
            Action.CLOSE: self.position == 0 if self.position is not None else None,
            Action.LOCK: self.locked is True,
            Action.UNLOCK: self.locked is False,
            Action.PLAY: self.playback == "playing",
            Action.PAUSE: self.playback in ("paused", "stopped")
            if self.activity is None
            else self.activity in ("paused", "idle", "docked"),
            Action.START: self.activity == "cleaning",
            Action.RETURN_TO_BASE: self.activity in ("returning", "docked"),
            Action.SET_VOLUME: self.volume == command.volume,
            Action.MUTE: self.muted == command.muted,
        }
        result = checks.get(a)
        # Actions with no observable end state (toggle, next, stop...) are confirmed
        # by any report from the device.
        return True if result is None else bool(result)

    def merged(self, **changes: Any) -> DeviceState:
        """A new snapshot with some fields changed (validated)."""
        return DeviceState.model_validate({**self.model_dump(), **changes})


@dataclass(frozen=True)
class Area:
    """A room or zone, optionally on a floor, with other names people use for it."""

    id: str
    name: str
    floor: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass
class Device:
    """A device in the home: identity, placement, capabilities and current state."""

    id: str
    name: str
    kind: Kind
    integration: str
    area: str | None = None
    aliases: tuple[str, ...] = ()
    features: frozenset[Feature] = frozenset()
    device_class: str | None = None
    state: DeviceState = field(default_factory=DeviceState)
    available: bool = True
    info: dict[str, Any] = field(default_factory=dict)
    hvac_modes: tuple[str, ...] = ()  # the modes it declares; empty = not declared

    @property
    def risk(self) -> Risk:
        """High for anything that lets people in or silences the alarm."""
        if self.kind in (Kind.LOCK, Kind.ALARM):
            return Risk.HIGH
        if self.kind == Kind.COVER and self.device_class in ENTRY_COVER_CLASSES:
            return Risk.HIGH
        if self.kind == Kind.VALVE and self.device_class in HAZARD_VALVE_CLASSES:
            return Risk.HIGH
        return Risk.LOW

    def command_risk(self, command: Command) -> Risk:
        """Whether this particular command needs the owner's confirmation."""
        if self.risk is Risk.LOW:
            return Risk.LOW
        if command.action in (Action.UNLOCK, Action.DISARM, Action.OPEN):
            return Risk.HIGH
        if command.action == Action.SET_POSITION and (command.position or 0) > 0:
            return Risk.HIGH
        if command.action == Action.TOGGLE:
            return Risk.HIGH
        if command.action == Action.ARM and self.kind == Kind.ALARM:
            return Risk.HIGH if _arm_downgrade(self.state.alarm_state, command) else Risk.LOW
        return Risk.LOW

    def supports(self, command: Command) -> bool:
        """Whether the device has the feature (and mode) the command needs."""
        return self.refusal(command) is None

    def refusal(self, command: Command) -> str | None:
        """The sentence saying why the device can't take the command, or None if it can."""
        if command.accepted_by.isdisjoint(self.features):
            if command.feature is Feature.TARGET_TEMPERATURE_RANGE:
                return f"{self.name} has one setpoint, not a heating and cooling range."
            if (
                command.action == Action.SET_TEMPERATURE
                and Feature.TARGET_TEMPERATURE_RANGE in self.features
            ):
                return f"{self.name} takes a heating and cooling range, not one setpoint."
            verb = CANT.get(command.action, command.action.value.replace("_", " "))
            return f"{self.name} can't {verb}."
        mode = command.hvac_mode
        if (
            command.action == Action.SET_HVAC_MODE
            and self.hvac_modes
            and mode not in self.hvac_modes
        ):
            known = ", ".join(m.replace("_", "/") for m in self.hvac_modes)
            return f"{self.name} has no {str(mode).replace('_', '/')} mode (it has {known})."
        return None

    def with_state(self, state: DeviceState) -> Device:
        """A copy with a new state snapshot."""
        return replace(self, state=state)

    def to_json(self) -> dict[str, Any]:
        """The device as documented in the README's `devices --json` shape."""
        return {
            "id": self.id,
            "name": self.name,
            "area": self.area,
            "kind": self.kind.value,
            "device_class": self.device_class,
            "integration": self.integration,
            "aliases": list(self.aliases),
            "features": sorted(f.value for f in self.features),
            "risk": self.risk.value,
            "available": self.available,
            "state": self.state.to_json(),
            **({"hvac_modes": list(self.hvac_modes)} if self.hvac_modes else {}),
            "info": self.info,
        }


def _arm_downgrade(current: str | None, command: Command) -> bool:
    """Whether arming in this mode guards less than the alarm does now (away → home)."""
    if current is None or current in ("disarmed", "disarming"):
        return False
    if current in ALARM_SOUNDING:
        return True
    wanted = ARM_STRENGTH[command.arm_mode or "away"]
    mode = current.removeprefix("armed_")
    # "arming" (exit delay) and vendor modes (custom_bypass) count as the strongest.
    return wanted < ARM_STRENGTH.get(mode, max(ARM_STRENGTH.values()))
