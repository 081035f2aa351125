"""The questions log: a real SQLite file, written by this process and by real second processes."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli.chat import lines_reader, run_chat
from bot.questions.migrate import migrate_feedback
from bot.questions.recording import ask_and_log
from bot.questions.store import NewQuestion, QuestionLog
from bot.services import Services
from bot.settings import Settings
from tests.discord_support import fake_services

ROOT = Path(__file__).resolve().parent.parent


def entry(question: str = "how do I rotate the keys?", **kw) -> NewQuestion:
    base = dict(origin="cli", collection="docs", question=question, condensed=question, abstained=True)
    return NewQuestion(**{**base, **kw})


def test_a_question_and_its_votes_are_read_back_with_each_persons_latest_vote(tmp_path):
    log_ = QuestionLog(tmp_path / "q.sqlite")
    qid = log_.record(entry(cited=["a.md", "a.md"], passages=[("a.md", "Keys"), ("b.md", "")], message_id=77))
    log_.vote(message_id=77, user=log_.hash_user(1), vote="up")
    log_.vote(message_id=77, user=log_.hash_user(1), vote="down")  # changed their mind
    log_.vote(message_id=77, user=log_.hash_user(2), vote="down")
    (q,) = log_.questions()
    assert q.id == qid and q.cited == ["a.md"] and q.passages == [("a.md", "Keys"), ("b.md", "")]
    assert (q.up, q.down, q.downvoted) == (0, 2, True)


def test_user_ids_are_only_stored_hashed_and_the_answer_text_not_at_all(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, docs_dir, fake_embedder)
    asked = ask_and_log(
        services,
        "How often does a sourdough starter need feeding?",
        origin="discord",
        channel=555,
        user_id=123456789012345678,
    )
    assert asked.question_id is not None and not asked.answer.abstained
    conn = sqlite3.connect(services.settings.questions_path)
    (row,) = conn.execute("SELECT * FROM questions").fetchall()
    dump = json.dumps(row)
    assert "123456789012345678" not in dump and asked.answer.text not in dump
    assert row[2:4] == ("discord", "555") and row[5] is not None and len(row[5]) == 24


def test_the_log_can_be_turned_off(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, docs_dir, fake_embedder, questions_log=False)
    asked = ask_and_log(services, "How often does a sourdough starter need feeding?", origin="cli")
    assert asked.question_id is None and services.questions is None
    assert not services.settings.questions_path.exists()


def test_the_log_lives_in_the_index_folder_and_one_kept_beside_it_moves_in(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, docs_dir, fake_embedder)
    s = services.settings
    assert s.questions_path == s.index_dir / "questions.sqlite"  # deleting the index leaves nothing behind
    old = QuestionLog(s.index_dir.parent / f"{s.index_dir.name}.questions.sqlite")  # where earlier versions kept it
    old.record(entry("asked before the upgrade"))
    old.close()
    s.index_dir.mkdir(parents=True, exist_ok=True)
    ask_and_log(services, "How often does a sourdough starter need feeding?", origin="cli")
    assert not (s.index_dir.parent / f"{s.index_dir.name}.questions.sqlite").exists()
    questions = [q.question for q in QuestionLog(s.questions_path).questions()]
    assert questions == ["asked before the upgrade", "How often does a sourdough starter need feeding?"]


def test_questions_older_than_the_retention_limit_are_deleted_on_open(tmp_path):
    path = tmp_path / "q.sqlite"
    old = QuestionLog(path, retention_days=30)
    old.record(entry("old", time=time.time() - 31 * 86_400))
    old.record(entry("recent", time=time.time() - 29 * 86_400))
    old.close()
    assert [q.question for q in QuestionLog(path, retention_days=30).questions()] == ["recent"]


def test_a_damaged_log_is_set_aside_with_one_warning_and_a_new_one_started(tmp_path, caplog):
    path = tmp_path / "q.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    log_ = QuestionLog(path)
    with caplog.at_level(logging.WARNING):
        assert log_.record(entry()) is not None
        log_.record(entry("again"))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "damaged" in warnings[0].getMessage()
    aside = [p.name for p in tmp_path.iterdir() if not p.name.startswith("q.sqlite") or "damaged" in p.name]
    assert len(aside) == 1 and aside[0].startswith("q.sqlite.damaged-")
    assert len(log_.questions()) == 2


def test_an_unwritable_log_never_stops_answering(tmp_path, docs_dir, fake_embedder, caplog):
    (tmp_path / "a-file").write_text("x")
    services = fake_services(tmp_path, docs_dir, fake_embedder, questions_db=tmp_path / "a-file" / "q.sqlite")
    with caplog.at_level(logging.WARNING):
        first = ask_and_log(services, "How often does a sourdough starter need feeding?", origin="cli")
        second = ask_and_log(services, "What is a tide pool?", origin="cli")
    assert first.answer.text and second.answer.text and first.question_id is None
    assert len([r for r in caplog.records if "not being logged" in r.getMessage()]) == 1


def test_the_old_feedback_file_is_migrated_once(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "feedback.salt").write_text("s" * 64)
    lines = [
        {
            "time": "2026-11-01T10:00:00+00:00",
            "vote": "down",
            "user": "h1",
            "message_id": "9",
            "question": "why?",
            "answer": "because",
            "sources": [{"id": 1, "source": "a.md", "title": "A"}],
        },
        {
            "time": "2026-11-01T10:01:00+00:00",
            "vote": "up",
            "user": "h2",
            "message_id": "9",
            "question": "why?",
            "answer": "because",
            "sources": [],
        },
        {
            "time": "2026-11-01T10:02:00+00:00",
            "vote": "down",
            "user": "h1",
            "message_id": "10",
            "question": "",
            "answer": "x",
            "sources": [],
        },
    ]
    (data / "feedback.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + "{broken\n")
    log_ = QuestionLog(tmp_path / "q.sqlite", retention_days=36_500, salt_file=data / "feedback.salt")
    assert migrate_feedback(log_, data) == 3
    assert migrate_feedback(log_, data) == 0
    assert not (data / "feedback.jsonl").exists() and (data / "feedback.jsonl.migrated").exists()
    (q,) = log_.questions()
    assert (q.question, q.cited, q.up, q.down, q.origin) == ("why?", ["a.md"], 1, 1, "discord")
    assert len(log_.votes()) == 3
    assert log_.hash_user(5) == QuestionLog(tmp_path / "other.sqlite", salt_file=data / "feedback.salt").hash_user(5)


def test_services_for_another_set_share_the_models_and_the_log(tmp_path, docs_dir, fake_embedder):
    base = Services(Settings(index_dir=tmp_path / "i", data_dir=tmp_path / "d"), embedder=fake_embedder)
    other = base.for_set("other-set", tmp_path / "other")
    assert other.settings.collection == "other-set" and other.settings.docs_dir == tmp_path / "other"
    assert other.query_embedder is base.query_embedder is fake_embedder
    assert other.questions is base.questions
    assert base.for_set(base.settings.collection, base.settings.docs_dir) is base


def _writer(path: Path, count: int, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.questions_writer", str(path), str(count), tag],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.drill
def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "q.sqlite"
    QuestionLog(path).record(entry("first"))  # the file exists, in WAL mode, before they race
    writers = [_writer(path, 300, tag) for tag in ("a", "b")]
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
        assert len(out.split()) == 300 and "None" not in out
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM questions").fetchone()[0] == 601
    assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 600


@pytest.mark.drill
def test_a_writer_killed_mid_write_leaves_a_readable_log_with_every_committed_row(tmp_path):
    path = tmp_path / "q.sqlite"
    writer = _writer(path, 0, "k")
    assert writer.stdout is not None
    committed = [writer.stdout.readline().strip() for _ in range(200)]
    os.kill(writer.pid, signal.SIGKILL)  # mid-stream: it was writing the next rows
    writer.wait(timeout=30)
    log_ = QuestionLog(path)
    ids = {str(q.id) for q in log_.questions()}
    assert set(committed) <= ids
    assert log_.record(entry("after the crash")) is not None
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_chat_logs_each_question_with_what_was_searched(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, docs_dir, fake_embedder)
    reader = lines_reader(io.StringIO("How often does a sourdough starter need feeding?\nand in winter?\n"))
    run_chat(services, read=reader, console=Console(file=io.StringIO()))
    first, follow = services.questions.questions()
    assert (first.origin, follow.origin) == ("chat", "chat") and follow.question == "and in winter?"
    assert follow.condensed != follow.question and "sourdough" in follow.condensed  # the follow-up's context
