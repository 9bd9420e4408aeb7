"""The simulated Home Assistant's demo home: its entities, areas and devices."""

from __future__ import annotations

from integrations.homeassistant.sim_model import Entity

# Areas of the demo HA (id → name), as its area registry lists them.
DEMO_AREAS = {
    "pool": "Pool",
    "garden": "Garden",
    "bedroom": "Bedroom",
    "hallway": "Hallway",
    "garage": "Garage",
}

# Climate features HA advertises (ClimateEntityFeature): target temp, turn on/off.
_CLIMATE_FEATURES = 1 | 128 | 256
# A range thermostat's: target low/high (2), turn on/off.
_CLIMATE_RANGE_FEATURES = 2 | 128 | 256


def demo_entities(garage_travel: float = 0.0, lock_travel: float = 0.0) -> list[Entity]:
    """The demo home's Home Assistant: pool, spa, blinds, alarm, thermostats, garage, locks.

    Like HA's own demo it has a range thermostat (the Ecobee, heat_cool with
    low/high setpoints), a lock that jams whenever it is locked, and a TV whose
    player cannot skip tracks.
    """
    return [
        Entity(
            "water_heater.pool_heater",
            "heat_pump",
            {
                "friendly_name": "Pool heater",
                "temperature": 82.0,
                "current_temperature": 79.0,
                "min_temp": 50.0,
                "max_temp": 104.0,
                "operation_mode": "heat_pump",
                "operation_list": ["off", "heat_pump", "eco"],
                "supported_features": 1 | 2,
            },
            device_id="dev_pool_heater",
        ),
        Entity(
            "climate.spa",
            "heat",
            {
                "friendly_name": "Spa",
                "hvac_modes": ["off", "heat"],
                "temperature": 100.0,
                "current_temperature": 98.5,
                "min_temp": 50.0,
                "max_temp": 104.0,
                "hvac_action": "heating",
                "supported_features": _CLIMATE_FEATURES,
            },
            area_id="garden",
        ),
        Entity(
            "climate.upstairs_thermostat",
            "heat",
            {
                "friendly_name": "Upstairs thermostat",
                "hvac_modes": ["off", "heat", "cool", "auto"],
                "temperature": 69.0,
                "current_temperature": 68.0,
                "current_humidity": 41,
                "min_temp": 45.0,
                "max_temp": 95.0,
                "hvac_action": "heating",
                "supported_features": _CLIMATE_FEATURES,
            },
            area_id="bedroom",
        ),
        Entity(
            "cover.bedroom_blinds",
            "open",
            {
                "friendly_name": "Bedroom blinds",
                "current_position": 100,
                "device_class": "blind",
                "supported_features": 1 | 2 | 4 | 8,
            },
            area_id="bedroom",
        ),
        Entity(
            "cover.garage_door",
            "closed",
            {
                "friendly_name": "Garage door",
                "device_class": "garage",
                "supported_features": 1 | 2 | 8,
            },
            area_id="garage",
            travel_seconds=garage_travel,
        ),
        Entity(
            "alarm_control_panel.alarm",
            "disarmed",
            {
                "friendly_name": "Alarm",
                "code_format": None,
                "code_arm_required": False,
                "supported_features": 1 | 2 | 4 | 32,
            },
            area_id="hallway",
        ),
        Entity(
            "sensor.pool_temperature",
            "79.0",
            {
                "friendly_name": "Pool temperature",
                "unit_of_measurement": "°F",
                "device_class": "temperature",
                "state_class": "measurement",
            },
            device_id="dev_pool_heater",
        ),
        Entity(
            "media_player.pool_speaker",
            "idle",
            {
                "friendly_name": "Pool speaker",
                "volume_level": 0.3,
                "is_volume_muted": False,
                "supported_features": 1 | 4 | 8 | 16 | 32 | 128 | 256 | 512 | 4096 | 16384,
            },
            area_id="pool",
        ),
        Entity(
            "climate.ecobee",
            "heat_cool",
            {
                "friendly_name": "Ecobee",
                "hvac_modes": ["off", "heat", "cool", "heat_cool"],
                "current_temperature": 73.0,
                "target_temp_low": 70.0,
                "target_temp_high": 75.0,
                "min_temp": 45.0,
                "max_temp": 95.0,
                "hvac_action": "idle",
                # Range only, like HA's demo Ecobee: no single setpoint in any mode.
                "supported_features": _CLIMATE_RANGE_FEATURES,
            },
            area_id="hallway",
        ),
        Entity(
            "lock.shed_door",
            "unlocked",
            {"friendly_name": "Shed door", "supported_features": 0},
            area_id="garden",
            travel_seconds=lock_travel,
            jams=True,
        ),
        Entity(
            "media_player.tv",
            "playing",
            {
                "friendly_name": "TV",
                "volume_level": 0.2,
                "is_volume_muted": False,
                "media_title": "Evening news",
                # Pause, volume, mute, on/off, play, but no next/previous track.
                "supported_features": 1 | 4 | 8 | 128 | 256 | 4096 | 16384,
            },
            area_id="bedroom",
        ),
    ]


# The device registry: the pool heater's entities get their area from the device.
DEMO_DEVICES = {"dev_pool_heater": {"name": "Pool controller", "area_id": "pool"}}
