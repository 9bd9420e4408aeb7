"""Where a home lives on disk: the home folder and the files in it.

Kept apart from the configuration's schema so the CLI can find the daemon
without importing pydantic and every integration's config (start-up time).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

# sysexits' EX_CONFIG: the systemd unit does not restart on it.
EX_CONFIG = 78


@dataclass(frozen=True)
class HomePaths:
    """Everything a user would back up, in one folder."""

    root: Path

    @classmethod
    def from_env(cls, override: str | Path | None = None) -> HomePaths:
        """$HOMECLAW_HOME, or ~/.homeclaw."""
        raw = override or os.environ.get("HOMECLAW_HOME") or "~/.homeclaw"
        return cls(Path(raw).expanduser().resolve())

    @property
    def config(self) -> Path:
        """The main configuration file."""
        return self.root / "config.yaml"

    @property
    def soul(self) -> Path:
        """The personality, editable markdown."""
        return self.root / "soul.md"

    @property
    def database(self) -> Path:
        """The SQLite store."""
        return self.root / "homeclaw.db"

    @property
    def token_file(self) -> Path:
        """The API token the CLI and dashboard use."""
        return self.root / "token"

    @property
    def env_file(self) -> Path:
        """Optional secrets, KEY=value per line."""
        return self.root / ".env"

    @property
    def memory(self) -> Path:
        """Markdown memory files."""
        return self.root / "memory"

    @property
    def lists(self) -> Path:
        """The owner's lists (shopping, to-do), one markdown file each."""
        return self.root / "lists"

    @property
    def snapshots(self) -> Path:
        """Camera snapshots and keyframes."""
        return self.root / "snapshots"

    @property
    def media(self) -> Path:
        """Inbound media from channels."""
        return self.root / "media"

    def token(self, create: bool = False) -> str:
        """The API token (created with mode 600 when asked and missing)."""
        if not self.token_file.exists():
            if not create:
                raise FileNotFoundError(f"no API token at {self.token_file} (run `homeclaw init`)")
            self.root.mkdir(parents=True, exist_ok=True)
            self.token_file.write_text(secrets.token_urlsafe(32) + "\n")
            self.token_file.chmod(0o600)
        return self.token_file.read_text().strip()
