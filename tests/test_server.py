"""Everything against a real `chroma run` server: ingest, ask, re-ingest, readers during writes, generation."""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict
from pathlib import Path

import pytest

from bot import components
from bot.services import Services
from bot.settings import load_settings
from ingest.errors import IndexMismatchError
from ingest.index.chroma_client import open_client
from ingest.index.store import Store
from tests.chroma_server import chroma_server, free_port
from tests.crashcheck import write_corpus
from tests.support import FINGERPRINT, FakeEmbedder, make_ingestor
from tests.support import run_cli as run

pytestmark = pytest.mark.server
_names = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with chroma_server(tmp_path_factory.mktemp("chroma") / "data") as address:
        yield address


@pytest.fixture
def server_env(server, monkeypatch):
    """CITEBOT_ settings pointing at the server, with a collection of this test's own."""
    host, port = server
    monkeypatch.setenv("CITEBOT_CHROMA_HOST", host)
    monkeypatch.setenv("CITEBOT_CHROMA_PORT", str(port))
    monkeypatch.setenv("CITEBOT_COLLECTION", f"server-test-{next(_names)}")
    return server


@pytest.mark.e2e
def test_cli_ingest_ask_and_reingest_on_the_server(server_env, docs_dir, tmp_path):
    code, out, err = run("ingest", str(docs_dir), "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == 5

    code, out, err = run("ask", "why did BlackBerry leave Pakistan?", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert not answer["abstained"]
    assert answer["citations"][0]["source"] == "blackberry-pakistan-exit.md"

    path = docs_dir / "sourdough-starter.txt"
    path.write_text(path.read_text() + "\nRye flour makes a starter more active.\n")
    (docs_dir / "tide-pools.md").unlink()
    code, out, err = run("ingest", str(docs_dir), "--json")
    report = json.loads(out)
    assert (report["added"], report["updated"], report["unchanged"], report["removed"]) == (0, 1, 3, 1)
    assert 0 < report["embedded"] <= report["chunks"]

    code, out, _ = run("search", "rye flour starter", "--json")
    passages = json.loads(out)["passages"]
    assert passages[0]["source"] == "sourdough-starter.txt" and "Rye flour" in passages[0]["text"]
    assert not (tmp_path / ".citebot" / "index").exists()  # nothing went to an embedded index
    assert (tmp_path / ".citebot" / "data" / "questions.sqlite").is_file()  # the questions log is local


@pytest.mark.parametrize("command", [["ask", "anything?"], ["ingest", "."]])
def test_unreachable_server_is_one_line_error_naming_host_and_port(monkeypatch, command):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("CITEBOT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CITEBOT_CHROMA_PORT", str(port))
    code, out, err = run(*command)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "Traceback" not in err


def _services(server, collection: str) -> Services:
    host, port = server
    return Services(load_settings(chroma_host=host, chroma_port=port, collection=collection), embedder=FakeEmbedder())


def test_readers_keep_answering_while_an_ingest_rewrites_documents(server, tmp_path):
    """A reader thread asks and reads the whole index while the writer rewrites every document, round after round."""
    name = f"server-test-{next(_names)}"
    writer = _services(server, name)
    docs = tmp_path / "docs"
    rounds = 4
    write_corpus(docs, 6, seed=0)
    assert writer.ingest(docs).added == 6
    versions = {  # doc hash prefix (as in chunk ids) -> round; chunk count per (source, doc hash)
        c.meta.doc_hash[:12]: 0 for c in writer.store().reader.iter_chunks()
    }
    expected_counts: dict[tuple[str, str], int] = defaultdict(int)
    for c in writer.store().reader.iter_chunks():
        expected_counts[(c.meta.source, c.meta.doc_hash[:12])] += 1

    reader = _services(server, name)
    done = threading.Event()
    seen_round = [0]
    problems: list[str] = []
    reads = [0]
    round_seen = threading.Condition()

    def read_forever() -> None:
        snapshot_store = Store(
            open_client(host=server[0], port=server[1]), name, components.fingerprint(reader.settings), create=False
        )
        while not done.is_set():
            try:
                answer = reader.ask("Which council budget paid for the harbour bridge?")
                in_answer: dict[str, set[str]] = defaultdict(set)  # one read, then another: checked apart
                for p in answer.passages:
                    in_answer[p.source].add(p.chunk_id.split("-")[1])
                in_snapshot: dict[str, set[str]] = defaultdict(set)
                live = snapshot_store.collections.chunks.get(where={"live": True}, include=["metadatas"])
                counts: dict[tuple[str, str], int] = defaultdict(int)
                for meta in live["metadatas"]:
                    counts[(meta["source"], meta["doc_hash"][:12])] += 1
                    in_snapshot[meta["source"]].add(meta["doc_hash"][:12])
            except Exception as exc:  # every answer must succeed
                problems.append(f"read failed: {type(exc).__name__}: {exc}")
                return
            reads[0] += 1
            for read in (in_answer, in_snapshot):
                for source, hashes in read.items():
                    if len(hashes) != 1:
                        problems.append(f"{source}: {len(hashes)} versions visible at once")
            for key, n in counts.items():
                if key in expected_counts and n != expected_counts[key]:
                    problems.append(f"{key[0]}: {n} chunks visible, the complete version has {expected_counts[key]}")
            if len({s for s, _ in counts}) != 6:
                problems.append(f"{len({s for s, _ in counts})} documents visible instead of 6")
            with round_seen:
                seen_round[0] = max(seen_round[0], *(versions.get(h, -1) for _, h in counts))
                round_seen.notify_all()

    thread = threading.Thread(target=read_forever)
    thread.start()
    try:
        for r in range(1, rounds + 1):
            write_corpus(docs, 6, seed=r)  # every document rewritten
            report = writer.ingest(docs)
            assert report.updated == 6
            for c in writer.store().reader.iter_chunks():
                key = (c.meta.source, c.meta.doc_hash[:12])
                versions[key[1]] = r
                expected_counts[key] += 1
            with round_seen:  # the reader reads on while the next round writes
                assert round_seen.wait_for(lambda r=r: seen_round[0] >= r or problems, timeout=60)
    finally:
        done.set()
        thread.join(timeout=60)
    assert not problems, problems[:5]
    assert reads[0] >= rounds


def test_generation_and_fingerprint_on_the_server(server):
    host, port = server
    name = f"server-test-{next(_names)}"
    store = Store(open_client(host=host, port=port), name, FINGERPRINT, create=True)
    other = Store(open_client(host=host, port=port), name, FINGERPRINT, create=False)  # another client
    assert store.generation() == other.generation() == 0
    store.bump_generation()
    assert other.generation() == 1

    docs = Path("docs")
    write_corpus(docs, 2)
    make_ingestor(store, FakeEmbedder()).run(docs)
    after_ingest = other.generation()
    assert after_ingest > 1 and not other.dirty
    make_ingestor(store, FakeEmbedder()).run(docs)  # nothing changed: generation stays
    assert other.generation() == after_ingest

    other_params = {**FINGERPRINT, "chunk_tokens": 99}
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Store(open_client(host=host, port=port), name, other_params, create=False).check_fingerprint()
