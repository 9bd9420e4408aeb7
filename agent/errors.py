"""Errors the caller must handle, shared by the home and every integration.

Integrations translate their vendor's exceptions into these at one boundary;
the brain turns them into `{"error": kind, "detail": ...}` tool results and the
owner gets one plain sentence (`str(error)`).
"""

from __future__ import annotations


class HomeError(Exception):
    """Root of every error homeclaw expects and reports."""

    kind = "error"


class NoSuchDevice(HomeError):
    """No device matches the name."""

    kind = "no_such_device"


class AmbiguousTarget(HomeError):
    """Several devices match and the request names one."""

    kind = "ambiguous"

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class UnsupportedCommand(HomeError):
    """The device cannot do that."""

    kind = "unsupported"


class ConfirmationRequired(HomeError):
    """A high-risk command needs the owner's confirmation first."""

    kind = "confirmation_required"


class NotAllowed(HomeError):
    """The sender is not allowed to do that."""

    kind = "not_allowed"


class IntegrationError(HomeError):
    """Root of errors raised by integrations."""

    kind = "integration_error"


class DeviceUnavailable(IntegrationError):
    """The device (or its hub/broker) cannot be reached right now."""

    kind = "unavailable"


class AuthenticationFailed(IntegrationError):
    """The integration's credentials were refused."""

    kind = "auth_failed"


class CommandTimeout(IntegrationError):
    """The device did not confirm the command in time."""

    kind = "timeout"


class NotConfirmed(IntegrationError):
    """The device answered, but its state afterwards is not what was asked (a jammed lock)."""

    kind = "not_confirmed"
