"""Guided pairing with a Hue bridge: wait for the link button, return the app key."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable

import aiohttp
from aiohue import create_app_key
from aiohue.errors import AiohueException, LinkButtonNotPressed

from agent.errors import AuthenticationFailed, DeviceUnavailable

log = logging.getLogger(__name__)


async def pair(
    host: str,
    timeout: float = 30,
    *,
    interval: float = 1.0,
    on_waiting: Callable[[float], None] | None = None,
) -> str:
    """Ask the bridge at `host` (ip or ip:port) for an app key until its link button is pressed.

    `on_waiting(seconds_left)` is called after every refused attempt, so a CLI can
    say "press the link button on the bridge… (25 s left)". Raises
    AuthenticationFailed when the button was not pressed in time and
    DeviceUnavailable when nothing answers at `host`.
    """
    device_type = f"homeclaw#{socket.gethostname()[:19]}"
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while True:
            try:
                return await create_app_key(host, device_type, websession=session)
            except LinkButtonNotPressed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AuthenticationFailed(
                        f"The link button on the Hue bridge at {host} was not pressed "
                        f"within {timeout:.0f} s."
                    ) from None
                if on_waiting is not None:
                    on_waiting(left)
                await asyncio.sleep(min(interval, left))
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                raise DeviceUnavailable(f"No Hue bridge answers at {host}.") from err
            except AiohueException as err:
                raise AuthenticationFailed(f"The Hue bridge at {host} refused: {err}") from err
