"""The questions log's SQLite file: one row per question, one per person's latest vote on an answer.

WAL mode lets several processes (a CLI and the Discord bot) write at once and survives a process
killed mid-write; each write is one short transaction. Logging never stops answering: a damaged file
is moved aside with one warning and a new log started; an unwritable one logs one warning and the
process goes on without a log.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
VOTES = ("up", "down")
#: Seconds a write waits for another process's write to finish.
BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,               -- Unix seconds, UTC
    origin TEXT NOT NULL,             -- cli, chat, discord
    channel TEXT,                     -- the Discord channel (or thread) id; NULL elsewhere
    collection TEXT NOT NULL,         -- the document set that answered
    user TEXT,                        -- salted hash of the Discord user id; NULL elsewhere
    question TEXT NOT NULL,           -- as asked
    condensed TEXT NOT NULL,          -- what was searched (a follow-up with its context)
    abstained INTEGER NOT NULL,
    cited TEXT NOT NULL,              -- JSON list of the cited documents' paths
    passages TEXT NOT NULL,           -- JSON list of [source, section] of the passages found, best first
    latency_ms REAL,
    message_id TEXT                   -- the Discord message carrying the answer (what votes name)
);
CREATE INDEX IF NOT EXISTS questions_time ON questions(time);
CREATE INDEX IF NOT EXISTS questions_message ON questions(message_id);
CREATE TABLE IF NOT EXISTS votes (
    message_id TEXT NOT NULL,
    user TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    time REAL NOT NULL,
    PRIMARY KEY (message_id, user)
);
CREATE INDEX IF NOT EXISTS votes_time ON votes(time);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class LoggedQuestion:
    """One row of the log, with its votes counted (each person's latest vote)."""

    id: int
    time: float
    origin: str
    channel: str | None
    collection: str
    question: str
    condensed: str
    abstained: bool
    cited: list[str]
    passages: list[tuple[str, str]]
    latency_ms: float | None
    up: int = 0
    down: int = 0

    @property
    def downvoted(self) -> bool:
        """More 👎 than 👍."""
        return self.down > self.up


@dataclass(frozen=True)
class NewQuestion:
    """What is recorded when a question is answered."""

    origin: str
    collection: str
    question: str
    condensed: str
    abstained: bool
    cited: Sequence[str] = ()
    passages: Sequence[tuple[str, str]] = ()
    latency_ms: float | None = None
    channel: int | str | None = None
    user: str | None = None  # already hashed (QuestionLog.hash_user)
    time: float | None = None
    message_id: int | str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def move_log(source: Path, target: Path) -> bool:
    """Move a questions log file, with SQLite's ``-wal``/``-shm`` companions, to ``target`` (never over an existing
    log); whether it moved."""
    if not source.is_file() or target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        companion = source.with_name(source.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    source.rename(target)
    return True


class QuestionLog:
    """The log file: open (or make) it, record questions and votes, read them back; safe across threads."""

    def __init__(self, path: Path, *, retention_days: int = 90, salt_file: Path | None = None) -> None:
        self.path = path
        self.retention_days = retention_days
        self.salt_file = salt_file
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._salt: bytes | None = None
        self._broken = False  # an unwritable log: warned once, then left alone

    # -- opening ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a killed process loses no committed row
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise sqlite3.DatabaseError(f"written by a newer citebot (schema {version})")
        conn.executescript(_SCHEMA)
        if version < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("SELECT count(*) FROM questions").fetchone()  # a damaged file fails here, not at the first write
        return conn

    def _open(self) -> sqlite3.Connection | None:
        """The connection, opened on first use; None while the log cannot be written."""
        if self._conn is not None or self._broken:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._connect()
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and not self.path.exists():
                    raise
                aside = self._set_aside()
                log.warning(
                    "the questions log %s is damaged (%s); moved it to %s and started a new one", self.path, exc, aside
                )
                self._conn = self._connect()
            self._prune(self._conn)
        except (sqlite3.Error, OSError) as exc:
            self._broken = True
            log.warning("questions are not being logged: cannot write %s (%s)", self.path, exc)
            return None
        return self._conn

    def _set_aside(self) -> Path:
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        move_log(self.path, aside)
        return aside

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Delete what is older than the retention limit (once per process)."""
        cutoff = time.time() - self.retention_days * 86_400
        with _transaction(conn):
            conn.execute("DELETE FROM questions WHERE time < ?", (cutoff,))
            conn.execute("DELETE FROM votes WHERE time < ?", (cutoff,))

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection | None]:
        """The connection under the lock, or None (logging is best effort: it never stops an answer)."""
        with self._lock:
            conn = self._open()
            if conn is None:
                yield None
                return
            try:
                with _transaction(conn):
                    yield conn
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    self._lost(exc)
                else:  # another process held the log past the busy timeout: this one row is lost
                    log.warning("the questions log %s is busy; one entry was not recorded", self.path)
            except sqlite3.DatabaseError as exc:
                self._lost(exc)

    def _lost(self, exc: Exception) -> None:
        """A write failed on a file that opened fine: reopen next time (a damaged file is then set aside)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        log.warning("could not write the questions log %s (%s); reopening it", self.path, exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- writing ---------------------------------------------------------------------------
    def hash_user(self, user_id: int | str) -> str:
        """A salted, irreversible stand-in for a user id, stable for this log."""
        return hashlib.sha256(self._get_salt() + str(user_id).encode()).hexdigest()[:24]

    def record(self, q: NewQuestion) -> int | None:
        """Add one question; its row id, or None when the log is off or unwritable."""
        with self._writing() as conn:
            if conn is None:
                return None
            cur = conn.execute(
                "INSERT INTO questions (time, origin, channel, collection, user, question, condensed, abstained, "
                "cited, passages, latency_ms, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    q.time if q.time is not None else time.time(),
                    q.origin,
                    None if q.channel is None else str(q.channel),
                    q.collection,
                    q.user,
                    q.question,
                    q.condensed,
                    int(q.abstained),
                    json.dumps(list(dict.fromkeys(q.cited)), ensure_ascii=False),
                    json.dumps([list(p) for p in q.passages], ensure_ascii=False),
                    q.latency_ms,
                    None if q.message_id is None else str(q.message_id),
                ),
            )
            return cur.lastrowid
        return None

    def attach_message(self, question_id: int, message_id: int | str) -> None:
        """Say which Discord message carries the answer to a question (votes name the message)."""
        with self._writing() as conn:
            if conn is not None:
                conn.execute("UPDATE questions SET message_id = ? WHERE id = ?", (str(message_id), question_id))

    def vote(self, *, message_id: int | str, user: str, vote: str, at: float | None = None) -> bool:
        """Record a person's vote on an answer (their latest vote counts); False when it was not recorded."""
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}")
        with self._writing() as conn:
            if conn is None:
                return False
            conn.execute(
                "INSERT INTO votes (message_id, user, vote, time) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (message_id, user) DO UPDATE SET vote = excluded.vote, time = excluded.time",
                (str(message_id), user, vote, at if at is not None else time.time()),
            )
            return True
        return False

    def has_meta(self, key: str) -> bool:
        with self._lock:
            conn = self._open()
            return conn is not None and conn.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone() is not None

    def set_meta(self, key: str, value: str) -> None:
        with self._writing() as conn:
            if conn is not None:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- reading ---------------------------------------------------------------------------
    def questions(self, since: float = 0.0, collection: str | None = None) -> list[LoggedQuestion]:
        """The questions asked since ``since`` (Unix seconds), oldest first, with their votes."""
        sql = (
            "SELECT q.id, q.time, q.origin, q.channel, q.collection, q.question, q.condensed, q.abstained, q.cited, "
            "q.passages, q.latency_ms, "
            "coalesce(sum(v.vote = 'up'), 0), coalesce(sum(v.vote = 'down'), 0) "
            "FROM questions q LEFT JOIN votes v ON v.message_id = q.message_id "
            "WHERE q.time >= ?"
            + (" AND q.collection = ?" if collection else "")
            + " GROUP BY q.id ORDER BY q.time, q.id"
        )
        params: tuple[Any, ...] = (since, collection) if collection else (since,)
        with self._lock:
            conn = self._open()
            rows = conn.execute(sql, params).fetchall() if conn is not None else []
        return [
            LoggedQuestion(
                id=r[0],
                time=r[1],
                origin=r[2],
                channel=r[3],
                collection=r[4],
                question=r[5],
                condensed=r[6],
                abstained=bool(r[7]),
                cited=list(json.loads(r[8])),
                passages=[(str(p[0]), str(p[1]) if len(p) > 1 else "") for p in json.loads(r[9])],
                latency_ms=r[10],
                up=int(r[11]),
                down=int(r[12]),
            )
            for r in rows
        ]

    def votes(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Every vote since ``since`` with its question (empty when unknown), as `citebot feedback` counts them."""
        with self._lock:
            conn = self._open()
            rows = (
                conn.execute(
                    "SELECT v.time, v.vote, v.user, v.message_id, "
                    "(SELECT q.question FROM questions q WHERE q.message_id = v.message_id ORDER BY q.id LIMIT 1) "
                    "FROM votes v WHERE v.time >= ? ORDER BY v.time",
                    (since,),
                ).fetchall()
                if conn is not None
                else []
            )
        return [
            {"time": _iso(t), "vote": vote, "user": user, "message_id": mid, "question": question or ""}
            for t, vote, user, mid, question in rows
        ]

    # -- the salt --------------------------------------------------------------------------
    def _get_salt(self) -> bytes:
        """Kept in the log itself; an existing feedback.salt is adopted so migrated hashes still match."""
        if self._salt is not None:
            return self._salt
        with self._lock:
            conn = self._open()
            row = conn.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone() if conn is not None else None
        if row is not None:
            self._salt = str(row[0]).encode()
            return self._salt
        value = secrets.token_hex(32)
        if self.salt_file is not None and self.salt_file.is_file():
            value = self.salt_file.read_text().strip() or value
        with self._writing() as conn:
            if conn is not None:
                conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (value,))
                value = conn.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
        self._salt = value.encode()
        return self._salt


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front, so a busy log waits rather than fails."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))
