"""Slow and hostile HTTP clients: half-sent requests are cut, the connection cap holds,
and real requests still get through (behaviour only; bench/slow_clients.py measures)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from tests.conftest import RunningDaemon

Start = Callable[..., Awaitable[RunningDaemon]]


async def _connect(d: RunningDaemon) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(d.url)
    assert url.hostname is not None and url.hostname.startswith("127.")
    return await asyncio.wait_for(asyncio.open_connection(url.hostname, url.port), 5)


async def _closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent before closing (waits for the close, at most 20 s)."""
    return await asyncio.wait_for(reader.read(), 20)


async def test_half_sent_headers_are_cut(start_daemon: Start) -> None:
    """A request line and one header, then silence: the server closes the connection."""
    d = await start_daemon({"web": {"request_timeout": 0.5}})
    reader, writer = await _connect(d)
    try:
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        await writer.drain()
        assert await _closed(reader) == b""
    finally:
        writer.close()


async def test_trickled_headers_do_not_extend_the_deadline(start_daemon: Start) -> None:
    """One header byte now and then keeps nothing alive: the deadline runs from the start."""
    d = await start_daemon({"web": {"request_timeout": 0.5}})
    reader, writer = await _connect(d)
    try:
        writer.write(b"GET /api/health HTTP/1.1\r\n")

        async def trickle() -> None:
            for byte in b"X-Slow: " + b"a" * 200:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)

        dripping = asyncio.create_task(trickle())
        try:
            assert await _closed(reader) == b""
        finally:
            dripping.cancel()
            await asyncio.gather(dripping, return_exceptions=True)
    finally:
        writer.close()


async def test_half_sent_body_is_cut(start_daemon: Start) -> None:
    """Headers complete, a tenth of the promised body, then silence: closed, not answered."""
    d = await start_daemon({"web": {"request_timeout": 0.5}})
    reader, writer = await _connect(d)
    try:
        head = (
            "POST /api/memory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {d.rt.token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        writer.write(head.encode() + b'{"text": "')
        await writer.drain()
        answer = await _closed(reader)
        assert not answer.startswith(b"HTTP/1.1 2"), answer
    finally:
        writer.close()
    status, body = await d.api("GET", "/api/memory")
    assert status == 200 and body["memories"] == []


async def test_cap_evicts_idle_connections_and_real_requests_get_through(
    start_daemon: Start,
) -> None:
    """Far more half-open connections than the cap: health still answers, the cap holds."""
    d = await start_daemon({"web": {"request_timeout": 60, "max_connections": 16}})
    guard = d.rt.services["connections"]
    held = []
    try:
        for _ in range(60):
            reader, writer = await _connect(d)
            writer.write(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            await writer.drain()
            held.append((reader, writer))
        for _ in range(5):
            status, body = await d.api("GET", "/api/health")
            assert status == 200 and body["components"]["connections"]["cap"] == 16
        assert guard.open <= 16 and guard.evicted >= 60 - 16
        # The evicted ones were really closed (the first ones, oldest first).
        assert await _closed(held[0][0]) == b""
    finally:
        for _, writer in held:
            writer.close()


def test_cap_shrinks_to_fit_the_open_file_limit() -> None:
    """With a hard limit of 1,000 files the cap of 1,024 shrinks to what fits."""
    code = (
        "import resource; from agent.web.limits import fit_file_limit, RESERVED_FILES;"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1000, 1000));"
        "print(fit_file_limit(1024), 1000 - RESERVED_FILES);"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (100, 1000));"
        "print(fit_file_limit(256), resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out[0] == out[1]  # shrunk to the hard limit minus the reserve
    assert out[2:] == ["256", str(256 + 512)]  # the soft limit raised to fit
