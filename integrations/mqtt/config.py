"""Configuration of the MQTT integration."""

from __future__ import annotations

from pydantic import Field

from agent.configbase import Section


class MqttConfig(Section):
    """A broker and the device families found on it."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    zigbee2mqtt_topic: str | None = "zigbee2mqtt"
    discovery_prefix: str | None = "homeassistant"
    tasmota: bool = True
    command_timeout: float = Field(default=3.0, gt=0)


# The section model, by the name every vendor package uses (see integrations/vendors.py).
SECTION = MqttConfig
