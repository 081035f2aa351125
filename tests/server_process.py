"""A server a test started as a second process: the faults tests inflict on it, and its stop."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass


@dataclass
class ServerProcess:
    """A running server's process (tests of server faults kill or pause it)."""

    proc: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: the server dies mid-request, as on an out-of-memory kill or a crash."""
        self.proc.kill()
        self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections and nothing answers, as a hung server does."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server whatever state a test left it in: paused, killed, or running."""
    # send_signal, not os.kill: a server a test killed (from another thread) may be reaped in between
    proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
