"""Faults of the store and of the disk, reproduced with real parts: each ends as one line, never a traceback or a hang.

A real Chroma server killed (SIGKILL) in the middle of a write or stopped (SIGSTOP), a real
``chroma.sqlite3`` overwritten with garbage, a real file-size limit that makes the disk refuse
writes, real second processes racing for the ingest lock, and a rebuild with a reader asking
throughout. Only the embedding model is the fake one (tests/cli_driver.py for second processes).
"""

from __future__ import annotations

import functools
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.cli.common as cli
import bot.index_access as index_access
from bot.cli.chat import ChatSession, lines_reader
from bot.errors import USER_ERRORS
from bot.questions.store import NewQuestion, QuestionLog
from bot.services import Services
from bot.settings import load_settings
from tests.chroma_server import ChromaProcess, chroma_process
from tests.support import FakeEmbedder, TappedClient
from tests.support import run_cli as run

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "why did BlackBerry leave Pakistan?"


@pytest.fixture
def fake_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's Services get the fake embedder; everything else is real."""
    monkeypatch.setattr(cli, "Services", functools.partial(Services, embedder=FakeEmbedder()))


@pytest.fixture
def chroma(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChromaProcess]:
    """A server of this test's own (it gets killed or stopped), with the CLI's settings pointing at it."""
    with chroma_process(tmp_path / "chroma") as server:
        monkeypatch.setenv("CITEBOT_CHROMA_HOST", server.host)
        monkeypatch.setenv("CITEBOT_CHROMA_PORT", str(server.port))
        monkeypatch.setenv("CITEBOT_CHROMA_TIMEOUT", "2")
        monkeypatch.setenv("CITEBOT_CHROMA_CONNECT_TIMEOUT", "2")
        yield server


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "httpx" not in err and "ValueError" not in err
    return lines[0]


def driver(*args: str, env: dict[str, str], delay: float = 0.0, **popen: object) -> subprocess.Popen[str]:
    """The real CLI with the fake embedder in a second process (see tests/cli_driver.py)."""
    full_env = {**os.environ, **env, "CLI_DRIVER_EMBED_DELAY": str(delay)}
    cmd = [sys.executable, str(ROOT / "tests" / "cli_driver.py"), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, **popen)  # type: ignore[call-overload]


