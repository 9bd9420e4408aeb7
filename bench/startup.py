"""Time from `homeclaw demo` start to /api/health ok, and the daemon's resident memory.

Usage: python bench/startup.py [--runs 3]
Prints one line per run and the median; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def health(port: int, token_file: Path) -> dict[str, object] | None:
    """The daemon's /api/health, or None while it is not answering."""
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/health")
        request.add_header("Authorization", f"Bearer {token_file.read_text().strip()}")
        with urllib.request.urlopen(request, timeout=2) as response:
            data: dict[str, object] = json.loads(response.read())
            return data
    except (OSError, ValueError):
        return None


def one_run() -> tuple[float, float, float, int]:
    """(first healthy answer, whole home up, RSS MB, devices) for one demo start."""
    home = Path(tempfile.mkdtemp(prefix="homeclaw-bench-"))
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "demo", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first_ok: float | None = None
        count, stable_since = -1, 0.0
        deadline = started + 120
        while time.monotonic() < deadline:
            data = health(port, home / "token")
            now = time.monotonic()
            if data is not None and data.get("status") == "ok":
                first_ok = first_ok or now - started
                devices = int(data.get("devices", 0))  # type: ignore[call-overload]
                if devices != count or data.get("unavailable"):
                    count, stable_since = devices, now
                elif devices and now - stable_since >= 1.0:
                    return first_ok, stable_since - started, rss_mb(proc.pid), devices
            time.sleep(0.05)
        raise SystemExit("the demo did not become healthy within 120 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    firsts, ups, rsses = [], [], []
    for i in range(args.runs):
        first, up, rss, devices = one_run()
        firsts.append(first)
        ups.append(up)
        rsses.append(rss)
        print(
            f"run {i + 1}: /api/health ok after {first:.2f} s, all {devices} devices up after "
            f"{up:.2f} s, RSS {rss:.0f} MB"
        )
    print(
        f"median: health ok {statistics.median(firsts):.2f} s, home up "
        f"{statistics.median(ups):.2f} s, RSS {statistics.median(rsses):.0f} MB "
        "(daemon and every simulator share one process in the demo)"
    )


if __name__ == "__main__":
    main()
