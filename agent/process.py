"""One daemon per home folder, and who holds a port when ours is taken.

Two daemons on one folder share a database, a token and the `url` file the CLI
follows, and their integrations fight over the same devices; the second must
say so and leave. The lock is an advisory `flock` on `<home>/daemon.lock`, so
it goes away with the process however it ends (kill -9 included).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import IO

# sysexits: the service is unavailable (the port or the folder is taken).
EX_UNAVAILABLE = 69


class AlreadyRunning(Exception):
    """Another homeclaw runs from this home folder."""


class PortInUse(Exception):
    """The web server's port is taken by another program."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        holder = who_listens(port)
        by = f" by {holder}" if holder else ""
        super().__init__(
            f"{host}:{port} is already in use{by}. Stop that program, or give homeclaw "
            "another port (web.port in config.yaml; `homeclaw demo --port N`)."
        )


class HomeLock:
    """Held while a daemon runs from a home folder."""

    def __init__(self, root: Path, what: str) -> None:
        self.path = root / "daemon.lock"
        self.what = what
        self._file: IO[str] | None = None

    def acquire(self) -> HomeLock:
        """Take the lock or raise AlreadyRunning saying who has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            url_file = self.path.parent / "url"
            url = url_file.read_text().strip() if url_file.exists() else ""
            raise AlreadyRunning(
                f"{holder} already runs from {self.path.parent}"
                + (f" (dashboard {url})" if url else "")
                + ". One daemon per home folder: stop it first, or use another folder (--home)."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"homeclaw {self.what} (pid {os.getpid()})\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Let the folder go (also happens when the process ends)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.seek(0)
                self._file.truncate()
            self._file.close()
            self._file = None

    def __enter__(self) -> HomeLock:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()


def lock_holder(root: Path) -> str | None:
    """Who holds the home folder's lock ("homeclaw demo (pid N)"), or None when nobody does."""
    try:
        handle = (root / "daemon.lock").open("r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return handle.read().strip() or "another process"
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def who_listens(port: int) -> str | None:
    """The process listening on a TCP port, as "pid N (command)", from /proc (Linux)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                # local address "0100007F:20A1", state 0A = LISTEN, inode in field 9
                if (
                    len(fields) > 9
                    and fields[3] == "0A"
                    and int(fields[1].split(":")[1], 16) == port
                ):
                    inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                    command = " ".join(
                        part.decode(errors="replace") for part in raw.split(b"\0") if part
                    )
                    return f"pid {pid} ({command[:80]})"
    return "another program"
