import pytest

from bot.answering.answer import AnswerOptions, answer
from bot.answering.evidence import quotable
from bot.answering.extractive import extractive_answer
from bot.retrieval.base import DenseRetriever
from bot.schema import Passage
from tests.support import make_ingestor, make_store


@pytest.fixture
def retriever(tmp_path, docs_dir, fake_embedder):
    store = make_store(tmp_path / "idx")
    make_ingestor(store, fake_embedder).run(docs_dir)
    return DenseRetriever(store, fake_embedder)


def test_answer_cites_the_right_document_with_quotes(retriever, fake_embedder):
    result = answer(
        "How often does a sourdough starter need feeding at room temperature?",
        [],
        retriever,
        embed=fake_embedder.embed,
        options=AnswerOptions(answer_confidence=0.0),
    )
    assert not result.abstained
    assert result.citations and result.citations[0].passage.source == "sourdough-starter.txt"
    assert "once or twice a day" in result.text
    for c in result.citations:
        assert f"[{c.id}]" in result.text
        for part in c.quote.split(" … "):
            assert part in " ".join(c.passage.text.split())  # quotes are verbatim
    assert [c.id for c in result.citations] == list(range(1, len(result.citations) + 1))
    assert set(result.timings_ms) >= {"retrieve", "answer", "total"}


def test_answer_never_quotes_clutter(retriever, fake_embedder):
    result = answer(
        "What did researchers find about octopus eggs near warm springs?",
        [],
        retriever,
        embed=fake_embedder.embed,
        options=AnswerOptions(answer_confidence=0.0),
    )
    assert not result.abstained
    assert "octopus" in result.text.lower()
    for bad in ["ad blocker", "Share", "Copyright", "Posted", "Amazing"]:
        assert bad not in result.text


def p(rank: int, text: str) -> Passage:
    return Passage(chunk_id=f"c{rank}", source=f"doc{rank}.txt", text=text, score=1.0 / rank, title=f"Doc {rank}")


def test_sentences_are_ordered_by_passage_then_position_and_numbered_in_order():
    passages = [
        p(
            1,
            "Unrelated opening words about the weather today. The bridge opened to traffic in May 2021 after repairs.",
        ),
        p(2, "The bridge repairs cost twelve million dollars in total according to the council."),
    ]
    result = extractive_answer(
        "When did the bridge open after the repairs and what did the bridge repairs cost?",
        passages,
        embed=None,
        options=AnswerOptions(answer_confidence=0.0),
    )
    assert not result.abstained
    first = result.text.index("[1]")
    assert result.text.index("[2]") > first
    assert {c.passage.source for c in result.citations} == {"doc1.txt", "doc2.txt"}
    assert "weather" not in result.text


def test_at_most_max_sentences_and_no_repeats():
    text = " ".join(f"The red kite nests in tall oak trees in region {i}." for i in range(10))
    result = extractive_answer(
        "Where does the red kite nest?",
        [p(1, text), p(2, text)],
        embed=None,
        options=AnswerOptions(answer_confidence=0.0, max_sentences=3),
    )
    assert 1 <= result.text.count("[") <= 3
    assert len(result.citations) == 1  # the duplicate passage adds nothing new


def test_headlines_fragments_and_clutter_are_not_quotable():
    assert not quotable("BlackBerry Defies Pakistan's Backdoor Demands, Leaves Country")
    assert not quotable("Share on Facebook Tweet this Share on LinkedIn Email this")
    assert not quotable("© 2023 Example Media Group. All rights reserved worldwide today.")
    assert quotable("The company said it would leave the market at the end of the year.")


def test_a_sentence_that_restates_the_question_is_not_quoted_as_its_answer(fake_embedder):
    """A folder's README or FAQ that names the question ('the question ... : "why did X?"') is about it, not an answer."""
    question = "why did BlackBerry leave Pakistan?"
    passages = [
        p(1, f'The question this folder must answer well: "{question}"; the answer must cite the article.'),
        p(
            2,
            "The government wanted the ability to monitor all BlackBerry Enterprise Service traffic in Pakistan. "
            "BlackBerry refused and decided to leave Pakistan rather than build backdoors.",
        ),
    ]
    result = extractive_answer(
        question, passages, embed=fake_embedder.embed, options=AnswerOptions(answer_confidence=0.0)
    )
    assert not result.abstained
    assert {c.passage.source for c in result.citations} == {"doc2.txt"}
    assert "must answer well" not in result.text and "monitor all BlackBerry" in result.text
