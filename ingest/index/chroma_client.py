"""Opening Chroma (an embedded folder or a server), and turning its failures into one line a user can act on.

Chroma fails in many library-specific ways: httpx errors from a server that is down, stopped or
dies mid-request (often re-raised by chromadb as a bare ``ValueError``), ``chromadb.errors`` types,
sqlite errors from a damaged or full disk. ``store_failure`` reads the whole exception chain and
names the real cause and what to do about it; ``Guarded`` applies it to every call on a collection,
so no Chroma exception leaves the store as anything but a ``StoreUnavailableError``.

A server client gets connect and read timeouts (chromadb's own HTTP session has none, so a stopped
server would hang every call forever): the server is first asked for its heartbeat with those
timeouts, then the client's session is given them.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import CollectionGoneError, IndexDamagedError, StoreUnavailableError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Place:
    """Where the index lives, as messages name it, with the timeouts its calls run under."""

    index_dir: Path | None = None
    host: str | None = None
    port: int = 8000
    connect_timeout: float = 5.0
    timeout: float = 60.0

    def __str__(self) -> str:
        if self.host:
            return f"the Chroma server at {self.host}:{self.port}"
        return f"the index at {self.index_dir}" if self.index_dir else "the Chroma store"


def open_client(
    index_dir: Path | None = None,
    host: str | None = None,
    port: int = 8000,
    *,
    connect_timeout: float = 5.0,
    timeout: float = 60.0,
) -> Any:
    """A Chroma client: a server at ``host:port`` when host is set, else an embedded store in ``index_dir``.

    Raises ``StoreUnavailableError`` (or ``IndexDamagedError``) with a one-line reason and remedy.
    """
    place = Place(index_dir, host, port, connect_timeout, timeout)
    if host:
        return _server_client(place)
    if index_dir is None:
        raise StoreUnavailableError("no index folder and no Chroma server configured (set CITEBOT_INDEX_DIR)")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(f"cannot create the index folder {index_dir}: {exc.strerror}") from None
    with guard(place):
        # absolute: chromadb shares one client per path string, and a relative one means another folder after chdir
        path = str(index_dir.resolve())
        return chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))


def release_client(index_dir: Path) -> None:
    """Forget this process's embedded client of ``index_dir`` (before the folder is moved or replaced).

    chromadb keeps one client per folder for the life of the process; without this, opening the folder
    again would reach the files that were moved away.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(index_dir.resolve())
    system = SharedSystemClient._identifier_to_system.pop(key, None)  # the one per-path handle chromadb has
    if system is not None:
        system.stop()


def _server_client(place: Place) -> Any:
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    limits = httpx.Timeout(place.timeout, connect=place.connect_timeout)
    try:  # chromadb's client creation calls the server with no timeout: make sure it answers first
        httpx.get(f"http://{place.host}:{place.port}/api/v2/heartbeat", timeout=limits).raise_for_status()
    except Exception as exc:
        raise store_failure(exc, place) from None
    with guard(place):
        client = chromadb.HttpClient(
            host=str(place.host), port=place.port, settings=ChromaSettings(anonymized_telemetry=False)
        )
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = limits
    else:  # a chromadb that moved its session: calls keep working, without a deadline
        log.warning("cannot set timeouts on this chromadb's HTTP session; a stopped server may hang calls")
    return client


@contextmanager
def guard(place: Place) -> Iterator[None]:
    """Turn any exception raised inside into the ``StoreUnavailableError`` that ``store_failure`` describes."""
    try:
        yield
    except StoreUnavailableError:
        raise
    except Exception as exc:
        raise store_failure(exc, place) from exc


class Guarded:
    """A Chroma collection whose every call fails as a ``StoreUnavailableError`` (see ``store_failure``)."""

    def __init__(self, inner: Any, place: Place) -> None:
        self._inner = inner
        self._place = place

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            return value
        return self._wrap(value)

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with guard(self._place):
                return method(*args, **kwargs)

        return call


