"""DeviceWatchers: backoff, per-host health, crash propagation, restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from agent.bus import Bus
from agent.errors import DeviceUnavailable
from agent.home import Home
from integrations.watchers import DeviceWatchers
from integrations.wled.config import WledConfig
from tests.util import eventually

log = logging.getLogger("tests.watchers")


class FakeLink:
    """A link whose attempts follow a script: "fail", "connect-fail", "hang" or "crash"."""

    def __init__(self, host: str, script: list[str]) -> None:
        self.host = host
        self.script = script
        self.attempts = 0
        self.unavailable = 0

    def mark_unavailable(self, home: Home) -> None:
        self.unavailable += 1


async def attend(link: FakeLink, home: Home, on_connected: Callable[[], None]) -> None:
    step = link.script[min(link.attempts, len(link.script) - 1)]
    link.attempts += 1
    if step == "crash":
        raise RuntimeError("a bug")
    if step == "hang":
        await asyncio.Event().wait()
    if step == "connect-fail":
        on_connected()
    raise DeviceUnavailable(f"{link.host} is not reachable.")


class FakeSupervisor:
    def __init__(self) -> None:
        self.statuses: list[tuple[str, str, str]] = []

    def set_status(self, name: str, status: str, detail: str = "") -> None:
        self.statuses.append((name, status, detail))


def watchers(supervisor: FakeSupervisor | None = None) -> DeviceWatchers[FakeLink]:
    return DeviceWatchers[FakeLink](
        "fake",
        attend,
        WledConfig(retry_initial=0.01, retry_max=0.04),
        supervisor,  # type: ignore[arg-type]
        log,
        label="fake device",
    )


async def test_backoff_logs_first_failure_and_failure_after_connecting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tests.watchers")
    supervisor = FakeSupervisor()
    link = FakeLink("127.0.0.51", ["fail", "fail", "fail", "connect-fail", "hang"])
    task = asyncio.create_task(watchers(supervisor).run(Home(bus=Bus()), [link]))
    try:
        await eventually(lambda: link.attempts == 5, timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    delays = [r.args[3] for r in caplog.records if isinstance(r.args, tuple)]
    assert delays == [0.01, 0.01]  # the first failure, then the one after connecting
    assert link.unavailable == 4
    statuses = supervisor.statuses
    changes = [s[1] for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]
    assert changes == ["degraded", "running", "degraded"]
    assert supervisor.statuses[0] == (
        "integration:fake",
        "degraded",
        "127.0.0.51: 127.0.0.51 is not reachable.",
    )


async def test_one_host_down_keeps_the_others_watched() -> None:
    supervisor = FakeSupervisor()
    down, up = FakeLink("a", ["fail"]), FakeLink("b", ["hang"])
    task = asyncio.create_task(watchers(supervisor).run(Home(bus=Bus()), [down, up]))
    try:
        await eventually(lambda: down.attempts >= 3, timeout=5)
        assert up.attempts == 1 and up.unavailable == 0
        assert supervisor.statuses[-1][1:] == ("degraded", "a: a is not reachable.")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_bug_in_a_watcher_ends_run() -> None:
    calm = FakeLink("calm", ["hang"])
    with pytest.raises(RuntimeError, match="a bug"):
        await asyncio.wait_for(
            watchers().run(Home(bus=Bus()), [calm, FakeLink("x", ["crash"])]), timeout=5
        )


async def test_restart_and_add_at_runtime() -> None:
    w = watchers()
    link = FakeLink("old", ["hang"])
    task = asyncio.create_task(w.run(Home(bus=Bus()), [link]))
    try:
        await eventually(lambda: link.attempts == 1, timeout=5)
        link.host = "new"
        w.restart(link)
        await eventually(lambda: link.attempts == 2, timeout=5)
        extra = FakeLink("extra", ["hang"])
        w.add(extra)
        await eventually(lambda: extra.attempts == 1, timeout=5)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert link.unavailable == 0  # a restart is not a failure
