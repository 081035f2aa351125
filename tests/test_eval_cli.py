"""`citebot eval` end to end: the real CLI, the packaged model, a real Chroma, the sample corpus."""

from __future__ import annotations

import json

import pytest

from tests.support import run_cli as run

pytestmark = pytest.mark.e2e


@pytest.fixture
def ingested(tmp_path, monkeypatch, docs_dir):
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    code, _, err = run("ingest", str(docs_dir), "--json")
    assert code == 0, err


def test_eval_reports_metrics_and_writes_results(ingested, tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "bb",
            "question": "Why did BlackBerry leave Pakistan?",
            "answers": ["BlackBerry"],
            "sources": ["blackberry-pakistan-exit"],
            "evidence": [{"source": "blackberry-pakistan-exit", "fact": "no such sentence anywhere"}],
        },
        {"id": "tide", "question": "What lives in tide pools?", "answers": ["anemones"], "sources": ["tide-pools.md"]},
        {"id": "none", "question": "Who won the 1962 chess olympiad?", "answers": [], "type": "unanswerable"},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "results.jsonl"
    code, stdout, err = run("eval", str(questions), "-k", "3", "--out", str(out), "--json")
    assert code == 0, err
    metrics = json.loads(stdout)
    assert metrics["questions"] == 3 and metrics["answerable"] == 2 and metrics["unanswerable"] == 1
    assert metrics["k"] == 3
    assert metrics["hit_at_k"] == 1.0 and metrics["recall_at_k"] == 1.0 and metrics["mrr_at_10"] == 1.0
    assert metrics["fact_hit_at_k"] == 0.0 and metrics["facts"] == 1
    assert metrics["retrieve_p95_ms"] > 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["bb", "tide", "none"]
    for r in lines:
        assert set(r) == {"id", "question", "answer", "abstained", "passages"}
        assert len(r["passages"]) == 3 and set(r["passages"][0]) == {"source", "text", "score"}
    assert lines[0]["passages"][0]["source"] == "blackberry-pakistan-exit.md"

    code, stdout, _ = run("eval", str(questions), "-k", "3")
    assert code == 0 and "Recall@3" in stdout and "MRR@10" in stdout
