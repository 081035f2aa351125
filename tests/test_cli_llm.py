"""`citebot ask` with an LLM configured: the real CLI, the packaged model, a scripted OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from tests.llm_server import ScriptedLLM, closed_port_url
from tests.support import run_cli as run

pytestmark = pytest.mark.e2e


@pytest.fixture
def ingested(tmp_path, monkeypatch, docs_dir):
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    code, _, err = run("ingest", str(docs_dir))
    assert code == 0, err


def llm_env(monkeypatch, url: str) -> None:
    monkeypatch.setenv("CITEBOT_LLM_BASE_URL", url)
    monkeypatch.setenv("CITEBOT_LLM_MODEL", "llama3.1")
    monkeypatch.setenv("CITEBOT_LLM_TIMEOUT", "5")
    monkeypatch.setenv("CITEBOT_LLM_MAX_RETRIES", "0")


def test_ask_json_reports_checked_citations(ingested, monkeypatch):
    question = "why did BlackBerry leave Pakistan?"
    _, found, _ = run("search", question, "--json")  # the passages the model will be shown, in order
    n = next(p["id"] for p in json.loads(found)["passages"] if "monitor all BES traffic" in " ".join(p["text"].split()))
    server = ScriptedLLM().start()
    try:
        llm_env(monkeypatch, server.base_url)
        server.script(
            f"The government wanted to monitor all BES traffic, and BlackBerry refused [{n}]. "
            f"BlackBerry also opened a new office in Karachi in 2016 [{n}]. See also [7]."
        )
        code, out, err = run("ask", question, "--json")
        human_code, human, _ = run("ask", question)
    finally:
        server.stop()
    assert code == 0, err
    data = json.loads(out)
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "monitor all BES traffic" in " ".join(prompt.split(f'<passage id="{n}"')[1].split("</passage>")[0].split())
    assert data["abstained"] is False and "[7]" not in data["answer"]
    # The invented office is withheld from the JSON answer and the terminal alike, with one line.
    assert data["answer"] == "The government wanted to monitor all BES traffic, and BlackBerry refused [1]."
    assert [(c["citations"], c["supported"]) for c in data["claims"]] == [([1], True)]
    assert data["notice"] == "1 sentence of the model's answer was withheld: the passages do not support it"
    (citation,) = data["citations"]
    assert citation["source"] == "blackberry-pakistan-exit.md" and citation["supported"] is True
    assert "monitor all BES traffic" in citation["quote"]
    assert human_code == 0 and "Karachi" not in human and "unsupported" not in human
    # Streamed: the verified sentence printed once as it came, then the line saying what was withheld.
    flat = " ".join(human.split())
    assert flat.count("and BlackBerry refused [1].") == 1
    assert flat.index("and BlackBerry refused [1].") < flat.index("note: 1 sentence of the model's answer was withheld")


def test_ask_falls_back_with_a_notice_when_the_llm_is_down(ingested, monkeypatch):
    llm_env(monkeypatch, closed_port_url())
    code, out, err = run("ask", "why did BlackBerry leave Pakistan?", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert "unreachable" in data["notice"] and "extractive answer" in data["notice"]
    assert data["abstained"] is False and data["citations"][0]["source"] == "blackberry-pakistan-exit.md"
    code, human, _ = run("ask", "why did BlackBerry leave Pakistan?")
    assert code == 0 and human.startswith("note: the LLM at") and "Sources" in human


def test_base_url_without_a_model_is_a_one_line_error(ingested, monkeypatch):
    monkeypatch.setenv("CITEBOT_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    code, _, err = run("ask", "why did BlackBerry leave Pakistan?")
    assert code == 1 and err.strip().count("\n") == 0 and "CITEBOT_LLM_MODEL" in err
