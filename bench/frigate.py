"""A Frigate person event → the owner's message in the outbox, with its snapshot: how long.

    python bench/frigate.py [--events 20]

Everything real but Frigate: a broker (Mosquitto if installed, else amqtt), the
Frigate simulator publishing `frigate/events` and serving its API, a daemon
with the owner on a Telegram fake, the real outbox. Measured from the moment
the simulator publishes the object's `new` message to the outbox row's
creation (the snapshot is fetched, saved and attached by then), and to the
photo reaching the Telegram fake. Synthetic: the simulator, on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def run(events: int) -> None:
    """Start everything, play `events` people at the door, print the latencies."""
    from ruamel.yaml import YAML

    from agent.config import load_config
    from agent.daemon import Daemon, build_runtime
    from agent.demo import DemoBroker
    from agent.paths import HomePaths
    from integrations.frigate.simulator import FakeFrigate
    from integrations.telegram.simulator import TelegramFake

    broker = await DemoBroker().start()
    frigate = await FakeFrigate((broker.host, broker.port), cameras=("front_door",)).start()
    telegram = await TelegramFake().start()
    daemon: Daemon | None = None
    try:
        root = Path(tempfile.mkdtemp(prefix="bench-frigate-"))
        config = {
            "web": {"host": "127.0.0.1", "port": 0},
            "discovery": {"interfaces": ["127.0.0.1"]},
            "people": [{"name": "Sam", "role": "owner", "telegram": 1001}],
            "telegram": {"bot_token": telegram.token, "api_base_url": telegram.base_url},
            "frigate": {
                "mqtt": {"host": broker.host, "port": broker.port},
                "url": frigate.url,
                "cameras": [{"name": "front_door", "cooldown": 0}],
            },
        }
        with (root / "config.yaml").open("w") as fh:
            YAML().dump(config, fh)
        rt = build_runtime(load_config(root / "config.yaml"), HomePaths(root))
        daemon = Daemon(rt)
        await daemon.start()
        deadline = time.monotonic() + 10
        while not (rt.supervisor.health.get("frigate") or _Nothing).detail.startswith("subscribed"):
            if time.monotonic() > deadline:
                raise SystemExit("the daemon never subscribed to Frigate's topics")
            await asyncio.sleep(0.05)
        to_outbox: list[float] = []
        to_phone: list[float] = []
        for _ in range(events):
            photos = sum(len(m.photos) for m in telegram.sent)
            task = asyncio.create_task(frigate.detect("front_door", "person", duration=0.5))
            await asyncio.sleep(0)
            while not frigate.published or frigate.published[-1][0] != "events":
                await asyncio.sleep(0.001)
            published = frigate.published[-1][1]
            row = None
            while row is None:
                row = rt.store.one(
                    "SELECT created, media FROM outbox WHERE created >= ? "
                    "AND dedupe_key LIKE 'camera-event:frigate-%'",
                    (published,),
                )
                await asyncio.sleep(0.005)
            to_outbox.append(row["created"] - published)
            while sum(len(m.photos) for m in telegram.sent) == photos:
                await asyncio.sleep(0.005)
            to_phone.append(time.time() - published)
            await task
        for label, values in (
            ("→ outbox (with snapshot)", to_outbox),
            ("→ photo at Telegram fake", to_phone),
        ):
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            median = statistics.median(values) * 1000
            print(
                f"Frigate person event {label:<26} median {median:6.0f} ms   p95 {p95 * 1000:6.0f}"
                f" ms   max {max(values) * 1000:6.0f} ms   ({len(values)} events)"
            )
    finally:
        if daemon is not None:
            await daemon.stop()
        await telegram.stop()
        await frigate.stop()
        await broker.stop()


class _Nothing:
    detail = ""


def main() -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
