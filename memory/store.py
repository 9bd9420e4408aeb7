"""Markdown files are the truth: `MEMORY.md` for durable facts, `YYYY-MM-DD.md` daily notes.

One memory is one bullet; a trailing HTML comment keeps its stable id, date,
source and optional importance, so the files read well in any editor and the
annotation stays invisible when rendered:

    ## About the owner
    - I like the bedroom at 19 degrees. <!-- id:m3f9a2c1d date:2026-11-20 source:owner -->

Bullets the owner types without an annotation get an id derived from their
text (stable until the text changes) and source "owner". Every other line of a
file (headings, prose) is kept verbatim when the house rewrites the file.
Writes are atomic (temporary file + rename) and serialised by a lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

MEMORY_FILE = "MEMORY.md"
DAILY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.md$")

PINNED = "Pinned"
PROFILE = "About the owner"
FACTS = "Facts"
INFERRED = "Inferred (not confirmed by you)"
SECTION_ORDER = (PINNED, PROFILE, FACTS, INFERRED)

# Sources that make a durable fact; everything else is a note.
OWNER_SOURCES = frozenset({"owner", "owner-approved"})
INFERRED_SOURCE = "inferred"
UNVERIFIED_PREFIX = "unverified:"

DEFAULT_IMPORTANCE = 3

MEMORY_HEADER = """# Memory

Durable facts the house keeps about you and your home. Edit, add or delete
lines freely: one fact per bullet. The comment after each bullet keeps its id,
date and source (who said it); the house picks up your edits by itself.

"""

Kind = Literal["fact", "note"]

_ANNOTATION = re.compile(r"\s*<!--(.*?)-->\s*$", re.S)
_BULLET = re.compile(r"^[-*+]\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# What `MemoryFiles._write` names its temporary files: .MEMORY.md.<random>.tmp
_STRAY_COPY = re.compile(r"^\.(MEMORY|\d{4}-\d{2}-\d{2})\.md\..+\.tmp$")


@dataclass(frozen=True)
class Entry:
    """One memory: a durable fact in MEMORY.md or a line of a daily note."""

    id: str
    text: str
    kind: Kind
    source: str
    date: str
    section: str = FACTS
    importance: int = DEFAULT_IMPORTANCE
    file: str = MEMORY_FILE

    @property
    def pinned(self) -> bool:
        """Pinned facts are in every turn's context."""
        return self.kind == "fact" and self.section.lower().startswith("pinned")

    @property
    def profile(self) -> bool:
        """Facts about the owner are in every owner turn's context."""
        lowered = self.section.lower()
        return self.kind == "fact" and (lowered.startswith("about") or "profile" in lowered)

    @property
    def unverified(self) -> bool:
        """Proposed by someone other than the owner; unused until the owner approves it."""
        return self.source.startswith(UNVERIFIED_PREFIX)

    def annotation(self) -> str:
        """The trailing comment that keeps id, date, source and importance."""
        parts = [f"id:{self.id}", f"date:{self.date}", f"source:{self.source}"]
        if self.importance != DEFAULT_IMPORTANCE:
            parts.append(f"importance:{self.importance}")
        return "<!-- " + " ".join(parts) + " -->"

    def to_json(self) -> dict[str, object]:
        """The entry as the API and tools show it."""
        return {
            "id": self.id,
            "text": self.text,
            "kind": self.kind,
            "source": self.source,
            "date": self.date,
            "section": self.section,
            "importance": self.importance,
            "file": self.file,
            "pinned": self.pinned,
            "unverified": self.unverified,
        }


@dataclass
class Document:
    """A parsed memory file: verbatim lines and entries, in file order."""

    name: str
    blocks: list[str | Entry]

    def entries(self) -> list[Entry]:
        """The entries, in file order."""
        return [b for b in self.blocks if isinstance(b, Entry)]

    def find(self, entry_id: str) -> Entry | None:
        """The entry with this id, if present."""
        return next((e for e in self.entries() if e.id == entry_id), None)

    def remove(self, entry_id: str) -> Entry | None:
        """Remove an entry; returns it (or None if absent)."""
        for i, block in enumerate(self.blocks):
            if isinstance(block, Entry) and block.id == entry_id:
                del self.blocks[i]
                return block
        return None

    def replace(self, entry: Entry, *, at: str | None = None) -> bool:
        """Put an entry where the one with its id (or with id `at`) was."""
        target = at or entry.id
        for i, block in enumerate(self.blocks):
            if isinstance(block, Entry) and block.id == target:
                self.blocks[i] = entry
                return True
        return False

    def append(self, entry: Entry) -> None:
        """Add an entry at the end of its section, creating the section heading if needed."""
        wanted = entry.section.lower()
        start = next(
            (
                i
                for i, block in enumerate(self.blocks)
                if isinstance(block, str)
                and (m := _HEADING.match(block))
                and m.group(2).lower() == wanted
            ),
            None,
        )
        if start is None:
            while self.blocks and self.blocks[-1] == "":
                self.blocks.pop()
            self.blocks.extend(["", f"## {entry.section}", "", entry])
            return
        end = _section_end(self.blocks, start)
        # Insert after the last entry of the section (before trailing blank lines).
        insert_at = end
        while insert_at > start + 1 and self.blocks[insert_at - 1] == "":
            insert_at -= 1
        if insert_at == start + 1:
            self.blocks.insert(insert_at, "")
            insert_at += 1
        self.blocks.insert(insert_at, entry)

    def last_heading(self) -> str:
        """The text of the last heading (where a new daily-note line belongs)."""
        for block in reversed(self.blocks):
            if isinstance(block, str) and (match := _HEADING.match(block)):
                return match.group(2)
        return ""

    def render(self) -> str:
        """The file's text."""
        lines = [
            b if isinstance(b, str) else f"- {b.text} {b.annotation()}".rstrip()
            for b in self.blocks
        ]
        text = "\n".join(lines)
        return text if text.endswith("\n") else text + "\n"


