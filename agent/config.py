"""Configuration: YAML validated by pydantic, `${ENV}` secrets, and errors that name
the file, line and key.

The daemon exits with status 78 (EX_CONFIG) on a bad config so systemd does not
restart-loop. Section models live beside the code they configure; this module
only assembles them.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import Field, ValidationError, create_model, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from agent.brain.config import BrainConfig
from agent.configbase import Section
from agent.lists.config import ListsConfig
from agent.roles import GuestsConfig
from agent.routines.config import HeartbeatConfig, RoutineConfig, ScheduleConfig
from integrations.discovery_config import DiscoveryConfig
from integrations.frigate.config import FrigateConfig
from integrations.homeassistant.config import HomeAssistantConfig
from integrations.hue.config import HueConfig
from integrations.mqtt.config import MqttConfig
from integrations.shelly.config import ShellyConfig
from integrations.sonos.config import SonosConfig
from integrations.telegram.config import TelegramConfig
from integrations.twilio.config import TwilioConfig
from integrations.vendors import VENDORS
from integrations.virtual.config import VirtualConfig
from integrations.wled.config import WledConfig
from memory.config import MemoryConfig
from vision.config import CameraConfig, VisionConfig

# Keys that may also come from their own file beside config.yaml.
SIDE_FILES = {"routines": "routines.yaml", "schedules": "routines.yaml"}


class ConfigError(Exception):
    """A configuration problem, with every error's file, line and key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class AreaConfig(Section):
    """A room or zone."""

    name: str | None = None
    floor: str | None = None
    aliases: list[str] = []


class HomeSection(Section):
    """The home itself: name, where it is, and how it talks about units."""

    name: str = "Home"
    language: str = "en"
    units: Literal["metric", "imperial"] = "metric"
    timezone: str = "UTC"
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    areas: dict[str, AreaConfig] = {}

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r} (use an IANA name like Europe/Madrid)"
            ) from None
        return value


class WebSection(Section):
    """The HTTP server: dashboard, API, webhooks."""

    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=0, le=65535)
    public_url: str | None = None
    # Seconds a client has to send a request's headers, and again its body.
    request_timeout: float = Field(default=15.0, gt=0, le=600)
    # Open connections at most; the systemd units' LimitNOFILE leaves room for them.
    max_connections: int = Field(default=1024, ge=16, le=65536)

    @property
    def loopback_only(self) -> bool:
        """Whether the server is reachable only from this machine."""
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")


class Person(Section):
    """Someone the house talks to, with their identities on each channel and their role."""

    name: str
    role: Literal["owner", "family", "guest"] = "owner"
    phone: str | None = None
    whatsapp: str | None = None
    telegram: str | int | None = None
    # The room this person is usually in (an area id or name): "turn on the lights"
    # from them means that room's lights unless they say another.
    area: str | None = None


class DeviceOverrideConfig(Section):
    """The owner's name, area and aliases for a device, by its stable id."""

    name: str | None = None
    area: str | None = None
    aliases: list[str] = []
    hidden: bool = False


