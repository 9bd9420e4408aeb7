"""SoCo's exceptions (and the requests/socket ones beneath it) as `agent.errors`."""

from __future__ import annotations

import requests
from soco.exceptions import SoCoException, SoCoSlaveException, SoCoUPnPException

from agent.errors import CommandTimeout, DeviceUnavailable, HomeError, IntegrationError


def translate(err: Exception, name: str) -> HomeError | None:
    """The error the home reports when talking to speaker `name` raised `err` (None: a bug)."""
    if isinstance(err, TimeoutError | requests.Timeout):
        return CommandTimeout(f"{name} did not answer in time.")
    if isinstance(err, requests.HTTPError):
        return IntegrationError(f"{name} answered with an HTTP error: {err}")
    # requests' errors are OSErrors too: by here only connection trouble is left.
    if isinstance(err, requests.ConnectionError | OSError):
        return DeviceUnavailable(f"{name} is not reachable right now.")
    if isinstance(err, SoCoSlaveException):
        return IntegrationError(f"{name} is grouped; its group leader must do that.")
    if isinstance(err, SoCoUPnPException):
        detail = err.error_description or f"UPnP error {err.error_code}"
        return IntegrationError(f"{name} refused: {detail}.")
    if isinstance(err, SoCoException | requests.RequestException | ValueError | KeyError):
        return IntegrationError(f"{name} answered something unexpected: {err}")
    return None
