"""The owner's lists: markdown files in the home folder plus lists other systems
keep (Home Assistant's `todo` entities), found by what people call them.

"The list" is the shopping list (as in Home Assistant's sentences); "my to-do
list" or "my tasks" is the one list that is not for shopping; "my personal
tasks" is the list whose name has those words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agent.errors import HomeError
from agent.lists.items import ListItem
from agent.lists.markdown import MarkdownList, slug

log = logging.getLogger(__name__)

SHOPPING_WORDS = frozenset({"shopping", "groceries", "grocery", "shop"})
TODO_WORDS = frozenset({"to do", "tasks", "task", "chores", "things to do"})


class NoSuchList(HomeError):
    """No list is called that."""

    kind = "no_such_list"


class TodoList(Protocol):
    """A list, wherever it is kept."""

    @property
    def id(self) -> str:
        """Stable id: `home:<file>` or `<integration>:<entity>`."""
        ...

    @property
    def name(self) -> str:
        """The name people use."""
        ...

    source: str

    async def items(self) -> list[ListItem]:
        """Every item, pending and done."""
        ...

    async def add(self, texts: list[str]) -> list[ListItem]:
        """Add items; returns them."""
        ...

    async def remove(self, texts: list[str]) -> tuple[list[ListItem], list[str]]:
        """Delete items; returns (removed, not found)."""
        ...

    async def complete(self, texts: list[str]) -> tuple[list[ListItem], list[str]]:
        """Tick items off; returns (completed, not found)."""
        ...


def list_key(name: str) -> str:
    """How a list name compares: "My To-Do list" → "to do"."""
    key = re.sub(r"[^\w\s]", " ", name.lower().replace("-", " "))
    key = re.sub(r"\btodo\b", "to do", key)
    key = re.sub(r"\s+", " ", key).strip()
    key = re.sub(r"^(my|the|our)\s+", "", key)
    return re.sub(r"\s*\blists?$", "", key).strip()


def _is_shopping(key: str) -> bool:
    return any(w in key.split() for w in SHOPPING_WORDS) or "grocer" in key


def _is_todo(key: str) -> bool:
    return any(re.search(rf"\b{w}\b", key) for w in TODO_WORDS)


class Lists:
    """Every list of the house, by name."""

    def __init__(
        self,
        folder: Path,
        defaults: list[str],
        on_change: Callable[[TodoList], None] | None = None,
    ) -> None:
        self.folder = folder
        self.defaults = defaults
        self.on_change = on_change
        self._bridged: dict[str, TodoList] = {}

    # -- membership ---------------------------------------------------------------

    def attach(self, todo: TodoList) -> None:
        """Add (or replace) a list another system keeps."""
        self._bridged[todo.id] = todo

    def detach(self, list_id: str) -> None:
        """Forget a bridged list (its integration stopped or deleted it)."""
        self._bridged.pop(list_id, None)

    def all(self) -> list[TodoList]:
        """Files in the folder, the defaults not yet written (unless a bridged list of
        the same sort stands for them), then bridged lists."""
        found: list[TodoList] = []
        if self.folder.is_dir():
            found.extend(MarkdownList(p) for p in sorted(self.folder.glob("*.md")) if p.is_file())
        bridged = list(self._bridged.values())
        have = {list_key(t.name) for t in [*found, *bridged]}
        for name in self.defaults:
            key = list_key(name)
            sort = _is_shopping if _is_shopping(key) else _is_todo
            if key in have or any(sort(list_key(t.name)) for t in bridged):
                continue
            found.append(MarkdownList(self.folder / f"{slug(name)}.md", name))
        return [*found, *bridged]

    def spoken_names(self) -> list[str]:
        """Every way to name a list that `find` understands (for the sentence matcher)."""
        names: list[str] = []
        lists = self.all()
        for todo in lists:
            key = list_key(todo.name)
            names.append(key)
            if _is_shopping(key):
                names.extend(SHOPPING_WORDS)
        if any(not _is_shopping(list_key(t.name)) for t in lists):
            names.extend(["to do", "todo", "to-do", "tasks", "chores"])
        return list(dict.fromkeys(n for n in names if n))

    # -- finding -----------------------------------------------------------------

    def find(self, wanted: str | None) -> TodoList:
        """The list a phrase names; "the list" (nothing named) is the shopping list."""
        lists = self.all()
        key = list_key(wanted or "") or "shopping"
        exact = [t for t in lists if list_key(t.name) == key]
        if exact:
            return exact[0]
        if _is_shopping(key):
            shopping = [t for t in lists if _is_shopping(list_key(t.name))]
            if shopping:
                return shopping[0]
        words = set(key.split())
        within = [t for t in lists if words <= set(list_key(t.name).split())]
        if len(within) == 1:
            return within[0]
        if _is_todo(key):
            todo = [t for t in lists if _is_todo(list_key(t.name))]
            others = [t for t in lists if not _is_shopping(list_key(t.name))]
            for group in (todo, others):
                if len(group) == 1:
                    return group[0]
        names = ", ".join(t.name for t in lists) or "none yet"
        raise NoSuchList(f"There is no list called “{wanted}”. Lists: {names}.")

    def create(self, name: str) -> TodoList:
        """A new list in the home folder (its file is written with its first item)."""
        key = list_key(name)
        if not key:
            raise NoSuchList("A list needs a name.")
        existing = [t for t in self.all() if list_key(t.name) == key]
        if existing:
            return existing[0]
        title = re.sub(r"\s+lists?$", "", name.strip(), flags=re.I)
        return MarkdownList(self.folder / f"{slug(key)}.md", title)

    def changed(self, todo: TodoList) -> None:
        """Tell listeners (the dashboard) a list changed."""
        if self.on_change is not None:
            self.on_change(todo)

    # -- acting (every path: tools, the local path, the API) -------------------------

    async def add(self, wanted: str | None, texts: list[str], *, create: bool = False) -> Edit:
        """Add items to a list (a new home list when `create` and none is called that)."""
        try:
            todo = self.find(wanted)
        except NoSuchList:
            if not create or not wanted:
                raise
            todo = self.create(wanted)
        items = await todo.add([t for t in texts if t.strip()])
        self.changed(todo)
        log.info("lists: added %d item(s) to %s", len(items), todo.id)
        return Edit(todo, items, [])

    async def remove(self, wanted: str | None, texts: list[str]) -> Edit:
        """Delete items from a list."""
        todo = self.find(wanted)
        removed, missing = await todo.remove(texts)
        if removed:
            self.changed(todo)
        return Edit(todo, removed, missing)

    async def complete(self, wanted: str | None, texts: list[str]) -> Edit:
        """Tick items off a list."""
        todo = self.find(wanted)
        done, missing = await todo.complete(texts)
        if done:
            self.changed(todo)
        return Edit(todo, done, missing)

    async def summary(self) -> list[dict[str, Any]]:
        """Every list with its pending count (what the dashboard and tools list)."""
        out: list[dict[str, Any]] = []
        for todo in self.all():
            try:
                items = await todo.items()
            except HomeError as err:
                out.append({"id": todo.id, "name": todo.name, "source": todo.source,
                            "error": str(err)})  # fmt: skip
                continue
            pending = sum(1 for i in items if not i.done)
            out.append(
                {"id": todo.id, "name": todo.name, "source": todo.source, "pending": pending}
            )
        return out


@dataclass
class Edit:
    """What a change did: the list, the items it touched, and those not found."""

    todo: TodoList
    items: list[ListItem]
    missing: list[str]

    def to_json(self) -> dict[str, Any]:
        """The outcome for tools and the API."""
        out: dict[str, Any] = {"list": self.todo.name, "items": [i.text for i in self.items]}
        if self.missing:
            out["not_found"] = self.missing
        return out
