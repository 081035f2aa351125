"""Documents are read in a child process, so that no single file can hang an ingest or take it down.

The files in a documents folder are untrusted input: a parser can meet a file that makes it run
for minutes or eat gigabytes (a hostile PDF, a pathological HTML page, an input that hits a slow
path nobody has found yet). ``LoadWorker`` runs ``load_document`` in one long-lived child process
with a time limit per file and a ceiling on its memory. A file that runs past the limit, exhausts
the memory or kills the reader becomes a reported skip of that file; the child is replaced and
the ingest (or the watching bot) goes on. The child starts on the first file that needs reading,
so an ingest with nothing to do starts none, and it reads while the parent embeds.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest.documents.document import Document
from ingest.documents.loaders import load_document
from ingest.errors import NothingToIndex, SkipFile

log = logging.getLogger(__name__)

#: How long a reader gets to start (imports) before it counts as broken.
_START_S = 60.0


def _serve(conn_in: Connection, conn_out: Connection, memory_bytes: int) -> None:
    """The child: read each path sent, answer ("ok", doc), ("skip", reason) or ("error", text)."""
    if memory_bytes > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    conn_out.send(("ready", None))
    while True:
        try:
            path, root = conn_in.recv()
        except EOFError:  # the parent is gone
            return
        try:
            conn_out.send(("ok", load_document(Path(path), Path(root) if root else None)))
        except NothingToIndex as exc:
            conn_out.send(("empty", str(exc)))
        except SkipFile as exc:
            conn_out.send(("skip", str(exc)))
        except MemoryError:
            conn_out.send(("skip", "too large to read within the reader's memory limit (CITEBOT_LOAD_MEMORY_MB)"))
        except Exception as exc:  # a parser bug on one file is that file's problem
            conn_out.send(("error", f"{type(exc).__name__}: {str(exc)[:200]}"))


class LoadWorker:
    """``load(path)``: ``load_document`` in a child process, with a time limit per file and a memory ceiling.

    Args:
        timeout: seconds one file may take to read; past it the file is skipped.
        memory_mb: the child's address-space limit in MB (0: none).
    """

    def __init__(self, timeout: float, memory_mb: int = 0) -> None:
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None  # answers from the child
        self._out: Connection | None = None  # paths to the child
        self._broken = False  # a child could not be started here: read in this process

    def load(self, path: Path, root: Path | None = None) -> Document:
        """The document at ``path`` (its includes read from ``root``, its source's folder); ``SkipFile``
        with a reason when it cannot be read in time and memory."""
        with self._lock:
            conn = self._ensure()
            if conn is None:  # no child process here: read in this one, without the limits
                return load_document(path, root)
            assert self._out is not None
            self._out.send((str(path), str(root) if root else ""))
            if not conn.poll(self.timeout):
                self._stop()
                raise SkipFile(f"took longer than {self.timeout:g} s to read (CITEBOT_FILE_TIMEOUT); skipped")
            try:
                kind, value = conn.recv()
            except (EOFError, OSError):
                code = self._stop()
                raise SkipFile(f"the reader died on this file (exit {code}): out of memory or a parser crash") from None
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "empty":
            raise NothingToIndex(value)
        if kind == "skip":
            raise SkipFile(value)
        raise SkipFile(f"the reader failed on it ({value})")

    def close(self) -> None:
        """Stop the child (it also ends with the parent)."""
        with self._lock:
            self._stop()

    def _ensure(self) -> Connection | None:
        """The child's end of the pipe, starting the child if needed; None where no child can run."""
        if self._proc is not None and self._proc.poll() is None and self._conn is not None:
            return self._conn
        self._stop()
        if self._broken:
            return None
        # a plain child process, not multiprocessing's spawn: that would re-run the parent's __main__
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "ingest.documents.load_worker", str(self.memory_mb * 1024 * 1024)]
        try:
            # its own session: Ctrl-C at a terminal goes to the foreground process group, and the parent,
            # not the reader, decides what it means (the reader ends with its pipe)
            proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True
            )
        except OSError as exc:
            self._give_up(f"cannot start it ({exc})")
            return None
        assert proc.stdin is not None and proc.stdout is not None
        to_child, from_child = Connection(os.dup(proc.stdin.fileno())), Connection(os.dup(proc.stdout.fileno()))
        proc.stdin.close()
        proc.stdout.close()
        try:
            ready = from_child.poll(_START_S) and from_child.recv() == ("ready", None)
        except (OSError, EOFError):
            ready = False
        if not ready:
            to_child.close()
            from_child.close()
            proc.kill()
            proc.wait()
            self._give_up(f"it did not start (exit {proc.returncode})")
            return None
        self._proc, self._conn, self._out = proc, from_child, to_child
        return from_child

    def _give_up(self, why: str) -> None:
        self._broken = True
        log.warning("no document reader process (%s); reading in this one, without time or memory limits", why)

    def _stop(self) -> int | None:
        proc, conns = self._proc, (self._conn, self._out)
        self._proc = self._conn = self._out = None
        for conn in conns:
            if conn is not None:
                conn.close()
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        return proc.wait()  # type: ignore[no-any-return]


def main() -> None:
    """``python -m ingest.documents.load_worker MEMORY_BYTES``: serve paths from stdin, documents to stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C; this process ends with its pipe
    protocol_out = os.dup(1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the answers
    _serve(Connection(os.dup(0)), Connection(protocol_out), int(sys.argv[1]) if len(sys.argv) > 1 else 0)


if __name__ == "__main__":
    main()
