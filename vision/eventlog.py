"""Camera events in SQLite, keyframes on disk, owner preferences, and retention."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from agent.store import Store
from vision.describe import Description
from vision.events import CameraEvent

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE camera_events (
        id TEXT PRIMARY KEY,
        camera TEXT NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        quiet TEXT,
        facts TEXT NOT NULL DEFAULT '{}',
        keyframes TEXT NOT NULL DEFAULT '[]',
        title TEXT,
        description TEXT,
        labels TEXT NOT NULL DEFAULT '[]',
        notable INTEGER,
        carrier TEXT,
        backend TEXT,
        notified TEXT
    );
    CREATE INDEX camera_events_camera_started ON camera_events(camera, started);
    CREATE TABLE camera_preferences (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated REAL NOT NULL
    );
    """,
]


def slug(name: str) -> str:
    """A file-safe form of a camera name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "camera"


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    """A frame as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the frame as JPEG")
    return bytes(data.tobytes())


class EventLog:
    """Where events, their keyframes and the owner's camera preferences are kept."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        store.migrate("vision", MIGRATIONS)

    # -- events ------------------------------------------------------------------

    def record(self, event: CameraEvent) -> None:
        """Insert or update an event's lifecycle fields."""
        self.store.execute(
            "INSERT INTO camera_events(id, camera, started, ended, quiet, facts) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET ended = excluded.ended, "
            "quiet = excluded.quiet, facts = excluded.facts",
            (
                event.id,
                event.camera,
                event.started,
                event.ended,
                event.quiet,
                json.dumps(event.facts()),
            ),
        )

    def save_keyframes(self, event: CameraEvent, images: list[np.ndarray]) -> list[Path]:
        """Write keyframes as JPEG files and remember their paths."""
        folder = self.folder / slug(event.camera)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, image in enumerate(images):
            path = folder / f"{event.id}-{index}.jpg"
            path.write_bytes(encode_jpeg(image))
            paths.append(path)
        self.store.execute(
            "UPDATE camera_events SET keyframes = ? WHERE id = ?",
            (json.dumps([str(p) for p in paths]), event.id),
        )
        return paths

    def describe(self, event_id: str, description: Description) -> None:
        """Store what the describer said."""
        self.store.execute(
            "UPDATE camera_events SET title = ?, description = ?, labels = ?, notable = ?, "
            "carrier = ?, backend = ? WHERE id = ?",
            (
                description.title,
                description.description,
                json.dumps(list(description.labels)),
                int(description.notable),
                description.carrier,
                description.backend,
                event_id,
            ),
        )

    def mark_notified(self, event_id: str, how: str) -> None:
        """Record whether (and why not) the owner was told."""
        self.store.execute("UPDATE camera_events SET notified = ? WHERE id = ?", (how, event_id))

    def events(
        self, camera: str | None = None, since: float | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Recent events, newest first."""
        sql = "SELECT * FROM camera_events WHERE 1=1"
        params: list[Any] = []
        if camera:
            sql += " AND camera = ?"
            params.append(camera)
        if since is not None:
            sql += " AND started >= ?"
            params.append(since)
        sql += " ORDER BY started DESC LIMIT ?"
        params.append(max(1, min(limit, 500)))
        return [self._row(r) for r in self.store.query(sql, params)]

    def event(self, event_id: str) -> dict[str, Any] | None:
        """One event by id."""
        row = self.store.one("SELECT * FROM camera_events WHERE id = ?", (event_id,))
        return self._row(row) if row else None

    @staticmethod
    def _row(row: Any) -> dict[str, Any]:
        data = dict(row)
        for key in ("facts", "keyframes", "labels"):
            data[key] = json.loads(data[key] or "null")
        data["notable"] = None if data["notable"] is None else bool(data["notable"])
        data["keyframes"] = [Path(p).name for p in data["keyframes"] or []]
        return data

    def keyframe_path(self, event_id: str, index: int) -> Path | None:
        """The file of one keyframe, if it exists."""
        row = self.store.one("SELECT keyframes FROM camera_events WHERE id = ?", (event_id,))
        if row is None:
            return None
        paths = json.loads(row[0] or "[]")
        if not 0 <= index < len(paths):
            return None
        path = Path(paths[index])
        return path if path.is_file() else None

    # -- retention ---------------------------------------------------------------

    def prune(self, max_days: float, max_mb: float, now: float | None = None) -> int:
        """Delete keyframes older than max_days, then the oldest until under max_mb."""
        now = now or time.time()
        files = sorted(self.folder.glob("*/*.jpg"), key=lambda p: p.stat().st_mtime)
        removed = 0
        total = sum(p.stat().st_size for p in files)
        for path in files:
            too_old = now - path.stat().st_mtime > max_days * 86400
            if not too_old and total <= max_mb * 1024 * 1024:
                break
            total -= path.stat().st_size
            path.unlink(missing_ok=True)
            removed += 1
        cutoff = now - max_days * 86400
        self.store.execute("DELETE FROM camera_events WHERE started < ?", (cutoff,))
        if removed:
            log.info("camera retention: removed %d old keyframes", removed)
        return removed

    # -- preferences -------------------------------------------------------------

    def preferences(self) -> dict[str, Any]:
        """The owner's camera preferences (see notify.Preferences)."""
        return {
            r["key"]: json.loads(r["value"])
            for r in self.store.query("SELECT key, value FROM camera_preferences")
        }

    def set_preference(self, key: str, value: Any) -> None:
        """Store one preference (None deletes it)."""
        if value is None:
            self.store.execute("DELETE FROM camera_preferences WHERE key = ?", (key,))
            return
        self.store.execute(
            "INSERT INTO camera_preferences(key, value, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
            (key, json.dumps(value), time.time()),
        )
