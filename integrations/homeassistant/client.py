"""A small async client for Home Assistant's REST and websocket APIs.

This is the single boundary where aiohttp and HA errors become homeclaw's
(`AuthenticationFailed`, `DeviceUnavailable`, `HomeAssistantError`). A
hand-written client because the PyPI ones either pull in HA itself or lag the
websocket API; the protocol is small (PROTOCOLS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from agent.errors import AuthenticationFailed, DeviceUnavailable, IntegrationError

log = logging.getLogger(__name__)


class HomeAssistantError(IntegrationError):
    """Home Assistant answered a command with an error (code and message)."""

    kind = "homeassistant_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"Home Assistant refused: {message}")
        self.code = code


class Connection:
    """One authenticated websocket session (plus REST calls) to a Home Assistant."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.on_event = on_event
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subscriptions: set[int] = set()
        self._reader: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Whether the websocket is open."""
        return self._ws is not None and not self._ws.closed

    async def rest(self, method: str, path: str, body: Any = None) -> Any:
        """Call the REST API; translate auth and connection errors."""
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self.session.request(
                method,
                f"{self.url}{path}",
                json=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                if resp.status == 401:
                    raise AuthenticationFailed(
                        f"Home Assistant at {self.url} refused the access token (HTTP 401). "
                        "Create a long-lived token in your HA profile and set homeassistant.token."
                    )
                payload = await resp.json(content_type=None)
                if resp.status >= 400:
                    message = payload.get("message") if isinstance(payload, dict) else payload
                    raise HomeAssistantError(str(resp.status), str(message))
                return payload
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise DeviceUnavailable(f"Home Assistant at {self.url} is unreachable: {err}") from None

    async def connect(self) -> None:
        """Open the websocket and authenticate (auth_required → auth → auth_ok)."""
        ws_url = self.url.replace("http", "ws", 1) + "/api/websocket"
        try:
            self._ws = await self.session.ws_connect(
                ws_url,
                timeout=aiohttp.ClientWSTimeout(ws_close=self.timeout),
                heartbeat=30,
                # get_states of a big installation is larger than aiohttp's 4 MiB default.
                max_msg_size=64 * 2**20,
            )
            hello = await self._ws.receive_json(timeout=self.timeout)
            if hello.get("type") != "auth_required":
                raise DeviceUnavailable(f"{ws_url} is not a Home Assistant websocket")
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            reply = await self._ws.receive_json(timeout=self.timeout)
        except (aiohttp.ClientError, TimeoutError, ValueError, TypeError) as err:
            await self.close()
            raise DeviceUnavailable(f"Home Assistant at {self.url} is unreachable: {err}") from None
        if reply.get("type") == "auth_invalid":
            await self.close()
            raise AuthenticationFailed(
                f"Home Assistant at {self.url} refused the access token: "
                f"{reply.get('message', 'auth_invalid')}"
            )
        if reply.get("type") != "auth_ok":
            await self.close()
            raise DeviceUnavailable(f"unexpected auth reply from Home Assistant: {reply}")
        self._reader = asyncio.create_task(self._read(self._ws), name="homeassistant-reader")

    async def command(self, type_: str, **fields: Any) -> Any:
        """Send an id'd websocket command and return its result (or raise)."""
        return await self._call(next(self._ids), type_, fields)

    async def subscribe_events(self, event_type: str) -> None:
        """Receive events of one type (delivered to `on_event`)."""
        msg_id = next(self._ids)
        # Events carry the subscribing command's id: know it before any arrives.
        self._subscriptions.add(msg_id)
        await self._call(msg_id, "subscribe_events", {"event_type": event_type})

    async def _call(self, msg_id: int, type_: str, fields: dict[str, Any]) -> Any:
        if self._ws is None or self._ws.closed:
            raise DeviceUnavailable("Home Assistant is not connected.")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await self._ws.send_json({"id": msg_id, "type": type_, **fields})
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            raise DeviceUnavailable(f"Home Assistant did not answer {type_} in time.") from None
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            raise DeviceUnavailable(f"Home Assistant connection lost: {err}") from None
        finally:
            self._pending.pop(msg_id, None)

    async def wait_closed(self) -> None:
        """Return when the websocket closes."""
        if self._reader is not None:
            # asyncio.wait: the reader's own end is not an error here, but a
            # cancellation of *this* task (daemon shutdown) must propagate.
            await asyncio.wait({self._reader})

    async def close(self) -> None:
        """Close the websocket; pending commands fail as unavailable."""
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self._fail_pending()

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(DeviceUnavailable("Home Assistant connection lost."))
        self._pending.clear()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                try:
                    frame = msg.json()
                except ValueError:
                    log.warning("homeassistant: ignoring a frame that is not JSON")
                    continue
                for item in frame if isinstance(frame, list) else [frame]:
                    self._dispatch(item)
        finally:
            self._fail_pending()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "event":
            if msg.get("id") in self._subscriptions and self.on_event is not None:
                try:
                    self.on_event(msg.get("event") or {})
                except Exception:  # one bad entity must not kill the connection
                    log.exception("homeassistant: event handler failed")
            return
        future = self._pending.get(msg.get("id", -1))
        if future is None or future.done():
            return
        if kind == "pong":
            future.set_result(None)
        elif msg.get("success"):
            future.set_result(msg.get("result"))
        else:
            error = msg.get("error") or {}
            future.set_exception(
                HomeAssistantError(str(error.get("code")), str(error.get("message")))
            )
