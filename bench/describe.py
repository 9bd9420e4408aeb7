"""Describer latency per event for each installed backend, and the pipeline overhead.

    python bench/describe.py                    # none + the tiny offline model
    python bench/describe.py --model HuggingFaceTB/SmolVLM-256M-Instruct
    python bench/describe.py --ollama http://127.0.0.1:11434 --ollama-model qwen2.5vl:3b
    python bench/describe.py --openai http://127.0.0.1:8000/v1 --openai-model my-vlm

Each backend describes the simulator's truck keyframes `--events` times; the
first call (model loading) is reported apart from the steady state. Then the
whole pipeline runs in a real daemon (simulated MJPEG camera → motion → event
→ describer → notifier) and prints motion start → message in the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision.config import VisionConfig
from vision.describe import Request
from vision.describers import create_describer
from vision.eventlog import encode_jpeg
from vision.scenes import render


async def measure(label: str, config: VisionConfig, request: Request, events: int) -> None:
    """Describe the same event `events` times; print first-call and steady latencies."""
    describer = create_describer(config)
    started = time.perf_counter()
    first = await describer.describe(request)
    first_s = time.perf_counter() - started
    if first.error:
        print(f"{label:<34} unavailable: {first.error}")
        return
    times = []
    for _ in range(events):
        started = time.perf_counter()
        result = await describer.describe(request)
        times.append(time.perf_counter() - started)
    print(
        f"{label:<34} first {first_s:6.2f} s   median {statistics.median(times):6.3f} s   "
        f"max {max(times):6.3f} s   -> {result.title[:60]!r}"
    )


class RecordingOutbox:
    """Stands in for the outbox: records when each message was handed over."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, str, list[str]]] = []

    def notify_owner(self, text: str, media: list[str] = (), *, dedupe_key: str = "") -> int:  # type: ignore[assignment]
        self.messages.append((time.time(), text, list(media)))
        return len(self.messages)


async def pipeline(vision: dict[str, object], label: str) -> None:
    """Truck scene on a simulated camera → time until the message reaches the outbox."""
    from ruamel.yaml import YAML

    from agent.bus import Notice
    from agent.config import load_config
    from agent.daemon import Daemon, build_runtime
    from agent.paths import HomePaths
    from vision.simulator import SimulatedCamera

    camera = SimulatedCamera("driveway", frames_per_scene=60)
    await camera.start()
    await camera.prepare("truck")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = {
            "web": {"host": "127.0.0.1", "port": 0},
            "cameras": [{"name": "driveway", "url": camera.mjpeg_url, "notify": ["motion"]}],
            "vision": vision,
        }
        with (root / "config.yaml").open("w") as fh:
            YAML().dump(config, fh)
        rt = build_runtime(load_config(root / "config.yaml"), HomePaths(root))
        daemon = Daemon(rt)
        await daemon.start()
        outbox = RecordingOutbox()
        rt.services["outbox"] = outbox
        described: list[tuple[float, str]] = []

        def on_notice(notice: Notice) -> None:
            if notice.topic == "camera_event" and notice.data.get("stage") == "described":
                described.append((time.time(), str(notice.data.get("title"))))

        rt.bus.on(Notice, on_notice)
        try:
            watcher = rt.service("vision").watchers["driveway"]
            while watcher.frames < 30:  # the detector learns the empty scene
                await asyncio.sleep(0.1)
            camera.play("truck", hold=True)
            deadline = time.time() + 60
            while not (outbox.messages and described) and time.time() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)
            start = camera.history[-1][0] + 0.35 * 60 / camera.fps  # the truck enters
            for when, title in described[:1]:
                print(f"{label:<34} motion start -> described {when - start:5.2f} s: {title!r}")
            for sent, text, media in outbox.messages[:2]:
                kind = "photo" if media else "text"
                print(
                    f"{label:<34} motion start -> {kind} in outbox {sent - start:5.2f} s: {text!r}"
                )
            if not outbox.messages:
                print(f"{label:<34} no message (the description was not worth one)")
        finally:
            await daemon.stop()
            await camera.stop()


async def main() -> int:
    """Run every backend that is available."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--model", help="a transformers model id or folder (may download)")
    parser.add_argument("--ollama", help="Ollama base URL")
    parser.add_argument("--ollama-model", default="qwen2.5vl:3b")
    parser.add_argument("--openai", help="OpenAI-compatible base URL")
    parser.add_argument("--openai-model", default="gpt-4o-mini")
    args = parser.parse_args()
    clip = render("truck", 640, 360, 60)
    request = Request(
        "driveway",
        (encode_jpeg(clip.frames[-1]), encode_jpeg(clip.frames[40])),
        "garage",
        {"where": "near centre", "size": "large", "duration": 4.0},
    )
    await measure("none", VisionConfig(describer="none"), request, args.events)
    if all(importlib.util.find_spec(m) for m in ("torch", "transformers", "tokenizers")):
        from vision.tinymodel import build_tiny_model

        with tempfile.TemporaryDirectory() as tmp:
            folder = build_tiny_model(Path(tmp) / "tiny")
            config = VisionConfig(describer="transformers", model=str(folder), max_new_tokens=40)
            await measure("transformers (tiny random model)", config, request, args.events)
        if args.model:
            config = VisionConfig(
                describer="transformers", model=args.model, max_new_tokens=40, timeout=600
            )
            await measure(f"transformers ({args.model})", config, request, args.events)
    else:
        print("transformers: not installed (pip install 'homeclaw[vision]')")
    if args.ollama:
        config = VisionConfig(describer="ollama", base_url=args.ollama, model=args.ollama_model)
        await measure(f"ollama ({args.ollama_model})", config, request, args.events)
    if args.openai:
        config = VisionConfig(describer="openai", base_url=args.openai, model=args.openai_model)
        await measure(f"openai ({args.openai_model})", config, request, args.events)
    await pipeline({"describer": "none"}, "pipeline, describer none")
    if all(importlib.util.find_spec(m) for m in ("torch", "transformers", "tokenizers")):
        from vision.tinymodel import build_tiny_model

        with tempfile.TemporaryDirectory() as tmp:
            folder = build_tiny_model(Path(tmp) / "tiny")
            await pipeline(
                {"describer": "transformers", "model": str(folder)}, "pipeline, tiny model"
            )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
