"""Fault test of the outbox: kill -9 the daemon at random moments while 50 messages are queued.

The Twilio fake runs in this process (it survives the kills); the daemon runs
as a child process (messaging component only) that is SIGKILLed at random
moments and restarted, until every message has been delivered. The fake adds
latency before and after it records a message, so many kills land in the
window where Twilio accepted a message but the daemon had not yet recorded it.
Prints how many messages arrived, how many arrived twice, and how many were lost.

    python bench/outbox_crash.py [--messages 50] [--rounds 1] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.demo.simulation import free_port  # noqa: E402
from integrations.twilio.simulator import TwilioFake  # noqa: E402

OWNER = "+15550100"
HOUSE = "+15550199"


def child(home: str) -> None:
    """The daemon, with only the messaging bridge (what this bench is about)."""
    import agent.daemon as daemon
    from agent.config import load_config
    from agent.paths import HomePaths

    daemon.COMPONENTS = ["agent.messaging.bridge:create"]
    paths = HomePaths(Path(home))
    rt = daemon.build_runtime(load_config(paths.config), paths)
    asyncio.run(daemon.serve(rt))


def write_home(home: Path, fake: TwilioFake, port: int) -> None:
    config = {
        "web": {"host": "127.0.0.1", "port": port},
        "logging": {"level": "warning"},
        "people": [{"name": "Ann", "role": "owner", "phone": OWNER}],
        "twilio": {
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
            "sms_from": HOUSE,
            "api_base_url": fake.base_url,
            "rate_per_minute": 6000,
            "daily_budget": 100000,
        },
    }
    home.mkdir(parents=True, exist_ok=True)
    with (home / "config.yaml").open("w") as fh:
        YAML().dump(config, fh)


def spawn(home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", str(home)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def wait_ready(url: str, token: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await asyncio.to_thread(call, url, token, "GET", "/api/health")
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("daemon did not start")


def call(url: str, token: str, method: str, path: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def outbox_states(home: Path) -> tuple[collections.Counter[str], int]:
    """Rows per status, and how many were recovered by asking Twilio after a kill."""
    with sqlite3.connect(home / "homeclaw.db") as db:
        states = collections.Counter(row[0] for row in db.execute("SELECT status FROM outbox"))
        recovered = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE note LIKE '%recovered after%'"
        ).fetchone()[0]
    return states, int(recovered)


async def one_round(messages: int, rng: random.Random, fake: TwilioFake) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="hc-outbox-crash-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    write_home(home, fake, port)
    run_id = rng.getrandbits(32)
    bodies = [f"bench {run_id:08x} message {i:03d}" for i in range(messages)]
    kills = 0
    proc = spawn(home)
    started = time.monotonic()
    try:
        token = ""
        while not token:
            await asyncio.sleep(0.05)
            token = (home / "token").read_text().strip() if (home / "token").exists() else ""
        await wait_ready(url, token)
        # Queue everything first (each API call returns after the row is committed),
        # with the sender already running: kills then land mid-delivery.
        for i, body in enumerate(bodies):
            await asyncio.to_thread(
                call,
                url,
                token,
                "POST",
                "/api/messages",
                {"channel": "sms", "to": OWNER, "text": body, "dedupe_key": f"bench-{i}"},
            )
        while True:
            sent = {m.body for m in fake.sent_to(OWNER)}
            if all(b in sent for b in bodies):
                break
            await asyncio.sleep(rng.uniform(0.02, 0.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
            proc = spawn(home)
            await wait_ready(url, token)
        # Let the final daemon record the last provider ids, then stop it cleanly.
        await asyncio.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    counts = collections.Counter(m.body for m in fake.sent_to(OWNER) if m.body in bodies)
    states, recovered = outbox_states(home)
    return {
        "messages": messages,
        "kills": kills,
        "delivered_once": sum(1 for b in bodies if counts[b] == 1),
        "duplicates": sum(max(0, counts[b] - 1) for b in bodies),
        "lost": sum(1 for b in bodies if counts[b] == 0),
        "outbox_states": dict(states),
        "recovered_by_reconcile": recovered,
        "seconds": round(time.monotonic() - started, 1),
    }


async def main(messages: int, rounds: int, seed: int) -> int:
    # A killed daemon drops connections mid-request; the fake's server logs that noisily.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    rng = random.Random(seed)
    fake = await TwilioFake(numbers=(HOUSE,)).start()
    fake.latency = 0.02
    fake.accept_latency = 0.05
    try:
        results = [await one_round(messages, rng, fake) for _ in range(rounds)]
    finally:
        await fake.stop()
    for result in results:
        print(json.dumps(result))
    total = sum(int(r["messages"]) for r in results)  # type: ignore[call-overload]
    once = sum(int(r["delivered_once"]) for r in results)  # type: ignore[call-overload]
    kills = sum(int(r["kills"]) for r in results)  # type: ignore[call-overload]
    print(
        f"outbox crash test: {once}/{total} messages delivered exactly once "
        f"across {kills} kill -9 restarts (seed {seed})"
    )
    return 0 if once == total else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
    else:
        sys.exit(asyncio.run(main(args.messages, args.rounds, args.seed)))