def store_failure(exc: BaseException, place: Place) -> StoreUnavailableError:
    """The user-facing error for a failure of Chroma at ``place``: what failed, why, and what to do."""
    chain = _chain(exc)
    for link in chain:
        found = _classify(link, place)
        if found is not None:
            return found
    damage = _sqlite_damage(place)
    if damage:
        return _damaged(place, damage)
    first = str(chain[-1]).strip().splitlines()
    detail = f"{type(chain[-1]).__name__}: {first[0][:200]}" if first else type(chain[-1]).__name__
    return StoreUnavailableError(f"{place} failed ({detail}); run `citebot doctor` to check it")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions behind it, outermost first (chromadb often re-raises as ValueError)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


_DAMAGE = (
    "database disk image is malformed",
    "file is not a database",
    "error finding id",
    "error getting embedding",
    "error loading hnsw",
    "unpickling",
    "pickle data was truncated",
    "ran out of input",
    "invalid load key",
)


_WRITE_FAILED = ("error in compaction", "failed to apply logs", "disk i/o error", "database or disk is full")


def _classify(exc: BaseException, place: Place) -> StoreUnavailableError | None:
    import httpx

    text = str(exc)
    low = text.lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return StoreUnavailableError(
            f"{place} did not accept a connection within {place.connect_timeout:g}s "
            "(CITEBOT_CHROMA_CONNECT_TIMEOUT); is it stopped or overloaded?"
        )
    if isinstance(exc, httpx.TimeoutException):
        return StoreUnavailableError(
            f"{place} did not answer within {place.timeout:g}s (CITEBOT_CHROMA_TIMEOUT); is it stopped or overloaded?"
        )
    if isinstance(exc, httpx.ConnectError):
        return StoreUnavailableError(
            f"cannot reach {place} ({_reason(text)}); is `chroma run --path DIR --port {place.port}` running there?"
        )
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return StoreUnavailableError(
            f"{place} closed the connection in the middle of a request ({_reason(text)}); "
            "is it still running? Start it again and repeat the command"
        )
    if isinstance(exc, httpx.HTTPStatusError):
        return StoreUnavailableError(
            f"{place} answered HTTP {exc.response.status_code}; is that address a Chroma server?"
        )
    gone = type(exc).__name__ == "NotFoundError" and type(exc).__module__.startswith("chromadb")
    if gone or (isinstance(exc, ValueError) and "does not exist" in low):  # older chromadb: a ValueError
        return CollectionGoneError(
            f"a collection of {place} disappeared while in use ({text[:160]}); another process rebuilt or "
            "removed the index: repeat the command"
        )
    if any(marker in low for marker in _DAMAGE):
        return _damaged(place, text.strip().splitlines()[0][:160])
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)) or "no space left" in low:
        return StoreUnavailableError(f"the disk holding {place} is full ({_reason(text)}); free space and repeat")
    if any(marker in low for marker in _WRITE_FAILED):
        damage = _sqlite_damage(place)  # a write that fails on wrecked pages is damage, not a full disk
        if damage:
            return _damaged(place, damage)
        return StoreUnavailableError(
            f"{place} could not save changes ({_reason(text)}); is its disk full or read-only? "
            "Free space and repeat the command"
        )
    if "readonly database" in low or isinstance(exc, PermissionError):
        return StoreUnavailableError(
            f"{place} cannot be written ({_reason(text)}); check the folder's permissions and free space"
        )
    if "database is locked" in low:
        return StoreUnavailableError(f"{place} is locked by another process; try again in a moment")
    return None


def _damaged(place: Place, what: str) -> IndexDamagedError:
    return IndexDamagedError(f"{place} is damaged ({what}); rebuild it with `citebot ingest --rebuild`")


def _sqlite_damage(place: Place) -> str:
    """For an embedded index that failed for no known reason: what SQLite's own check finds wrong ('' if nothing)."""
    import sqlite3

    if place.host or place.index_dir is None:
        return ""
    path = place.index_dir / "chroma.sqlite3"
    if not path.is_file():
        return ""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            rows = db.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.OperationalError as exc:  # busy, or unreadable: not evidence of damage
        return "" if "locked" in str(exc) or "unable to open" in str(exc) else _reason(str(exc))
    except sqlite3.DatabaseError as exc:  # "file is not a database" and the like
        return _reason(str(exc))
    verdict = " ".join(str(rows[0][0]).split()) if rows else "ok"
    return "" if verdict == "ok" else f"chroma.sqlite3: {verdict[:120]}"


def _reason(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:160] if lines else "no reason given"
