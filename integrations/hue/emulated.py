"""aiohue's v1 client, made to work with bridges that lack parts of the v1 API.

Home Assistant's emulated_hue (and other emulators) serve the full state at
`/api/<key>` but not at `/api/<key>/`, where aiohue asks for it, and may have
no groups or scenes. Here a 404 on the full state reads config, lights and
groups one by one, and a 404 on an optional resource list is an empty list;
every other error is left as it is (the adapter says what the bridge answered).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from aiohue import HueBridgeV1

log = logging.getLogger(__name__)

OPTIONAL = frozenset({"groups", "scenes", "sensors"})


class TolerantHueBridgeV1(HueBridgeV1):
    """HueBridgeV1 that reads a partial v1 API (emulators) resource by resource."""

    async def request(self, method: str, endpoint: str, json: Any = None) -> Any:
        """aiohue's request, with the two fallbacks described in the module docstring."""
        try:
            return await super().request(method, endpoint, json)
        except aiohttp.ClientResponseError as err:
            if err.status != 404 or method.lower() != "get" or endpoint not in OPTIONAL | {""}:
                raise
        if endpoint:
            return {}
        log.info("hue bridge at %s has no full-state view; reading it resource by resource",
                 self.host)  # fmt: skip
        return {
            "config": await self.request("get", "config"),
            "lights": await self.request("get", "lights"),
            "groups": await self.request("get", "groups"),
        }
