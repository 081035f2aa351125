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

A quoted sentence that ends with ":" brings the block it introduces (a list, a code block). The
answer fits one Discord message. Whether to answer at all is decided by bot/answering/answerability.py
from the signals gathered here (``Evidence``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.answering.answerability import ANSWER_AT, assess
from bot.answering.evidence import (
    EmbedFn,
    Evidence,
    RarityFn,
    ScoredCode,
    ScoredSentence,
    SentenceWeights,
    gather_evidence,
)
from bot.answering.focus import CountFn
from bot.answering.setting_names import is_key_value, with_option
from bot.schema import Citation, Passage
from bot.text import Sentence, content_terms, split_sentences, words
from ingest.documents.document import Part, passage_parts

NOT_FOUND = "I could not find this in the documents."
WEAK_LEAD = "The documents don't say this directly; closest:"

#: Supporting sentences must score at least this share of the decisive one (its paragraph's, this much).
_SUPPORT_SHARE = 0.7
_NEIGHBOUR_SHARE = 0.6
#: A code block answers a how-to question when its score reaches this share of the best sentence's.
_CODE_SHARE = 0.75
_MAX_CODE_LINES = 30
#: A sentence this short right after a quoted one comes with it.
_SHORT_FOLLOW_UP = 8
#: A line this short after a quote ending in ":" is what it introduces ("graphchecker file").
_SHORT_LINE = 160
#: The code a how-to sentence leads into lies at most this many paragraphs after it.
_CODE_REACH = 2


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
    how_sentences: int = 1  # a how-to answer gives this many of its best sentences before the lead-in and code
    #: not answered when a name the question asks about, which the passages do not cover, is held by at most
    #: this many chunks of the whole index: the documents mention it, they do not explain it (0: off)
    barely_documented: int = 2
    embed_limit: int = 16  # embed only this many sentences, the best by their words (0: all of them)
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
    verdict = assess(evidence, answer_at=options.answer_confidence, weak_at=options.closest_confidence)
    uncovered = evidence.focus.barely_documented(options.barely_documented)
    if verdict.decision == "answer" and not uncovered:
        return compose(evidence, options)
    if uncovered:  # the documents barely know what it asks about: say where they mention it, if they do
        return mention_answer(evidence, options.barely_documented)
    if verdict.decision == "weak":
        return weak_answer(evidence, options)
    return Composed(NOT_FOUND, True, [])


@dataclass(frozen=True)
class Composed:
    """An answer text with its citations, before timings and notices are added."""

    text: str
    abstained: bool
    citations: list[Citation]


def compose(evidence: Evidence, options: AnswerOptions) -> Composed:
    """The answer's text and citations in the shape its question asks for."""
    best = evidence.best
    if best is None:
        return Composed(NOT_FOUND, True, [])
    q = evidence.question
    code = _pick_code(evidence) if q.wants_code else None
    if code is not None:
        return _compose_code(evidence, code, options)
    chosen = _decisive_and_support(evidence, options)
    return _render(evidence, chosen, options, decisive_first=q.kind != "why")


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
    floor = best.score * options.support_share
    size = len(best.sentence.text)
    for cand in [*neighbours, *(s for s in ranked[1:] if s.score >= floor)]:
        if len(chosen) >= limit or size + len(cand.sentence.text) > options.room_chars:
            break
        if cand in chosen or any(_redundant(cand.sentence.text, c.sentence.text) for c in chosen):
            continue
        chosen.append(cand)
        size += len(cand.sentence.text) + 1
    return chosen


def _same_paragraph(text: str, a: Sentence, b: Sentence) -> bool:
    start, end = min(a.start, b.start), max(a.end, b.end)
    return "\n\n" not in text[start:end]


def _pick_code(evidence: Evidence) -> ScoredCode | None:
    """The code a how-to answer shows: the block the best sentence leads into, else a strong block elsewhere."""
    best = evidence.best
    if best is None or not evidence.code:
        return None
    text = evidence.passages[best.passage_rank].text
    after = [
        c
        for c in evidence.code
        if c.passage_rank == best.passage_rank
        and c.part.start >= best.sentence.end
        and text[best.sentence.end : c.part.start].count("\n\n") <= _CODE_REACH
    ]
    if after:
        return min(after, key=lambda c: c.part.start)
    top = evidence.code[0]
    return top if top.score >= _CODE_SHARE * best.score else None


def _render(
    evidence: Evidence, chosen: list[ScoredSentence], options: AnswerOptions, *, decisive_first: bool
) -> Composed:
    """Sentences with their markers, each read in its context: the short sentence that settles it, the lead-in
    of a list it belongs to, and the list or code a sentence ending with ":" introduces."""
    passage_order = list(dict.fromkeys(c.passage_rank for c in chosen))
    numbers = {rank: i for i, rank in enumerate(passage_order, 1)}
    head, rest = (chosen[:1], chosen[1:]) if decisive_first else ([], chosen)
    rest = sorted(rest, key=lambda c: (passage_order.index(c.passage_rank), c.sentence.start))
    pieces: list[str] = []
    quotes: dict[int, list[str]] = {}
    for c in head + rest:
        if any(c.sentence.text in piece for piece in pieces):
            continue  # it came along with the sentence before it
        marker = f"[{numbers[c.passage_rank]}]"
        passage = evidence.passages[c.passage_rank]
        text = _in_context(passage.text, c.sentence)
        lead = _list_lead(passage.text, c.sentence) if c.item else ""
        if lead and not any(lead in piece for piece in pieces):
            piece = f"{lead} {marker}\n- {text}"
        elif c.item:
            piece = f"- {text} {marker}"
        else:
            piece = f"{with_option(text, passage.section)} {marker}"  # named by its option or setting
        follow = _introduced_block(passage.text, c.sentence, text)
        if follow:
            piece += f"\n\n{follow}"
        candidate = _join([*pieces, piece])
        if pieces and len(candidate) > options.max_chars:
            break
        pieces.append(piece)
        quotes.setdefault(c.passage_rank, []).append(f"{lead} {text}".strip())
    citations = [
        Citation(id=numbers[rank], passage=evidence.passages[rank], quote=" … ".join(quotes[rank]))
        for rank in passage_order
        if rank in quotes
    ]
    return Composed(_fit(_join(pieces), options.max_chars), False, citations)


def _in_context(text: str, sentence: Sentence) -> str:
    """The sentence, with the next one when that one is short (it often settles the point: "There used to be
    an official Docker image." is answered by "But it is now deprecated."), or, after a sentence too short to
    stand alone, the first sentence of the next paragraph."""
    end = text.find("\n", sentence.end)
    rest = text[sentence.end : end if end >= 0 else len(text)]
    following = split_sentences(rest)
    if following and len(words(following[0].text)) <= _SHORT_FOLLOW_UP and following[0].text[:1].isupper():
        return f"{sentence.text} {following[0].text}"
    if not following and len(words(sentence.text)) <= _SHORT_FOLLOW_UP and not is_key_value(sentence.text):
        after = [p for p in passage_parts(text) if p.start >= sentence.end]
        if after and after[0].kind == "prose" and not sentence.text.rstrip().endswith(":"):
            nxt = split_sentences(after[0].text)
            if nxt:
                return f"{sentence.text} {nxt[0].text}"
    return sentence.text


def _list_lead(text: str, sentence: Sentence) -> str:
    """The sentence that introduces the list an item belongs to (the prose just before the list, ending with ":")."""
    before = [p for p in passage_parts(text) if p.end <= sentence.start]
    while before and before[-1].kind == "item":
        before.pop()
    if before and before[-1].kind == "prose":
        last = split_sentences(before[-1].text)
        if last and last[-1].text.rstrip().endswith(":"):
            return last[-1].text
    return ""


def _compose_code(evidence: Evidence, code: ScoredCode, options: AnswerOptions) -> Composed:
    """The sentences that name what to use (``how_sentences`` of the best), the lead-in, then the code block."""
    passage = evidence.passages[code.passage_rank]
    fenced = _fenced(code.part, options.max_chars - 300 - options.room_chars // 2)
    prefix: Composed | None = None
    before = [
        s
        for s in evidence.sentences[: options.how_sentences]
        if s != code.lead and s.sentence.text not in (code.lead.sentence.text if code.lead else "")
    ]
    if before:
        prefix = _render(evidence, before, replace(options, max_chars=options.room_chars), decisive_first=True)
    number = next((c.id for c in prefix.citations if c.passage == passage), None) if prefix else None
    number = number or (len(prefix.citations) + 1 if prefix else 1)
    if code.lead is not None:
        lead = f"{code.lead.sentence.text} [{number}]"
        quote = code.lead.sentence.text
    else:
        lead = f"From {passage.where} [{number}]:"
        quote = code.part.text.split("\n", 1)[0]
    label = _label_between(passage.text, code)
    text = f"{lead}\n\n{label}{fenced}" if label else f"{lead}\n\n{fenced}"
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
    return Composed(_fit(text, options.max_chars), False, citations)


def _label_between(text: str, code: ScoredCode) -> str:
    """A short label between the lead-in and the code ("pip:"), kept so the reader knows which variant."""
    if code.lead is None:
        return ""
    between = text[code.lead.sentence.end : code.part.start].strip()
    return f"{between}\n" if between and len(between) <= 40 and between.endswith(":") else ""


def _introduced_block(text: str, sentence: Sentence, shown: str) -> str:
    """What a quote ending in ":" introduces (when it ends its paragraph): code, a list, or a short line."""
    if not shown.rstrip().endswith(":"):
        return ""
    parts = passage_parts(text)
    for i, part in enumerate(parts):
        if part.start <= sentence.start < part.end:
            if not text[part.start : part.end].rstrip().endswith(shown.rstrip()[-40:]):
                return ""  # more prose follows in the same paragraph: the colon is not a lead-in
            following: list[Part] = []
            for nxt in parts[i + 1 :]:
                if (following and following[-1].kind != nxt.kind) or (nxt.kind == "prose" and following):
                    break
                following.append(nxt)
                if nxt.kind != "item":
                    break
            if not following:
                return ""
            if following[0].kind == "code":
                return _fenced(following[0], 1200)
            if following[0].kind == "prose":
                return following[0].text if len(following[0].text) <= _SHORT_LINE else ""
            return "\n".join(f"- {p.text}" for p in following[:6])
    return ""


def _fenced(part: Part, max_chars: int) -> str:
    """A code part fenced again, cut to a readable length (whole lines) with a note when cut."""
    lines = part.text.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines[:_MAX_CODE_LINES]:
        if size + len(line) + 1 > max_chars and kept:
            break
        kept.append(line)
        size += len(line) + 1
    more = "\n# …" if len(kept) < len(lines) else ""
    return f"```{part.language}\n" + "\n".join(kept) + f"{more}\n```"


def _join(pieces: list[str]) -> str:
    out = ""
    for piece in pieces:
        if not out:
            out = piece
        elif "\n" in piece or out.endswith("```"):
            out += "\n\n" + piece
        else:
            out += " " + piece
    return out


def _fit(text: str, limit: int) -> str:
    """Never more than ``limit`` characters (the composers keep whole sentences and lines; this is a backstop)."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 2)
    cut = cut if cut > limit // 2 else text.rfind(" ", 0, limit - 2)
    clipped = text[:cut].rstrip() + " …"
    if clipped.count("```") % 2:  # a code block was cut: close it
        clipped += "\n```"
    return clipped


_PLACES = {
    "release notes": "only in the release notes",
    "a list": "only in a list",
    "an aside": "only in a note",
    "passing": "only in passing",
}


def mention_answer(evidence: Evidence, chunks: int) -> Composed:
    """Not answered: the documents at most mention what the question asks about. Say so, citing the mention."""
    rare = {f.text for f in evidence.focus.terms if f.chunks is not None and f.chunks <= chunks}
    mentions = [m for m in evidence.focus.mentions if m.term in rare]
    if not mentions:
        return Composed(NOT_FOUND, True, [])
    m = mentions[0]
    passage = evidence.passages[m.passage_rank]
    text = (
        f"The documents don't cover {m.term}: they mention it {_PLACES.get(m.place, 'only in passing')} [1]."
        f"\n\n“{m.sentence}” [1]"
    )
    return Composed(text, True, [Citation(id=1, passage=passage, quote=m.sentence)])


def weak_answer(evidence: Evidence, options: AnswerOptions) -> Composed:
    """Evidence too weak to answer but not absent: say so, then the closest passages' best sentences."""
    seen: list[int] = []
    lines = [WEAK_LEAD]
    citations = []
    for s in evidence.sentences:
        if s.passage_rank in seen or len(seen) >= 2:
            continue
        seen.append(s.passage_rank)
        passage = evidence.passages[s.passage_rank]
        n = len(seen)
        lines.append(f"- {passage.where}: “{s.sentence.text}” [{n}]")
        citations.append(Citation(id=n, passage=passage, quote=s.sentence.text))
    return Composed(_fit("\n".join(lines), options.max_chars), True, citations)


def _redundant(a: str, b: str) -> bool:
    ta, tb = set(content_terms(a)), set(content_terms(b))
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) > 0.7
