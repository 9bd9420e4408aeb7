"""The Home registry: every device, its live state, commands, and name resolution."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from agent.bus import Bus, CommandExecuted, DeviceAdded, DeviceRemoved, StateChanged
from agent.devices import Action, Area, Command, Device, DeviceState, Kind, Risk
from agent.errors import (
    ConfirmationRequired,
    DeviceUnavailable,
    HomeError,
    NoSuchDevice,
    NotAllowed,
    NotConfirmed,
    UnsupportedCommand,
)
from agent.naming import Resolution, resolve
from agent.readback import in_transit, shortfall
from agent.roles import Roles

if TYPE_CHECKING:
    from agent.store import Store

log = logging.getLogger(__name__)


class Driver(Protocol):
    """What Home and the daemon ask of a running integration: its name, act on a device, stop.

    `integrations.base.Integration` is this plus `run(home)`; it is declared here, where it is
    used, so that the core never imports a vendor package (not even its contract).
    """

    name: str

    async def execute(self, device: Device, command: Command) -> DeviceState | None:
        """Act on a device; return its confirmed state, or None if it will arrive by push."""
        ...

    async def stop(self) -> None:
        """Close connections and background work."""
        ...


@dataclass(frozen=True)
class DeviceOverride:
    """The owner's name, area and aliases for a device, keyed by its stable id."""

    name: str | None = None
    area: str | None = None
    aliases: tuple[str, ...] = ()
    hidden: bool = False


