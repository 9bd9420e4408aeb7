"""The embedded SQLite store: one file, WAL, and per-component migrations.

Each component (devices, outbox, routines, memory index, ...) owns its tables
and declares its own ordered list of migrations; `Store.migrate` applies the
ones not yet applied, so components evolve independently.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CORE_MIGRATIONS = [
    """
    CREATE TABLE device_registry (
        id TEXT PRIMARY KEY,
        integration TEXT NOT NULL,
        name TEXT NOT NULL,
        area TEXT,
        kind TEXT NOT NULL,
        host TEXT,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    CREATE TABLE command_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        device_id TEXT NOT NULL,
        command TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT
    );
    CREATE INDEX command_log_ts ON command_log(ts);
    CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated REAL NOT NULL
    );
    """,
]


class Store:
    """A thread-safe SQLite connection with WAL and component migrations.

    Queries are small and local, so they run on the caller's thread; the lock
    makes the one connection safe to share with worker threads.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10
        )
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(component TEXT PRIMARY KEY, version INTEGER)"
        )
        self.migrate("core", CORE_MIGRATIONS)

    def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Apply a component's migrations that have not been applied yet, in order."""
        with self._lock:
            row = self.conn.execute(
                "SELECT version FROM schema_version WHERE component = ?", (component,)
            ).fetchone()
            current = row[0] if row else 0
            for version, script in enumerate(migrations[current:], start=current + 1):
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(script):
                        self.conn.execute(statement)
                    self.conn.execute(
                        "INSERT INTO schema_version(component, version) VALUES (?, ?) "
                        "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                        (component, version),
                    )
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement (autocommit) and return its cursor."""
        with self._lock:
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many rows in a single transaction."""
        with self._lock, self.transaction():
            self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Run a query and return all rows."""
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """Run a query and return the first row, if any."""
        with self._lock:
            return self.conn.execute(sql, params).fetchone()

    def transaction(self) -> _Transaction:
        """A context manager wrapping statements in BEGIN IMMEDIATE ... COMMIT."""
        return _Transaction(self)

    def get_json(self, key: str, default: Any = None) -> Any:
        """Read a JSON value from the key-value table."""
        row = self.one("SELECT value FROM kv WHERE key = ?", (key,))
        return json.loads(row[0]) if row else default

    def put_json(self, key: str, value: Any) -> None:
        """Write a JSON value to the key-value table."""
        self.execute(
            "INSERT INTO kv(key, value, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
            (key, json.dumps(value), time.time()),
        )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()


class _Transaction:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        self.store.conn.execute("BEGIN IMMEDIATE")
        return self.store.conn

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self.store.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store._lock.release()


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers included)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip())
            pending = ""
    return statements