def _section_end(blocks: list[str | Entry], start: int) -> int:
    for i in range(start + 1, len(blocks)):
        block = blocks[i]
        if isinstance(block, str) and _HEADING.match(block):
            return i
    return len(blocks)


def clean_heading(section: str) -> str:
    """A section name that stays one heading line."""
    return clean_text(section).lstrip("#").strip()[:80]


def clean_text(text: str) -> str:
    """One line of text that cannot break the file's structure."""
    text = " ".join(text.split())
    return text.replace("<!--", "<!-").replace("-->", "->").strip()


def new_id(kind: Kind) -> str:
    """A fresh random id: m… for facts, n… for notes."""
    return ("m" if kind == "fact" else "n") + secrets.token_hex(4)


def derived_id(kind: Kind, file: str, text: str) -> str:
    """An id for a hand-written bullet without annotation (stable while its text is)."""
    digest = hashlib.sha1(f"{file}\n{text}".encode()).hexdigest()[:8]
    return ("h" if kind == "fact" else "d") + digest


def parse(name: str, text: str, *, default_date: str) -> Document:
    """Parse a memory file into verbatim lines and entries."""
    kind: Kind = "fact" if name == MEMORY_FILE else "note"
    daily = DAILY_FILE.match(name)
    file_date = daily.group(1) if daily else default_date
    blocks: list[str | Entry] = []
    section = FACTS if kind == "fact" else ""
    pending: list[str] | None = None
    in_fence = False
    seen: set[str] = set()

    def flush() -> None:
        nonlocal pending
        if pending is None:
            return
        entry = _entry_from(" ".join(pending), kind, name, section, file_date, seen)
        if entry is not None:
            seen.add(entry.id)
            blocks.append(entry)
        pending = None

    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            flush()
            in_fence = not in_fence
            blocks.append(line)
            continue
        if in_fence:
            blocks.append(line)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            pending = [bullet.group(1)]
            continue
        if pending is not None and line[:1] in (" ", "\t") and line.strip():
            pending.append(line.strip())
            continue
        flush()
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(2)
        blocks.append(line)
    flush()
    return Document(name, blocks)


def _entry_from(
    raw: str, kind: Kind, file: str, section: str, file_date: str, seen: set[str]
) -> Entry | None:
    fields: dict[str, str] = {}
    match = _ANNOTATION.search(raw)
    if match:
        raw = raw[: match.start()]
        for token in match.group(1).split():
            key, sep, value = token.partition(":")
            if sep:
                fields[key.lower()] = value
    text = clean_text(raw)
    if not text:
        return None
    entry_id = fields.get("id", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{3,40}", entry_id) or entry_id in seen:
        entry_id = derived_id(kind, file, text)
        while entry_id in seen:  # the same line twice: keep both, distinctly
            entry_id = derived_id(kind, file, text + entry_id)
    date = fields.get("date", "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        date = file_date
    try:
        importance = min(5, max(1, int(fields.get("importance", DEFAULT_IMPORTANCE))))
    except ValueError:
        importance = DEFAULT_IMPORTANCE
    source = fields.get("source") or "owner"  # a bullet typed by hand is the owner's word
    return Entry(entry_id, text, kind, source, date, section, importance, file)


class MemoryFiles:
    """Reads and atomically rewrites the markdown files of one home's memory folder."""

    def __init__(self, root: Path, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.root = root
        self.today = today
        self._lock = threading.RLock()

    def ensure(self) -> None:
        """Create the folder (private) and a MEMORY.md that explains itself; drop stray
        temporary copies."""
        self.root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            self.root.chmod(0o700)
        if removed := self.remove_stray_copies():
            log.info("memory: removed %d unfinished temporary copies", len(removed))
        path = self.root / MEMORY_FILE
        if not path.exists():
            self._write(path, MEMORY_HEADER)

    def remove_stray_copies(self) -> list[str]:
        """Delete `.NAME.*.tmp` files a kill mid-write left behind; returns their names.

        A write renames its temporary file over the real one as its last step, so
        a temporary file that still exists was never acknowledged: the real file
        holds the last complete version and the copy is only clutter.
        """
        removed = []
        with self._lock:
            for path in self.root.glob(".*.tmp"):
                if _STRAY_COPY.match(path.name) and path.is_file():
                    with contextlib.suppress(OSError):
                        path.unlink()
                        removed.append(path.name)
        return removed

    def names(self) -> list[str]:
        """The memory files present: MEMORY.md and daily notes."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_file() and (p.name == MEMORY_FILE or DAILY_FILE.match(p.name))
        )

    def read(self, name: str) -> Document:
        """Parse one file (an absent file is an empty document)."""
        path = self.root / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            text = MEMORY_HEADER if name == MEMORY_FILE else f"# {name.removesuffix('.md')}\n\n"
        return parse(name, text, default_date=self.today().isoformat())

    @contextlib.contextmanager
    def editing(self, name: str) -> Iterator[Document]:
        """Read a file, let the caller change it, write it back atomically."""
        with self._lock:
            doc = self.read(name)
            before = doc.render()
            yield doc
            after = doc.render()
            if after != before or not (self.root / name).exists():
                self._write(self.root / name, after)

    def daily_name(self, day: dt.date | None = None) -> str:
        """The daily note file of a day (today by default)."""
        return f"{(day or self.today()).isoformat()}.md"

    def _write(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def with_text(entry: Entry, text: str) -> Entry:
    """A copy of an entry with new text."""
    return replace(entry, text=clean_text(text))
