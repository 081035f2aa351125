"""The answerer: question (+ history) -> Answer with numbered, quoted citations.

With no LLM the answer is *extractive*: the sentences of the retrieved passages that best answer
the question, each followed by its ``[n]`` marker. Below a calibrated evidence score it abstains.
With an LLM the model writes the answer (bot/llm_answer.py) and its citations are checked
(bot/verify.py); if the model fails, the extractive answer is given with a notice.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import LLMError
from bot.retrieval import Retriever
from bot.schema import Answer, Citation, Claim, Passage, Turn
from bot.text import Sentence, content_terms, split_sentences, words
from ingest.clean import is_clutter_line

if TYPE_CHECKING:
    from bot.llm import ChatModel
    from bot.prompts import Prompts

log = logging.getLogger(__name__)

EmbedFn = Callable[[Sequence[str]], list[list[float]]]

NOT_FOUND = "I could not find this in the documents."

# Weights of the evidence score; calibrated on the multihop-news dev questions (see bench/).
_W_SIMILARITY = 0.6
_W_OVERLAP = 0.4


_ENDS_SENTENCE = re.compile(r"[.!?…][\"”’')\]]*$")
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


def answer(
    question: str,
    history: Sequence[Turn],
    retriever: Retriever,
    *,
    embed: EmbedFn | None = None,
    options: AnswerOptions | None = None,
    llm: ChatModel | None = None,
    prompts: Prompts | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """Answer ``question`` from the retriever's passages, citing each sentence used.

    Args:
        history: earlier turns of the conversation, oldest first (empty for a single question).
            A follow-up is made standalone before retrieval: by the LLM when there is one, else by
            carrying the earlier questions' names into the query (bot/followup.py).
        embed: embeds sentences for semantic similarity; without it only term overlap counts.
        llm, prompts: write the answer with a chat model; its citations are then checked. If the
            model fails, the extractive answer is returned with a ``notice`` saying why.
        on_token: receives the model's answer as it streams (LLM path only).
    """
    from bot.followup import contextual_query

    options = options or AnswerOptions()
    timings: dict[str, float] = {}
    notice = ""
    t0 = time.perf_counter()
    query: str | None = None
    if history and llm is not None and prompts is not None:
        from bot.llm_answer import condense

        try:
            query = condense(llm, prompts, question, history)
        except LLMError as exc:
            notice, llm = _fallback_notice(exc), None  # it is down: do not wait for it twice
        timings["condense"] = (time.perf_counter() - t0) * 1000
    if query is None:
        query = contextual_query(question, history)
    t1 = time.perf_counter()
    passages = retriever.retrieve(query, options.k)
    timings["retrieve"] = (time.perf_counter() - t1) * 1000
    t2 = time.perf_counter()
    result: _Composed | None = None
    claims: list[Claim] = []
    if llm is not None and prompts is not None and passages:
        from bot.llm_answer import generate
        from bot.verify import verify_answer

        try:
            text = generate(llm, prompts, question, history, passages, on_token)
        except LLMError as exc:
            notice = _fallback_notice(exc)
        else:
            timings["llm"] = (time.perf_counter() - t2) * 1000
            checked = verify_answer(text, passages, embed)
            if checked.any_supported:
                result = _Composed(checked.text, False, checked.citations)
                claims = checked.claims
            else:
                result = _Composed(NOT_FOUND, True, [])
                if checked.citations or checked.dropped:
                    notice = "the model's answer was withheld: none of its sentences is supported by its citations"
    if result is None:
        result = extractive_answer(query, passages, embed=embed, options=options)
    timings["answer"] = (time.perf_counter() - t2) * 1000
    timings["total"] = (time.perf_counter() - t0) * 1000
    return Answer(
        question=question,
        text=result.text,
        abstained=result.abstained,
        citations=result.citations,
        passages=passages,
        timings_ms=timings,
        notice=notice,
        claims=claims,
    )


def _fallback_notice(exc: LLMError) -> str:
    log.info("LLM failed, falling back to the extractive answer: %s", exc)  # the notice tells the user
    return f"{exc}; showing the extractive answer instead"


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
class _Composed:
    text: str
    abstained: bool
    citations: list[Citation]


def extractive_answer(
    question: str, passages: Sequence[Passage], *, embed: EmbedFn | None, options: AnswerOptions
) -> _Composed:
    """Pick 1..max_sentences best sentences, order them readably, number their passages."""
    scored = score_sentences(question, passages, embed)
    if not scored:
        return _Composed(NOT_FOUND, True, [])
    ranked = sorted(scored, key=lambda s: s.score, reverse=True)
    best = ranked[0]
    if best.score < options.min_evidence:
        return _Composed(NOT_FOUND, True, [])
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
    return _Composed(" ".join(parts), False, citations)


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
    if not _ENDS_SENTENCE.search(sentence) and len(tokens) < 15:  # headings and headlines
        return False
    if is_clutter_line(sentence):
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    return letters >= 0.6 * len(sentence.replace(" ", ""))


def term_weights(question: str) -> dict[str, float]:
    """Content terms of the question; names and numbers weigh more than common words."""
    weights: dict[str, float] = {}
    raw = words(question)
    for i, w in enumerate(raw):
        terms = content_terms(w)
        if not terms:
            continue
        term = terms[0]
        weight = 1.0
        if (w[0].isupper() and i > 0) or any(ch.isdigit() for ch in w):
            weight = 2.0
        weights[term] = max(weights.get(term, 0.0), weight)
    return weights


def overlap(weights: dict[str, float], sentence: str) -> float:
    """Weighted share of the question's terms present in the sentence (0..1).

    A term also matches a word it is a long prefix of, or that is a long prefix of it
    ("Pakistan" ~ "Pakistani", "leave" ~ "leaving" after stemming to "leav").
    """
    if not weights:
        return 0.0
    present = set(content_terms(sentence))
    hit = sum(w for t, w in weights.items() if t in present or any(_prefix_match(t, p) for p in present))
    return hit / sum(weights.values())


def _prefix_match(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long.startswith(short) and len(short) >= 0.7 * len(long)


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


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
