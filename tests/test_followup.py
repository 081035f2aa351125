"""Follow-ups without an LLM: the conversation's subject is carried into retrieval."""

from __future__ import annotations

import pytest

from bot.answering.followup import contextual_query, is_follow_up, salient_terms
from bot.schema import Turn
from tests.test_focus import index_of

FIRST = "why did BlackBerry leave Pakistan?"
FOLLOW = "when will it stop operating there?"

FERRY = """Title: Ridgeway ferry timetable

The Ridgeway river ferry carries cars and foot passengers between the two quays every twenty minutes.

The ferry will stop operating for the winter on October 31, when the river level usually becomes too
low for the boat. It starts operating again in the first week of April.
"""
MILL = """Title: The old paper mill

The paper mill on the canal employed four hundred people at its peak in the 1960s.

It stopped operating in 1998, after its owners moved production abroad; the buildings are now flats.
"""


def test_pronoun_and_short_questions_are_follow_ups():
    assert is_follow_up(FOLLOW)
    assert is_follow_up("and in 2016?")
    assert is_follow_up("why?")
    assert not is_follow_up(FIRST)
    assert not is_follow_up("How often does a sourdough starter need feeding?")
    assert not is_follow_up("What is a tide pool?")  # short, but names its own subject
    assert is_follow_up("How many employees?")
    assert not is_follow_up("Is there an official docker image for the worker?")  # "there" points at nothing
    assert not is_follow_up("There are two brokers in the docs: which is faster for small tasks?")
    assert is_follow_up("How long has the factory been there?")


def test_contextual_query_appends_the_previous_subject():
    assert salient_terms(FIRST) == ["BlackBerry", "Pakistan"]
    assert contextual_query(FOLLOW, [Turn(FIRST, "…")]) == f"{FOLLOW} BlackBerry Pakistan"
    assert contextual_query(FOLLOW, []) == FOLLOW
    assert contextual_query(FIRST, [Turn("How do heat pumps work?", "…")]) == FIRST  # standalone stays as is


def test_the_subject_survives_a_chain_of_follow_ups_but_not_a_change_of_topic():
    history = [Turn("How do heat pumps work?", "…"), Turn(FIRST, "…"), Turn(FOLLOW, "…")]
    query = contextual_query("and who said so?", history)
    assert "BlackBerry" in query and "Pakistan" in query and "heat" not in query
    assert contextual_query("was it expensive?", [Turn("what is a heat pump's coefficient of performance?", "…")]) == (
        "was it expensive? heat pump's coefficient performance"
    )


@pytest.mark.e2e
def test_follow_up_finds_the_shutdown_passage_with_the_real_model(tmp_path, docs_dir):
    from bot.services import Services
    from bot.settings import load_settings

    (docs_dir / "ferry.md").write_text(FERRY)
    (docs_dir / "mill.txt").write_text(MILL)
    services = Services(load_settings(index_dir=tmp_path / "idx"))
    services.ingest(docs_dir)
    assert services.llm is None

    alone = services.ask(FOLLOW)  # without the conversation the answer is about a ferry or a mill
    assert "December 30" not in alone.text

    first = services.ask(FIRST)
    assert not first.abstained and first.citations[0].passage.source == "blackberry-pakistan-exit.md"
    follow = services.ask(FOLLOW, [Turn(FIRST, first.text)])
    assert follow.passages[0].source == "blackberry-pakistan-exit.md"
    assert "December 30" in follow.passages[0].text
    assert not follow.abstained and "December 30, 2015" in follow.text
    assert {c.passage.source for c in follow.citations} == {"blackberry-pakistan-exit.md"}


def test_a_follow_up_on_a_new_topic_carries_the_subject_not_the_earlier_topic():
    docs = [f"httpx client page {i} explains requests" for i in range(20)] + ["timeouts in httpx: set timeout=5"]
    rarity, _ = index_of(docs)
    history = [Turn("how do I set a timeout in httpx?", "Pass timeout=5 to the client. [1]")]
    query = contextual_query("what about retries?", history, rarity)
    assert "httpx" in query and "timeout" not in query  # the subject, not the timeout answer's topic
    query = contextual_query("and its memory keeps climbing, can it recycle the 4 processes?", history, rarity)
    assert query.endswith(" httpx")
    thin = contextual_query("and the default?", [Turn("which timeout does httpx use for 4 connections?", "…")])
    assert "timeout" in thin and "4" in thin  # too thin to search alone: the topic and its details come along


def test_a_name_the_index_never_holds_is_not_carried_into_a_follow_up():
    docs = [f"pydantic model page {i} explains fields" for i in range(20)] + ["UUID fields: use the uuid type"]
    rarity, _ = index_of(docs)
    history = [Turn("does pydantic ship an IBAN type?", "The documents don't mention IBAN.")]
    query = contextual_query("what about UUID?", history, rarity)
    assert "IBAN" not in query  # else the follow-up would be declined as asking about IBAN again
    assert contextual_query("what about UUID?", history) == "what about UUID? IBAN"  # without an index: carried
