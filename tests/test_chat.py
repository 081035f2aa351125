"""`citebot chat`: the loop through injected input and a recording console, and once as a real process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bot.answering.answer import AnswerOptions, answer
from bot.answering.llm import OpenAICompatibleChatModel
from bot.answering.prompts import load_prompts
from bot.cli.chat import ChatSession, lines_reader
from bot.errors import USER_ERRORS
from bot.retrieval.base import DenseRetriever
from tests.llm_server import ScriptedLLM
from tests.support import make_ingestor, make_store
from tests.test_llm import SHUTDOWN, ListRetriever, blackberry_passages

FIRST = "why did BlackBerry leave Pakistan?"
FOLLOW = "when will it stop operating there?"
ROOT = Path(__file__).resolve().parent.parent


def console() -> Console:
    return Console(file=io.StringIO(), width=200, highlight=False)


def output(c: Console) -> str:
    return c.file.getvalue()  # type: ignore[attr-defined]


class Recorder:
    """An ask function over the real answerer that remembers what history each question came with."""

    def __init__(self, retriever, embed=None, llm=None):
        self.retriever, self.embed, self.llm = retriever, embed, llm
        self.histories: list[list[str]] = []

    def __call__(self, question, history, *, on_sentence=None):
        self.histories.append([t.question for t in history])
        prompts = load_prompts() if self.llm else None
        options = AnswerOptions(answer_confidence=0.0)
        return answer(
            question,
            history,
            self.retriever,
            embed=self.embed,
            options=options,
            llm=self.llm,
            prompts=prompts,
            on_sentence=on_sentence,
        )


@pytest.fixture
def retriever(tmp_path, docs_dir, fake_embedder):
    store = make_store(tmp_path / "idx")
    make_ingestor(store, fake_embedder).run(docs_dir)
    return DenseRetriever(store, fake_embedder)


def test_conversation_commands_and_history(retriever, fake_embedder):
    ask = Recorder(retriever, fake_embedder.embed)
    out = console()
    lines = [FIRST, "", FOLLOW, "/sources", "/bogus", "/reset", FOLLOW, "QUIT", "never asked"]
    ChatSession(ask, out, errors=USER_ERRORS).run(lines_reader(lines), banner="citebot chat")
    text = output(out)
    assert text.startswith("citebot chat") and "Ctrl-D" in text and "exit or quit" in text
    assert ask.histories == [[], [FIRST], []]  # the follow-up saw the first question; /reset forgot it
    assert "BES" in text and "Sources" in text
    assert "blackberry-pakistan-exit.md, score" in text  # /sources lists the last answer's passages
    assert "Unknown command /bogus" in text and "New conversation" in text
    assert "never asked" not in text and text.rstrip().endswith("bye")


def test_end_of_input_leaves_and_sources_before_any_answer(retriever):
    out = console()
    ChatSession(Recorder(retriever), out).run(lines_reader(["/sources"]))
    assert "No answer yet" in output(out) and output(out).rstrip().endswith("bye")


WHY = "The Pakistani government wanted to monitor all BES traffic in the country"


def test_llm_mode_streams_and_prints_the_checked_answer_once():
    server = ScriptedLLM().start()
    try:
        server.script(f"{WHY} [2][9].", "When will BlackBerry stop operating in Pakistan?", f"{SHUTDOWN} [4].")
        llm = OpenAICompatibleChatModel(server.base_url, "m", timeout=10, max_retries=0)
        ask = Recorder(ListRetriever(blackberry_passages()), llm=llm)
        out = console()
        ChatSession(ask, out, streaming=True, errors=USER_ERRORS).run(lines_reader([FIRST, FOLLOW, "exit"]))
    finally:
        server.stop()
    text = output(out)
    assert [r.get("stream", False) for r in server.requests] == [True, False, True]  # answer, condense, answer
    assert FIRST in server.requests[1]["messages"][-1]["content"]
    # Each answer printed once (the stream is replaced by it), a marker to no passage never shown.
    assert text.count(f"{WHY} [1].") == 1 and text.count(f"{SHUTDOWN} [1].") == 1 and "[9]" not in text
    assert "part2.md" in text and "part4.md" in text and "note:" not in text


@pytest.mark.e2e
def test_chat_as_a_process_with_piped_stdin(tmp_path, docs_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CITEBOT_INDEX_DIR": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("CITEBOT_LLM")}
    cmd = [sys.executable, "-m", "bot.cli"]
    empty = subprocess.run([*cmd, "chat"], input="", env=env, capture_output=True, text=True, timeout=120)
    assert empty.returncode == 1 and "run `citebot ingest" in empty.stderr and "Traceback" not in empty.stderr
    ingest = subprocess.run([*cmd, "ingest", str(docs_dir)], env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    stdin = f"{FIRST}\n{'x' * 2500}\n{FOLLOW}\n/sources\nexit\n"
    done = subprocess.run([*cmd, "chat"], input=stdin, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "extractive answers" in out and out.count("exit or quit") == 1  # how to leave, said once
    assert "error: the question is too long" in out  # reported, and the conversation goes on
    follow_up = out.split("error: the question is too long")[1]
    assert "December 30, 2015. [1]" in follow_up
    assert "score" in follow_up and out.endswith("bye")
