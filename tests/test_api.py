"""The HTTP API and the live websocket against a daemon fed by the MQTT simulator."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.conftest import SimulatedHome
from tests.util import eventually


async def test_api_needs_the_token(simulated_home: SimulatedHome) -> None:
    url = simulated_home.daemon.url
    async with aiohttp.ClientSession() as anonymous:
        for path in ("api/devices", "api/health", "api/ws"):
            async with anonymous.get(url + path) as resp:
                assert resp.status == 401, path
        async with anonymous.get(
            url + "api/devices", headers={"Authorization": "Bearer nope"}
        ) as resp:
            assert resp.status == 401
        async with anonymous.get(url, allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/login"


async def test_devices_listing_shape(simulated_home: SimulatedHome) -> None:
    status, data = await simulated_home.daemon.api("GET", "/api/devices")
    assert status == 200
    assert len(data["devices"]) >= 16
    areas = {d["area"] for d in data["devices"]}
    assert {"kitchen", "living_room", "bedroom", "hallway"} <= areas
    for device in data["devices"]:
        assert {"id", "name", "area", "kind", "available", "state"} <= set(device)
    status, health = await simulated_home.daemon.api("GET", "/api/health")
    assert status == 200 and health["tasks"]["integration:mqtt"]["status"] == "running"


async def test_command_changes_the_device_and_the_websocket_sees_it(
    simulated_home: SimulatedHome,
) -> None:
    daemon, sim = simulated_home.daemon, simulated_home.sim
    lamp = simulated_home.device_id("Study lamp")
    async with daemon.http.ws_connect(daemon.url + "api/ws") as ws:
        hello = json.loads((await ws.receive(timeout=5)).data)
        assert hello["type"] == "hello"
        status, device = await daemon.api(
            "POST", f"/api/devices/{lamp}/commands", {"action": "set_brightness", "brightness": 60}
        )
        assert status == 200, device
        assert device["state"]["on"] is True and device["state"]["brightness"] == 60
        assert sim.device("Study lamp").state["state"] == "ON"
        await _until(
            ws,
            lambda m: (
                m.get("type") == "device"
                and m["device"]["id"] == lamp
                and m["device"]["state"].get("brightness") == 60
            ),
        )

        # The reverse: someone presses the hallway light's wall switch.
        hallway = simulated_home.device_id("Hallway light")
        await sim.press("Hallway light", state="ON", brightness=254)
        seen = await _until(
            ws,
            lambda m: (
                m.get("type") == "device"
                and m["device"]["id"] == hallway
                and m["device"]["state"].get("on") is True
            ),
        )
        assert seen["device"]["state"]["brightness"] == 100


async def _until(ws: aiohttp.ClientWebSocketResponse, match: Any, timeout: float = 5) -> Any:
    async def scan() -> Any:
        while True:
            message = json.loads((await ws.receive()).data)
            if match(message):
                return message

    return await asyncio.wait_for(scan(), timeout)


async def test_bad_commands_get_clear_4xx(simulated_home: SimulatedHome) -> None:
    daemon = simulated_home.daemon
    lamp = simulated_home.device_id("Study lamp")
    status, body = await daemon.api("POST", f"/api/devices/{lamp}/commands", {"action": "fly"})
    assert status == 422 and body["error"] == "bad_command"
    status, body = await daemon.api(
        "POST", f"/api/devices/{lamp}/commands", {"action": "set_brightness", "brightness": 300}
    )
    assert status == 422 and "brightness" in body["detail"]
    status, body = await daemon.api("POST", f"/api/devices/{lamp}/commands", {"action": "lock"})
    assert status == 422 and body["error"] == "unsupported"
    status, body = await daemon.api(
        "POST", "/api/devices/mqtt:nope/commands", {"action": "turn_on"}
    )
    assert status == 404
    async with daemon.http.post(
        daemon.url + f"api/devices/{lamp}/commands", data=b"{not json"
    ) as resp:
        assert resp.status == 400


async def test_unlock_from_the_dashboard_needs_confirmation(simulated_home: SimulatedHome) -> None:
    daemon, sim = simulated_home.daemon, simulated_home.sim
    door = simulated_home.device_id("Front door")
    status, body = await daemon.api("POST", f"/api/devices/{door}/commands", {"action": "unlock"})
    assert status == 409 and body["error"] == "confirmation_required"
    assert sim.device("Front door").state["lock_state"] == "locked"
    confirmation = body.get("confirmation")
    if confirmation is None:  # the brain (which owns the policy) is not running
        return
    assert confirmation["code_required"] is True
    status, body = await daemon.api("POST", "/api/confirm", {"code": "0000"})
    assert status >= 400
    assert sim.device("Front door").state["lock_state"] == "locked"
    # The code is never in the answer; with no channel to the owner it is in a 0600 file.
    code = (daemon.rt.paths.root / "confirm-code").read_text().split()[0]
    assert code not in json.dumps(confirmation)
    status, body = await daemon.api("POST", "/api/confirm", {"code": code})
    assert status == 200, body
    await eventually(lambda: sim.device("Front door").state["lock_state"] == "unlocked")
