"""A real model in the loop (`make test-llm`): llama.cpp's server with the packaged Gemma 3 270M.

citebot is configured as a user configures it, with CITEBOT_LLM_BASE_URL and CITEBOT_LLM_MODEL. A
model this small writes poor answers; what these tests hold is that the user never sees worse than
no model: every sentence shown is verified, an answerable question is answered (by the model or
by the extractive fallback), and a dead or hung server costs the timeout and one line.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import AsyncMock

import pytest

from bot.answering.llm_answer import condense
from bot.answering.sentence_stream import SentenceStream
from bot.cli.doctor import run_checks
from bot.schema import Answer, Turn
from bot.services import Services
from bot.settings import load_settings
from tests.support import EXAMPLES, run_cli

pytestmark = [pytest.mark.llm, pytest.mark.e2e]
pytest.importorskip("llama_cpp", reason="`make test-llm` installs llama-cpp-python (.[llm-local])")

from tests.llama_server import MODEL_ALIAS, LlamaProcess, llama_server  # noqa: E402

#: Seed-style questions the sample article answers.
SEED_QUESTIONS = [
    "why did BlackBerry leave Pakistan?",
    "when did BlackBerry stop operating in Pakistan?",
    "what did the Pakistani government want from BlackBerry?",
    "who told Pakistan's mobile operators that BES servers could no longer run?",
    "what did BlackBerry's chief operating officer say about staying in Pakistan?",
]
#: What the lane measured, printed at the end of the run (tests/conftest.py).
TIMINGS: dict[str, float | str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaProcess]:
    t0 = time.perf_counter()
    with llama_server(tmp_path_factory.mktemp("llama")) as process:
        TIMINGS["model start (s)"] = time.perf_counter() - t0
        yield process


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("seed")
    docs = base / "docs"
    shutil.copytree(EXAMPLES, docs)
    report = Services(load_settings(index_dir=base / "index", docs_dir=docs)).ingest(docs)
    assert report.added == 4 and not report.failed
    return base / "index"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, server: LlamaProcess, index_dir: Path) -> pytest.MonkeyPatch:
    """The ordinary settings a user sets to point citebot at the server."""
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("CITEBOT_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("CITEBOT_LLM_MODEL", MODEL_ALIAS)
    monkeypatch.setenv("CITEBOT_LLM_SYSTEM_ROLE", "false")  # the gemma chat format drops system messages
    return monkeypatch


def services() -> Services:
    return Services(load_settings())


def assert_only_verified_is_shown(result: Answer) -> None:
    """No unsupported sentence, and no marker without its citation, in what the user reads."""
    assert all(c.supported for c in result.claims), result.claims
    ids = {c.id for c in result.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", result.text)} <= ids, result.text
    used = {n for c in result.claims for n in c.citations}
    assert used <= ids


def test_seed_questions_are_answered_by_the_model_or_the_fallback_never_not_found(configured):
    svc = services()
    took = []
    by_model = 0
    for question in SEED_QUESTIONS:
        t0 = time.perf_counter()
        result = svc.ask(question)
        took.append(time.perf_counter() - t0)
        assert not result.abstained, (question, result.notice)
        assert_only_verified_is_shown(result)
        if result.claims:
            by_model += 1
        else:
            assert "extractive" in result.notice and "\n" not in result.notice
    TIMINGS["seed answers by the model (of 5)"] = by_model
    TIMINGS["seconds per seed answer, mean"] = sum(took) / len(took)
    TIMINGS["seconds, first seed answer (the server's first long prompt is slow)"] = took[0]
    TIMINGS["seconds per seed answer after the first, max"] = max(took[1:])


def test_ask_json_and_the_terminal_show_only_verified_sentences(configured):
    code, out, err = run_cli("ask", SEED_QUESTIONS[0], "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["abstained"] is False
    assert all(c["supported"] for c in data.get("claims", []))
    ids = {c["id"] for c in data["citations"]}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])} <= ids
    code, human, err = run_cli("ask", SEED_QUESTIONS[0])
    assert code == 0 and "Traceback" not in err
    assert "unsupported" not in human and "Sources" in human


def test_the_stream_shows_whole_verified_sentences_that_the_answer_keeps(configured):
    pieces: list[str] = []
    result = services().ask(SEED_QUESTIONS[1], on_sentence=pieces.append)
    assert not result.abstained
    if result.claims:  # the model's answer was kept: what streamed is that answer
        assert "".join(pieces).strip() == result.text
    for piece in pieces:  # whatever happened, each piece was a whole sentence or code block
        assert piece.rstrip().endswith((".", "!", "?", "]", "```", ":")), piece


def test_chat_condenses_a_follow_up_with_the_real_model_or_falls_back(configured):
    svc = services()
    first = svc.ask(SEED_QUESTIONS[0])
    history = [Turn(SEED_QUESTIONS[0], first.text)]
    llm = svc.llm
    assert llm is not None
    rewrite = condense(llm, svc.prompts, "when will it stop operating there?", history)
    # Usable (on the conversation's topic) or None: the rule-based condenser then carries the names.
    if rewrite is not None:
        assert re.search(r"blackberry|pakistan|operat", rewrite, re.IGNORECASE), rewrite
    follow = svc.ask("when will it stop operating there?", history)
    assert not follow.abstained and "2015" in follow.text, follow.text
    assert_only_verified_is_shown(follow)


def test_doctor_checks_the_model_for_real(configured, monkeypatch):
    found = {c.name: c for c in run_checks(services())}["LLM"]
    assert found.status == "ok" and "test completion took" in found.detail
    monkeypatch.setenv("CITEBOT_LLM_MODEL", "llama3.1")
    wrong = {c.name: c for c in run_checks(services())}["LLM"]
    assert wrong.status == "fail" and MODEL_ALIAS in wrong.detail


def test_a_hung_server_costs_the_timeout_then_the_extractive_answer(configured, server):
    configured.setenv("CITEBOT_LLM_TIMEOUT", "3")
    svc = services()
    svc.ask("what is a tide pool?")  # load the embedding model before the clock starts
    server.pause()
    try:
        t0 = time.perf_counter()
        result = svc.ask(SEED_QUESTIONS[0])
        took = time.perf_counter() - t0
    finally:
        server.resume()
    TIMINGS["hung server: seconds to the fallback (timeout 3 s)"] = took
    assert took < 3 + 5  # the timeout bounds it (retries included), not the hung server
    assert not result.abstained and result.claims == []
    assert "did not answer within 3s" in result.notice and "extractive" in result.notice


def test_a_server_killed_mid_stream_gives_the_extractive_answer_and_one_line(configured, monkeypatch, tmp_path):
    with llama_server(tmp_path) as doomed:
        configured.setenv("CITEBOT_LLM_BASE_URL", doomed.base_url)
        configured.setenv("CITEBOT_LLM_MAX_RETRIES", "0")
        feed = SentenceStream.feed
        killed = threading.Event()

        def feed_then_kill(self: SentenceStream, piece: str) -> None:
            feed(self, piece)
            if not killed.is_set():  # the first words arrived: the server dies mid-answer
                killed.set()
                doomed.kill()

        monkeypatch.setattr(SentenceStream, "feed", feed_then_kill)
        pieces: list[str] = []
        result = services().ask(SEED_QUESTIONS[0], on_sentence=pieces.append)
    assert killed.is_set()
    assert not result.abstained and result.claims == [] and "Pakistan" in result.text
    assert "extractive" in result.notice and "\n" not in result.notice
    assert all(p.rstrip().endswith((".", "!", "?", "]", "```", ":")) for p in pieces)


async def test_discord_shows_the_real_models_answer_growing_one_verified_sentence_at_a_time(configured):
    from tests.test_discord_commands import ask_cog, interaction  # here: only this test drives the Discord cog
    from tests.test_discord_live import fake_message

    it = interaction()
    msg = fake_message()
    it.edit_original_response = AsyncMock(return_value=msg)
    t0 = time.monotonic()
    cog = ask_cog(services())
    await cog.ask.callback(cog, it, SEED_QUESTIONS[0])
    *growing, final = msg.edits
    assert [c[0] for c in it.calls if c[0] != "create_thread"] == ["defer"]  # the reply became the answer
    assert "embed" in final[2] and "view" in final[2]
    times = [t for t, _c, _k in msg.edits]
    assert all(b - a >= 0.99 for a, b in zip(times, times[1:]))  # at most one edit a second
    if "-# note:" not in final[1]:  # the model's answer was kept: every edit showed a beginning of it
        for _t, content, _k in growing:
            assert " ".join(final[1].split()).startswith(" ".join(content.split())), (content, final[1])
    TIMINGS["discord: edits while streaming"] = len(growing)
    for n, (t, content, _k) in enumerate([*growing, final], 1):
        TIMINGS[f"discord edit {n} at {t - t0:.1f}s"] = content[:90].replace("\n", " ")
