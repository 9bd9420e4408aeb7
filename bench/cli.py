"""How long `homeclaw ask` and `homeclaw devices` take, wall clock, against a running daemon.

    python bench/cli.py [--home DIR] [--runs 30]

Start a daemon first (`homeclaw demo`); the figures include the interpreter's
own start, as a person at a terminal or a script in a loop feels it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def _time(command: list[str], runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        took.append((time.perf_counter() - started) * 1000)
    return took


def main() -> None:
    """Print p50/p95 wall time of `ask` (a local-path command) and `devices`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", help="the daemon's home folder (default: the demo's)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    homeclaw = shutil.which("homeclaw") or sys.exit("homeclaw is not on PATH")
    home = ["--home", args.home] if args.home else []
    for label, extra in (
        ("ask 'which lights are on?'", ["ask", "which lights are on?"]),
        ("devices", ["devices"]),
        ("python -c pass (the floor)", None),
    ):
        command = [sys.executable, "-c", "pass"] if extra is None else [homeclaw, *home, *extra]
        took = sorted(_time(command, args.runs))
        p95 = took[min(len(took) - 1, int(len(took) * 0.95))]
        print(f"{label:<30} p50 {statistics.median(took):6.0f} ms   p95 {p95:6.0f} ms")


if __name__ == "__main__":
    main()
