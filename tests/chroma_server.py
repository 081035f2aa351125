"""A real `chroma run` server on 127.0.0.1 for the server tests (found next to the Python running pytest)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.server_process import ServerProcess, stop


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_executable() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


@dataclass
class ChromaProcess(ServerProcess):
    """A running `chroma run`: its address and process (tests of server faults stop or kill it)."""

    host: str
    port: int


@contextmanager
def chroma_process(path: Path, timeout: float = 60) -> Iterator[ChromaProcess]:
    """Start `chroma run --path PATH` on a free port, wait for its heartbeat, stop it afterwards."""
    exe = chroma_executable()
    if exe is None:
        import pytest

        pytest.skip("the `chroma` executable (from the chromadb package) is not installed")
    port = free_port()
    log = (path.parent / f"chroma-{port}.log").open("wb")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma server did not start; see {log.name}")
            time.sleep(0.2)
        yield ChromaProcess(proc=proc, host="127.0.0.1", port=port)
    finally:
        stop(proc)
        log.close()


@contextmanager
def chroma_server(path: Path, timeout: float = 60) -> Iterator[tuple[str, int]]:
    """Start `chroma run --path PATH` on a free port; yields (host, port)."""
    with chroma_process(path, timeout) as server:
        yield server.host, server.port
