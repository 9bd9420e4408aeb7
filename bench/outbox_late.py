"""A Twilio that accepts late, at the real timings: how many messages arrive twice.

Usage: python bench/outbox_late.py [--delays 1 5 31 60] [--messages 3]
       [--timeout 15] [--resend-after 120]

For each delay, a Twilio fake that records each create only after that many seconds
(even when the house stopped waiting, as Twilio does) receives `--messages` messages
through the real outbox and TwilioSender over the twilio SDK (one SQLite file per
delay, all delays at once). Prints, per delay: messages, copies Twilio kept, duplicates,
send attempts, and seconds until the outbox had each one recorded as sent.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ comes first on sys.path (and bench/memory.py is not the package).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.bus import Bus
from agent.messaging.outbox import Outbox
from agent.store import Store
from agent.supervise import Supervisor
from integrations.twilio.config import TwilioConfig
from integrations.twilio.sender import TwilioSender
from integrations.twilio.simulator import TwilioFake

OWNER, HOUSE = "+15550100", "+15550199"


async def one_delay(delay: float, args: argparse.Namespace, folder: Path) -> str:
    fake = await TwilioFake(numbers=(HOUSE,)).start()
    fake.latency = delay
    store = Store(folder / f"late-{delay:g}.db")
    bus = Bus()
    outbox = Outbox(store, bus)
    config = TwilioConfig(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        sms_from=HOUSE,
        api_base_url=fake.base_url,
        timeout=args.timeout,
        resend_after=args.resend_after,
        rate_per_minute=600,
    )
    sender = TwilioSender(
        config,
        media=None,
        public_url=lambda: None,
        last_inbound=lambda channel, address: None,
        is_known_sid=lambda sid: (
            store.one("SELECT 1 FROM outbox WHERE provider_id = ?", (sid,)) is not None
        ),
    )
    outbox.register(sender)
    supervisor = Supervisor(bus)
    started = time.monotonic()
    ids = [
        outbox.enqueue("sms", OWNER, f"message {i} (delay {delay:g} s)")
        for i in range(args.messages)
    ]
    outbox.spawn(supervisor)
    done: dict[int, float] = {}
    try:
        limit = started + delay * args.messages + args.resend_after * 2 + 60
        while len(done) < len(ids) and time.monotonic() < limit:
            for message_id in ids:
                row = outbox.get(message_id)
                if message_id not in done and row and row["status"] in ("sent", "delivered"):
                    done[message_id] = time.monotonic() - started
            await asyncio.sleep(0.2)
        while fake.pending_creates and time.monotonic() < limit:
            await asyncio.sleep(0.2)  # let Twilio finish what it was still accepting
        copies = len(fake.sent_to(OWNER))
        attempts = sum((outbox.get(i) or {}).get("attempts", 0) for i in ids)
        times = ", ".join(f"{done[i]:.1f}" for i in ids if i in done)
        return (
            f"accepts after {delay:>4g} s: {len(ids)} messages, {copies} kept by Twilio, "
            f"{copies - len(ids)} duplicates, {len(done)} recorded sent, {attempts} send "
            f"attempts; sent after [{times}] s"
        )
    finally:
        await supervisor.stop()
        await sender.close()
        store.close()
        await fake.stop()


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="homeclaw-late-"))
    print(
        f"twilio.timeout {args.timeout:g} s, resend_after {args.resend_after:g} s, "
        f"{args.messages} messages per delay"
    )
    for line in await asyncio.gather(*(one_delay(d, args, folder) for d in args.delays)):
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", type=float, nargs="+", default=[1, 5, 31, 60])
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--resend-after", type=float, default=120.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
