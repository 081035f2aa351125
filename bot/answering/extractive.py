"""The extractive answer: the sentences of the passages that best answer the question, each cited.

Every quotable sentence is scored by semantic similarity to the question plus (name-weighted)
term overlap, with a small bonus for the kind of fact the question asks for (a cause for "why",
a date for "when"); 1..max_sentences of the best non-redundant ones are composed in reading
order, each followed by its ``[n]`` marker. Below a calibrated evidence score it abstains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.answering.evidence import overlap, term_weights
from bot.schema import Citation, Passage
from bot.text import Sentence, content_terms, split_sentences, words
from ingest.clean import is_clutter_line
from ingest.embedder import cosine
from ingest.sentences import ENDS_SENTENCE

EmbedFn = Callable[[Sequence[str]], list[list[float]]]

NOT_FOUND = "I could not find this in the documents."

# Weights of the evidence score; calibrated on the multihop-news dev questions (see bench/).
_W_SIMILARITY = 0.6
_W_OVERLAP = 0.4

_TYPE_BONUS = 0.08
_PARAGRAPH_SHARE = 0.25
_ANSWER_TYPES: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (
        re.compile(r"^(why|what (made|caused|led)|for what reason|how come)\b"),
        re.compile(
            r"\b(because|since|due to|owing to|so that|in order to|rather than|instead of|reasons?|cause[sd]?|"
            r"led to|result(ed|s)? (in|from)|wanted|demand(ed|s)?|refus\w*|forc\w*|decid\w*|would have meant|"
            r"no choice|not willing|unwilling|as a result|therefore|aim(ed)? (at|to))\b",
            re.IGNORECASE,
        ),
    ),
    (
        re.compile(r"^(when|what (year|date|day|month|time)|how long|until when|by when)\b"),
        re.compile(
            r"\b(\d{4}|\d{1,2}(st|nd|rd|th)?|january|february|march|april|may|june|july|august|september|october|"
            r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
            r"tomorrow|week|month|year|days?|hours?)\b",
            re.IGNORECASE,
        ),
    ),
    (re.compile(r"^(how (many|much)|what (percentage|share|number|amount))\b"), re.compile(r"\d")),
]


@dataclass(frozen=True)
class AnswerOptions:
    """Knobs of the answerer (from Settings)."""

    k: int = 4
    min_evidence: float = 0.35
    max_sentences: int = 4


@dataclass(frozen=True)
class ScoredSentence:
    passage_rank: int  # 0-based index into the passages
    sentence: Sentence
    similarity: float
    overlap: float

    bonus: float = 0.0  # the sentence has the kind of fact the question asks for

    @property
    def score(self) -> float:
        return _W_SIMILARITY * self.similarity + _W_OVERLAP * self.overlap + self.bonus


def score_sentences(question: str, passages: Sequence[Passage], embed: EmbedFn | None) -> list[ScoredSentence]:
    """Every quotable sentence of the passages, scored against the question."""
    candidates: list[tuple[int, Sentence, str]] = []
    for rank, passage in enumerate(passages):
        for i, sentence in enumerate(split_sentences(passage.text)):
            if i == 0 and sentence.text[:1].islower():
                continue  # the chunk starts mid-sentence (overlap); its start is elsewhere
            if quotable(sentence.text):
                candidates.append((rank, sentence, _paragraph(passage.text, sentence)))
    if not candidates:
        return []
    weights = term_weights(question)
    wants = answer_type(question)
    if embed is not None:
        vectors = embed([question] + [s.text for _, s, _ in candidates])
        q = vectors[0]
        sims = [cosine(q, v) for v in vectors[1:]]
    else:
        sims = [0.0] * len(candidates)
    out = []
    paragraph_overlap: dict[str, float] = {}
    for (rank, sentence, paragraph), sim in zip(candidates, sims):
        bonus = _TYPE_BONUS if wants is not None and wants.search(sentence.text) else 0.0
        if paragraph not in paragraph_overlap:
            paragraph_overlap[paragraph] = overlap(weights, paragraph)
        # A sentence is read in its paragraph: "he said" sentences inherit some of its topic.
        mixed = (1 - _PARAGRAPH_SHARE) * overlap(weights, sentence.text) + _PARAGRAPH_SHARE * paragraph_overlap[
            paragraph
        ]
        out.append(ScoredSentence(rank, sentence, max(0.0, sim), mixed, bonus))
    return out


@dataclass(frozen=True)
class Composed:
    """An answer text with its citations, before timings and notices are added."""

    text: str
    abstained: bool
    citations: list[Citation]


def extractive_answer(
    question: str, passages: Sequence[Passage], *, embed: EmbedFn | None, options: AnswerOptions
) -> Composed:
    """Pick 1..max_sentences best sentences, order them readably, number their passages."""
    scored = score_sentences(question, passages, embed)
    if not scored:
        return Composed(NOT_FOUND, True, [])
    ranked = sorted(scored, key=lambda s: s.score, reverse=True)
    best = ranked[0]
    if best.score < options.min_evidence:
        return Composed(NOT_FOUND, True, [])
    chosen: list[ScoredSentence] = [best]
    floor = max(options.min_evidence, best.score * 0.8)
    for cand in ranked[1:]:
        if len(chosen) >= options.max_sentences or cand.score < floor:
            break
        if any(_redundant(cand.sentence.text, c.sentence.text) for c in chosen):
            continue
        chosen.append(cand)
    # Readable order: passages by their best sentence, sentences in document order within a passage.
    passage_order: list[int] = []
    for c in chosen:
        if c.passage_rank not in passage_order:
            passage_order.append(c.passage_rank)
    chosen.sort(key=lambda c: (passage_order.index(c.passage_rank), c.sentence.start))
    numbers = {rank: i for i, rank in enumerate(passage_order, 1)}
    parts = [f"{c.sentence.text} [{numbers[c.passage_rank]}]" for c in chosen]
    citations = []
    for rank in passage_order:
        quotes = [c.sentence.text for c in chosen if c.passage_rank == rank]
        citations.append(Citation(id=numbers[rank], passage=passages[rank], quote=" … ".join(quotes)))
    return Composed(" ".join(parts), False, citations)


def answer_type(question: str) -> re.Pattern[str] | None:
    """What a sentence that answers ``question`` tends to contain (a cause, a date, a number), if known."""
    head = question.strip().lower()
    for pattern, cue in _ANSWER_TYPES:
        if pattern.match(head):
            return cue
    return None


def quotable(sentence: str) -> bool:
    """A sentence worth quoting: says something (not a headline), not page clutter, mostly words."""
    tokens = words(sentence)
    if len(tokens) < 6 or len(tokens) > 90:
        return False
    if not ENDS_SENTENCE.search(sentence) and len(tokens) < 15:  # headings and headlines
        return False
    if is_clutter_line(sentence):
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    return letters >= 0.6 * len(sentence.replace(" ", ""))


def _paragraph(text: str, sentence: Sentence) -> str:
    """The paragraph (blank-line separated block) of ``text`` holding ``sentence``."""
    start = text.rfind("\n\n", 0, sentence.start)
    end = text.find("\n\n", sentence.end)
    return text[start + 2 if start >= 0 else 0 : end if end >= 0 else len(text)]


def _redundant(a: str, b: str) -> bool:
    ta, tb = set(content_terms(a)), set(content_terms(b))
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) > 0.7