@dataclass
class Home:
    """All devices of the home, kept current by integrations and acted on by commands."""

    bus: Bus
    store: Store | None = None
    areas: dict[str, Area] = field(default_factory=dict)
    overrides: dict[str, DeviceOverride] = field(default_factory=dict)
    command_timeout: float = 10.0
    # How long a late state report may take to confirm a command (longer while in transit).
    confirm_window: float = 2.0
    roles: Roles = field(default_factory=Roles)
    _devices: dict[str, Device] = field(default_factory=dict)
    _watchers: dict[str, list[asyncio.Event]] = field(default_factory=dict)
    integrations: dict[str, Driver] = field(default_factory=dict)

    # -- registry ---------------------------------------------------------

    def add(self, device: Device) -> Device:
        """Register (or re-register) a device, applying the owner's overrides."""
        override = self.overrides.get(device.id)
        if override is not None:
            if override.hidden:
                return device
            device = replace(
                device,
                name=override.name or device.name,
                area=override.area or device.area,
                aliases=tuple(dict.fromkeys(device.aliases + override.aliases)),
            )
        if device.area is not None:
            device = replace(device, area=self._area_id(device.area))
        previous = self._devices.get(device.id)
        self._devices[device.id] = device
        self._wake(device.id)
        self._remember(device)
        if previous is None or _identity(previous) != _identity(device):
            # New, or renamed/moved/re-featured: listeners re-read the whole device.
            self.bus.publish(DeviceAdded(device_id=device.id))
        if (
            previous is None
            or previous.state != device.state
            or previous.available != device.available
        ):
            self.bus.publish(
                StateChanged(
                    device_id=device.id,
                    old=previous.state.to_json() if previous else None,
                    new=device.state.to_json(),
                    available=device.available,
                )
            )
        return device

    def remove(self, device_id: str) -> None:
        """Forget a device (it left the home)."""
        if self._devices.pop(device_id, None) is not None:
            self.bus.publish(DeviceRemoved(device_id=device_id))

    def get(self, device_id: str) -> Device:
        """The device with this id, or NoSuchDevice."""
        try:
            return self._devices[device_id]
        except KeyError:
            raise NoSuchDevice(f"There is no device with id {device_id!r}.") from None

    def find(self, device_id: str) -> Device | None:
        """The device with this id, if present."""
        return self._devices.get(device_id)

    def devices(
        self, *, kind: Kind | None = None, area: str | None = None, integration: str | None = None
    ) -> list[Device]:
        """Devices, sorted by area then name, optionally filtered."""
        found = [
            d
            for d in self._devices.values()
            if (kind is None or d.kind == kind)
            and (area is None or d.area == area)
            and (integration is None or d.integration == integration)
        ]
        return sorted(found, key=lambda d: (d.area or "~", d.name.lower(), d.id))

    def update(
        self,
        device_id: str,
        state: DeviceState | None = None,
        *,
        available: bool | None = None,
        **changes: Any,
    ) -> Device | None:
        """Record new state (a whole snapshot or some fields) and availability."""
        device = self._devices.get(device_id)
        if device is None:
            return None
        new_state = state if state is not None else device.state
        if changes:
            new_state = new_state.merged(**changes)
        new_available = device.available if available is None else available
        if new_state == device.state and new_available == device.available:
            return device
        updated = replace(device, state=new_state, available=new_available)
        self._devices[device_id] = updated
        self._wake(device_id)
        self.bus.publish(
            StateChanged(
                device_id=device_id,
                old=device.state.to_json(),
                new=new_state.to_json(),
                available=new_available,
            )
        )
        return updated

    def set_available(self, integration: str, available: bool) -> None:
        """Mark every device of an integration (un)available, e.g. when its hub drops."""
        for device in list(self._devices.values()):
            if device.integration == integration:
                self.update(device.id, available=available)

    # -- names --------------------------------------------------------------

    def resolve(self, text: str, kind: Kind | None = None) -> Resolution:
        """Resolve what a person called some devices ("kitchen lights", "downstairs")."""
        return resolve(text, self.devices(), self.areas, kind)

    def find_area(self, text: str) -> str | None:
        """The id of an area named (id, name or alias, any case), if the home has it."""
        key = text.strip().lower().replace("_", " ")
        for area_id, info in self.areas.items():
            names = (
                area_id.replace("_", " "),
                info.name.lower(),
                *(a.lower() for a in info.aliases),
            )
            if key in names:
                return area_id
        used = {d.area for d in self._devices.values() if d.area}
        slug = key.replace(" ", "_")
        return slug if slug in used else None

    def area_name(self, area_id: str | None) -> str:
        """The display name of an area id."""
        if area_id is None:
            return "Unassigned"
        area = self.areas.get(area_id)
        return area.name if area else area_id.replace("_", " ").title()

    def describe(self) -> str:
        """A compact, stable description of the home (names, areas, kinds; no state)."""
        lines: list[str] = []
        by_area: dict[str | None, list[Device]] = {}
        for device in self.devices():
            by_area.setdefault(device.area, []).append(device)
        for area_id in sorted(by_area, key=lambda a: a or "~"):
            area = self.areas.get(area_id) if area_id else None
            floor = f" ({area.floor})" if area and area.floor else ""
            # Kind (and class) once per group, not per device: the prompt grows by
            # little more than the names themselves.
            groups: dict[str, list[str]] = {}
            for d in by_area[area_id]:
                kind = d.kind.value + (f"/{d.device_class}" if d.device_class else "")
                groups.setdefault(kind, []).append(d.name)
            items = "; ".join(
                f"{kind}: {', '.join(names)}" for kind, names in sorted(groups.items())
            )
            lines.append(f"- {self.area_name(area_id)}{floor}: {items}")
        return "\n".join(lines)

    # -- commands -----------------------------------------------------------

    async def execute(
        self,
        device_id: str,
        command: Command,
        *,
        requested_by: str,
        confirmed: bool = False,
        role: str = "owner",
    ) -> Device:
        """Send a command to a device and return it with its confirmed state.

        High-risk commands (unlock, disarm, opening a garage) are refused here
        unless the caller went through the policy's confirmation, and a role
        never reaches a device its role may not (guests and locks): defence in
        depth, whatever path asked. `role` is the role of the person the command
        is done for (a routine run by a guest passes "guest").
        """
        device = self.get(device_id)
        try:
            if not self.roles.may_touch(role, device):
                raise NotAllowed(f"{device.name} isn't available to a {role}.")
            refusal = device.refusal(command)
            if refusal is not None:
                raise UnsupportedCommand(refusal)
            if device.command_risk(command) is Risk.HIGH and not confirmed:
                raise ConfirmationRequired(
                    f"{command.action.value.replace('_', ' ').capitalize()} {device.name} "
                    "needs the owner's confirmation."
                )
            if not device.available:
                raise DeviceUnavailable(f"{device.name} is not reachable right now.")
            integration = self.integrations.get(device.integration)
            if integration is None:
                raise DeviceUnavailable(f"{device.name}'s integration is not running.")
            try:
                async with asyncio.timeout(self.command_timeout):
                    new_state = await integration.execute(device, command)
            except TimeoutError:
                raise DeviceUnavailable(f"{device.name} did not answer in time.") from None
            if new_state is not None:
                self.update(device_id, new_state, available=True)
            confirmed_device = await self._read_back(device_id, command)
        except HomeError as err:
            self._record(device, command, requested_by, error=err)
            raise
        self._record(device, command, requested_by, error=None)
        return confirmed_device

    async def _read_back(self, device_id: str, command: Command) -> Device:
        """The device once its state shows the command; NotConfirmed if it settles elsewhere.

        A late report gets `confirm_window` seconds; a device saying it is on its
        way (locking, buffering) gets up to `command_timeout`.
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        while True:
            device = self.get(device_id)
            if device.state.satisfies(command):
                return device
            limit = self.command_timeout if in_transit(device.state) else self.confirm_window
            left = start + limit - loop.time()
            if left <= 0 or not device.available:
                raise NotConfirmed(shortfall(device, command))
            changed = asyncio.Event()
            self._watchers.setdefault(device_id, []).append(changed)
            try:
                async with asyncio.timeout(left):
                    await changed.wait()
            except TimeoutError:
                pass
            finally:
                watchers = self._watchers.get(device_id, [])
                if changed in watchers:
                    watchers.remove(changed)
                if not watchers:
                    self._watchers.pop(device_id, None)

    def _wake(self, device_id: str) -> None:
        """Tell commands waiting on this device that its state changed."""
        for event in self._watchers.get(device_id, ()):
            event.set()

    async def execute_many(
        self,
        device_ids: Iterable[str],
        command: Command,
        *,
        requested_by: str,
        confirmed: bool = False,
        role: str = "owner",
    ) -> list[tuple[str, Device | HomeError]]:
        """Send one command to several devices concurrently; one result per device."""
        ids = list(device_ids)

        async def one(device_id: str) -> Device | HomeError:
            try:
                return await self.execute(
                    device_id, command, requested_by=requested_by, confirmed=confirmed, role=role
                )
            except HomeError as err:
                return err

        results = await asyncio.gather(*(one(i) for i in ids))
        return list(zip(ids, results, strict=True))

    def _record(
        self, device: Device, command: Command, requested_by: str, error: HomeError | None
    ) -> None:
        if self.store is not None:
            self.store.execute(
                "INSERT INTO command_log(ts, device_id, command, requested_by, ok, error) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    device.id,
                    json.dumps(command.to_json()),
                    requested_by,
                    int(error is None),
                    str(error) if error else None,
                ),
            )
        level = logging.INFO if error is None else logging.WARNING
        log.log(
            level,
            "command %s on %s by %s: %s",
            command.action.value,
            device.id,
            requested_by,
            "ok" if error is None else error,
        )
        self.bus.publish(
            CommandExecuted(
                device_id=device.id,
                command=command.to_json(),
                requested_by=requested_by,
                ok=error is None,
                error=str(error) if error else None,
            )
        )

    def _area_id(self, area: str) -> str:
        """Map an area name or alias to its configured id (or a slug of it)."""
        key = area.strip().lower()
        for area_id, info in self.areas.items():
            if key in (area_id, info.name.lower(), *(a.lower() for a in info.aliases)):
                return area_id
        return key.replace(" ", "_")

    def _remember(self, device: Device) -> None:
        """Keep the device registry row current, so a device keeps its history."""
        if self.store is None:
            return
        now = time.time()
        self.store.execute(
            "INSERT INTO device_registry(id, integration, name, area, kind, host, first_seen, "
            "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "name = excluded.name, area = excluded.area, host = excluded.host, "
            "last_seen = excluded.last_seen",
            (
                device.id,
                device.integration,
                device.name,
                device.area,
                device.kind.value,
                device.info.get("host"),
                now,
                now,
            ),
        )


def _identity(device: Device) -> tuple[object, ...]:
    """What a device is, apart from its state: a change here is a re-registration."""
    return (
        device.name,
        device.area,
        device.aliases,
        device.features,
        device.hvac_modes,
        device.device_class,
    )


__all__ = ["Action", "Area", "Command", "Device", "DeviceOverride", "DeviceState", "Home", "Kind"]
