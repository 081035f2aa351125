"""The extractive answer: the decisive sentence, or the section's code, quoted from the passages and cited.

Every quotable sentence of the passages' prose is scored against the question: semantic similarity
plus (name-weighted) term overlap, read in its paragraph, with a small bonus for the kind of fact
the question asks for (a cause for "why", a date for "when", a name as code spells it for "which
setting"). The answer's shape follows the question (bot/answering/question.py):

* how-to: the code block that does it, fenced with its language, after the sentence that leads
  into it (the best code block: its lead-in's score plus how many of the question's identifiers
  and rare words the code and its section hold);
* facts, yes/no, when, how many: the decisive sentence first, then at most two supporting ones;
* why: the reasons, in reading order.

A quoted sentence that ends with ":" brings the block it introduces (a list, a code block); one
about "the above example" brings the block before it, and comes after it. The
answer fits one Discord message. Whether to answer at all is decided by bot/answering/answerability.py
from the signals gathered here (``Evidence``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.answering.answerability import ANSWER_AT, assess
from bot.answering.declines import NOT_FOUND, WEAK_LEAD, mention_answer, not_found, unseen_answer, weak_answer
from bot.answering.evidence import (
    EmbedFn,
    Evidence,
    RarityFn,
    ScoredCode,
    ScoredSentence,
    SentenceWeights,
    gather_evidence,
    gives_reason,
)
from bot.answering.focus import CountFn
from bot.answering.quoting import Composed, fenced, fit, render
from bot.answering.term_overlap import term_weights
from bot.schema import Citation, Passage
from bot.text import Sentence, content_terms

__all__ = ["NOT_FOUND", "WEAK_LEAD", "AnswerOptions", "Composed", "compose", "extractive_answer"]

#: Supporting sentences must score at least this share of the decisive one (its paragraph's, this much).
_SUPPORT_SHARE = 0.7
_NEIGHBOUR_SHARE = 0.6
#: A code block answers a how-to question when its score reaches this share of the best sentence's.
_CODE_SHARE = 0.75
#: The code a how-to sentence leads into lies at most this many paragraphs after it.
_CODE_REACH = 2
#: A sentence about the code just before it: "In the above example the task will ...", "The snippet above ...".
_REFERS_BACK = re.compile(
    r"\b(?:the|this|that) (?:above|previous|preceding) (?:examples?|snippets?|code|calls?|commands?)\b"
    r"|\b(?:examples?|snippets?|code|calls?|commands?) above\b",
    re.I,
)


@dataclass(frozen=True)
class AnswerOptions:
    """Knobs of the answerer (from Settings)."""

    k: int = 4
    answer_confidence: float = ANSWER_AT  # answer when the answerability model gives at least this
    closest_confidence: float = 0.35  # below the above but at least this: say so and show the closest passages
    max_sentences: int = 5
    max_chars: int = 1900  # one Discord message
    weights: SentenceWeights = field(default_factory=SentenceWeights)
    support_share: float = _SUPPORT_SHARE  # a supporting sentence scores at least this share of the decisive one
    room_chars: int = 700  # a prose answer adds supporting sentences while it stays this short
    #: a how-to answer gives up to this many of its best sentences (past the first, those scoring support_share of
    #: it) before the lead-in and code: 2 was chosen with every dev set left out (techdocs 0.660 -> 0.702 composed)
    how_sentences: int = 2
    #: not answered when a name the question asks about, which the passages do not cover, is held by at most
    #: this many chunks of the whole index: the documents mention it, they do not explain it (0: off)
    barely_documented: int = 2
    embed_limit: int = 12  # embed only this many sentences, the best by their words (0: all of them)
    #: not answered when at least this share of what the question names (by rarity) is only mentioned by the
    #: passages shown (a changelog line, a list entry, an aside), its own section looked for (0: off)
    mentioned_share: float = 0.5
    #: look a name the passages do not cover up in its own section before declining (bot/answering/subject.py)
    subject_lookup: bool = True
    #: not answered when the question asks about a name (capitalised, an acronym, or a lowercase word that is
    #: neither English nor a typo) that no chunk of the index holds (bot/answering/names.py)
    unseen_names: bool = True
    model_chars: int = 4000  # characters of passages a model reads (bot/answering/llm_answer.py:model_passages)


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    *,
    embed: EmbedFn | None,
    options: AnswerOptions,
    rarity: RarityFn | None = None,
    counts: CountFn | None = None,
) -> Composed:
    """Answer from the passages' own sentences and code, or say that they do not hold the answer."""
    evidence = gather_evidence(question, passages, embed, rarity, options.weights, counts, options.embed_limit)
    if options.unseen_names and evidence.focus.unseen:  # "IBAN", "Prometheus": the documents never say it
        return unseen_answer(evidence, options.max_chars)
    verdict = assess(evidence, answer_at=options.answer_confidence, weak_at=options.closest_confidence)
    rare = evidence.focus.barely_documented(options.barely_documented)
    # the passages shown, its own section looked for (bot/answering/subject.py), only mention what it asks about
    passing = 0 < options.mentioned_share <= evidence.focus.mentioned
    if verdict.decision == "answer" and not (rare or passing):
        return compose(evidence, options)
    if rare or passing:  # the documents barely know what it asks about: say where they mention it, if they do
        return mention_answer(evidence, None if passing else options.barely_documented)
    if verdict.decision == "weak":
        return weak_answer(evidence, options.max_chars)
    return not_found()


