"""Configuration: errors name file, line and key; secrets come from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, load_config
from agent.paths import EX_CONFIG

EXAMPLE = Path(__file__).parent.parent / "config" / "homeclaw.example.yaml"


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_example_config_is_valid() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.web.host == "127.0.0.1"
    assert config.mqtt is not None and config.mqtt.port == 1883


def test_typo_names_file_line_key_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "home:\n  name: Casa\nmqtt:\n  host: 127.0.0.1\n  prot: 1883\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}:5: mqtt.prot: unknown key 'prot'")
    assert "did you mean 'port'" in problem


def test_wrong_type_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "web:\n  host: 127.0.0.1\n  port: lots\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems[0].startswith(f"{path}:3: web.port:")


def test_errors_inside_lists_point_at_the_item(tmp_path: Path) -> None:
    path = write(
        tmp_path, "people:\n  - name: Ana\n    role: owner\n  - name: Bo\n    role: boss\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems[0].startswith(f"{path}:5: people[1].role:")


def test_env_interpolation_and_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MQTT_PASSWORD=from-dotenv\n")
    path = write(
        tmp_path,
        "mqtt:\n  username: ${MQTT_USER:-homeclaw}\n  password: ${MQTT_PASSWORD}\n"
        "brain:\n  api_key: ${OPENAI_KEY}\n",
    )
    config = load_config(path, env={"OPENAI_KEY": "sk-test"})
    assert config.mqtt is not None
    assert config.mqtt.username == "homeclaw"
    assert config.mqtt.password == "from-dotenv"
    assert config.brain.api_key == "sk-test"


def test_missing_env_var_is_an_error_with_line(tmp_path: Path) -> None:
    path = write(tmp_path, "home:\n  name: x\ntelegram:\n  bot_token: ${TELEGRAM_TOKEN}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems[0].startswith(f"{path}:4: telegram.bot_token: environment variable")


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "home:\n  name: [unclosed\nweb: {}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems[0].startswith(f"{path}:")
    assert "invalid YAML" in info.value.problems[0]


def test_side_file_errors_name_the_side_file(tmp_path: Path) -> None:
    path = write(tmp_path, "home:\n  name: x\n")
    side = write(tmp_path, "routines:\n  - name: nap\n    stepz: []\n", "routines.yaml")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert any(
        p.startswith(f"{side}:3: routines[0].stepz: unknown key") for p in info.value.problems
    )


def test_unknown_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, "home:\n  timezone: Mars/Olympus\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "unknown timezone" in info.value.problems[0]


def test_run_exits_78_on_a_bad_config(tmp_path: Path) -> None:
    write(tmp_path, "web:\n  portt: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run"],
        env={**os.environ, "HOMECLAW_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == EX_CONFIG
    assert f"{tmp_path / 'config.yaml'}:2: web.portt: unknown key" in result.stderr
