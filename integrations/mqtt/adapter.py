"""The MQTT integration: zigbee2mqtt, Home Assistant MQTT discovery and Tasmota on one broker.

One connection loop: connect, subscribe, dispatch messages; on a lost broker
every MQTT device shows unavailable and the loop reconnects with a short
backoff (the broker is usually on the LAN, so retrying every few seconds is
cheap) and re-subscribes. Retained discovery/availability messages rebuild
the picture after every reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from typing import TYPE_CHECKING, Any

import aiomqtt

from agent.devices import Action, Command, Device, DeviceState
from agent.errors import CommandTimeout, DeviceUnavailable, UnsupportedCommand
from integrations.mqtt import ha_discovery, tasmota, zigbee2mqtt
from integrations.mqtt.config import MqttConfig

if TYPE_CHECKING:
    from agent.home import Home
    from agent.runtime import Runtime

log = logging.getLogger(__name__)
MAX_BACKOFF = 4.0
NODELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
REMIND_AFTER = 300.0  # seconds between repeated 'still unreachable' warnings


class MqttIntegration:
    """Devices on an MQTT broker, kept live by its messages."""

    name = "mqtt"

    def __init__(self, config: MqttConfig, rt: Runtime | None = None) -> None:
        self.config = config
        self.rt = rt
        self.home: Home | None = None
        self.client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self.z2m: dict[str, tuple[zigbee2mqtt.Z2mDevice, str]] = {}  # friendly name → meta, id
        self.z2m_online = True
        self.ha: dict[str, ha_discovery.HaEntity] = {}
        self.ha_topics: dict[str, set[str]] = {}
        self.tasmota: dict[str, list[tasmota.TasmotaRelay]] = {}
        self.availability: dict[str, bool] = {}
        self._waiters: dict[str, list[tuple[Command, asyncio.Future[None]]]] = {}
        self._last_warning: tuple[str, float] = ("", 0.0)

    # -- lifecycle -------------------------------------------------------------

    async def run(self, home: Home) -> None:
        """Stay connected to the broker, forever."""
        self.home = home
        delay = 0.25
        while True:
            try:
                async with aiomqtt.Client(
                    hostname=self.config.host,
                    port=self.config.port,
                    username=self.config.username,
                    password=self.config.password,
                    identifier=self.config.client_id,
                    keepalive=15,
                    # Small messages both ways: without NODELAY, Nagle and delayed ACKs
                    # add ~40 ms to every command confirmation.
                    socket_options=NODELAY,
                    timeout=5,
                ) as client:
                    self.client = client
                    # zigbee2mqtt devices count as reachable once the bridge says it is online
                    # (retained, so it arrives at once when the bridge is up).
                    self.z2m_online = False
                    await self._subscribe(client)
                    self.connected.set()
                    delay = 0.25
                    self._status("running", f"connected to {self.config.host}:{self.config.port}")
                    log.info("mqtt connected to %s:%s", self.config.host, self.config.port)
                    self._last_warning = ("", 0.0)
                    self._restore_availability()
                    await self._refresh_z2m(client)
                    async for message in client.messages:
                        await self._dispatch(str(message.topic), _bytes(message.payload))
            except aiomqtt.MqttError as err:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # aiomqtt turns a cancellation mid-disconnect into MqttError.
                    raise asyncio.CancelledError from err
                reason = str(err) or type(err).__name__
            finally:
                self.client = None
                self.connected.clear()
            home.set_available(self.name, False)
            self._fail_waiters()
            self._status("retrying", f"broker unreachable ({reason}); retrying")
            self._log_unreachable(reason)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    def _log_unreachable(self, reason: str) -> None:
        """Warn when the broker goes away or the reason changes, then every few minutes only."""
        now = time.monotonic()
        if reason != self._last_warning[0] or now - self._last_warning[1] > REMIND_AFTER:
            log.warning(
                "mqtt broker %s:%s unreachable: %s (retrying every few seconds)",
                self.config.host,
                self.config.port,
                reason,
            )
            self._last_warning = (reason, now)

    async def stop(self) -> None:
        """Nothing to close beyond the connection the run loop owns."""
        self._fail_waiters()

    def _status(self, status: str, detail: str) -> None:
        if self.rt is not None:
            self.rt.supervisor.set_status(f"integration:{self.name}", status, detail)

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        topics = []
        if self.config.zigbee2mqtt_topic:
            topics.append(f"{self.config.zigbee2mqtt_topic}/#")
        if self.config.discovery_prefix:
            prefix = self.config.discovery_prefix
            topics += [f"{prefix}/+/+/config", f"{prefix}/+/+/+/config"]
        if self.config.tasmota:
            topics += ["tasmota/discovery/+/config", "stat/+/+", "tele/+/LWT", "tele/+/STATE"]
        topics += list(self.ha_topics)
        for topic in topics:
            await client.subscribe(topic, qos=1)

    # -- inbound -----------------------------------------------------------------

    async def _dispatch(self, topic: str, payload: bytes) -> None:
        try:
            await self._route(topic, payload)
        except (ValueError, KeyError, TypeError) as err:
            # A malformed message from one device must not drop the connection.
            log.warning("mqtt: ignoring malformed message on %s: %s", topic, err)

    async def _route(self, topic: str, payload: bytes) -> None:
        base = self.config.zigbee2mqtt_topic
        prefix = self.config.discovery_prefix
        if base and topic.startswith(base + "/"):
            await self._z2m_message(topic[len(base) + 1 :], payload)
        elif prefix and topic.startswith(prefix + "/") and topic.endswith("/config"):
            await self._ha_config(topic[len(prefix) + 1 :], payload)
        elif topic.startswith("tasmota/discovery/"):
            await self._tasmota_config(payload)
        elif topic.startswith(("stat/", "tele/")):
            self._tasmota_message(topic, payload)
        if topic in self.ha_topics:
            self._ha_state(topic, payload)

    async def _z2m_message(self, sub: str, payload: bytes) -> None:
        assert self.home is not None
        if sub == "bridge/devices":
            await self._z2m_devices(json.loads(payload or b"[]"))
        elif sub == "bridge/state":
            self.z2m_online = _availability(payload) is not False
            for _meta, device_id in self.z2m.values():
                self.home.update(
                    device_id, available=self.z2m_online and self.availability.get(device_id, True)
                )
        elif sub.startswith("bridge/"):
            return
        elif sub.endswith("/availability"):
            entry = self.z2m.get(sub.removesuffix("/availability"))
            online = _availability(payload)
            if entry is not None and online is not None:
                self.availability[entry[1]] = online
                self.home.update(entry[1], available=online and self.z2m_online)
        elif sub in self.z2m and payload:
            meta, device_id = self.z2m[sub]
            data = json.loads(payload)
            if not isinstance(data, dict):
                return
            device = self.home.find(device_id)
            if device is None:
                return
            state = zigbee2mqtt.parse_state(meta, data, device.state)
            self.home.update(device_id, state, available=self.availability.get(device_id, True))
            self._wake(device_id)

    async def _z2m_devices(self, entries: list[dict[str, Any]]) -> None:
        assert self.home is not None
        seen: dict[str, tuple[zigbee2mqtt.Z2mDevice, str]] = {}
        for entry in entries:
            meta = zigbee2mqtt.describe(entry)
            if meta is None:
                continue
            device = zigbee2mqtt.to_device(entry, meta)
            seen[meta.friendly_name] = (meta, device.id)
            existing = self.home.find(device.id)
            if existing is None or (
                existing.name != device.name and device.id not in self.home.overrides
            ):
                self.home.add(device)
        for name, (_meta, device_id) in self.z2m.items():
            if name not in seen and device_id not in {i for _, i in seen.values()}:
                self.home.remove(device_id)
        new = [n for n in seen if n not in self.z2m]
        self.z2m = seen
        if self.client is not None:
            for name in new:
                await self._z2m_get(self.client, name)

    async def _refresh_z2m(self, client: aiomqtt.Client) -> None:
        for name in self.z2m:
            await self._z2m_get(client, name)

    async def _z2m_get(self, client: aiomqtt.Client, name: str) -> None:
        """Ask zigbee2mqtt to publish a device's current state."""
        await client.publish(
            f"{self.config.zigbee2mqtt_topic}/{name}/get", json.dumps({"state": ""})
        )

    async def _ha_config(self, suffix: str, payload: bytes) -> None:
        assert self.home is not None
        entity = ha_discovery.parse(suffix, payload)
        if entity is None:
            if not payload:  # an empty retained config removes the entity
                for device_id, known in list(self.ha.items()):
                    if suffix.startswith(f"{known.component}/") and suffix.endswith(
                        f"{known.unique_id}/config"
                    ):
                        self.ha.pop(device_id)
                        self.home.remove(device_id)
            return
        self.ha[entity.device.id] = entity
        if self.home.find(entity.device.id) is None:
            self.home.add(entity.device)
        topics = list(entity.state_topics)
        avail = entity.get("availability_topic")
        if avail:
            topics.append(avail)
        for topic in topics:
            if topic not in self.ha_topics and self.client is not None:
                await self.client.subscribe(topic, qos=1)
            self.ha_topics.setdefault(topic, set()).add(entity.device.id)

    def _ha_state(self, topic: str, payload: bytes) -> None:
        assert self.home is not None
        for device_id in self.ha_topics.get(topic, ()):
            entity = self.ha.get(device_id)
            device = self.home.find(device_id)
            if entity is None or device is None:
                continue
            if topic == entity.get("availability_topic"):
                online = payload.decode(errors="replace") == entity.get(
                    "payload_available", "online"
                )
                self.availability[device_id] = online
                self.home.update(device_id, available=online)
                continue
            state = ha_discovery.parse_state(entity, topic, payload, device.state)
            self.home.update(device_id, state, available=self.availability.get(device_id, True))
            self._wake(device_id)

    async def _tasmota_config(self, payload: bytes) -> None:
        assert self.home is not None
        relays = tasmota.parse_discovery(payload)
        if relays:
            self.tasmota[relays[0].topic] = relays
            for relay in relays:
                if self.home.find(relay.device.id) is None:
                    self.home.add(relay.device)
                if self.client is not None:
                    # An empty POWER command makes Tasmota report the relay's state.
                    await self.client.publish(f"cmnd/{relay.topic}/{relay.power}", b"")

    def _tasmota_message(self, topic: str, payload: bytes) -> None:
        assert self.home is not None
        kind, _, rest = topic.partition("/")
        device_topic, _, leaf = rest.rpartition("/")
        relays = self.tasmota.get(device_topic)
        if not relays:
            return
        text = payload.decode(errors="replace")
        if kind == "tele" and leaf == "LWT":
            online = text == "Online"
            for relay in relays:
                self.availability[relay.device.id] = online
                self.home.update(relay.device.id, available=online)
            return
        values: dict[str, str] = {}
        if kind == "stat" and leaf.startswith("POWER"):
            values[leaf] = text
        elif (kind == "tele" and leaf == "STATE") or (kind == "stat" and leaf == "RESULT"):
            data = json.loads(text)
            values = (
                {k: v for k, v in data.items() if k.startswith("POWER")}
                if isinstance(data, dict)
                else {}
            )
        for relay in relays:
            if relay.power in values:
                self.home.update(relay.device.id, on=values[relay.power] == "ON", available=True)
                self._wake(relay.device.id)

    def _restore_availability(self) -> None:
        """Devices without an explicit offline report are reachable again."""
        assert self.home is not None
        z2m_ids = {device_id for _meta, device_id in self.z2m.values()}
        for device in self.home.devices(integration=self.name):
            bridge_up = self.z2m_online or device.id not in z2m_ids
            self.home.update(
                device.id, available=bridge_up and self.availability.get(device.id, True)
            )

    # -- commands --------------------------------------------------------------------

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Publish the command and wait until the device reports its new state."""
        client = self.client
        if client is None:
            raise DeviceUnavailable(f"{device.name}: the MQTT broker is not reachable.")
        messages = self._messages_for(device, command)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (command, waiter)
        self._waiters.setdefault(device.id, []).append(entry)
        try:
            for topic, payload in messages:
                await client.publish(topic, payload, qos=1)
            async with asyncio.timeout(self.config.command_timeout):
                await waiter
        except aiomqtt.MqttError as err:
            raise DeviceUnavailable(f"{device.name}: MQTT publish failed ({err}).") from None
        except TimeoutError:
            raise CommandTimeout(f"{device.name} did not confirm the change.") from None
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.get(device.id, []).remove(entry)
        return None

    def _messages_for(self, device: Device, command: Command) -> list[tuple[str, str]]:
        try:
            for name, (meta, device_id) in self.z2m.items():
                if device_id == device.id:
                    topic = f"{self.config.zigbee2mqtt_topic}/{name}/set"
                    return [(topic, json.dumps(zigbee2mqtt.set_payload(meta, command)))]
            if device.id in self.ha:
                return ha_discovery.command_messages(self.ha[device.id], command)
            for relays in self.tasmota.values():
                for relay in relays:
                    if relay.device.id == device.id and command.action in (
                        Action.TURN_ON,
                        Action.TURN_OFF,
                        Action.TOGGLE,
                    ):
                        word = {"turn_on": "ON", "turn_off": "OFF", "toggle": "TOGGLE"}
                        return [(f"cmnd/{relay.topic}/{relay.power}", word[command.action.value])]
        except (KeyError, ValueError) as err:
            raise UnsupportedCommand(f"{device.name} can't do that ({err}).") from None
        raise UnsupportedCommand(f"{device.name} can't {command.action.value.replace('_', ' ')}.")

    def _wake(self, device_id: str) -> None:
        """Resolve the commands this device's latest state confirms."""
        device = self.home.find(device_id) if self.home else None
        if device is None:
            return
        for command, waiter in self._waiters.get(device_id, []):
            if not waiter.done() and device.state.satisfies(command):
                waiter.set_result(None)

    def _fail_waiters(self) -> None:
        for waiters in self._waiters.values():
            for _command, waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(DeviceUnavailable("the MQTT broker went away"))
        self._waiters.clear()


def _bytes(payload: Any) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


def _availability(payload: bytes) -> bool | None:
    """zigbee2mqtt availability: `{"state": "online"}` or the legacy bare word."""
    text = payload.decode(errors="replace").strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("state", ""))
        except (ValueError, AttributeError):
            return None
    return {"online": True, "offline": False}.get(text.lower())


def create(config: MqttConfig, rt: Runtime) -> MqttIntegration:
    """Build the integration from its config section."""
    return MqttIntegration(config, rt)
