"""A list kept as a markdown file the owner can read and edit:

    # Shopping

    - [ ] apples
    - [x] milk

Task bullets (`- [ ]`, `- [x]`) and plain bullets (pending) are items; every
other line (the heading, notes) is kept as it is when the house rewrites the
file. The file is read on every use, so the owner's edits count at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agent.files import write_atomically
from agent.lists.items import ListItem, find_item, item_key

_ITEM = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?:\[(?P<mark>[ xX])\]\s*)?(?P<text>.*?)\s*$")
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$")


def slug(name: str) -> str:
    """The file name of a list ("To-do" → "to-do")."""
    return re.sub(r"[^\w-]+", "-", name.strip().lower()).strip("-") or "list"


@dataclass
class _Line:
    text: str
    item: ListItem | None = None


def parse(text: str) -> list[_Line]:
    """A file's lines, items recognised."""
    lines: list[_Line] = []
    for raw in text.splitlines():
        match = _ITEM.match(raw)
        if match and match.group("text"):
            mark = match.group("mark")
            lines.append(_Line(raw, ListItem(match.group("text"), done=mark in ("x", "X"))))
        else:
            lines.append(_Line(raw))
    return lines


def render(lines: list[_Line]) -> str:
    """The file text for some lines (items written as task bullets)."""
    out: list[str] = []
    for line in lines:
        if line.item is None:
            out.append(line.text)
        else:
            out.append(f"- [{'x' if line.item.done else ' '}] {line.item.text}")
    return "\n".join(out).rstrip("\n") + "\n"


class MarkdownList:
    """One list in the home folder (`lists/<slug>.md`)."""

    source = "home"

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self._name = name

    @property
    def id(self) -> str:
        """A stable id: the file name."""
        return f"home:{self.path.stem}"

    @property
    def name(self) -> str:
        """The `# Title` of the file, else the name it was created with, else its stem."""
        if self.path.exists():
            for line in self._read():
                match = _TITLE.match(line.text)
                if match:
                    return match.group(1)
        return self._name or self.path.stem.replace("-", " ").capitalize()

    @property
    def exists(self) -> bool:
        """Whether the file is there (a default list exists before its first item)."""
        return self.path.exists()

    def _read(self) -> list[_Line]:
        try:
            return parse(self.path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return [_Line(f"# {self._name or self.path.stem}"), _Line("")]

    def _write(self, lines: list[_Line]) -> None:
        write_atomically(self.path, render(lines))

    async def items(self) -> list[ListItem]:
        """Every item, in file order."""
        return [line.item for line in self._read() if line.item is not None]

    async def add(self, texts: list[str]) -> list[ListItem]:
        """Add items (one already pending is not doubled; a done one is pending again)."""
        lines = self._read()
        added: list[ListItem] = []
        for text in texts:
            current = [line.item for line in lines if line.item is not None]
            same = next((i for i in current if item_key(i.text) == item_key(text)), None)
            if same is not None and not same.done:
                added.append(same)
                continue
            if same is not None:
                line = next(ln for ln in lines if ln.item is same)
                line.item = ListItem(same.text)
                added.append(line.item)
                continue
            item = ListItem(text.strip())
            last = max((n for n, ln in enumerate(lines) if ln.item is not None), default=None)
            if last is None:
                while lines and not lines[-1].text.strip():
                    lines.pop()
                lines.extend([_Line(""), _Line("", item)])
            else:
                lines.insert(last + 1, _Line("", item))
            added.append(item)
        self._write(lines)
        return added

    async def remove(self, texts: list[str]) -> tuple[list[ListItem], list[str]]:
        """Delete items; returns (removed, not found)."""
        return self._change(texts, done=None)

    async def complete(self, texts: list[str]) -> tuple[list[ListItem], list[str]]:
        """Tick items off; returns (completed, not found)."""
        return self._change(texts, done=True)

    def _change(self, texts: list[str], done: bool | None) -> tuple[list[ListItem], list[str]]:
        lines = self._read()
        changed: list[ListItem] = []
        missing: list[str] = []
        for text in texts:
            current = [ln.item for ln in lines if ln.item is not None]
            item = find_item(current, text)
            if item is None:
                missing.append(text)
                continue
            index = next(n for n, ln in enumerate(lines) if ln.item is item)
            if done is None:
                del lines[index]
            else:
                lines[index].item = ListItem(item.text, done=True)
            changed.append(item)
        if changed:
            self._write(lines)
        return changed, missing
