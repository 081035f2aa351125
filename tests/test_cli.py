"""End to end through the real CLI: the packaged model, a real Chroma in a temporary folder."""

from __future__ import annotations

import json

import pytest

from tests.pdfgen import make_pdf
from tests.support import run_cli as run

pytestmark = pytest.mark.e2e


@pytest.fixture
def index_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    return tmp_path / "index"


@pytest.fixture
def ingested(index_env, docs_dir):
    code, out, err = run("ingest", str(docs_dir), "--json")
    assert code == 0, err
    return json.loads(out)


def test_ingest_json_contract(ingested):
    assert set(ingested) >= {"added", "updated", "unchanged", "removed", "chunks", "failed", "seconds"}
    assert ingested["added"] == 5 and ingested["failed"] == [] and ingested["chunks"] >= 5  # at least one each


def test_ask_cites_the_blackberry_note_and_no_clutter(ingested):
    code, out, _ = run("ask", "why did BlackBerry leave Pakistan?", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"question", "answer", "abstained", "citations", "passages", "timings_ms"}
    assert data["abstained"] is False
    assert data["citations"], data
    assert {c["source"] for c in data["citations"]} == {"blackberry-pakistan-exit.md"}
    quotes = " ".join(c["quote"] for c in data["citations"])
    assert "monitor all BES traffic" in quotes or "backdoors" in quotes
    for c in data["citations"]:
        assert f"[{c['id']}]" in data["answer"]
        assert set(c) >= {"id", "source", "title", "url", "quote"}
    for passage in data["passages"]:
        assert set(passage) >= {"id", "source", "title", "text", "score"}


def test_ask_human_output_lists_sources(ingested):
    code, out, _ = run("ask", "How does a heat pump heat a house?")
    assert code == 0
    assert "Sources" in out and "[1]" in out and "https://example.org/notes/heat-pumps" in out
    assert "cookies" not in out.lower()


def test_unanswerable_question_abstains(ingested):
    code, out, _ = run("ask", "Who won the 1998 football world cup final?", "--json")
    data = json.loads(out)
    assert code == 0 and data["abstained"] is True and data["citations"] == []


def test_search_json(ingested):
    code, out, _ = run("search", "sea anemones at low tide", "-k", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["query"] == "sea anemones at low tide"
    assert len(data["passages"]) == 2 and data["passages"][0]["source"] == "tide-pools.md"


def test_reingest_reports_unchanged(ingested, docs_dir):
    code, out, _ = run("ingest", str(docs_dir), "--json")
    data = json.loads(out)
    assert code == 0 and data["unchanged"] == 5 and data["added"] == 0 and data["chunks"] == 0


def test_bad_inputs_are_reported_not_fatal(index_env, tmp_path):
    docs = tmp_path / "bad"
    docs.mkdir()
    (docs / "good.txt").write_text("Kestrels hover over fields while they hunt for voles and mice.\n")
    (docs / "zero.txt").write_bytes(b"")
    (docs / "binary.md").write_bytes(bytes(range(256)) * 4)
    (docs / "undecodable.txt").write_bytes(b"\xc3\x28\xa0\xa1\xe2\x28\xa1" * 200)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "real.pdf").write_bytes(make_pdf(["Barn owls swallow their prey whole and cough up pellets."]))
    code, out, err = run("ingest", str(docs), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["added"] == 2
    reasons = {f["path"]: f["reason"] for f in data["failed"]}
    assert set(reasons) == {"zero.txt", "binary.md", "undecodable.txt", "broken.pdf"}
    assert all(r and "\n" not in r for r in reasons.values())
    code, out, _ = run("ask", "What do barn owls cough up?", "--json")
    answer = json.loads(out)
    assert answer["citations"][0]["source"] == "real.pdf" and answer["citations"][0]["page"] == 1


def test_empty_folder_is_a_clear_message(index_env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run("ingest", str(empty))
    assert code == 1 and "error: no documents" in err  # nothing indexed is not a success


def test_reading_commands_never_create_a_missing_index(index_env):
    for command in (["ask", "what is the tunnel?"], ["search", "tunnel"], ["sources"], ["doctor"]):
        code, _, err = run(*command)
        assert "Traceback" not in err
        assert not index_env.exists(), f"`citebot {command[0]}` created {index_env}"
    code, _, err = run("ask", "what is the tunnel?")
    assert code == 1 and "run `citebot ingest" in err


def test_empty_and_overlong_questions_are_refused(ingested):
    code, _, err = run("ask", "   ")
    assert code == 1 and "empty" in err
    code, _, err = run("ask", "why " * 1000)
    assert code == 1 and "too long" in err


def test_model_change_requires_rebuild(ingested, docs_dir, monkeypatch):
    monkeypatch.setenv("CITEBOT_CHUNK_TOKENS", "120")
    code, _, err = run("ask", "why did BlackBerry leave Pakistan?")
    assert code == 1 and "--rebuild" in err and "chunk_tokens" in err
    code, out, err = run("ingest", str(docs_dir), "--rebuild", "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == 5


@pytest.fixture
def docs_site(index_env, tmp_path):
    """A documentation folder: a built Sphinx page, a MkDocs page, release notes left out by .citebotignore."""
    from tests.support import FIXTURES

    site = tmp_path / "site"
    site.mkdir()
    for name in ("sphinx-settings.html", "mkdocs-cors.md", "sphinx-quickstart.rst"):
        (site / name).write_bytes((FIXTURES / "docs" / name).read_bytes())
    (site / "CHANGES.md").write_text("# Changes\n\n## 23.0\n\n- The default worker timeout is now 30 seconds.\n")
    (site / ".citebotignore").write_text("CHANGES.md\n")
    return site


def test_docs_folder_answers_with_section_and_anchor_link(docs_site):
    code, out, err = run("ingest", str(docs_site), "--exclude", "*.rst", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["added"] == 2
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {
        "CHANGES.md": "excluded by .citebotignore",
        "sphinx-quickstart.rst": "excluded by --exclude '*.rst'",
    }
    code, out, _ = run("ask", "what is the default worker timeout in gunicorn?", "--json")
    data = json.loads(out)
    assert code == 0 and not data["abstained"]
    top = data["passages"][0]
    assert top["source"] == "sphinx-settings.html" and top["section"] == "Worker Processes › timeout"
    assert top["url"] == "https://docs.gunicorn.org/en/stable/settings.html#timeout"
    assert "Default: `30`" in top["text"]
    cited = data["citations"][0]
    assert cited["section"] == "Worker Processes › timeout" and cited["url"].endswith("#timeout")
    code, out, _ = run("ask", "what is the default worker timeout in gunicorn?")
    sources = out.split("Sources", 1)[1]
    assert sources.count("(sphinx-settings.html)") == 1  # the document once, its cited sections under it
    assert "§ Worker Processes › timeout: “" in sources  # each with its section and quoted passage
    assert "https://docs.gunicorn.org/en/stable/settings.html#timeout" in sources
