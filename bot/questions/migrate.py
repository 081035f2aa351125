"""The old Discord feedback file (data folder's feedback.jsonl) imported into the questions log, once.

Each vote becomes a vote in the log, and the question it was about (when the file knew it) a row of
its own, marked as coming from Discord. The file is then renamed ``feedback.jsonl.migrated``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.questions.store import VOTES, NewQuestion, QuestionLog

#: The Discord bot's votes before the questions log held them (data folder).
FEEDBACK_FILE = "feedback.jsonl"

log = logging.getLogger(__name__)

MIGRATED = "feedback_jsonl_migrated"


def migrate_feedback(questions: QuestionLog, data_dir: Path) -> int:
    """Import ``data_dir/feedback.jsonl`` into ``questions`` if it is there; the number of votes imported."""
    path = data_dir / FEEDBACK_FILE
    if not path.is_file() or questions.has_meta(MIGRATED):
        return 0
    try:
        entries = _old_votes(path)
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("could not read the old feedback file %s: %s", path, exc)
        return 0
    seen: set[str] = set()
    for entry in entries:
        message_id = str(entry.get("message_id", ""))
        at = _time(entry)
        if message_id and message_id not in seen and entry.get("question"):
            seen.add(message_id)
            questions.record(_question(entry, message_id, at))
        questions.vote(message_id=message_id, user=str(entry.get("user", "")), vote=str(entry["vote"]), at=at)
    questions.set_meta(MIGRATED, datetime.now().astimezone().isoformat(timespec="seconds"))
    try:
        path.rename(path.with_name(FEEDBACK_FILE + ".migrated"))
    except OSError as exc:
        log.warning("imported %s into the questions log but could not rename it: %s", path, exc)
    log.info("imported %d vote(s) from %s into %s", len(entries), path, questions.path)
    return len(entries)


def _old_votes(path: Path) -> list[dict[str, Any]]:
    """Every vote in the old JSON-lines file; a line cut by a crash mid-write is skipped."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict) and item.get("vote") in VOTES:
                out.append(item)
    return out


def _question(entry: dict[str, Any], message_id: str, at: float) -> NewQuestion:
    sources = [str(s.get("source") or s.get("title") or "") for s in entry.get("sources") or [] if isinstance(s, dict)]
    return NewQuestion(
        origin="discord",
        collection="",
        question=str(entry["question"]),
        condensed=str(entry["question"]),
        abstained=not sources,
        cited=[s for s in sources if s],
        time=at,
        message_id=message_id,
    )


def _time(entry: dict[str, Any]) -> float:
    try:
        return datetime.fromisoformat(str(entry.get("time"))).timestamp()
    except ValueError:
        return 0.0
