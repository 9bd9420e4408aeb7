"""The memory service: what each turn is told, and remembering, forgetting and notes.

Provenance rules live here, in code: only the owner's word (or the owner's
approval) makes a durable fact; facts the house inferred are kept but marked;
anything proposed by someone else, a camera or a device name becomes an
"unverified" note the owner can approve, and unverified notes never reach the
model's context or recall results.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from agent.brain.config import BrainConfig
from agent.bus import Bus, Notice
from agent.errors import HomeError
from memory.config import MemoryConfig
from memory.index import Hit, MemoryIndex
from memory.matching import query_terms, redact_calls, redact_text, same_fact, supersedes
from memory.store import (
    FACTS,
    INFERRED,
    INFERRED_SOURCE,
    MEMORY_FILE,
    OWNER_SOURCES,
    PINNED,
    PROFILE,
    UNVERIFIED_PREFIX,
    Entry,
    MemoryFiles,
    clean_heading,
    clean_text,
    new_id,
)
from memory.vectors import EmbeddingsUnavailable, VectorIndex, fuse

log = logging.getLogger(__name__)

MAX_TEXT = 1000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_COUNT_SUFFIX = re.compile(r"\s*\(×(\d+)\)$")
_TIME_PREFIX = re.compile(r"^\d{2}:\d{2}\s+")


class MemoryRequestError(HomeError):
    """A memory operation the caller asked for cannot be done (unknown id, empty text)."""

    kind = "memory_error"


@dataclass
class Outcome:
    """What `add` did: added, duplicate (nothing new), or pending the owner's approval."""

    status: str
    entry: Entry
    replaced: list[Entry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The outcome for tools and the API (replaced facts by id only)."""
        return {
            "status": self.status,
            "memory": self.entry.to_json(),
            "replaced": [e.id for e in self.replaced],
        }


class Extractor(Protocol):
    """Durable facts from a conversation, kept as provenance allows (`memory.extract.extract`)."""

    async def __call__(
        self,
        memory: Memory,
        brain: BrainConfig,
        messages: list[dict[str, Any]],
        *,
        role: str,
        model: str | None = None,
    ) -> list[Outcome]:
        """Ask the model, keep what the person's own words allow, say what happened to each."""
        ...


class Memory:
    """Long-term memory of one home (published as `rt.services["memory"]`)."""

    def __init__(
        self,
        config: MemoryConfig,
        files: MemoryFiles,
        index: MemoryIndex,
        *,
        bus: Bus | None = None,
        role_of: Callable[[str], str] | None = None,
        now: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.config = config
        self.files = files
        self.index = index
        self.bus = bus
        self.vectors: VectorIndex | None = None
        # The brain's LLM settings and the extractor (`memory.extract.extract`), both set by
        # the component: extraction builds on this class, so this class does not import it.
        self.brain: BrainConfig | None = None
        self.extractor: Extractor | None = None
        self._role_of = role_of
        self.now = now
        # Distinctive words of facts forgotten since start (RAM only), for `redact`.
        self._forgotten: list[set[str]] = []
        self._profile_cache: tuple[int, list[Entry]] | None = None

    # -- who is asking -------------------------------------------------------------

    def role_of(self, conversation: str) -> str:
        """The role behind a conversation id ("channel:sender"); unknown senders are strangers."""
        if self._role_of is None:
            return "owner"
        return self._role_of(conversation)

    # -- reading -----------------------------------------------------------------------

    def get(self, entry_id: str) -> Entry:
        """One memory by id."""
        entry = self.index.get(entry_id.strip())
        if entry is None:
            raise MemoryRequestError(f"There is no memory {entry_id!r}.")
        return entry

    def entries(self, *, kind: str | None = None, limit: int = 500, offset: int = 0) -> list[Entry]:
        """Memories in file order (facts first, then daily notes newest first)."""
        return self.index.entries(kind=kind, limit=limit, offset=offset)

    def expand(self, text: str) -> str:
        """The query plus the weekday meant by "today"/"tomorrow" (facts say "on Thursdays")."""
        lowered = text.lower()
        today = self.now().date()
        extra = []
        if re.search(r"\b(today|tonight|this (morning|afternoon|evening))\b", lowered):
            extra.append(WEEKDAYS[today.weekday()])
        if "tomorrow" in lowered:
            extra.append(WEEKDAYS[(today.weekday() + 1) % 7])
        return " ".join([text, *extra])

    async def search(
        self,
        query: str,
        *,
        limit: int = 5,
        include_unverified: bool = False,
        restricted: bool = False,
    ) -> list[Hit]:
        """Ranked memories for a query: BM25, fused with vector similarity when configured."""
        query = self.expand(query)
        pool = max(limit * 6, 30)
        hits = self.index.keyword(query, limit=pool)
        if self.vectors is not None:
            try:
                nearest = await self.vectors.nearest(query, pool)
                hits = fuse(
                    hits,
                    nearest,
                    self.index,
                    vector_weight=self.config.vector_weight,
                    now=self.now().timestamp(),
                    note_half_life_days=self.config.note_half_life_days,
                )
                self.vectors.last_error = None
            except EmbeddingsUnavailable as err:
                if self.vectors.last_error is None:
                    log.warning("memory: vector recall unavailable, keyword only: %s", err)
                self.vectors.last_error = str(err)
        chosen = [
            h
            for h in hits
            if (include_unverified or not h.entry.unverified) and (not restricted or h.entry.pinned)
        ]
        return chosen[:limit]

    def _standing(self) -> list[Entry]:
        """Pinned facts and the owner profile (cached until the index changes)."""
        cache = self._profile_cache
        if cache is not None and cache[0] == self.index.generation:
            return cache[1]
        facts = [e for e in self.index.standing() if e.pinned or e.profile]
        facts.sort(key=lambda e: e.date, reverse=True)  # newest first, then by rank:
        facts.sort(key=lambda e: (not e.pinned, -e.importance))
        self._profile_cache = (self.index.generation, facts)
        return facts

    async def context_for(self, conversation: str, text: str, *, role: str | None = None) -> str:
        """The memory block for one turn: pinned, profile, then relevant memories, in budget."""
        if not self.config.enabled:
            return ""
        role = role or self.role_of(conversation)
        if role not in ("owner", "family"):
            # Guests (and strangers) get no memory at all: pinned facts are the
            # household's, and a pinned line can be as private as any other.
            return ""
        restricted = role != "owner"
        budget = self.config.context_tokens * 4
        standing = [e for e in self._standing() if e.pinned or not restricted]
        shown = {e.id for e in standing}
        recalled = [
            h.entry
            for h in await self.search(
                text, limit=self.config.recall_limit + 10, restricted=restricted
            )
            if h.entry.id not in shown
        ][: self.config.recall_limit]
        lines: list[str] = []
        used = 0
        for title, group in (
            ("Pinned", [e for e in standing if e.pinned]),
            ("About the owner", [e for e in standing if not e.pinned]),
            ("Possibly relevant", recalled),
        ):
            added_title = False
            for entry in group:
                line = self._context_line(entry)
                cost = len(line) + 1 + (0 if added_title else len(title) + 2)
                if used + cost > budget:
                    break
                if not added_title:
                    lines.append(f"{title}:")
                    added_title = True
                lines.append(line)
                used += cost
        if not lines:
            return ""
        header = (
            "Long-term memory (the owner's memory files; pass an [id] to forget, or to "
            "remember's replaces, to change one; notes and inferred facts may be stale):"
        )
        return "\n".join([header, *lines])

    @staticmethod
    def _context_line(entry: Entry) -> str:
        if entry.kind == "note":
            return f"- [{entry.id}] {entry.date} ({entry.source}): {entry.text}"
        marks = "" if entry.source in OWNER_SOURCES else f" ({entry.source})"
        return f"- [{entry.id}] {entry.text}{marks}"

    # -- writing -------------------------------------------------------------------------

    def add(
        self,
        text: str,
        *,
        source: str = "owner",
        importance: int = 3,
        section: str | None = None,
        replaces: list[str] | None = None,
    ) -> Outcome:
        """Keep a fact: durable when the owner said or approved it, marked when inferred,
        otherwise an unverified note awaiting approval. Dedupes and supersedes."""
        text = clean_text(text)
        if not text:
            raise MemoryRequestError("A memory needs some text.")
        if len(text) > MAX_TEXT:
            raise MemoryRequestError(f"A memory is at most {MAX_TEXT} characters.")
        importance = min(5, max(1, int(importance)))
        section = clean_heading(section) if section else None
        if source not in OWNER_SOURCES and source != INFERRED_SOURCE:
            if not source.startswith(UNVERIFIED_PREFIX):
                source = UNVERIFIED_PREFIX + source
            return Outcome("pending", self.note(text, source=source))
        owner = source in OWNER_SOURCES
        similar = [h.entry for h in self.index.keyword(text, limit=10) if h.entry.kind == "fact"]
        for old in similar:
            if same_fact(old.text, text):
                if owner and old.source not in OWNER_SOURCES:
                    # The owner confirmed what the house had only inferred.
                    confirmed = self.edit(old.id, source=source, section=section or FACTS)
                    return Outcome("confirmed", confirmed)
                return Outcome("duplicate", old)
        doomed = [e for e in similar if supersedes(text, e.text)]
        for entry_id in replaces or []:
            named = self.index.get(entry_id)
            if named is not None and named.kind == "fact" and named not in doomed:
                doomed.append(named)
        if not owner:
            # An inference never overrides what the owner said.
            if any(e.source in OWNER_SOURCES for e in doomed):
                return Outcome("duplicate", next(e for e in doomed if e.source in OWNER_SOURCES))
        # An update takes the place (and section) of what it replaces.
        in_place = doomed[0] if doomed and section in (None, doomed[0].section) else None
        entry = Entry(
            id=self._fresh_id("fact"),
            text=text,
            kind="fact",
            source=source,
            date=self.now().date().isoformat(),
            section=in_place.section if in_place else section or (FACTS if owner else INFERRED),
            importance=importance,
        )
        with self.files.editing(MEMORY_FILE) as doc:
            if in_place is not None and not doc.replace(entry, at=in_place.id):
                in_place = None
            for old in doomed:
                if old is not in_place:
                    doc.remove(old.id)
            if in_place is None:
                doc.append(entry)
        self.index.sync_file(MEMORY_FILE)
        for old in doomed:
            self._drop_vector(old.text)
        self._publish("remembered", entry.id)
        log.info(
            "memory: %s remembered (%s)%s",
            entry.id,
            source,
            f", replacing {', '.join(e.id for e in doomed)}" if doomed else "",
        )
        return Outcome("added", entry, doomed)

    def note(self, text: str, source: str = "house") -> Entry:
        """Add a line to today's daily note (repeats of the same line are counted, not copied)."""
        text = clean_text(text)
        if not text:
            raise MemoryRequestError("A note needs some text.")
        text = text[:MAX_TEXT]
        now = self.now()
        name = self.files.daily_name(now.date())
        stamp = now.strftime("%H:%M")
        with self.files.editing(name) as doc:
            if not doc.blocks:
                doc.blocks.extend([f"# {now.date().isoformat()}", ""])
            bases = [
                _COUNT_SUFFIX.sub("", _TIME_PREFIX.sub("", e.text))
                for e in doc.entries()
                if e.source == source
            ]
            if text not in bases and len(bases) >= self.config.daily_note_limit:
                # A few lines a day: a chatty source is counted past its share.
                text = f"more {source} notes"
            for old in doc.entries():
                base = _COUNT_SUFFIX.sub("", _TIME_PREFIX.sub("", old.text))
                if old.source == source and base == text:
                    match = _COUNT_SUFFIX.search(old.text)
                    count = (int(match.group(1)) if match else 1) + 1
                    entry = replace(old, text=f"{stamp} {text} (×{count})")
                    # Re-stamped, it moves to the end: the day stays in time order.
                    doc.remove(old.id)
                    doc.blocks.append(entry)
                    break
            else:
                entry = Entry(
                    id=self._fresh_id("note"),
                    text=f"{stamp} {text}",
                    kind="note",
                    source=source,
                    date=now.date().isoformat(),
                    section=doc.last_heading(),
                    file=name,
                )
                doc.blocks.append(entry)
        self.index.sync_file(name)
        self._publish("noted", entry.id)
        return entry

    def edit(
        self,
        entry_id: str,
        *,
        text: str | None = None,
        importance: int | None = None,
        section: str | None = None,
        source: str | None = None,
    ) -> Entry:
        """Change a memory in place (the owner's edit approves an inferred fact)."""
        old = self.get(entry_id)
        changes: dict[str, Any] = {}
        if text is not None:
            cleaned = clean_text(text)
            if not cleaned or len(cleaned) > MAX_TEXT:
                raise MemoryRequestError(f"A memory needs 1 to {MAX_TEXT} characters of text.")
            changes["text"] = cleaned
        if importance is not None:
            changes["importance"] = min(5, max(1, int(importance)))
        if source is None and old.kind == "fact" and old.source not in OWNER_SOURCES:
            source = "owner-approved"
        if source is not None:
            changes["source"] = source
        section = clean_heading(section) if section else None
        if old.kind == "fact" and (section or old.section == INFERRED):
            changes["section"] = section or FACTS
        new = replace(old, **changes)
        moved = new.section != old.section
        with self.files.editing(old.file) as doc:
            if moved:
                doc.remove(old.id)
                doc.append(new)
            elif not doc.replace(new):
                raise MemoryRequestError(f"{entry_id} changed on disk; reload and try again.")
        self.index.sync_file(old.file)
        if new.text != old.text:
            self._drop_vector(old.text)
        self._publish("edited", new.id)
        return new

    def promote(self, entry_id: str) -> Outcome:
        """The owner approves a note or an inferred fact: it becomes a durable fact."""
        old = self.get(entry_id)
        if old.kind == "fact":
            return Outcome("confirmed", self.edit(old.id, source="owner-approved"))
        text = _COUNT_SUFFIX.sub("", _TIME_PREFIX.sub("", old.text))
        outcome = self.add(text, source="owner-approved", importance=old.importance)
        self._remove(old)
        return outcome

    def forget(self, entry_id: str) -> Entry:
        """Remove a memory (and near-copies of it) from the files, the index and transcripts."""
        entry = self.get(entry_id)
        victims = [entry] + [
            h.entry
            for h in self.index.keyword(entry.text, limit=10)
            if h.entry.id != entry.id and same_fact(h.entry.text, entry.text)
        ]
        for victim in victims:
            self._remove(victim)
        terms = set(query_terms(entry.text, limit=64))
        self._forgotten = [*self._forgotten[-99:], terms]
        redacted = self.index.redact_transcripts(entry.text)
        # What was forgotten stays private; that something was, is on the record.
        self.note(f"Forgot memory {entry.id} at the owner's request", source="house")
        self._publish("forgotten", entry.id)
        log.info(
            "memory: %s forgotten (%d copies, %d messages redacted)",
            entry.id,
            len(victims) - 1,
            redacted,
        )
        return entry

    def redact(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages with every line or tool call that repeats a fact forgotten since
        start removed.

        For the brain to call on its message list before each model request, so a
        fact forgotten mid-turn leaves the context at once (stored history is
        scrubbed by `forget` itself).
        """
        if not self._forgotten:
            return messages
        out = []
        for message in messages:
            content = message.get("content")
            if isinstance(content, str):
                cleaned = redact_text(content, self._forgotten)
                if cleaned is not None:
                    message = {**message, "content": cleaned}
            calls = message.get("tool_calls")
            if isinstance(calls, list) and calls:
                emptied = redact_calls(json.dumps(calls), self._forgotten)
                if emptied is not None:
                    message = {**message, "tool_calls": json.loads(emptied)}
            out.append(message)
        return out

    def _remove(self, entry: Entry) -> None:
        with self.files.editing(entry.file) as doc:
            doc.remove(entry.id)
        self.index.sync_file(entry.file)
        self._drop_vector(entry.text)

    def _drop_vector(self, text: str) -> None:
        if self.vectors is not None:
            self.vectors.forget(text)

    def _fresh_id(self, kind: str) -> str:
        while True:
            candidate = new_id("fact" if kind == "fact" else "note")
            if self.index.get(candidate) is None:
                return candidate

    def _publish(self, action: str, entry_id: str) -> None:
        if self.bus is not None:
            self.bus.publish(Notice(topic="memory", data={"action": action, "id": entry_id}))

    async def before_compaction(
        self, conversation: str, messages: list[dict[str, Any]], *, role: str | None = None
    ) -> list[Outcome]:
        """Extract durable facts from a conversation about to be compacted (never raises)."""
        brain = self.brain
        if not (self.config.enabled and self.config.extraction) or brain is None:
            return []
        if brain.provider == "none" or self.extractor is None:
            return []
        try:
            return await self.extractor(
                self,
                brain,
                messages,
                role=role or self.role_of(conversation),
                model=self.config.extraction_model,
            )
        except Exception as err:  # extraction is best effort; compaction must go on
            log.warning("memory: extraction for %s failed: %s", conversation, err)
            return []

    def health_report(self) -> dict[str, Any]:
        """Counts and vector status for /api/health."""
        report: dict[str, Any] = {"entries": self.index.count()}
        if self.vectors is not None:
            report["vectors"] = self.vectors.health()
        return report


__all__ = ["FACTS", "INFERRED", "PINNED", "PROFILE", "Memory", "MemoryRequestError", "Outcome"]