def wait_for_embedding(proc: subprocess.Popen[str]) -> None:
    """Block until the driver started embedding (it holds the ingest lock by then)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if "EMBEDDING" in line:
            return
    raise AssertionError(f"the driver ended before embedding (exit {proc.wait()})")


def many_docs(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"note-{i:03d}.txt").write_text(
            f"Note {i} about the harbour. The ferry number {i} leaves at {i % 12 + 1} o'clock from pier {i % 7}.\n"
        )
    return folder


# -- 8: a Chroma server that dies, hangs or is not there ------------------------------------------------


@pytest.mark.server
@pytest.mark.timeout(120)
def test_a_server_killed_in_the_middle_of_a_write_is_one_line(chroma, fake_cli, docs_dir, monkeypatch):
    real_open = index_access.open_client

    def kill_during_add(role: str, method: str, _kwargs: dict) -> None:
        if role == "chunks" and method == "add":  # dies while the request is on its way
            threading.Timer(0.01, chroma.kill).start()

    monkeypatch.setattr(
        index_access, "open_client", lambda *a, **k: TappedClient(real_open(*a, **k), before=kill_during_add)
    )
    code, _out, err = run("ingest", str(docs_dir))
    line = one_line(err)
    assert code == 1 and f"{chroma.host}:{chroma.port}" in line
    assert "closed the connection" in line or "cannot reach" in line, line


@pytest.mark.server
@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", [("ask", QUESTION), ("ingest",), ("search", "BlackBerry")])
def test_a_stopped_server_times_out_as_one_line(chroma, fake_cli, docs_dir, command):
    assert run("ingest", str(docs_dir))[0] == 0
    chroma.pause()
    try:
        args = [*command, str(docs_dir)] if command == ("ingest",) else list(command)
        code, _out, err = run(*args)
    finally:
        chroma.resume()
    line = one_line(err)
    assert code == 1 and "did not answer within 2s" in line and "CITEBOT_CHROMA_TIMEOUT" in line


@pytest.mark.server
@pytest.mark.timeout(120)
def test_doctor_reports_a_stopped_server_and_returns(chroma, fake_cli):
    chroma.pause()
    try:
        code, out, err = run("doctor")
    finally:
        chroma.resume()
    assert "Traceback" not in out + err
    assert "did not answer within 2s" in out and "start the Chroma server" in out and code == 1


@pytest.mark.server
@pytest.mark.timeout(120)
def test_chat_goes_on_when_the_server_dies_between_questions(chroma, tmp_path, docs_dir):
    services = Services(load_settings(docs_dir=docs_dir), embedder=FakeEmbedder())
    services.ingest(docs_dir)

    def lines() -> Iterator[str]:
        yield QUESTION
        chroma.kill()
        yield QUESTION
        yield "/sources"
        yield "exit"

    from tests.test_chat import console, output

    out = console()
    ChatSession(lambda q, h, **kw: services.ask(q, h, **kw), out, errors=USER_ERRORS).run(
        lines_reader(lines()), banner="chat"
    )
    text = output(out)
    assert "Why BlackBerry left Pakistan" in text  # the first reply (with this fake embedder, its closest pages)
    assert f"cannot reach the Chroma server at {chroma.host}:{chroma.port}" in text
    assert "Traceback" not in text and text.rstrip().endswith("bye")


def test_an_unreachable_server_names_the_refusal_not_a_value_error(fake_cli, monkeypatch):
    from tests.chroma_server import free_port

    monkeypatch.setenv("CITEBOT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CITEBOT_CHROMA_PORT", str(free_port()))
    code, _out, err = run("ask", QUESTION)
    assert code == 1 and "Connection refused" in one_line(err)


# -- 7: a damaged chroma.sqlite3 --------------------------------------------------------------------------


def _damage(sqlite: Path) -> None:
    with sqlite.open("r+b") as f:  # keep the header, wreck the pages behind it
        f.seek(4096)
        f.write(b"\x00not a page\xff" * 2000)
        # ... and bump its change counter, as any writer would: chromadb keeps this process's connection
        # open between the in-process commands, and SQLite trusts its page cache while the counter holds.
        f.seek(24)
        counter = int.from_bytes(f.read(4), "big")
        f.seek(24)
        f.write(((counter + 1) % 2**32).to_bytes(4, "big"))


def test_a_damaged_index_is_one_line_and_rebuild_repairs_it(fake_cli, docs_dir, tmp_path, monkeypatch):
    index = tmp_path / "index"
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(index))
    assert run("ingest", str(docs_dir))[0] == 0
    QuestionLog(index / "questions.sqlite").record(NewQuestion("cli", "citebot", QUESTION, QUESTION, False))
    _damage(index / "chroma.sqlite3")

    for command in (("ask", QUESTION), ("ingest", str(docs_dir)), ("search", "BlackBerry")):
        code, _out, err = run(*command)
        line = one_line(err)
        assert code == 1 and "is damaged" in line and "citebot ingest --rebuild" in line, (command, line)

    code, out, err = run("doctor")
    assert "Traceback" not in out + err and code == 1
    assert "is damaged" in out and "run `citebot ingest --rebuild`" in out

    code, out, err = run("ingest", "--rebuild", str(docs_dir))
    assert code == 0, err
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("index.damaged-")]
    assert len(aside) == 1 and (aside[0] / "chroma.sqlite3").is_file()  # kept, not deleted
    assert not (aside[0] / "questions.sqlite").exists()  # the questions asked stay with the index
    assert [q.question for q in QuestionLog(index / "questions.sqlite").questions()] == [QUESTION]
    code, out, err = run("ask", QUESTION)
    assert code == 0 and "BlackBerry" in out, err


# -- 6: a sentence cache that cannot be read ----------------------------------------------------------------


def _wreck_sentence_vectors(index: Path) -> None:
    """Overwrite the HNSW metadata of the sentence collection's vector segment, as a full disk left it."""
    with sqlite3.connect(index / "chroma.sqlite3") as db:
        rows = db.execute(
            "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
            "WHERE c.name LIKE '%-sentences' AND s.scope = 'VECTOR'"
        ).fetchall()
    pickle = index / rows[0][0] / "index_metadata.pickle"
    assert pickle.is_file()  # enough sentences that Chroma wrote its HNSW files
    pickle.write_bytes(b"\x80\x04truncated")


