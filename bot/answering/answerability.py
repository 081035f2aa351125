"""Whether the passages answer the question: a calibrated decision from several signals, not one threshold.

A single evidence threshold silences answerable questions as fast as unanswerable ones: a question
the documents do not cover still finds loosely related sentences, and what "related" scores depends
on the corpus (questions off a broad news corpus score low; questions about what a narrow docs
site does not cover score almost as high as the ones it answers). The signals measured:

* ``best``: the best sentence's evidence score (similarity and term overlap); ``similarity``: its
  semantic similarity alone;
* ``coverage``: how much of the question's terms, weighted by rarity in the index, the best
  sentence's passage holds (title and section included); ``focus``: the same for its rarer half in
  the best sentence itself; ``absent``: what no retrieved passage holds;
* ``unseen``: how much of the question (by rarity) the index never holds at all ("protobuf",
  "IBAN": a question about something else);
* ``margin``: how far the best sentence stands above the other passages' best sentences;
* ``agreement``: whether the dense and keyword rankings both put that passage near the top;
* ``typed``: whether the best sentence holds the kind of thing asked for (a number for "how many",
  a date for "when", a name as code spells it for "which setting"), when the question asks for one;
* ``heading``: how much of the question's wording the best sentence's section headings hold
  ("what does --save-exact do?" under "Options › --save-exact, -E"; measured, not yet weighted:
  bench/README.md).

A logistic model gives the probability that the question is answerable. It is fitted on the five
dev sets together, each set weighing the same, and judged leave-one-corpus-out: fitted on four,
scored on the fifth (bench/loco.py), since a help bot always meets a folder nobody fitted it on.
Beside it, the question's focus (bot/answering/focus.py): a name it asks about that the passages do
not explain and that at most a couple of chunks of the whole index hold is not answered.
Of the signals, similarity, unseen terms and the typed match carry the decision; coverage, margin,
agreement, focus and absence added nothing on the dev sets once those were in (several took the
wrong sign: a look-alike question holds all its words), so they are measured but not weighted.
The focus shares (``focus_absent``, ``focus_mentioned``) and a similarity contrast within the
question's own sentences were tried as weights too: left out in turn, each set lost more answerable
questions than it gained abstentions, where the chunk-count rule kept both (bench/README.md).
At or above ``ANSWER_AT`` the answer is given; from ``WEAK_AT`` the reply says the documents do not
say it directly and shows the closest passages; below, "not found".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.answering.evidence import Evidence
from bot.answering.term_overlap import overlap, term_weights

Decision = Literal["answer", "weak", "none"]

#: Fitted by bench/loco.py on the five dev sets, each weighing the same; the figures that predict a new folder
#: are its leave-one-corpus-out ones (bench/README.md): abstains on 60% / 42% / 40% / 45% / 31% of unanswerable
#: news / techdocs / pydocs / celery / encyclopedia questions, on 4% / 4% / 17% / 18% / 5% of answerable ones,
#: with the barely-documented-focus rule (bot/answering/focus.py) beside it.
WEIGHTS: dict[str, float] = {"similarity": 6.135, "unseen": -0.675, "typed": -0.407}
BIAS = -2.321
ANSWER_AT = 0.525
WEAK_AT = 0.35
SIGNALS = (
    "best",
    "similarity",
    "coverage",
    "focus",
    "absent",
    "unseen",
    "margin",
    "agreement",
    "typed",
    "focus_absent",
    "focus_mentioned",
    "focus_rare",
    "focus_unseen",
    "heading",
)


@dataclass(frozen=True)
class Assessment:
    """The signals, the model's probability and the decision."""

    features: dict[str, float]
    probability: float
    decision: Decision


def features(evidence: Evidence) -> dict[str, float]:
    """The answerability signals of ``evidence`` (see the module docstring)."""
    best = evidence.best
    if best is None:
        return dict.fromkeys(SIGNALS, 0.0)
    others: dict[int, float] = {}
    for s in evidence.sentences[1:]:
        if s.passage_rank != best.passage_rank:
            others.setdefault(s.passage_rank, s.score)
    margin = best.score - (sum(others.values()) / len(others)) if others else best.score
    passage = evidence.passages[best.passage_rank]
    coverage = evidence.coverage[best.passage_rank] if evidence.coverage else 0.0
    agreement = float(
        passage.dense_rank is not None
        and passage.keyword_rank is not None
        and passage.dense_rank <= 10
        and passage.keyword_rank <= 10
    )
    return {
        "best": best.score,
        "similarity": best.similarity,
        "coverage": coverage,
        "margin": margin,
        "agreement": agreement,
        "unseen": evidence.unseen,
        "absent": evidence.absent,
        "typed": 1.0 if best.bonus > 0 else 0.0 if evidence.wants_type else 0.5,
        "focus": evidence.focus_share(best),
        "focus_absent": evidence.focus.absent,
        "focus_mentioned": evidence.focus.mentioned,
        "focus_rare": float(evidence.focus.rare_uncovered if evidence.focus.rare_uncovered is not None else 10**6),
        "focus_unseen": float(len(evidence.focus.unseen)),
        "heading": overlap(term_weights(evidence.question.text), passage.section) if passage.section else 0.0,
    }


def assess(evidence: Evidence, *, answer_at: float = ANSWER_AT, weak_at: float = WEAK_AT) -> Assessment:
    """Answer, say the evidence is weak, or say nothing was found."""
    values = features(evidence)
    if evidence.best is None:
        return Assessment(values, 0.0, "none")
    z = BIAS + sum(WEIGHTS[name] * values[name] for name in WEIGHTS)
    probability = 1.0 / (1.0 + math.exp(-z))
    decision: Decision = "answer" if probability >= answer_at else "weak" if probability >= weak_at else "none"
    return Assessment(values, probability, decision)
