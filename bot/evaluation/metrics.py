"""Retrieval and answer metrics for `citebot eval`: pure functions over plain values.

Conventions: a gold source names a document by its path relative to the ingested folder, with or
without extension ("news/a.txt", "news/a", "a" for a top-level file); a retrieved passage's
``source`` is such a path with extension. Ranking metrics count answerable questions with gold
sources only; abstention is counted separately on unanswerable and answerable questions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath


def source_key(path: str) -> str:
    """A document path without extension and leading "./", "/" separated: what gold sources are compared by."""
    p = PurePosixPath(path.replace("\\", "/").strip().removeprefix("./"))
    return str(p.with_suffix("")) if p.suffix else str(p)


def matches(gold: str, retrieved: str) -> bool:
    """True when the retrieved document path is the gold document (extension optional on the gold side)."""
    g, r = source_key(gold), source_key(retrieved)
    return g == r or retrieved.replace("\\", "/") == gold


def hit_at_k(gold: Sequence[str], retrieved: Sequence[str], k: int) -> float:
    """1.0 when any gold document is among the first ``k`` retrieved sources."""
    top = retrieved[:k]
    return float(any(matches(g, r) for g in gold for r in top))


def recall_at_k(gold: Sequence[str], retrieved: Sequence[str], k: int) -> float:
    """Share of the gold documents found among the first ``k`` retrieved sources."""
    if not gold:
        return 0.0
    top = retrieved[:k]
    return sum(any(matches(g, r) for r in top) for g in set(gold)) / len(set(gold))


def reciprocal_rank(gold: Sequence[str], retrieved: Sequence[str], k: int = 10) -> float:
    """1/rank of the first gold document within the first ``k`` sources, else 0."""
    for rank, r in enumerate(retrieved[:k], 1):
        if any(matches(g, r) for g in gold):
            return 1.0 / rank
    return 0.0


def squash(text: str) -> str:
    """Whitespace-normalised text: runs of whitespace become one space, ends trimmed."""
    return " ".join(text.split())


def facts_found(facts: Sequence[str], passages: Sequence[str]) -> list[bool]:
    """For each evidence fact: does it appear (whitespace-normalised) inside one of the passages?"""
    texts = [squash(p) for p in passages]
    return [any(squash(f) in t for t in texts) for f in facts]


def contains_answer(answers: Sequence[str], text: str) -> bool:
    """True when some gold answer appears in ``text``, case-insensitively."""
    low = text.casefold()
    return any(a.strip() and a.strip().casefold() in low for a in answers)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


@dataclass
class Outcome:
    """One evaluated question: what was expected and what came back."""

    answers: list[str]
    sources: list[str]
    facts: list[str]
    unanswerable: bool
    retrieved: list[str]  # sources of the top-k passages the answer saw
    passages_k: list[str]  # their texts
    ranked: list[str]  # sources of a top-10 retrieval (for MRR@10)
    answer: str
    abstained: bool
    retrieve_ms: float
    total_ms: float
    kind: str = ""  # the question's kind, when the file says ("how", "config", ...)


@dataclass
class Summary:
    """Aggregated metrics; ``None`` where no question qualified (e.g. no evidence facts in the file).

    Answer metrics: ``answer_accuracy`` counts an answerable question right when the answer is not
    an abstention and contains a gold answer; ``answer_in_passages`` when a gold answer is in the
    top-k passages' text (what a model would be given). Abstention precision is the share of
    abstentions that were on unanswerable questions, recall the share of unanswerable questions
    abstained on. Answer lengths (characters) are over the answers given, abstentions excluded.
    """

    k: int
    questions: int
    answerable: int
    unanswerable: int
    hit_at_k: float | None
    recall_at_k: float | None
    mrr_at_10: float | None
    fact_hit_at_k: float | None
    facts: int
    #: per question: share of questions with evidence where at least one fact is in the top k
    question_fact_hit_at_k: float | None
    abstain_unanswerable: float | None
    abstain_answerable: float | None
    answer_containment: float | None
    answer_accuracy: float | None
    answer_in_passages: float | None
    abstain_precision: float | None
    abstain_recall: float | None
    answer_chars_p50: float
    answer_chars_p90: float
    answer_chars_max: float
    retrieve_p50_ms: float
    retrieve_p95_ms: float
    total_p50_ms: float
    total_p95_ms: float
    by_kind: dict[str, Summary] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items() if k != "by_kind"
        }
        if self.by_kind:
            out["by_kind"] = {kind: s.to_json() for kind, s in self.by_kind.items()}
        return out


def summarize(outcomes: Sequence[Outcome], k: int, *, per_kind: bool = True) -> Summary:
    """Aggregate per-question outcomes into the eval table's numbers (and per ``kind`` when there are several)."""
    ranked = [o for o in outcomes if not o.unanswerable and o.sources]
    answerable = [o for o in outcomes if not o.unanswerable]
    unanswerable = [o for o in outcomes if o.unanswerable]
    abstained = [o for o in outcomes if o.abstained]
    fact_hits = [hit for o in ranked for hit in facts_found(o.facts, o.passages_k)]
    retrieve = [o.retrieve_ms for o in outcomes]
    total = [o.total_ms for o in outcomes]
    lengths = [float(len(o.answer)) for o in outcomes if not o.abstained]
    kinds = sorted({o.kind for o in outcomes if o.kind})
    by_kind = (
        {kind: summarize([o for o in outcomes if o.kind == kind], k, per_kind=False) for kind in kinds}
        if per_kind and len(kinds) > 1
        else {}
    )
    return Summary(
        k=k,
        questions=len(outcomes),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        hit_at_k=mean(hit_at_k(o.sources, o.retrieved, k) for o in ranked),
        recall_at_k=mean(recall_at_k(o.sources, o.retrieved, k) for o in ranked),
        mrr_at_10=mean(reciprocal_rank(o.sources, o.ranked, 10) for o in ranked),
        fact_hit_at_k=mean(float(h) for h in fact_hits),
        facts=len(fact_hits),
        question_fact_hit_at_k=mean(float(any(facts_found(o.facts, o.passages_k))) for o in ranked if o.facts),
        abstain_unanswerable=mean(float(o.abstained) for o in unanswerable),
        abstain_answerable=mean(float(o.abstained) for o in answerable),
        answer_containment=mean(float(contains_answer(o.answers, o.answer)) for o in answerable),
        answer_accuracy=mean(float(not o.abstained and contains_answer(o.answers, o.answer)) for o in answerable),
        answer_in_passages=mean(float(contains_answer(o.answers, "\n".join(o.passages_k))) for o in answerable),
        abstain_precision=mean(float(o.unanswerable) for o in abstained),
        abstain_recall=mean(float(o.abstained) for o in unanswerable),
        answer_chars_p50=percentile(lengths, 50),
        answer_chars_p90=percentile(lengths, 90),
        answer_chars_max=max(lengths, default=0.0),
        retrieve_p50_ms=percentile(retrieve, 50),
        retrieve_p95_ms=percentile(retrieve, 95),
        total_p50_ms=percentile(total, 50),
        total_p95_ms=percentile(total, 95),
        by_kind=by_kind,
    )
