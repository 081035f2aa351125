"""`citebot doctor`: each problem is found and comes with its fix; a healthy set-up is all ok."""

from __future__ import annotations

import pytest

from bot.cli.doctor import Check, run_checks
from bot.services import Services
from bot.settings import load_settings
from tests.llm_server import ScriptedLLM, closed_port_url
from tests.support import FakeEmbedder, run_cli


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Settings in a fresh folder: its own index, cache and data."""
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("CITEBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CITEBOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def llm_server():
    server = ScriptedLLM(models=("llama3.1", "qwen2.5"), api_key="sk-right").start()
    yield server
    server.stop()


def checks(**settings: object) -> dict[str, Check]:
    return {c.name: c for c in run_checks(Services(load_settings(**settings), embedder=FakeEmbedder()))}


def ingested(docs_dir, **settings: object) -> None:
    Services(load_settings(**settings), embedder=FakeEmbedder()).ingest(docs_dir)


def test_a_fresh_set_up_says_what_to_do_first(env):
    found = checks(docs_dir=env / "missing")
    assert found["documents folder"].status == "warn" and "CITEBOT_DOCS_DIR" in found["documents folder"].fix
    assert found["embedding model"].status == "ok"  # the packaged model is installed
    assert found["fast query encoder"].status == "warn" and "citebot ingest" in found["fast query encoder"].fix
    assert found["index"].status == "fail" and found["index"].fix == "run `citebot ingest FOLDER`"
    assert found["LLM"].status == "ok" and "extractive" in found["LLM"].detail
    assert found["discord"].status == "warn" and "CITEBOT_DISCORD_TOKEN" in found["discord"].fix


def test_an_ingested_index_is_reported_with_its_counts(env, docs_dir):
    ingested(docs_dir)
    found = checks(docs_dir=docs_dir)
    assert found["source 'docs'"].status == "ok" and found["source 'docs'"].detail == str(docs_dir.resolve())
    assert found["index"].status == "ok" and found["index"].detail.startswith("5 documents, ")
    assert found["index parameters"].status == "ok"


def test_an_index_built_with_other_parameters_asks_for_a_rebuild(env, docs_dir):
    ingested(docs_dir, chunk_tokens=220)
    found = checks(chunk_tokens=120)
    assert found["index"].status == "fail"
    assert "chunk_tokens" in found["index"].detail and found["index"].fix == "run `citebot ingest --rebuild`"


def test_an_unreachable_chroma_server_is_a_failure_with_a_fix(env):
    host_port = closed_port_url().removeprefix("http://").removesuffix("/v1")
    host, port = host_port.split(":")
    found = checks(chroma_host=host, chroma_port=int(port))
    assert found["index"].status == "fail" and host_port in found["index"].detail
    assert "Connection refused" in found["index"].detail and "start the Chroma server" in found["index"].fix


def test_llm_problems_are_named(env, llm_server):
    url = llm_server.base_url
    down = checks(llm_base_url=closed_port_url(), llm_model="llama3.1")["LLM"]
    assert down.status == "fail" and "cannot reach" in down.detail
    no_model = checks(llm_base_url=url)["LLM"]
    assert no_model.status == "fail" and no_model.fix == "set CITEBOT_LLM_MODEL"
    bad_key = checks(llm_base_url=url, llm_model="llama3.1", llm_api_key="sk-wrong")["LLM"]
    assert bad_key.status == "fail" and "HTTP 401" in bad_key.detail and bad_key.fix == "set CITEBOT_LLM_API_KEY"
    unknown = checks(llm_base_url=url, llm_model="gpt-9", llm_api_key="sk-right")["LLM"]
    assert unknown.status == "fail" and "llama3.1, qwen2.5" in unknown.detail
    failing = checks(llm_base_url=url, llm_model="qwen2.5", llm_api_key="sk-right")["LLM"]  # nothing scripted: 500
    assert failing.status == "fail" and "test completion failed" in failing.detail and "HTTP 500" in failing.detail
    llm_server.script("")
    empty = checks(llm_base_url=url, llm_model="qwen2.5", llm_api_key="sk-right")["LLM"]
    assert empty.status == "fail" and "empty completion" in empty.detail and "chat template" in empty.fix
    llm_server.replies.clear()
    llm_server.script("OK")
    good = checks(llm_base_url=url, llm_model="qwen2.5", llm_api_key="sk-right")["LLM"]
    assert good.status == "ok" and "qwen2.5" in good.detail and "test completion took" in good.detail
    assert llm_server.requests[-1]["max_tokens"] == 16 and llm_server.requests[-1]["model"] == "qwen2.5"


def test_the_command_prints_each_fix_and_exits_1_on_a_failure(env, docs_dir):
    code, out, err = run_cli("doctor")
    assert code == 1 and err == ""
    assert "✗ index:" in out and "fix: run `citebot ingest FOLDER`" in out
    ingested(docs_dir)
    code, out, _ = run_cli("doctor")
    assert code == 0 and "✓ index: 5 documents" in out and "✗" not in out


def test_the_sources_the_index_was_built_from_are_checked_wherever_doctor_runs(env, docs_dir, monkeypatch):
    other = env / "elsewhere"
    other.mkdir()
    ingested(docs_dir)
    monkeypatch.chdir(other)  # the default CITEBOT_DOCS_DIR, ./docs, does not exist here
    found = checks()
    assert "documents folder" not in found and found["source 'docs'"].status == "ok"

    moved = docs_dir.rename(env / "moved")
    found = checks()
    assert found["source 'docs'"].status == "warn" and "does not exist" in found["source 'docs'"].detail
    assert "citebot sources remove docs" in found["source 'docs'"].fix
    assert moved.is_dir()
