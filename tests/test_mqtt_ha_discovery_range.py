"""HA MQTT-discovery thermostats with a heat/cool range, and locks that jam: parsed
from discovery payloads shaped as HA documents them (abbreviated keys included)."""

from __future__ import annotations

import json

from agent.devices import Action, Command, DeviceState, Feature
from integrations.mqtt.ha_discovery import command_messages, parse, parse_state


def test_range_thermostat_from_discovery() -> None:
    """Low/high topics make a range thermostat; modes are declared; commands hit each end."""
    config = {
        "name": "Basement thermostat",
        "uniq_id": "bsmt_tstat",
        "~": "hvac/bsmt",
        "modes": ["off", "heat", "cool", "heat_cool"],
        "mode_cmd_t": "~/mode/set",
        "mode_stat_t": "~/mode",
        "temp_lo_cmd_t": "~/low/set",
        "temp_lo_stat_t": "~/low",
        "temp_hi_cmd_t": "~/high/set",
        "temp_hi_stat_t": "~/high",
        "curr_temp_t": "~/current",
    }
    entity = parse("climate/bsmt_tstat/config", json.dumps(config).encode())
    assert entity is not None
    device = entity.device
    assert Feature.TARGET_TEMPERATURE_RANGE in device.features
    assert Feature.TARGET_TEMPERATURE not in device.features
    assert device.hvac_modes == ("off", "heat", "cool", "heat_cool")
    state = parse_state(entity, "hvac/bsmt/low", b"19.5", DeviceState())
    state = parse_state(entity, "hvac/bsmt/high", b"24", state)
    assert (state.target_low_c, state.target_high_c) == (19.5, 24.0)
    command = Command(action=Action.SET_TEMPERATURE, target_low_c=20, target_high_c=25)
    assert command_messages(entity, command) == [
        ("hvac/bsmt/low/set", "20.0"),
        ("hvac/bsmt/high/set", "25.0"),
    ]
    assert (
        device.with_state(state).refusal(Command(action=Action.SET_HVAC_MODE, hvac_mode="dry"))
        == "Basement thermostat has no dry mode (it has off, heat, cool, heat/cool)."
    )


def test_lock_states_jammed_and_locking() -> None:
    """JAMMED and LOCKING are neither locked nor unlocked."""
    config = {"name": "Gate", "uniq_id": "gate", "cmd_t": "gate/set", "stat_t": "gate/state"}
    entity = parse("lock/gate/config", json.dumps(config).encode())
    assert entity is not None
    state = parse_state(entity, "gate/state", b"LOCKED", DeviceState())
    assert (state.locked, state.lock_state) == (True, "locked")
    state = parse_state(entity, "gate/state", b"JAMMED", state)
    assert (state.locked, state.lock_state) == (None, "jammed")
    state = parse_state(entity, "gate/state", b"LOCKING", state)
    assert state.lock_state == "locking" and not state.satisfies(Command(action=Action.LOCK))


def test_zigbee2mqtt_thermostat_with_heating_and_cooling_setpoints() -> None:
    """A zigbee2mqtt climate exposing both setpoints is a range thermostat in auto mode."""
    from agent.brain.climate import holds_range, setpoint_command
    from integrations.mqtt.zigbee2mqtt import describe, parse_state, set_payload, to_device

    entry = {
        "ieee_address": "0x00124b00000000aa",
        "friendly_name": "hallway/Heat pump",
        "type": "Router",
        "definition": {
            "model": "TS-HP",
            "vendor": "Sim",
            "exposes": [
                {
                    "type": "climate",
                    "features": [
                        {
                            "name": "occupied_heating_setpoint",
                            "property": "occupied_heating_setpoint",
                        },
                        {
                            "name": "occupied_cooling_setpoint",
                            "property": "occupied_cooling_setpoint",
                        },
                        {"name": "local_temperature", "property": "local_temperature"},
                        {"name": "system_mode", "values": ["off", "heat", "cool", "auto"]},
                    ],
                }
            ],
        },
    }
    meta = describe(entry)
    assert meta is not None
    state = parse_state(
        meta,
        {"occupied_heating_setpoint": 20, "occupied_cooling_setpoint": 24, "system_mode": "auto"},
        DeviceState(),
    )
    device = to_device(entry, meta).with_state(state)
    assert {Feature.TARGET_TEMPERATURE, Feature.TARGET_TEMPERATURE_RANGE} <= device.features
    assert device.hvac_modes == ("off", "heat", "cool", "auto")
    assert (state.target_low_c, state.target_high_c) == (20.0, 24.0)
    assert holds_range(device)  # auto with a range: "set it to 72 °F" moves the range
    command = setpoint_command(device, 72, "imperial")
    assert set_payload(meta, command) == {
        "occupied_heating_setpoint": command.target_low_c,
        "occupied_cooling_setpoint": command.target_high_c,
    }
