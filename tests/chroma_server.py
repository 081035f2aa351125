"""A real `chroma run` server on 127.0.0.1 for the server tests (found next to the Python running pytest)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_executable() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


@dataclass
class ChromaProcess:
    """A running `chroma run`: its address and process (tests of server faults stop or kill it)."""

    host: str
    port: int
    proc: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: the server dies mid-request, as on an out-of-memory kill or a crash."""
        self.proc.kill()
        self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP: the server keeps its port open and never answers, as a hung server does."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)


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
        yield ChromaProcess("127.0.0.1", port, proc)
    finally:
        # send_signal, not os.kill: a server a test killed (from another thread) may be reaped in between
        proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def chroma_server(path: Path, timeout: float = 60) -> Iterator[tuple[str, int]]:
    """Start `chroma run --path PATH` on a free port; yields (host, port)."""
    with chroma_process(path, timeout) as server:
        yield server.host, server.port