def compose(evidence: Evidence, options: AnswerOptions) -> Composed:
    """The answer's text and citations in the shape its question asks for."""
    best = evidence.best
    if best is None:
        return not_found()
    q = evidence.question
    code = _pick_code(evidence) if q.wants_code else None
    if code is not None:
        return _compose_code(evidence, code, options)
    chosen = _decisive_and_support(evidence, options)
    return render(evidence, chosen, options.max_chars, decisive_first=q.kind != "why")


def _decisive_and_support(evidence: Evidence, options: AnswerOptions) -> list[ScoredSentence]:
    """The best sentence, then supporting ones: its neighbours in the paragraph first (they carry the names
    and context it leans on), then strong sentences from elsewhere."""
    ranked = evidence.sentences
    best = ranked[0]
    chosen = [best]
    limit = options.max_sentences if evidence.question.kind != "why" else max(options.max_sentences, 3)
    text = evidence.passages[best.passage_rank].text
    neighbours = [
        s
        for s in ranked[1:]
        if s.passage_rank == best.passage_rank
        and _same_paragraph(text, s.sentence, best.sentence)
        and s.score >= best.score * _NEIGHBOUR_SHARE
    ]
    if evidence.question.kind == "why":  # the reason often follows the sentence that restates the question
        reason = _reason_after(evidence, best)
        neighbours = [reason, *(s for s in neighbours if s != reason)] if reason is not None else neighbours
    floor = best.score * options.support_share
    size = len(best.sentence.text)
    pool = list(dict.fromkeys([*neighbours, *(s for s in ranked[1:] if s.score >= floor)]))
    if not best.note:  # a release note does not support an answer from the docs themselves (it dates, it does not tell)
        pool = [s for s in pool if not s.note]
    asked = term_weights(evidence.question.text)
    said = set(content_terms(best.sentence.text))
    while pool and len(chosen) < limit:
        # A sentence that brings a part of the question no chosen one speaks to goes first ("does 5.5 support
        # 3.13, and what's the oldest Python it runs on?"); else the pool's order: neighbours, then the best.
        cand = next((s for s in pool if _adds(asked, said, s.sentence.text)), pool[0])
        if size + len(cand.sentence.text) > options.room_chars:
            break
        pool.remove(cand)
        if any(_redundant(cand.sentence.text, c.sentence.text) for c in chosen):
            continue
        chosen.append(cand)
        said.update(content_terms(cand.sentence.text))
        size += len(cand.sentence.text) + 1
    return chosen


def _adds(asked: dict[str, float], said: set[str], text: str) -> bool:
    """``text`` holds a term of the question that the sentences chosen so far do not."""
    return any(t in asked for t in set(content_terms(text)) - said)


def _reason_after(evidence: Evidence, best: ScoredSentence) -> ScoredSentence | None:
    """The sentence right after ``best`` (in its paragraph or the next one), when it gives a reason ("We differ
    in behaviour here because ...")."""
    text = evidence.passages[best.passage_rank].text
    after = [
        s
        for s in evidence.sentences
        if s.passage_rank == best.passage_rank
        and s.sentence.start >= best.sentence.end
        and text[best.sentence.end : s.sentence.start].count("\n\n") <= 1
    ]
    nearest = min(after, key=lambda s: s.sentence.start, default=None)
    return nearest if nearest is not None and gives_reason(nearest.sentence.text) else None


