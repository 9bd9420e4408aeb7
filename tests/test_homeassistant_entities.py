"""HA state objects ↔ homeclaw devices and service calls (pure mapping, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.devices import Action, Command, Feature, Kind
from agent.errors import UnsupportedCommand
from integrations.homeassistant.entities import service_call, to_device


def state(entity_id: str, value: str, **attrs: Any) -> dict[str, Any]:
    """An HA state object."""
    return {"entity_id": entity_id, "state": value, "attributes": attrs, "last_updated": "t"}


def test_light_units_and_services() -> None:
    """Brightness 0-255 ↔ %, colour and kelvin; commands become light.turn_on data."""
    light = to_device(
        state(
            "light.desk",
            "on",
            friendly_name="Desk",
            brightness=128,
            rgb_color=[255, 0, 0],
            supported_color_modes=["rgb", "color_temp"],
        ),
        "Study",
        "°C",
    )
    assert light is not None
    assert (light.id, light.kind, light.area) == ("homeassistant:light.desk", Kind.LIGHT, "Study")
    assert light.state.brightness == 50 and light.state.color == (255, 0, 0)
    assert {Feature.BRIGHTNESS, Feature.COLOR, Feature.COLOR_TEMP} <= light.features
    cmd = Command(action=Action.SET_BRIGHTNESS, brightness=30)
    assert service_call(light, cmd, "°C") == ("light", "turn_on", {"brightness_pct": 30})
    cmd = Command(action=Action.SET_COLOR_TEMP, color_temp_k=2700)
    assert service_call(light, cmd, "°C")[2] == {"color_temp_kelvin": 2700}


def test_lock_alarm_code_and_unavailable() -> None:
    """Locks carry the configured code; an 'unavailable' entity is imported unavailable."""
    lock = to_device(state("lock.gate", "unlocked", friendly_name="Gate"), None, "°C")
    assert lock is not None and lock.state.locked is False and lock.kind is Kind.LOCK
    assert service_call(lock, Command(action=Action.UNLOCK), "°C", alarm_code="1234") == (
        "lock",
        "unlock",
        {"code": "1234"},
    )
    gone = to_device(state("switch.pump", "unavailable"), None, "°C")
    assert gone is not None and not gone.available


def test_sensors_and_celsius_system() -> None:
    """Sensors normalise by their own unit; climate follows the HA unit system."""
    sensor = to_device(
        state("sensor.attic", "68", unit_of_measurement="°F", device_class="temperature"),
        None,
        "°C",
    )
    assert sensor is not None and sensor.state.current_temperature_c == pytest.approx(20.0)
    motion = to_device(state("binary_sensor.hall", "on", device_class="motion"), None, "°C")
    assert motion is not None and motion.state.motion is True
    thermostat = to_device(
        state(
            "climate.hall",
            "heat",
            temperature=21.5,
            hvac_modes=["off", "heat"],
            supported_features=1,
        ),
        None,
        "°C",
    )
    assert thermostat is not None and thermostat.state.target_temperature_c == 21.5
    assert thermostat.device_class == "thermostat"
    cmd = Command(action=Action.SET_TEMPERATURE, temperature_c=19)
    assert service_call(thermostat, cmd, "°C")[2] == {"temperature": 19.0}
    assert to_device(state("automation.x", "on"), None, "°C") is None


def test_unsupported_command_is_refused_plainly() -> None:
    """A command with no HA service says so in words."""
    sensor = to_device(state("sensor.x", "1"), None, "°C")
    assert sensor is not None
    with pytest.raises(UnsupportedCommand, match="can't play"):
        service_call(sensor, Command(action=Action.PLAY), "°C")


def test_a_thermostats_setpoint_range_is_kept_in_celsius() -> None:
    """min_temp/max_temp (here °F) become info min/max in °C: the local path asks about a
    setpoint outside them instead of sending it."""
    stat = to_device(
        state("climate.pool", "heat", temperature=84, min_temp=50, max_temp=104), None, "°F"
    )
    assert stat is not None
    assert stat.info["min_temp_c"] == pytest.approx(10.0)
    assert stat.info["max_temp_c"] == pytest.approx(40.0)