@pytest.mark.drill
@pytest.mark.timeout(240)
def test_an_unreadable_sentence_cache_slows_answers_but_never_stops_them(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(55):  # 1,100 sentences: past the 1,000 at which Chroma writes its HNSW files
        (docs / f"pier-{i:02d}.txt").write_text(
            " ".join(f"Ferry {i}-{j} leaves pier {i} at {j % 12 + 1} o'clock for island {j}." for j in range(20))
        )
    env = {"CITEBOT_INDEX_DIR": str(tmp_path / "index"), "CITEBOT_SENTENCE_CACHE": "true"}
    proc = driver("ingest", str(docs), "--json", env=env)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0 and json.loads(out)["sentences_embedded"] >= 1100, err
    _wreck_sentence_vectors(tmp_path / "index")

    proc = driver("ask", "When does ferry 7-3 leave pier 7?", env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "pier-" in out, err  # answered, or the closest pages named (fake embedder)
    assert "Traceback" not in err and err.count("sentence cache cannot be read") == 1

    proc = driver("doctor", env=env)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in out + err
    assert "sentence cache" in out and "unreadable" in out and "citebot ingest --rebuild" in out

    (docs / "pier-new.txt").write_text("Ferry new-1 leaves the new pier at noon for the lighthouse.")
    proc = driver("ingest", str(docs), "--json", env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and json.loads(out)["added"] == 1, err
    assert "sentence cache cannot be written" in err and "Traceback" not in err

    proc = driver("ingest", "--rebuild", str(docs), env=env)
    assert proc.communicate(timeout=180) and proc.returncode == 0
    proc = driver("ask", "When does ferry 7-3 leave pier 7?", env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "pier-" in out and "sentence cache" not in err, err


# -- the disk refuses writes ------------------------------------------------------------------------------------


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.drill
@pytest.mark.timeout(180)
def test_a_disk_that_refuses_writes_is_one_line_and_the_next_run_finishes(docs_dir, tmp_path):
    index = tmp_path / "index"
    env = {"CITEBOT_INDEX_DIR": str(index), "CITEBOT_CACHE_DIR": str(tmp_path / "cache")}
    first = driver("ingest", str(docs_dir), env=env)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    folder = many_docs(tmp_path / "more", 40)
    size = (index / "chroma.sqlite3").stat().st_size
    full = driver("ingest", str(folder), env=env, preexec_fn=_file_size_limit(size + 16_000))
    _out, err = full.communicate(timeout=120)
    assert full.returncode == 1
    line = one_line(err)
    assert "could not save changes" in line or "is full" in line, line

    again = driver("ingest", str(folder), "--json", env=env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    report = json.loads(out)
    assert report["added"] + report["updated"] + report["unchanged"] == 40 and not report["failed"]


# -- 5: --rebuild beside the old index, readers following the switch ----------------------------------------


class GatedEmbedder(FakeEmbedder):
    """The fake embedder that stops at its ``stop_at``-th call until released: a rebuild caught halfway."""

    def __init__(self, stop_at: int) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.reached = threading.Event()
        self.release = threading.Event()

    def embed(self, texts):
        if self.calls + 1 == self.stop_at:
            self.reached.set()
            assert self.release.wait(60)
        return super().embed(texts)


@pytest.mark.parametrize("where", ["embedded", pytest.param("server", marks=pytest.mark.server)])
def test_a_reader_keeps_answering_through_a_rebuild_and_follows_it(where, tmp_path, docs_dir, request):
    # A batch, an embedding call, per 2 chunks. The fake embedder's similarities are not what answerability was
    # fitted on: any passage found is answered, so "not abstained" means "the index was read".
    overrides: dict[str, object] = {"docs_dir": docs_dir, "ingest_batch": 2, "answer_confidence": 0.0}
    if where == "server":
        server = request.getfixturevalue("chroma")
        overrides.update(chroma_host=server.host, chroma_port=server.port)
    settings = load_settings(**overrides)
    Services(settings, embedder=FakeEmbedder()).ingest()
    reader = Services(settings, embedder=FakeEmbedder())
    before = reader.ask(QUESTION)
    assert not before.abstained and reader.store().rebuild == 0

    gate = GatedEmbedder(stop_at=2)
    writer = Services(settings, embedder=gate)
    outcome: dict[str, object] = {}
    rebuild = threading.Thread(target=lambda: outcome.update(report=writer.ingest(rebuild=True)))
    rebuild.start()
    try:
        assert gate.reached.wait(60), "the rebuild never reached its second embedding call"
        during = reader.ask(QUESTION)  # the new index is half-built now
        assert during.text == before.text and during.citations == before.citations
        assert reader.store().rebuild == 0
        fresh = Services(settings, embedder=FakeEmbedder()).ask(QUESTION)  # a new process sees the old index too
        assert fresh.text == before.text
    finally:
        gate.release.set()
        rebuild.join(60)
    assert "report" in outcome
    after = reader.ask(QUESTION)  # the same long-running reader, no restart
    assert reader.store().rebuild == 1 and after.text == before.text
    names = {c.name for c in reader.store().client.list_collections()}
    assert settings.collection not in names and f"{settings.collection}.r1" in names  # the old set is gone


def test_an_interrupted_rebuild_leaves_the_old_index_answering(tmp_path, docs_dir):
    settings = load_settings(docs_dir=docs_dir, answer_confidence=0.0)  # answered whenever the index is read
    Services(settings, embedder=FakeEmbedder()).ingest()

    class Failing(FakeEmbedder):
        def embed(self, texts):
            raise KeyboardInterrupt  # Ctrl-C once the new index exists, before it holds anything

    with pytest.raises(KeyboardInterrupt):
        Services(settings, embedder=Failing()).ingest(rebuild=True)
    reader = Services(settings, embedder=FakeEmbedder())
    assert not reader.ask(QUESTION).abstained and reader.store().rebuild == 0
    report = Services(settings, embedder=FakeEmbedder()).ingest(rebuild=True)  # the next one starts clean
    assert report.added == 5 and not report.failed and reader.store().follow()


# -- 9: two ingests of one index ------------------------------------------------------------------------------


def _lock_env(tmp_path: Path) -> dict[str, str]:
    return {"CITEBOT_INDEX_DIR": str(tmp_path / "index"), "CITEBOT_CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.drill
@pytest.mark.timeout(180)
@pytest.mark.parametrize("where", ["embedded", pytest.param("server", marks=pytest.mark.server)])
def test_a_second_ingest_refuses_or_waits_for_the_first(where, tmp_path, fake_cli, monkeypatch, request):
    env = _lock_env(tmp_path)
    if where == "server":
        server = request.getfixturevalue("chroma")
        env.update(CITEBOT_CHROMA_HOST=server.host, CITEBOT_CHROMA_PORT=str(server.port))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    docs = many_docs(tmp_path / "docs", 12)
    first = driver("ingest", str(docs), env=env, delay=0.4)
    try:
        wait_for_embedding(first)
        monkeypatch.setenv("CITEBOT_INGEST_WAIT", "0")
        code, _out, err = run("ingest", str(docs))
        line = one_line(err)
        assert code == 1 and f"another ingest (pid {first.pid} on" in line and "writing this index" in line

        monkeypatch.setenv("CITEBOT_INGEST_WAIT", "120")
        code, out, err = run("ingest", str(docs), "--json")  # waits, then finds the work done
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
    assert code == 0 and "waiting for it to finish" in err
    assert '"unchanged": 12' in out and '"embedded": 0' in out


@pytest.mark.drill
@pytest.mark.timeout(180)
def test_an_ingest_beside_another_process_rebuild_waits_instead_of_failing(tmp_path, fake_cli, monkeypatch, docs_dir):
    env = _lock_env(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert run("ingest", str(docs_dir))[0] == 0
    rebuild = driver("ingest", "--rebuild", str(docs_dir), env=env, delay=0.5)
    try:
        wait_for_embedding(rebuild)
        code, out, err = run("ingest", str(docs_dir), "--json")
    finally:
        rebuild.wait(timeout=120)
    assert rebuild.returncode == 0
    assert code == 0 and "Traceback" not in err and '"unchanged": 5' in out
    code, out, err = run("ask", QUESTION)
    assert code == 0 and "BlackBerry" in out


@pytest.mark.drill
@pytest.mark.timeout(180)
@pytest.mark.parametrize("where", ["embedded", pytest.param("server", marks=pytest.mark.server)])
def test_a_killed_ingest_does_not_leave_the_index_locked(where, tmp_path, fake_cli, monkeypatch, request, docs_dir):
    env = _lock_env(tmp_path)
    if where == "server":
        server = request.getfixturevalue("chroma")
        env.update(CITEBOT_CHROMA_HOST=server.host, CITEBOT_CHROMA_PORT=str(server.port))
    for key, value in {**env, "CITEBOT_INGEST_WAIT": "0"}.items():
        monkeypatch.setenv(key, value)
    first = driver("ingest", str(docs_dir), env=env, delay=5)
    wait_for_embedding(first)
    first.kill()
    first.wait()
    code, _out, err = run("ingest", str(docs_dir))  # refuses at once if the lock were still held
    assert code == 0, err
    assert not list(tmp_path.glob(".index.*lock"))  # the file the killed one left is taken over, then removed
