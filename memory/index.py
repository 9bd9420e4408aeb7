"""The SQLite index of the memory files: FTS5 (BM25) over entries and conversation transcripts.

The markdown files are the truth; this index is rebuilt from them
incrementally (per file, by mtime and size, then per entry by id) and can be
thrown away at any time. Transcripts live in the brain's `brain_messages`
table; a shadow FTS table indexes them by rowid as they grow.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from agent.store import Store
from memory.matching import REDACTED, query_terms, redact_calls, redact_text
from memory.store import Document, Entry, MemoryFiles

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE memory_entries (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        section TEXT NOT NULL,
        text TEXT NOT NULL,
        source TEXT NOT NULL,
        date TEXT NOT NULL,
        importance INTEGER NOT NULL,
        file TEXT NOT NULL,
        position INTEGER NOT NULL
    );
    CREATE INDEX memory_entries_file ON memory_entries(file, position);
    CREATE VIRTUAL TABLE memory_fts USING fts5(
        text, content='memory_entries', content_rowid='rowid',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER memory_entries_ai AFTER INSERT ON memory_entries BEGIN
        INSERT INTO memory_fts(rowid, text) VALUES (new.rowid, new.text);
    END;
    CREATE TRIGGER memory_entries_ad AFTER DELETE ON memory_entries BEGIN
        INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END;
    CREATE TRIGGER memory_entries_au AFTER UPDATE OF text ON memory_entries BEGIN
        INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO memory_fts(rowid, text) VALUES (new.rowid, new.text);
    END;
    CREATE TABLE memory_files (
        name TEXT PRIMARY KEY,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL
    );
    CREATE VIRTUAL TABLE memory_transcripts USING fts5(
        content, conversation UNINDEXED, role UNINDEXED, ts UNINDEXED,
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TABLE memory_vectors (
        hash TEXT NOT NULL,
        model TEXT NOT NULL,
        vec BLOB NOT NULL,
        PRIMARY KEY (hash, model)
    );
    """,
]

_COLUMNS = "e.rowid, e.id, e.kind, e.section, e.text, e.source, e.date, e.importance, e.file"


@dataclass(frozen=True)
class Hit:
    """A ranked search result."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class TranscriptHit:
    """A message from a stored conversation that matches a query."""

    conversation: str
    role: str
    ts: float
    content: str


def text_hash(text: str) -> str:
    """The key under which an entry's embedding is cached."""
    return hashlib.sha1(text.encode()).hexdigest()


def _fts_query(terms: Iterable[str]) -> str:
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"],
        text=row["text"],
        kind=row["kind"],
        source=row["source"],
        date=row["date"],
        section=row["section"],
        importance=row["importance"],
        file=row["file"],
    )


@functools.lru_cache(maxsize=4096)
def _day_start(date: str) -> float:
    try:
        return dt.datetime.fromisoformat(date).timestamp()
    except ValueError:
        return 0.0


def recency(entry: Entry, today: float, note_half_life_days: float) -> float:
    """A ranking factor in (0, 1]: notes fade with age, durable facts barely do."""
    day = _day_start(entry.date)
    if not day:
        return 1.0
    age = max(0.0, (today - day) / 86400)
    if entry.kind == "note":
        return 0.5 + 0.5 * math.pow(0.5, age / note_half_life_days)
    return 0.85 + 0.15 * math.pow(0.5, age / 365)


