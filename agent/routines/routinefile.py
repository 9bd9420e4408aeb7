"""Writing routines and schedules back to the owner's YAML, comments preserved.

Changes made by chat land in `<home>/routines.yaml` (or in config.yaml when
the owner keeps them there), validated first by the very loader the daemon
uses, so a bad change gets the same file:line errors as a bad hand edit and
nothing is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from agent.config import SIDE_FILES, Config, ConfigError, load_config
from agent.paths import HomePaths

HEADER = (
    "Routines and schedules of this home (see config/routines.example.yaml).\n"
    "homeclaw rewrites this file when you change routines by chat; comments stay.\n"
)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def _plain(node: Any) -> Any:
    """Plain Python data of a ruamel node (for comparisons)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _merge_map(old: CommentedMap, new: dict[str, Any]) -> CommentedMap:
    """Update a mapping in place so comments on keys that stay are kept."""
    for key in [k for k in old if k not in new]:
        del old[key]
    for key, value in new.items():
        if key in old and _plain(old[key]) == value:
            continue
        if key in old and isinstance(old[key], list) and isinstance(value, list):
            old[key] = _merge_seq(old[key], value)
        else:
            old[key] = value
    return old


def _merge_seq(old: CommentedSeq, new: list[Any]) -> CommentedSeq:
    """A sequence of the new items, reusing unchanged old items (and their comments)."""
    spare = list(old)
    out = CommentedSeq()
    for item in new:
        match = next((o for o in spare if _plain(o) == item), None)
        if match is not None:
            spare.remove(match)
            out.append(match)
        else:
            out.append(item)
    return out


class RoutineFile:
    """Reads, changes, validates and writes the `routines:`/`schedules:` YAML."""

    def __init__(self, paths: HomePaths) -> None:
        self.paths = paths

    def _path_for(self, key: str) -> Path:
        """config.yaml when the owner keeps `key` there, else routines.yaml."""
        if self.paths.config.exists():
            root = _yaml().load(self.paths.config.read_text(encoding="utf-8"))
            if isinstance(root, dict) and key in root:
                return self.paths.config
        return self.paths.root / SIDE_FILES[key]

    def _load(self, path: Path) -> CommentedMap:
        if path.exists():
            doc = _yaml().load(path.read_text(encoding="utf-8"))
            if isinstance(doc, CommentedMap):
                return doc
        doc = CommentedMap()
        doc.yaml_set_start_comment(HEADER)
        return doc

    def change(self, key: str, edit: Callable[[CommentedSeq], None]) -> Config:
        """Edit the `key` list, validate the whole config with it, then write it back."""
        path = self._path_for(key)
        doc = self._load(path)
        if not isinstance(doc.get(key), list):
            doc[key] = CommentedSeq()
        edit(doc[key])
        buffer = StringIO()
        _yaml().dump(doc, buffer)
        text = buffer.getvalue()
        config = self._validate(path, text)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # atomic: a crash leaves the old file or the new one
        return config

    def upsert(self, key: str, item: dict[str, Any], same: Callable[[Any], bool]) -> Config:
        """Replace the first item `same` matches (keeping its comments), or append."""

        def edit(seq: CommentedSeq) -> None:
            for i, old in enumerate(seq):
                if same(old):
                    seq[i] = _merge_map(old, item) if isinstance(old, CommentedMap) else item
                    return
            seq.append(item)

        return self.change(key, edit)

    def remove(self, key: str, same: Callable[[Any], bool]) -> tuple[Config, int]:
        """Delete every item `same` matches; returns the new config and how many went."""
        removed = 0

        def edit(seq: CommentedSeq) -> None:
            nonlocal removed
            for i in reversed(range(len(seq))):
                if same(seq[i]):
                    del seq[i]
                    removed += 1

        return self.change(key, edit), removed

    def _validate(self, path: Path, text: str) -> Config:
        """Load the whole config as the daemon would, with the changed file in place."""
        with tempfile.TemporaryDirectory(prefix="homeclaw-check-") as tmp:
            scratch = Path(tmp)
            for name in ("config.yaml", ".env", *set(SIDE_FILES.values())):
                source = self.paths.root / name
                if source.exists():
                    shutil.copyfile(source, scratch / name)
            (scratch / path.name).write_text(text, encoding="utf-8")
            if not (scratch / "config.yaml").exists():
                (scratch / "config.yaml").write_text("{}\n", encoding="utf-8")
            try:
                return load_config(scratch / "config.yaml")
            except ConfigError as err:
                problems = [p.replace(str(scratch), str(self.paths.root)) for p in err.problems]
                raise ConfigError(problems) from None
