"""Feedback on answers: a JSON-lines file in the data folder, and its summary (`citebot feedback`).

User ids are stored as salted SHA-256 hashes. The salt is random, kept next to the file, and
never leaves the data folder, so a hash cannot be reversed by hashing every possible id.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import CitebotError
from bot.schema import Answer

FEEDBACK_FILE = "feedback.jsonl"
SALT_FILE = "feedback.salt"
VOTES = ("up", "down")


class FeedbackStore:
    """Appends one JSON object per vote to ``data_dir/feedback.jsonl``; safe across threads."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / FEEDBACK_FILE
        self._lock = threading.Lock()
        self._salt: bytes | None = None

    def hash_user(self, user_id: int) -> str:
        """A salted, irreversible stand-in for a Discord user id (stable for this data folder)."""
        return hashlib.sha256(self._get_salt() + str(user_id).encode()).hexdigest()[:24]

    def record(self, *, vote: str, user_id: int, message_id: int, answer: AnswerRecord) -> dict[str, Any]:
        """Append one vote; returns the stored object."""
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}")
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "vote": vote,
            "user": self.hash_user(user_id),
            "message_id": str(message_id),
            "question": answer.question,
            "answer": answer.answer,
            "sources": answer.sources,
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
        return entry

    def read(self) -> list[dict[str, Any]]:
        """Every stored vote; unreadable lines (a crash mid-write) are skipped."""
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(item, dict) and item.get("vote") in VOTES:
                    out.append(item)
        return out

    def _get_salt(self) -> bytes:
        with self._lock:
            if self._salt is None:
                path = self.data_dir / SALT_FILE
                if not path.exists():
                    self.data_dir.mkdir(parents=True, exist_ok=True)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as fh:
                        fh.write(secrets.token_hex(32))
                self._salt = path.read_text().strip().encode()
            return self._salt


@dataclass(frozen=True)
class AnswerRecord:
    """What a vote is about: the question, the answer text and its sources."""

    question: str
    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_answer(cls, result: Answer) -> AnswerRecord:
        return cls(
            question=result.question,
            answer=result.text,
            sources=[
                {
                    "id": c.id,
                    "source": c.passage.path,
                    "title": c.passage.title,
                    "url": c.passage.url,
                    "quote": c.quote,
                }
                for c in result.citations
            ],
        )


@dataclass(frozen=True)
class FeedbackSummary:
    """Votes counted once per person and answer (their latest vote wins)."""

    votes: int
    up: int
    down: int
    answers: int
    first: str
    last: str
    most_downvoted: list[tuple[str, int]]

    def to_json(self) -> dict[str, Any]:
        return {
            "votes": self.votes,
            "up": self.up,
            "down": self.down,
            "answers": self.answers,
            "first": self.first,
            "last": self.last,
            "most_downvoted": [{"question": q, "down": n} for q, n in self.most_downvoted],
        }


def summarise(entries: list[dict[str, Any]], top: int = 5) -> FeedbackSummary:
    """Count votes, keeping each person's latest vote on each answer."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for item in sorted(entries, key=lambda e: str(e.get("time", ""))):
        latest[(str(item.get("message_id")), str(item.get("user")))] = item
    final = list(latest.values())
    down = Counter(str(e.get("question", "")) for e in final if e["vote"] == "down")
    times = sorted(str(e.get("time", "")) for e in entries)
    return FeedbackSummary(
        votes=len(final),
        up=sum(e["vote"] == "up" for e in final),
        down=sum(e["vote"] == "down" for e in final),
        answers=len({k[0] for k in latest}),
        first=times[0] if times else "",
        last=times[-1] if times else "",
        most_downvoted=down.most_common(top),
    )


def load_summary(data_dir: Path) -> FeedbackSummary:
    """The summary of ``data_dir``'s feedback file; a clear error when there is none."""
    store = FeedbackStore(data_dir)
    if not store.path.exists():
        raise CitebotError(f"no feedback recorded yet ({store.path} does not exist)")
    return summarise(store.read())