def _same_paragraph(text: str, a: Sentence, b: Sentence) -> bool:
    start, end = min(a.start, b.start), max(a.end, b.end)
    return "\n\n" not in text[start:end]


def _pick_code(evidence: Evidence) -> ScoredCode | None:
    """The code a how-to answer shows: the block the best sentence leads into, else a strong block elsewhere."""
    best = evidence.best
    if best is None or not evidence.code:
        return None
    text = evidence.passages[best.passage_rank].text
    usable = _usable(evidence, best)
    above = [c for c in usable if _explains(best, c)]  # "In the above example ...": that block
    if above and text[above[-1].part.end : best.sentence.start].count("\n\n") <= _CODE_REACH:
        return above[-1]
    after = [
        c
        for c in usable
        if c.part.start >= best.sentence.end and text[best.sentence.end : c.part.start].count("\n\n") <= _CODE_REACH
    ]
    if after:
        return after[0]
    top = next((c for c in evidence.code if not c.offers_rejected), None)
    return top if top is not None and top.score >= _CODE_SHARE * best.score else None


def _explains(sentence: ScoredSentence, code: ScoredCode) -> bool:
    """``sentence`` is about ``code``, the block just before it on its page ("In the above example ...")."""
    return (
        sentence.passage_rank == code.passage_rank
        and code.part.end <= sentence.sentence.start
        and bool(_REFERS_BACK.search(sentence.sentence.text))
    )


def _usable(evidence: Evidence, best: ScoredSentence) -> list[ScoredCode]:
    """The code blocks of the best sentence's passage that do not offer back what the question rejects, in order."""
    same = [c for c in evidence.code if c.passage_rank == best.passage_rank and not c.offers_rejected]
    return sorted(same, key=lambda c: c.part.start)


def _compose_code(evidence: Evidence, code: ScoredCode, options: AnswerOptions) -> Composed:
    """The sentences that name what to use (``how_sentences`` of the best), the lead-in, then the code block."""
    passage = evidence.passages[code.passage_rank]
    block = fenced(code.part, options.max_chars - 300 - options.room_chars // 2)
    prefix: Composed | None = None
    best = evidence.sentences[0]
    lead = code.lead.sentence.text if code.lead else ""
    # The best sentence, then more of the code's own page that score nearly as well (support_share of the best).
    more = [
        s
        for s in evidence.sentences[1:]
        if s.passage_rank == code.passage_rank and s.score >= best.score * options.support_share
    ]
    # "In the above example the task ...": said after the example it is about, as the page says it
    after = best if _explains(best, code) else None
    before = [
        s
        for s in [best, *more][: options.how_sentences]
        if s != code.lead and s is not after and s.sentence.text not in lead
    ]
    if before:
        prefix = render(evidence, before, options.room_chars, decisive_first=True)
    number = next((c.id for c in prefix.citations if c.passage == passage), None) if prefix else None
    number = number or (len(prefix.citations) + 1 if prefix else 1)
    if code.lead is not None:
        lead = f"{code.lead.sentence.text} [{number}]"
        quote = code.lead.sentence.text
    else:
        lead = f"From {passage.where} [{number}]:"
        quote = code.part.text.split("\n", 1)[0]
    label = _label_between(passage.text, code)
    text = f"{lead}\n\n{label}{block}" if label else f"{lead}\n\n{block}"
    if after is not None:
        text = f"{text}\n\n{after.sentence.text} [{number}]"
        quote = f"{quote} … {after.sentence.text}"
    citations = list(prefix.citations) if prefix else []
    if any(c.id == number for c in citations):
        citations = [
            replace(c, quote=f"{c.quote} … {quote}") if c.id == number and quote not in c.quote else c
            for c in citations
        ]
    else:
        citations.append(Citation(id=number, passage=passage, quote=quote))
    if prefix is not None:
        text = f"{prefix.text}\n\n{text}"
    return Composed(fit(text, options.max_chars), False, citations)


def _label_between(text: str, code: ScoredCode) -> str:
    """A short label between the lead-in and the code ("pip:"), kept so the reader knows which variant."""
    if code.lead is None:
        return ""
    between = text[code.lead.sentence.end : code.part.start].strip()
    return f"{between}\n" if between and len(between) <= 40 and between.endswith(":") else ""


def _redundant(a: str, b: str) -> bool:
    ta, tb = set(content_terms(a)), set(content_terms(b))
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) > 0.7
