"""What the cameras' routes and tools ask of the vision component (`rt.services["vision"]`).

The component hands itself to `api.add_routes` and `tools.register`; they are typed against
this protocol instead of importing the component back, so imports go one way. mypy checks
the component against it where it hands itself over.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agent.runtime import Runtime
    from vision.config import CameraConfig
    from vision.eventlog import EventLog
    from vision.notify import Preferences
    from vision.watcher import CameraWatcher


class CameraFeed(Protocol):
    """A camera watched by another system (Frigate): its picture and its health."""

    async def photo(self) -> bytes | None:
        """The camera's latest picture as JPEG (None when there is none)."""
        ...

    def health(self) -> dict[str, Any]:
        """Status and counters for the dashboard."""
        ...


class VisionService(Protocol):
    """The cameras of one running daemon: their watchers, events and the owner's preferences."""

    rt: Runtime
    watchers: dict[str, CameraWatcher]
    feeds: dict[str, CameraFeed]  # cameras watched elsewhere (Frigate)
    events: EventLog | None

    def camera(self, name: str) -> CameraConfig:
        """A camera by name (case-insensitive); raise NoSuchDevice."""
        ...

    def camera_list(self) -> list[dict[str, Any]]:
        """Cameras with health and their latest event, for the API and the CLI."""
        ...

    def preferences_for(self, camera: str | None) -> Preferences:
        """The owner's preferences for a camera (its own override the global ones)."""
        ...

    def set_preferences(self, camera: str | None, changes: dict[str, Any]) -> Preferences:
        """Merge changes into the global or one camera's preferences; returns the result."""
        ...

    def set_masks(self, name: str, masks: list[list[tuple[float, float]]]) -> None:
        """Store masks drawn on the dashboard and apply them at once."""
        ...

    def feedback(self, text: str, event_id: str | None = None) -> str:
        """The owner's answer to an alert ("not useful"): hush similar ones; the reply."""
        ...

    def hush_rules(self) -> list[dict[str, Any]]:
        """What the owner asked not to be told about, per camera."""
        ...

    def unhush(self, rule_id: str) -> bool:
        """Forget one hush rule; whether it existed."""
        ...

    async def snapshot(self, name: str) -> Path:
        """A fresh picture from a camera, saved as a JPEG file; raise CameraUnavailable."""
        ...
