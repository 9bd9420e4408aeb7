"""Shelly Gen2+: aioshelly's RpcDevice drives the device fake over its websocket on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from agent.bus import Bus
from agent.devices import Action, Command, Feature, Kind
from agent.errors import AuthenticationFailed, DeviceUnavailable, UnsupportedCommand
from agent.home import Home
from integrations.discovery_scan import DiscoveredDevice
from integrations.shelly.adapter import ShellyIntegration, create, split_host
from integrations.shelly.config import ShellyConfig
from integrations.shelly.simulator import ShellySimulator, demo_dimmer, demo_plug
from tests.util import eventually

pytestmark = pytest.mark.timeout(30)

PLUG = "shelly:a0b1c2d3e4f5:switch:0"
DIMMER = "shelly:b0c1d2e3f405:light:0"


@pytest.fixture
async def plug() -> AsyncIterator[ShellySimulator]:
    sim = demo_plug("127.0.0.1")
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def running(
    *sims: ShellySimulator, **settings: Any
) -> tuple[Home, ShellyIntegration, asyncio.Task[None]]:
    config = ShellyConfig.model_validate(
        {
            "hosts": [{"host": sim.address, "area": "Kitchen"} for sim in sims],
            "retry_initial": 0.1,
            "retry_max": 0.3,
            **settings,
        }
    )
    home = Home(bus=Bus())
    shelly = create(config)
    home.integrations["shelly"] = shelly
    task = asyncio.create_task(shelly.run(home))
    await eventually(lambda: all(link.connected for link in shelly.links), timeout=10)
    return home, shelly, task


async def shutdown(shelly: ShellyIntegration, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await shelly.stop()


def test_host_and_port_are_split() -> None:
    assert split_host("127.0.0.5:8080") == ("127.0.0.5", 8080)
    assert split_host("shelly-plug.local") == ("shelly-plug.local", 80)


async def test_plug_becomes_a_metered_switch(plug: ShellySimulator) -> None:
    home, shelly, task = await running(plug)
    try:
        device = home.get(PLUG)
        assert (device.name, device.area, device.kind) == ("Coffee machine", "kitchen", Kind.SWITCH)
        assert device.features == {Feature.ON_OFF}
        assert device.state.on is False and device.state.power_w == 0.0
        assert home.resolve("coffee machine").devices[0].id == PLUG
    finally:
        await shutdown(shelly, task)


async def test_commands_change_the_plug(plug: ShellySimulator) -> None:
    home, shelly, task = await running(plug)
    try:
        device = await home.execute(PLUG, Command(action=Action.TURN_ON), requested_by="test")
        assert plug.status["switch:0"]["output"] is True
        assert device.state.on and device.state.power_w == 1200.0
        device = await home.execute(PLUG, Command(action=Action.TOGGLE), requested_by="test")
        assert plug.status["switch:0"]["output"] is False and device.state.on is False
        with pytest.raises(UnsupportedCommand):
            await home.execute(
                PLUG, Command(action=Action.SET_BRIGHTNESS, brightness=10), requested_by="t"
            )
    finally:
        await shutdown(shelly, task)


async def test_dimmer_brightness(plug: ShellySimulator) -> None:
    dimmer = demo_dimmer("127.0.0.1")
    await dimmer.start()
    try:
        home, shelly, task = await running(plug, dimmer)
        try:
            device = home.get(DIMMER)
            assert device.kind == Kind.LIGHT and Feature.BRIGHTNESS in device.features
            device = await home.execute(
                DIMMER, Command(action=Action.SET_BRIGHTNESS, brightness=35), requested_by="t"
            )
            assert (
                dimmer.status["light:0"] | {"output": True, "brightness": 35}
                == dimmer.status["light:0"]
            )
            assert device.state.on and device.state.brightness == 35
            device = await home.execute(
                DIMMER, Command(action=Action.SET_BRIGHTNESS, brightness=0), requested_by="t"
            )
            assert dimmer.status["light:0"]["output"] is False and not device.state.on
        finally:
            await shutdown(shelly, task)
    finally:
        await dimmer.stop()


async def test_changes_at_the_device_are_pushed(plug: ShellySimulator) -> None:
    home, shelly, task = await running(plug)
    try:
        await plug.press_button()
        await eventually(lambda: home.get(PLUG).state.on is True)
        await plug.set_load(0, 35.5)  # the machine stops heating and idles
        await eventually(lambda: home.get(PLUG).state.power_w == 35.5)
    finally:
        await shutdown(shelly, task)


async def test_killed_device_is_unavailable_then_recovers(plug: ShellySimulator) -> None:
    home, shelly, task = await running(plug)
    try:
        await plug.stop()
        await eventually(lambda: not home.get(PLUG).available)
        with pytest.raises(DeviceUnavailable):
            await home.execute(PLUG, Command(action=Action.TURN_ON), requested_by="test")
        await plug.press_button()  # changed while we could not see it
        await plug.start()
        await eventually(lambda: home.get(PLUG).available and home.get(PLUG).state.on, timeout=10)
        await home.execute(PLUG, Command(action=Action.TURN_OFF), requested_by="test")
        assert plug.status["switch:0"]["output"] is False
    finally:
        await shutdown(shelly, task)


async def test_ip_change_keeps_the_device(plug: ShellySimulator) -> None:
    home, shelly, task = await running(plug)
    moved = demo_plug("127.0.0.1")  # same MAC, another port
    try:
        await plug.stop()
        await moved.start()
        await eventually(lambda: not home.get(PLUG).available)
        found = DiscoveredDevice(
            "shelly", "shellyplugus-a0b1c2d3e4f5", "127.0.0.1", moved.port, "a0b1c2d3e4f5"
        )
        assert await shelly.discovered(found, add=False)
        await eventually(lambda: home.get(PLUG).available, timeout=10)
        device = home.get(PLUG)
        assert (device.info["host"], device.name, device.area) == (
            moved.address,
            "Coffee machine",
            "kitchen",
        )
    finally:
        await shutdown(shelly, task)
        await moved.stop()


async def test_http_rpc_endpoints(plug: ShellySimulator) -> None:
    base = f"http://{plug.address}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        async with http.get(f"{base}/rpc/Switch.Set?id=0&on=true") as resp:
            assert await resp.json() == {"was_on": False}
        body = {"id": 7, "method": "Switch.GetStatus", "params": {"id": 0}}
        async with http.post(f"{base}/rpc", json=body) as resp:
            reply = await resp.json()
        assert reply["id"] == 7 and reply["result"]["output"] is True
        async with http.post(f"{base}/rpc", json={"id": 8, "method": "Nope.Nope"}) as resp:
            assert (await resp.json())["error"]["code"] == 404
        async with http.get(f"{base}/shelly") as resp:
            assert (await resp.json())["gen"] == 2


@pytest.mark.parametrize(("password", "works"), [("s3cret", True), ("wrong", False), (None, False)])
async def test_password_protected_device(password: str | None, works: bool) -> None:
    locked = demo_plug("127.0.0.1")
    locked.password = "s3cret"
    await locked.start()
    spec: dict[str, Any] = {"host": locked.address, "password": password}
    link = create(ShellyConfig.model_validate({"hosts": [spec]})).links[0]
    home = Home(bus=Bus())
    try:
        async with aiohttp.ClientSession() as session:
            runner = asyncio.create_task(link.run(session, home))
            if not works:
                with pytest.raises(AuthenticationFailed):
                    await asyncio.wait_for(runner, 5)
                return
            await eventually(lambda: home.find(PLUG), timeout=5)
            state = await link.execute(home, home.get(PLUG), Command(action=Action.TURN_ON))
            assert state.on and locked.status["switch:0"]["output"] is True
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    finally:
        await locked.stop()
