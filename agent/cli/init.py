"""`homeclaw init`: a home folder with an annotated config, the soul, and an API token."""

from __future__ import annotations

import shutil
from pathlib import Path

from agent.paths import HomePaths

DEFAULTS = Path(__file__).parent.parent / "defaults"
# Files copied into a new home (destination name → packaged default).
HOME_FILES = {
    "config.yaml": "config.yaml",
    "soul.md": "soul.md",
    "HEARTBEAT.md": "HEARTBEAT.md",
}


def install_defaults(paths: HomePaths, *, overwrite: bool = False) -> list[Path]:
    """Create the home folder's files that are missing; returns the files written."""
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.root.chmod(0o700)
    written = []
    for target, source in HOME_FILES.items():
        destination = paths.root / target
        if destination.exists() and not overwrite:
            continue
        shutil.copyfile(DEFAULTS / source, destination)
        written.append(destination)
    for folder in (paths.memory, paths.snapshots, paths.media):
        folder.mkdir(exist_ok=True)
    if not paths.token_file.exists():
        paths.token(create=True)
        written.append(paths.token_file)
    return written