class MemoryIndex:
    """FTS5 over memory entries (synced from the files) and over conversation transcripts."""

    def __init__(self, store: Store, files: MemoryFiles, *, note_half_life_days: float = 14.0):
        self.store = store
        self.files = files
        self.note_half_life_days = note_half_life_days
        # Bumped on every change, so callers can cache derived views (the context block).
        self.generation = 0
        # Transcripts are synced from worker threads (two recalls in one round): one at a
        # time, or both insert the same rows and the second fails on their rowids.
        self._syncing = threading.Lock()

    def migrate(self) -> None:
        """Create the memory tables (idempotent)."""
        self.store.migrate("memory", MIGRATIONS)

    # -- syncing files -----------------------------------------------------------

    def scan(self) -> list[str]:
        """Re-index every file whose mtime or size changed, and drop vanished ones."""
        changed: list[str] = []
        known = {
            r["name"]: (r["mtime_ns"], r["size"])
            for r in self.store.query("SELECT name, mtime_ns, size FROM memory_files")
        }
        present = set()
        for name in self.files.names():
            present.add(name)
            try:
                stat = (self.files.root / name).stat()
            except FileNotFoundError:
                continue
            if known.get(name) != (stat.st_mtime_ns, stat.st_size):
                self.sync_document(self.files.read(name), (stat.st_mtime_ns, stat.st_size))
                changed.append(name)
        for name in set(known) - present:
            self.sync_document(Document(name, []), None)
            changed.append(name)
        if changed:
            log.info("memory: re-indexed %s", ", ".join(sorted(changed)))
        return changed

    def sync_file(self, name: str) -> None:
        """Re-index one file now (after the house wrote it)."""
        path = self.files.root / name
        try:
            stat = path.stat()
            self.sync_document(self.files.read(name), (stat.st_mtime_ns, stat.st_size))
        except FileNotFoundError:
            self.sync_document(Document(name, []), None)

    def sync_document(self, doc: Document, stamp: tuple[int, int] | None) -> None:
        """Make the index hold exactly this document's entries (diffed by id)."""
        entries = doc.entries()
        with self.store.transaction() as conn:
            existing = {
                r[0]: tuple(r[1:])
                for r in conn.execute(
                    "SELECT id, kind, section, text, source, date, importance, position "
                    "FROM memory_entries WHERE file = ?",
                    (doc.name,),
                )
            }
            wanted = {e.id for e in entries}
            gone = [i for i in existing if i not in wanted]
            conn.executemany("DELETE FROM memory_entries WHERE id = ?", [(i,) for i in gone])
            for position, e in enumerate(entries):
                row = (e.kind, e.section, e.text, e.source, e.date, e.importance, position)
                if existing.get(e.id) == row:
                    continue
                conn.execute(
                    "INSERT INTO memory_entries"
                    "(id, kind, section, text, source, date, importance, file, position) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "kind = excluded.kind, section = excluded.section, text = excluded.text, "
                    "source = excluded.source, date = excluded.date, "
                    "importance = excluded.importance, file = excluded.file, "
                    "position = excluded.position",
                    (
                        e.id,
                        e.kind,
                        e.section,
                        e.text,
                        e.source,
                        e.date,
                        e.importance,
                        doc.name,
                        position,
                    ),
                )
            if stamp is None:
                conn.execute("DELETE FROM memory_files WHERE name = ?", (doc.name,))
            else:
                conn.execute(
                    "INSERT INTO memory_files(name, mtime_ns, size) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET mtime_ns = excluded.mtime_ns, "
                    "size = excluded.size",
                    (doc.name, *stamp),
                )
        self.generation += 1

    # -- reading -----------------------------------------------------------------

    def get(self, entry_id: str) -> Entry | None:
        """One entry by id."""
        row = self.store.one(f"SELECT {_COLUMNS} FROM memory_entries e WHERE e.id = ?", (entry_id,))
        return _entry(row) if row else None

    def entries(self, *, kind: str | None = None, limit: int = 500, offset: int = 0) -> list[Entry]:
        """Entries in file order (durable facts first, then notes newest day first)."""
        where, params = ("WHERE e.kind = ?", [kind]) if kind else ("", [])
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM memory_entries e {where} "
            "ORDER BY e.kind = 'note', CASE WHEN e.kind = 'note' THEN e.file END DESC, "
            "e.file, e.position LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_entry(r) for r in rows]

    def standing(self) -> list[Entry]:
        """Facts under a pinned or owner-profile heading (see Entry.pinned / Entry.profile)."""
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM memory_entries e WHERE e.kind = 'fact' AND ("
            "lower(e.section) LIKE 'pinned%' OR lower(e.section) LIKE 'about%' "
            "OR lower(e.section) LIKE '%profile%') ORDER BY e.position"
        )
        return [_entry(r) for r in rows]

    def count(self) -> dict[str, int]:
        """How many facts and notes are indexed."""
        rows = self.store.query("SELECT kind, COUNT(*) FROM memory_entries GROUP BY kind")
        return {r[0]: r[1] for r in rows}

    def keyword(self, query: str, *, limit: int = 5, candidates: int = 50) -> list[Hit]:
        """BM25 matches for the query's distinctive words, re-ranked by recency and importance."""
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        rows = self.store.query(
            f"SELECT {_COLUMNS}, bm25(memory_fts) AS rank FROM memory_fts "
            "JOIN memory_entries e ON e.rowid = memory_fts.rowid "
            "WHERE memory_fts MATCH ? ORDER BY rank LIMIT ?",
            (_fts_query(terms), max(limit, candidates)),
        )
        if not rows:
            return []
        best = -rows[0]["rank"] or 1.0
        now = time.time()
        hits = []
        for row in rows:
            entry = _entry(row)
            relevance = -row["rank"] / best
            score = relevance * recency(entry, now, self.note_half_life_days)
            score *= 0.94 + 0.02 * entry.importance
            hits.append(Hit(entry, score))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:limit]

    # -- transcripts ---------------------------------------------------------------

    def _has_transcripts(self) -> bool:
        return (
            self.store.one(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'brain_messages'"
            )
            is not None
        )

    def _has_tool_calls(self) -> bool:
        columns = self.store.query("PRAGMA table_info(brain_messages)")
        return any(c["name"] == "tool_calls" for c in columns)

    def sync_transcripts(self, batch: int = 2000) -> int:
        """Index conversation messages added since the last call; returns how many."""
        with self._syncing:
            return self._sync_transcripts(batch)

    def _sync_transcripts(self, batch: int) -> int:
        if not self._has_transcripts():
            return 0
        last = int(self.store.get_json("memory.transcripts_rowid", 0))
        top = self.store.one("SELECT MAX(rowid) FROM brain_messages")
        if top is None or top[0] is None or top[0] < last:
            # The table was emptied or recreated: start again.
            self.store.execute("DELETE FROM memory_transcripts")
            last = 0
        calls = "tool_calls" if self._has_tool_calls() else "NULL"
        rows = self.store.query(
            f"SELECT rowid, conversation, ts, role, content, {calls} AS calls "
            "FROM brain_messages WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, batch),
        )
        if not rows:
            return 0
        # Every role is indexed (so forgetting can find tool calls and summaries);
        # searches show only what was said.
        self.store.executemany(
            "INSERT INTO memory_transcripts(rowid, content, conversation, role, ts) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (
                    r[0],
                    f"{r['content'] or ''}\n{r['calls'] or ''}",
                    r["conversation"],
                    r["role"],
                    r["ts"],
                )
                for r in rows
                if r["content"] or r["calls"]
            ],
        )
        self.store.put_json("memory.transcripts_rowid", rows[-1][0])
        return len(rows)

    def transcripts(
        self, query: str, *, limit: int = 5, conversation: str | None = None
    ) -> list[TranscriptHit]:
        """Stored conversation messages matching the query (current text, redactions honoured)."""
        terms = query_terms(query)
        if not terms or not self._has_transcripts():
            return []
        self.sync_transcripts()
        where = "AND b.conversation = ?" if conversation else ""
        params: list[object] = [_fts_query(terms)]
        if conversation:
            params.append(conversation)
        rows = self.store.query(
            "SELECT b.conversation, b.role, b.ts, b.content FROM memory_transcripts t "
            "JOIN brain_messages b ON b.rowid = t.rowid "
            f"WHERE memory_transcripts MATCH ? {where} AND b.content != ? "
            "AND b.role IN ('user', 'assistant', 'summary') "
            "ORDER BY bm25(memory_transcripts) LIMIT ?",
            [*params, REDACTED, limit],
        )
        return [TranscriptHit(r[0], r[1], float(r[2] or 0), r[3]) for r in rows]

    def redact_transcripts(self, text: str) -> int:
        """Scrub a forgotten fact from stored messages (text, tool calls, summaries)."""
        terms = set(query_terms(text, limit=64))
        if not terms or not self._has_transcripts():
            return 0
        self.sync_transcripts()
        calls = "b.tool_calls" if self._has_tool_calls() else "NULL"
        rows = self.store.query(
            f"SELECT b.rowid, b.content, {calls} AS calls FROM memory_transcripts t "
            "JOIN brain_messages b ON b.rowid = t.rowid WHERE memory_transcripts MATCH ?",
            (_fts_query(terms),),
        )
        changed = 0
        for row in rows:
            content = redact_text(row["content"], [terms]) if row["content"] else None
            tool_calls = redact_calls(row["calls"], [terms]) if row["calls"] else None
            if content is None and tool_calls is None:
                continue
            changed += 1
            if content is not None:
                self.store.execute(
                    "UPDATE brain_messages SET content = ? WHERE rowid = ?", (content, row[0])
                )
            if tool_calls is not None:
                self.store.execute(
                    "UPDATE brain_messages SET tool_calls = ? WHERE rowid = ?",
                    (tool_calls, row[0]),
                )
            self.store.execute("DELETE FROM memory_transcripts WHERE rowid = ?", (row[0],))
        return changed
