"""Citation checking with the real embedding model: supported claims pass, others are flagged."""

from __future__ import annotations

import pytest
from rich.console import Console

from bot.answering.verify import verify_answer
from bot.cli import render
from bot.schema import Answer
from tests.test_llm import blackberry_passages

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def embed():
    from ingest.embedding.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder().embed


def test_paraphrased_claims_are_supported_and_foreign_ones_flagged(embed):
    passages = blackberry_passages()
    checked = verify_answer(
        "BlackBerry left because the government wanted to monitor all of its BES traffic [2]. "
        "The shutdown order was extended by a month, to December 30, 2015 [4]. "
        "BlackBerry's new Android phone sold two million units in Vietnam [4].",
        passages,
        embed,
    )
    assert [c.supported for c in checked.claims] == [True, True, False]
    assert [c.citations for c in checked.claims] == [(1,), (2,), (2,)]
    assert checked.citations[0].supported and checked.citations[1].supported  # [2] also backs a true claim
    assert "monitor all BES traffic" in checked.citations[0].quote  # the passage's own closest sentence


def test_a_claim_citing_the_wrong_passage_is_flagged(embed):
    passages = blackberry_passages()
    checked = verify_answer("BlackBerry stopped operating in Pakistan after December 30, 2015 [1].", passages, embed)
    (claim,) = checked.claims
    assert not claim.supported and not checked.citations[0].supported
    right = verify_answer("BlackBerry stopped operating in Pakistan after December 30, 2015 [4].", passages, embed)
    assert right.claims[0].supported and right.claims[0].score > claim.score


def test_uncited_claims_are_flagged_and_connectives_ignored(embed):
    checked = verify_answer(
        "In short: BlackBerry stopped operating in Pakistan after December 30, 2015 [4]. "
        "Its chief executive flew to Islamabad twice to negotiate.",
        blackberry_passages(),
        embed,
    )
    assert [(c.citations, c.supported) for c in checked.claims] == [((1,), True), ((), False)]


def test_human_output_marks_unsupported_claims(embed):
    passages = blackberry_passages()
    checked = verify_answer(
        "The shutdown order was extended to December 30, 2015 [4]. BlackBerry sold its Waterloo campus in 2014 [4].",
        passages,
        embed,
    )
    result = Answer("q", checked.text, False, checked.citations, passages, claims=checked.claims)
    console = Console(record=True, width=200)
    render.answer(result, console)
    out = console.export_text()
    assert "December 30, 2015 [1]. BlackBerry sold its Waterloo campus in 2014 [1]. (unsupported)" in out
    assert out.count("(unsupported)") == 1
