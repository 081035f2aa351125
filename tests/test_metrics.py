"""The eval metrics on hand-made cases whose right values are worked out by hand."""

from __future__ import annotations

import pytest

from bot.evaluation.metrics import (
    Outcome,
    contains_answer,
    facts_found,
    hit_at_k,
    matches,
    percentile,
    recall_at_k,
    reciprocal_rank,
    summarize,
)


def test_gold_sources_match_with_or_without_extension():
    assert matches("mhr_019", "mhr_019.txt")
    assert matches("news/a.md", "news/a.md")
    assert matches("news/a", "news/a.md")
    assert not matches("a", "news/a.md")  # a path, not a bare file name, in sub-folders
    assert not matches("mhr_01", "mhr_019.txt")


def test_hit_recall_and_mrr_by_hand():
    gold = ["b", "d"]
    retrieved = ["a.txt", "b.txt", "b.txt", "c.txt", "d.txt"]
    assert hit_at_k(gold, retrieved, 1) == 0.0
    assert hit_at_k(gold, retrieved, 2) == 1.0
    assert recall_at_k(gold, retrieved, 4) == 0.5  # b found, d is 5th
    assert recall_at_k(gold, retrieved, 5) == 1.0
    assert recall_at_k(["b", "b"], retrieved, 2) == 1.0  # duplicates in gold count once
    assert reciprocal_rank(gold, retrieved) == 0.5
    assert reciprocal_rank(["z"], retrieved) == 0.0
    assert reciprocal_rank(["d"], retrieved, k=4) == 0.0


def test_facts_are_found_whitespace_normalised_only_inside_one_passage():
    passages = ["Intro.  The   court\nruled on Monday.  More text.", "Other passage."]
    found = facts_found(["The court ruled on Monday.", "the court ruled", "Monday. More text. Other"], passages)
    assert found == [True, False, False]  # case matters; a fact split across passages is not found


def test_answer_containment_is_case_insensitive_and_ignores_empty_answers():
    assert contains_answer(["Sam Bankman-Fried"], "It was sam bankman-fried [1].")
    assert not contains_answer(["Google"], "Alphabet did it.")
    assert not contains_answer(["", "  "], "anything")


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0
    assert percentile([], 95) == 0.0


def _outcome(**kw) -> Outcome:
    base = dict(
        answers=["x"],
        sources=["a"],
        facts=[],
        unanswerable=False,
        retrieved=["a.txt"],
        passages_k=["text"],
        ranked=["a.txt"],
        answer="x [1]",
        abstained=False,
        retrieve_ms=10.0,
        total_ms=20.0,
    )
    base.update(kw)
    return Outcome(**base)


def test_summary_splits_answerable_and_unanswerable():
    outcomes = [
        _outcome(),  # perfect
        _outcome(
            sources=["a", "b"],
            retrieved=["c.txt", "a.txt"],
            ranked=["c.txt", "a.txt"],
            facts=["found here", "absent"],
            passages_k=["it was found here."],
            answer="nothing useful",
            retrieve_ms=30.0,
        ),
        _outcome(answers=[], sources=[], unanswerable=True, abstained=True, retrieved=["z.txt"], ranked=["z.txt"]),
        _outcome(answers=[], sources=[], unanswerable=True, abstained=False),
    ]
    s = summarize(outcomes, k=2)
    assert (s.questions, s.answerable, s.unanswerable) == (4, 2, 2)
    assert s.hit_at_k == 1.0
    assert s.recall_at_k == pytest.approx((1.0 + 0.5) / 2)
    assert s.mrr_at_10 == pytest.approx((1.0 + 0.5) / 2)
    assert s.fact_hit_at_k == 0.5 and s.facts == 2
    assert s.question_fact_hit_at_k == 1.0  # the one question with facts has one of them found
    assert s.abstain_unanswerable == 0.5
    assert s.abstain_answerable == 0.0
    assert s.answer_containment == 0.5
    assert s.retrieve_p95_ms == 30.0
    assert s.to_json()["recall_at_k"] == 0.75


def test_summary_without_facts_or_unanswerable_reports_none():
    s = summarize([_outcome()], k=4)
    assert s.fact_hit_at_k is None and s.abstain_unanswerable is None
    assert s.question_fact_hit_at_k is None


def test_answer_metrics_and_their_split_by_kind():
    outcomes = [
        _outcome(
            kind="how", answers=["pip install x"], answer="Run `pip install x` [1].", passages_k=["pip install x"]
        ),
        _outcome(kind="how", answers=["pip install y"], answer="Something else [1].", passages_k=["pip install y"]),
        _outcome(kind="how", answers=["z"], answer="I could not find z.", abstained=True, passages_k=["no"]),
        _outcome(kind="fact", answers=["1999"], answer="In 1999 [1]. " + "x" * 980, passages_k=["in 1999"]),
        _outcome(kind="unanswerable", answers=[], sources=[], unanswerable=True, abstained=True, answer="No."),
        _outcome(kind="unanswerable", answers=[], sources=[], unanswerable=True, abstained=False, answer="A" * 10),
    ]
    s = summarize(outcomes, k=4)
    assert s.answer_accuracy == pytest.approx(2 / 4)  # an abstention that mentions the answer does not count
    assert s.answer_containment == pytest.approx(3 / 4)
    assert s.answer_in_passages == pytest.approx(3 / 4)
    assert s.abstain_precision == pytest.approx(1 / 2)  # of the 2 abstentions, 1 was on an unanswerable question
    assert s.abstain_recall == pytest.approx(1 / 2)
    assert s.answer_chars_max == 993.0 and s.answer_chars_p50 == len("Something else [1].")
    assert set(s.by_kind) == {"how", "fact", "unanswerable"}
    how = s.by_kind["how"]
    assert (how.questions, how.answer_accuracy, how.answer_in_passages) == (
        3,
        pytest.approx(1 / 3),
        pytest.approx(2 / 3),
    )
    assert s.by_kind["unanswerable"].abstain_recall == 0.5
    assert s.to_json()["by_kind"]["fact"]["answer_accuracy"] == 1.0  # type: ignore[index]
    assert summarize([o for o in outcomes if o.kind == "how"], k=4).by_kind == {}  # one kind: no split
