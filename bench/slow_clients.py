"""Slow clients against a real daemon: /api/health latency while many half-sent requests
are held open, how long until they are cut, and a flood past the connection cap.

Usage: python bench/slow_clients.py [--connections 1000] [--flood 3000] [--nofile 4096:4096]
       [--request-timeout 15] [--max-connections 1024]

The daemon runs as `homeclaw run` in a temporary home (no devices, no LLM) with the
given open-file limits (4096:4096 is what the systemd units set; systemd's own default
is 1024:524288). Each half-open connection sends a request line and one header, then
nothing. Prints one line per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HALF = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def health(port: int, token: str, timeout: float = 10) -> tuple[float, dict[str, object]]:
    """One GET /api/health on a fresh connection: (seconds, body)."""
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(
            f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    elapsed = time.perf_counter() - started
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head[:80].decode(errors="replace") or "connection closed")
    return elapsed, json.loads(body)


Body = dict[str, object]


async def latencies(port: int, token: str, count: int) -> tuple[list[float], int, Body]:
    """`count` sequential health requests: (seconds of the good ones, failures, last body)."""
    times: list[float] = []
    failures, last = 0, {}
    for _ in range(count):
        try:
            elapsed, last = await health(port, token)
            times.append(elapsed)
        except (OSError, RuntimeError, TimeoutError):
            failures += 1
    return times, failures, last


def figures(times: list[float], failures: int) -> str:
    if not times:
        return f"0 answered, {failures} failed"
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms, {failures} failed"
    )


async def hold(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Open `count` connections that each send half a request and then wait."""
    held = []
    for _ in range(count):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            break
        writer.write(HALF)
        held.append((reader, writer))
    return held


async def until_closed(
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]], limit: float
) -> tuple[int, float]:
    """Wait for the server to close them: (how many closed, seconds until the last did)."""
    started = time.perf_counter()

    async def one(reader: asyncio.StreamReader) -> bool:
        try:
            await reader.read()
            return True
        except OSError:
            return True

    results = await asyncio.wait_for(
        asyncio.gather(*(one(r) for r, _ in held), return_exceptions=True), limit
    )
    return sum(1 for r in results if r is True), time.perf_counter() - started


def release(held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
    for _, writer in held:
        writer.close()


async def run(args: argparse.Namespace, port: int, token: str) -> None:
    times, failures, _ = await latencies(port, token, 50)
    print(f"idle: health {figures(times, failures)}")

    held = await hold(port, args.connections)
    times, failures, body = await latencies(port, token, 50)
    connections = body.get("components", {}).get("connections")  # type: ignore[union-attr]
    print(
        f"{len(held)} half-open connections held: health {figures(times, failures)}; "
        f"server {connections}"
    )
    try:
        closed, seconds = await until_closed(held, args.request_timeout * 3 + 30)
        print(f"server closed {closed}/{len(held)} of them, the last after {seconds:.1f} s")
    except TimeoutError:
        print(f"not all {len(held)} closed within {args.request_timeout * 3 + 30:.0f} s")
    release(held)

    if args.flood:
        held = await hold(port, args.flood)
        times, failures, body = await latencies(port, token, 50)
        connections = body.get("components", {}).get("connections")  # type: ignore[union-attr]
        print(
            f"flood of {len(held)} half-open connections (cap {args.max_connections}): "
            f"health {figures(times, failures)}; server {connections}"
        )
        release(held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--flood", type=int, default=3000, help="0 to skip the flood phase")
    parser.add_argument("--nofile", default="4096:4096", help="daemon's soft:hard file limit")
    parser.add_argument("--request-timeout", type=float, default=15.0)
    parser.add_argument("--max-connections", type=int, default=1024)
    args = parser.parse_args()
    soft, hard = (int(x) for x in args.nofile.split(":"))
    mine = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(args.connections, args.flood) + 200
    if mine[0] < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, mine[1]), mine[1]))

    home = Path(tempfile.mkdtemp(prefix="homeclaw-slow-"))
    port = free_port()
    (home / "config.yaml").write_text(
        f"web:\n  host: 127.0.0.1\n  port: {port}\n"
        f"  request_timeout: {args.request_timeout}\n  max_connections: {args.max_connections}\n"
        "brain:\n  provider: none\ndiscovery:\n  enabled: false\n"
    )

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=limits,
    )
    try:
        deadline = time.monotonic() + 60
        while not (home / "token").exists() or not (home / "url").exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the daemon did not start")
            time.sleep(0.1)
        token = (home / "token").read_text().strip()
        print(
            f"daemon: open files {soft}:{hard}, request_timeout {args.request_timeout} s, "
            f"max_connections {args.max_connections}"
        )
        asyncio.run(run(args, port, token))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