class LoggingSection(Section):
    """Log level and format."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    json_lines: bool = False


class Config(Section):
    """The whole configuration of one home."""

    home: HomeSection = HomeSection()
    web: WebSection = WebSection()
    logging: LoggingSection = LoggingSection()
    people: list[Person] = []
    guests: GuestsConfig = GuestsConfig()
    devices: dict[str, DeviceOverrideConfig] = {}
    brain: BrainConfig = BrainConfig()
    mqtt: MqttConfig | None = None
    virtual: VirtualConfig = VirtualConfig()
    sonos: SonosConfig | None = None
    hue: HueConfig | None = None
    homeassistant: HomeAssistantConfig | None = None
    wled: WledConfig | None = None
    shelly: ShellyConfig | None = None
    discovery: DiscoveryConfig = DiscoveryConfig()
    twilio: TwilioConfig | None = None
    telegram: TelegramConfig | None = None
    vision: VisionConfig = VisionConfig()
    cameras: list[CameraConfig] = []
    frigate: FrigateConfig | None = None
    memory: MemoryConfig = MemoryConfig()
    lists: ListsConfig = ListsConfig()
    routines: list[RoutineConfig] = []
    schedules: list[ScheduleConfig] = []
    heartbeat: HeartbeatConfig = HeartbeatConfig()


def config_model() -> type[Config]:
    """`Config`, plus a section for each vendor in `integrations.vendors` it does not declare.

    The declared vendor fields give the core typed access (`config.hue` for doctor and
    discovery); a vendor added by its package and one line in the vendor table gets its
    section here, from its `config.SECTION`, without touching this file.
    """
    return _config_model(tuple(VENDORS.items()))


@functools.cache
def _config_model(vendors: tuple[tuple[str, str], ...]) -> type[Config]:
    extra: dict[str, Any] = {
        name: (importlib.import_module(f"{package}.config").SECTION | None, None)
        for name, package in vendors
        if name not in Config.model_fields
    }
    if not extra:
        return Config
    model: type[Config] = create_model("Config", __base__=Config, **extra)
    return model


# -- loading -------------------------------------------------------------------

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    """Load and validate a config file (plus side files beside it); raise ConfigError."""
    environment = dict(os.environ if env is None else env)
    env_file = path.parent / ".env"
    if env_file.exists():
        for key, value in dotenv_values(env_file).items():
            if value is not None:
                environment.setdefault(key, value)
    documents: dict[str, tuple[Path, Any]] = {}
    root = _read_yaml(path)
    if root is None:
        root = CommentedMap()
    if not isinstance(root, dict):
        raise ConfigError([f"{path}:1: the top level must be a mapping of sections"])
    for key in root:
        documents[str(key)] = (path, root)
    for key, filename in SIDE_FILES.items():
        side = path.parent / filename
        if side.exists() and side != path:
            data = _read_yaml(side)
            if isinstance(data, dict) and key in data:
                if key in root:
                    raise ConfigError([f"{side}: `{key}` is also defined in {path}; keep one"])
                documents[key] = (side, data)
    merged: dict[str, Any] = {}
    problems: list[str] = []
    for key, (source, doc) in documents.items():
        merged[key] = _interpolate(doc[key], environment, source, doc, (key,), problems)
    if problems:
        raise ConfigError(problems)
    try:
        return config_model().model_validate(merged)
    except ValidationError as err:
        raise ConfigError(_describe(err, documents)) from None


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found (run `homeclaw init`)"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([f"{path}: cannot read: {err}"]) from None
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else 1
        raise ConfigError([f"{path}:{line}: invalid YAML: {err.problem}"]) from None


def _interpolate(
    node: Any,
    env: dict[str, str],
    source: Path,
    doc: Any,
    loc: tuple[Any, ...],
    problems: list[str],
) -> Any:
    """Plain Python data with ${VAR} and ${VAR:-default} replaced."""
    if isinstance(node, dict):
        return {
            str(k): _interpolate(v, env, source, doc, (*loc, str(k)), problems)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_interpolate(v, env, source, doc, (*loc, i), problems) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:

        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append(
                f"{source}:{_line(doc, loc)}: {_dotted(loc)}: environment variable ${{{name}}} "
                "is not set (export it or add it to .env in the home folder)"
            )
            return ""

        return _ENV_REF.sub(sub, node)
    return node


def _describe(err: ValidationError, documents: dict[str, tuple[Path, Any]]) -> list[str]:
    problems = []
    for item in err.errors():
        loc = tuple(item["loc"])
        if not loc:
            problems.append(f"config: {item['msg']}")
            continue
        source, doc = documents.get(str(loc[0]), (Path("config.yaml"), None))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" + _suggest(loc, doc)
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{source}:{_line(doc, loc)}: {_dotted(loc)}: {message}")
    return problems


def _suggest(loc: tuple[Any, ...], doc: Any) -> str:
    """A "did you mean" for a typo'd key, from the model's known fields."""
    model: Any = config_model()
    for part in loc[:-1]:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            if isinstance(part, int):
                continue
            return ""
        annotation = fields[part].annotation
        model = _inner_model(annotation)
        if model is None:
            return ""
    fields = getattr(model, "model_fields", {})
    close = difflib.get_close_matches(str(loc[-1]), list(fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _inner_model(annotation: Any) -> Any:
    for candidate in _walk_annotation(annotation):
        if isinstance(candidate, type) and hasattr(candidate, "model_fields"):
            return candidate
    return None


def _walk_annotation(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _walk_annotation(arg)


def _line(doc: Any, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node of `loc` that exists in the YAML."""
    line = 1
    node = doc
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
