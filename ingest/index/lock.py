"""One writer per index: the lock every ingest (plain, ``--rebuild``, ``--watch``, Discord) holds while it writes.

Two ingests of one index would both do all the work, and one beside a rebuild would find its
collections gone. The lock makes the second wait for the first (then find little or nothing left
to do) or refuse with a line naming the holder.

* Embedded store: an ``flock`` on a file beside the index folder. The kernel releases it when the
  holder exits, however it exits, so a killed ingest never leaves the index locked. The holder
  deletes the file before it lets go, so none is left beside an index nobody is writing (one a
  killed holder left is taken over and deleted by the next ingest).
* Chroma server: no shared file system, so the lock is a collection, ``<name>-lock``, whose
  creation is atomic on the server. Its metadata names the holder (host, pid, start) and a
  heartbeat the holder refreshes every ``HEARTBEAT_S``; a lock whose heartbeat is older than
  ``STALE_S``, or whose holder is a process of this host that no longer exists, is broken.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ingest.errors import IngestLockedError
from ingest.index.chroma_client import Place, guard

log = logging.getLogger(__name__)

#: How often a server lock's holder proves it is alive.
HEARTBEAT_S = 10.0
#: A server lock not refreshed for this long belongs to a holder that died on another host.
STALE_S = 60.0
#: How often a waiting ingest tries again.
POLL_S = 0.5

WaitFn = Callable[[str], None]


def _holder() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time(), "heartbeat": time.time()}


def describe_holder(holder: dict[str, Any]) -> str:
    """'pid 123 on host h, running since 19:52:01' for a lock's holder."""
    started = time.strftime("%H:%M:%S", time.localtime(float(holder.get("started", 0) or 0)))
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, running since {started}"


@contextmanager
def ingest_lock(
    *,
    client: Any,
    name: str,
    wait: float,
    on_wait: WaitFn | None = None,
    place: Place,
) -> Iterator[None]:
    """Hold the ingest lock of index ``name`` inside the block.

    Args:
        wait: seconds to wait for another holder to finish; 0 refuses at once.
        on_wait: called once with a line naming the holder when this call starts waiting.
        place: where the index is: on a Chroma server (``client`` holds the lock), or in ``index_dir``.

    Raises ``IngestLockedError`` naming the holder when the lock is still held after ``wait``.
    """
    lock: _Lock = _ServerLock(client, name, place) if place.host else _FileLock(_lock_path(place.index_dir, name))
    deadline = time.monotonic() + max(0.0, wait)
    told = False
    while True:
        holder = lock.try_acquire()
        if holder is None:
            break
        line = f"another ingest ({describe_holder(holder)}) is writing this index"
        if time.monotonic() >= deadline:
            hint = "; wait for it to finish" + (" (or set CITEBOT_INGEST_WAIT to wait longer)" if wait else "")
            raise IngestLockedError(line + hint)
        if not told and on_wait is not None:
            on_wait(line + "; waiting for it to finish")
            told = True
        time.sleep(POLL_S)
    try:
        yield
    finally:
        lock.release()


def _lock_path(index_dir: Path | None, name: str) -> Path:
    """Beside the index folder, not in it: a rebuild may move a damaged folder aside while holding the lock."""
    if index_dir is None:
        raise IngestLockedError("no index folder to lock (set CITEBOT_INDEX_DIR)")
    folder = index_dir.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder.parent / f".{folder.name}.{name}.ingest.index.lock"


class _Lock:
    def try_acquire(self) -> dict[str, Any] | None:
        """Take the lock and return None, or return the current holder."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class _FileLock(_Lock):
    """``flock`` on a file: released by the kernel when its holder exits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> dict[str, Any] | None:
        import fcntl

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
                except ValueError:  # the holder is writing its name this very moment
                    holder = {}
                os.close(fd)
                return holder if isinstance(holder, dict) else {}
            if self._still_named(fd):
                break
            os.close(fd)  # the holder deleted this file as it let go: lock the one now at the path
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder()).encode(), 0)
        self._fd = fd
        return None

    def _still_named(self, fd: int) -> bool:
        """Whether the file locked through ``fd`` is still the one at the path (not deleted by its last holder)."""
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            return False
        opened = os.fstat(fd)
        return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # while still held: a waiter that opened it sees it gone and opens afresh
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class _ServerLock(_Lock):
    """A ``<name>-lock`` collection on the server, kept alive by a heartbeat thread."""

    def __init__(self, client: Any, name: str, place: Place) -> None:
        self.client = client
        self.place = place
        self.name = f"{name}-lock"
        self._token = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def try_acquire(self) -> dict[str, Any] | None:
        failure: Exception = IngestLockedError(f"cannot take the ingest lock {self.name} on {self.place}")
        for _attempt in range(3):
            holder = {**_holder(), "token": self._token}
            try:
                collection = self.client.create_collection(self.name, metadata=holder, embedding_function=None)
            except Exception as exc:  # it exists (chromadb raises different types for that across versions)
                current = self._current()
                if current is None:  # released meanwhile, or the server is failing: try again
                    failure = exc
                    continue
                if not self._is_stale(current):
                    return current
                log.warning("breaking the stale ingest lock of %s", describe_holder(current))
                self._delete()
                continue
            self._beat = threading.Thread(target=self._heartbeat, args=(collection, holder), daemon=True)
            self._beat.start()
            return None
        with guard(self.place):
            raise failure

    def _current(self) -> dict[str, Any] | None:
        try:
            return dict(self.client.get_collection(self.name, embedding_function=None).metadata or {})
        except Exception:
            return None

    def _is_stale(self, holder: dict[str, Any]) -> bool:
        if time.time() - float(holder.get("heartbeat", 0) or 0) > STALE_S:
            return True
        if holder.get("host") == socket.gethostname():
            pid = int(holder.get("pid", 0) or 0)
            # this very process holds no lock now: one of its own is left from a release the server missed
            return pid == os.getpid() or not _pid_alive(pid)
        return False

    def _heartbeat(self, collection: Any, holder: dict[str, Any]) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                collection.modify(metadata={**holder, "heartbeat": time.time()})
            except Exception as exc:  # the server is down: the ingest itself will report it
                log.debug("lock heartbeat failed: %s", exc)

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        current = self._current()
        if current is not None and current.get("token") == self._token:
            self._delete()

    def _delete(self) -> None:
        try:
            self.client.delete_collection(self.name)
        except Exception as exc:  # gone already, or the server is down
            log.debug("cannot delete lock %s: %s", self.name, exc)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True
