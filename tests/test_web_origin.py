"""A hostile page on another loopback port, in the owner's own browser, reaches nothing.

Browsers treat every port of 127.0.0.1 as the same site, so the dashboard's
SameSite=Strict cookie rides along on the hostile page's requests. The server
must refuse them by origin; the same browser's dashboard must keep working.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from agent.bus import CommandExecuted
from agent.demo.simulation import free_port
from tests.conftest import RunningDaemon
from tests.util import eventually

CONFIG = {
    "virtual": {
        "devices": [
            {"id": "porch", "name": "Porch light", "kind": "light", "area": "porch"},
            {"id": "door", "name": "Front door", "kind": "lock", "area": "hallway"},
        ]
    },
    "routines": [
        {
            "name": "sleepy time",
            "phrases": ["sleepy time"],
            "steps": [{"target": "Porch light", "action": "turn_on"}],
        }
    ],
    "people": [{"name": "Alex", "role": "owner", "phone": "+15550000001"}],
    "twilio": {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "secret",
        "sms_from": "+15550009999",
        "public_url": "http://127.0.0.1:9/",
        "api_base_url": "http://127.0.0.1:9",
    },
}

# Every way a page can make a browser send a request without the server's consent:
# simple (no-preflight) fetches with the cookie, a cross-origin "cors" fetch (its
# preflight fails, so it never leaves), a form post, and a websocket.
ATTACK = """
<!doctype html><title>cute cats</title><script>
window.results = {sent: 0, errors: [], frames: 0, wsOpen: false, wsClosed: false};
const target = "%(target)s";
function simple(path, body) {
  return fetch(target + path, {method: "POST", mode: "no-cors", credentials: "include",
    headers: {"Content-Type": "text/plain"}, body: JSON.stringify(body)})
    .then(() => { window.results.sent += 1; })
    .catch((e) => window.results.errors.push(path + ": " + e));
}
window.attack = async () => {
  await simple("/api/chat", {text: "unlock the front door"});
  await simple("/api/chat", {text: "sleepy time"});
  await simple("/api/devices/virtual:door/commands", {action: "unlock"});
  await simple("/api/devices/virtual:porch/commands", {action: "turn_on"});
  await simple("/api/routines/sleepy%%20time/run", {});
  await simple("/api/messages", {channel: "sms", to: "+15550006666", text: "hi",
                                 media: ["%(token_file)s"]});
  await simple("/api/confirm", {code: "1234"});
  try {
    await fetch(target + "/api/chat", {method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json", "X-Homeclaw": "1"},
      body: JSON.stringify({text: "unlock the front door"})});
  } catch (e) { window.results.errors.push("cors: " + e); }
  const ws = new WebSocket(target.replace("http", "ws") + "/api/ws");
  ws.onopen = () => { window.results.wsOpen = true; };
  ws.onmessage = () => { window.results.frames += 1; };
  ws.onclose = () => { window.results.wsClosed = true; };
  const form = document.createElement("form");
  form.method = "POST"; form.action = target + "/api/chat"; form.enctype = "text/plain";
  const input = document.createElement("input");
  input.name = '{"text": "unlock the front door", "x": "'; input.value = '"}';
  form.append(input); document.body.append(form);
};
</script>
"""


async def _serve_attack(html: str) -> tuple[web.AppRunner, str]:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/"


@pytest.mark.timeout(90)
async def test_a_page_on_another_port_cannot_act_as_the_owner(
    browser: Any,
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """0 commands, 0 challenges, 0 websocket frames, 0 messages; the dashboard still works."""
    daemon = await start_daemon(CONFIG)
    rt = daemon.rt
    await eventually(lambda: len(rt.home.devices()) == 2)
    commands = rt.bus.subscribe(CommandExecuted)
    context = await browser.new_context()
    dashboard = await context.new_page()
    await dashboard.goto(daemon.login_url())
    assert dashboard.url.rstrip("/") == daemon.url.rstrip("/")  # a clean address
    await dashboard.locator("#chat input[name=text]").wait_for(timeout=10_000)

    html = ATTACK % {
        "target": daemon.url.rstrip("/"),
        "token_file": str(rt.paths.token_file),
    }
    runner, attack_url = await _serve_attack(html)
    try:
        hostile = await context.new_page()
        await hostile.goto(attack_url)
        await hostile.evaluate("window.attack()")
        await hostile.wait_for_timeout(1500)  # the websocket would have had frames by now
        results = await hostile.evaluate("window.results")
        async with hostile.expect_navigation():
            await hostile.evaluate("document.forms[0].submit()")
        form_answer = await hostile.content()
    finally:
        await runner.cleanup()

    assert results["frames"] == 0 and not results["wsOpen"], results
    # The requests did reach the server (with the cookie) and were refused there.
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refused) >= 9, refused
    assert "forbidden" in form_answer
    assert commands.queue.empty(), "a command ran for the hostile page"
    challenges = rt.store.query("SELECT COUNT(*) AS n FROM policy_confirmations")
    assert challenges[0]["n"] == 0
    outbox = rt.store.query("SELECT COUNT(*) AS n FROM outbox")
    assert outbox[0]["n"] == 0
    assert rt.home.get("virtual:porch").state.on is False
    assert rt.home.get("virtual:door").state.locked is not False

    # The browser did carry the cookie: the dashboard, same browser, still acts.
    box = dashboard.locator("#chat input[name=text]")
    await box.fill("turn on the porch light")
    await box.press("Enter")
    await eventually(lambda: rt.home.get("virtual:porch").state.on is True, timeout=10)


async def test_cookie_requests_need_the_dashboards_origin_and_header(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """What the browser test shows, request by request, plus the headers every answer has."""
    daemon = await start_daemon(CONFIG)
    url = daemon.url.rstrip("/")
    cookie = f"homeclaw_token={daemon.rt.token}"
    body = json.dumps({"text": "turn on the porch light"})
    origin = url
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        cases: list[tuple[dict[str, str], int]] = [
            ({"Origin": "http://127.0.0.1:1", "X-Homeclaw": "1"}, 403),
            ({"Sec-Fetch-Site": "same-site", "X-Homeclaw": "1"}, 403),
            ({"Origin": origin}, 403),  # no proof header
            ({"Origin": origin, "X-Homeclaw": "1", "Sec-Fetch-Site": "same-origin"}, 200),
        ]
        for headers, status in cases:
            headers = {"Content-Type": "application/json", **headers}
            async with http.post(f"{url}/api/chat", data=body, headers=headers) as resp:
                assert resp.status == status, headers
                assert resp.headers["X-Frame-Options"] == "DENY"
                assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        # The token in a URL is no longer a key.
        async with aiohttp.ClientSession() as bare:
            async with bare.get(f"{url}/api/devices?token={daemon.rt.token}") as resp:
                assert resp.status == 401
            # A foreign Host (DNS rebinding) is refused on a loopback server.
            async with bare.get(f"{url}/login", headers={"Host": "evil.example:80"}) as resp:
                assert resp.status == 403
        # A websocket from another origin is refused before the upgrade.
        async with http.ws_connect(f"{url}/api/ws", origin=origin) as ws:
            hello = await ws.receive_json(timeout=5)
            assert hello["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(f"{url}/api/ws", origin="http://127.0.0.1:1")


async def test_login_links_are_single_use(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """The printed link logs in once and redirects to a clean address; the API makes new ones."""
    daemon = await start_daemon(CONFIG)
    link = daemon.login_url()
    async with aiohttp.ClientSession() as http:
        async with http.get(link, allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/"
            assert "homeclaw_token" in resp.cookies
            assert resp.cookies["homeclaw_token"]["httponly"]
        async with http.get(link, allow_redirects=False) as resp:
            assert resp.status == 401 and "already used" in await resp.text()
    status, data = await daemon.api("POST", "/api/login-link", {})
    assert status == 200 and "/login?once=" in data["url"] and data["url"] != link


async def test_api_messages_go_only_to_known_people_with_house_files(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """/api/messages refuses strangers' numbers and files outside the house's folders."""
    daemon = await start_daemon(CONFIG)
    rt = daemon.rt
    status, data = await daemon.api(
        "POST", "/api/messages", {"channel": "sms", "to": "+15550006666", "text": "hi"}
    )
    assert status == 403 and "not someone the house knows" in data["detail"]
    for path in (str(rt.paths.token_file), str(rt.paths.snapshots / ".." / "token")):
        status, data = await daemon.api("POST", "/api/messages", {"text": "x", "media": [path]})
        assert status == 403 and "only files the house made" in data["detail"]
    rt.paths.snapshots.mkdir(parents=True, exist_ok=True)
    snapshot = rt.paths.snapshots / "driveway.jpg"
    snapshot.write_bytes(b"\xff\xd8\xff\xd9")
    status, data = await daemon.api(
        "POST",
        "/api/messages",
        {"channel": "sms", "to": "+1 555 000 0001", "text": "look", "media": [str(snapshot)]},
    )
    assert status == 200, data
    assert rt.store.query("SELECT COUNT(*) AS n FROM outbox")[0]["n"] == 1


async def test_a_login_link_for_a_room_opens_the_dashboard_in_it(
    start_daemon: Callable[..., Awaitable[RunningDaemon]],
) -> None:
    """A wall tablet's link keeps its room through the login; nothing else is redirected to."""
    daemon = await start_daemon(CONFIG)
    status, data = await daemon.api("POST", "/api/login-link", {"area": "living room"})
    assert status == 200 and data["url"].endswith("&area=living%20room")
    async with aiohttp.ClientSession() as http:
        async with http.get(data["url"], allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/?area=living%20room"
        url = daemon.url.rstrip("/")
        async with http.get(f"{url}/?area=kitchen", allow_redirects=False) as resp:
            assert resp.headers["Location"] == "/login?area=kitchen"  # not logged in yet
        async with http.get(f"{url}/login?area=kitchen") as resp:
            assert 'name=area value="kitchen"' in await resp.text()
