"""Citation checking for model-written answers.

The model cites passages with the markers ``[1]..[k]`` it was shown. This module parses them
back, drops markers that point at no passage, renumbers the rest in order of first use (so the
answer's ``[n]`` are the citations' ids, as in extractive answers), and checks every cited sentence
against its passages: semantic similarity to the passage's closest sentence plus the share of the
claim's terms the passage contains, scaled by the share of the claim's numbers the passage holds.
A sentence below the calibrated threshold is *unsupported*. Similarity does not catch a negation
("agreed" for "refused"); that would take an entailment model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.answering.term_overlap import overlap, term_weights
from bot.schema import Citation, Claim, Passage
from bot.text import CITATION_MARKER, CITATION_RUN, Sentence, content_terms, split_sentences, strip_citations
from ingest.embedding.embedder import cosine

EmbedFn = Callable[[Sequence[str]], list[list[float]]]

# Support score = _W_SIM * similarity + _W_OVERLAP * term overlap. Weights and thresholds calibrated
# with bench/calibrate_support.py on the multihop-news dev evidence (see the README for the figures).
_W_SIM = 0.5
_W_OVERLAP = 0.5
SUPPORT_THRESHOLD = 0.6
#: Without an embedder only term overlap is measured; a claim needs most of its terms in the passage.
OVERLAP_ONLY_THRESHOLD = 0.6
#: Sentences shorter than this (in content terms) with no marker are connective text, not claims.
MIN_CLAIM_TERMS = 3

# "It closed. [1] Then" -> "It closed [1]. Then": a marker after the full stop belongs to that sentence.
_MARKERS_AFTER_STOP = re.compile(rf"([.!?])({CITATION_RUN.pattern})")


#: The space a dropped marker leaves before a stop ("closed [9]." -> "closed ."), not the space
#: before a name that starts with one (".env", ".NET").
SPACE_BEFORE_STOP = re.compile(r"[ \t]+([.!?,;:])(?=\s|$)")
#: A fenced code block of a model's answer: its lines are code, not claims (see bot/answering/screen.py).
CODE_FENCE = re.compile(r"^[ \t]*```[^\n]*\n.*?^[ \t]*```[ \t]*$", re.MULTILINE | re.DOTALL)
FENCE_LINE = re.compile(r"^[ \t]*```", re.MULTILINE)
# Where a sentence certainly ended: a stop (with its closing quotes and markers) before a space.
_SENTENCE_END = re.compile(rf"[.!?][\"'”’)]*(?:{CITATION_RUN.pattern})?(?=\s)")


@dataclass(frozen=True)
class Verified:
    """An answer text after checking: markers renumbered, bad ones dropped, claims judged."""

    text: str
    claims: list[Claim]
    citations: list[Citation]
    dropped: list[int]  # marker numbers that pointed at no passage

    @property
    def any_supported(self) -> bool:
        return any(c.supported for c in self.claims)


def verify_answer(
    text: str, passages: Sequence[Passage], embed: EmbedFn | None, support: PassageSupport | None = None
) -> Verified:
    """Parse ``[n]`` markers in ``text``, map them to ``passages`` (1-based), and check each claim.

    ``support`` scores claims against ``passages`` (pass one to share its passage vectors between
    calls over the same passages); fenced code blocks are not claims.
    """
    text = _without_dangling(markers_before_stops(text.strip()), len(passages))
    dropped: list[int] = []
    renumber: dict[int, int] = {}  # prompt number -> citation id

    def replace(match: re.Match[str]) -> str:
        kept = []
        for part in re.split(r"[,;]", match.group(1)):
            n = int(part)
            if not 1 <= n <= len(passages):
                if n not in dropped:
                    dropped.append(n)
                continue
            renumber.setdefault(n, len(renumber) + 1)
            if renumber[n] not in kept:
                kept.append(renumber[n])
        return "".join(f"[{i}]" for i in kept)

    text = CITATION_MARKER.sub(replace, text)
    text = SPACE_BEFORE_STOP.sub(r"\1", text)  # the space a dropped marker left before a stop
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    prompt_number = {i: n for n, i in renumber.items()}

    raw_claims = []
    for sentence in prose_sentences(text):
        ids = tuple(dict.fromkeys(int(m) for m in re.findall(r"\[(\d+)\]", sentence.text)))
        plain = " ".join(strip_citations(sentence.text).split())
        if not ids and len(content_terms(plain)) < MIN_CLAIM_TERMS:
            continue
        raw_claims.append((plain, ids, sentence.start, sentence.end))

    support = support or PassageSupport(passages, embed)
    scores = support.scores([c[0] for c in raw_claims])
    claims: list[Claim] = []
    best_quote: dict[int, tuple[float, str]] = {}
    supported_ids: set[int] = set()
    for ci, (plain, ids, start, end) in enumerate(raw_claims):
        best = 0.0
        for cid in ids:
            score, quote = scores[ci][prompt_number[cid] - 1]
            best = max(best, score)
            if score >= support.threshold:
                supported_ids.add(cid)
            if cid not in best_quote or score > best_quote[cid][0]:
                best_quote[cid] = (score, quote)
        claims.append(Claim(plain, ids, bool(ids) and best >= support.threshold, round(best, 4), start, end))
    citations = [
        Citation(
            id=cid,
            passage=passages[prompt_number[cid] - 1],
            quote=best_quote.get(cid, (0.0, ""))[1],
            supported=cid in supported_ids,
        )
        for cid in sorted(prompt_number)
    ]
    return Verified(text, claims, citations, dropped)


def marker_numbers(sentence: str) -> list[int]:
    """The passage numbers a sentence's ``[n]`` markers name, in order."""
    return [int(n) for m in CITATION_MARKER.finditer(sentence) for n in re.split(r"[,;]", m.group(1)) if n.strip()]


def _without_dangling(text: str, passages: int) -> str:
    """``text`` without the short sentences whose markers all name no passage ("See also [7].").

    Without their markers they would be debris; a longer one stays, as an uncited claim.
    """
    for sentence in reversed(prose_sentences(text)):
        numbers = marker_numbers(sentence.text)
        dangling = numbers and not any(1 <= n <= passages for n in numbers)
        if dangling and len(content_terms(strip_citations(sentence.text))) < MIN_CLAIM_TERMS:
            text = text[: sentence.start] + text[sentence.end :]  # the spaces left are closed up later
    return text.strip()


def markers_before_stops(text: str) -> str:
    """``It closed. [1]`` -> ``It closed [1].``: a marker after a full stop belongs to that sentence."""
    return _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)


def finished_part(text: str) -> str:
    """``text`` up to the end of its last whole sentence or closed code block.

    What a reply cut off mid-way (at the deadline, or given up) may show: never half a sentence.
    """
    text = markers_before_stops(text)
    blocks = list(CODE_FENCE.finditer(text))
    closed = blocks[-1].end() if blocks else 0
    unclosed = FENCE_LINE.search(text, closed)
    if unclosed:
        text = text[: unclosed.start()]
    ends = [closed, *(m.end() for m in _SENTENCE_END.finditer(text + " ", closed))]
    return text[: max(ends)].rstrip()


def prose_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` outside its fenced code blocks, with offsets in ``text``."""
    out: list[Sentence] = []
    at = 0
    for fence in [*CODE_FENCE.finditer(text), None]:
        end = fence.start() if fence else len(text)
        out.extend(Sentence(s.text, s.start + at, s.end + at) for s in split_sentences(text[at:end]))
        if fence:
            at = fence.end()
    return out


class PassageSupport:
    """Scores claims against a fixed list of passages; the passages' sentences are embedded once.

    A claim's support by a passage is ``_W_SIM`` x the similarity to the passage's closest sentence
    plus ``_W_OVERLAP`` x the share of the claim's terms the passage holds, scaled by the share of
    the claim's numbers the passage holds.
    """

    def __init__(self, passages: Sequence[Passage], embed: EmbedFn | None) -> None:
        self.passages = list(passages)
        self._embed = embed
        self.threshold = SUPPORT_THRESHOLD if embed is not None else OVERLAP_ONLY_THRESHOLD
        self.sentences = [[s.text for s in split_sentences(p.text)] or [p.text] for p in self.passages]
        self._numbers = [_numbers(p.text) for p in self.passages]
        self._sent_vecs: list[list[list[float]]] | None = None

    def _passage_vectors(self) -> list[list[list[float]]]:
        if self._sent_vecs is None:
            assert self._embed is not None
            flat = [s for group in self.sentences for s in group]
            rest = self._embed(flat) if flat else []
            self._sent_vecs = []
            for group in self.sentences:
                self._sent_vecs.append(rest[: len(group)])
                rest = rest[len(group) :]
        return self._sent_vecs

    def scores(self, claims: Sequence[str]) -> list[list[tuple[float, str]]]:
        """For each claim, its (support score, closest passage sentence) for every passage."""
        if not claims or not self.passages:
            return [[] for _ in claims]
        claim_vecs = self._embed(list(claims)) if self._embed is not None else None
        sent_vecs = self._passage_vectors() if self._embed is not None else None
        out = []
        for ci, claim in enumerate(claims):
            weights = term_weights(claim)
            numbers = _numbers(claim)
            row = []
            for pi, passage in enumerate(self.passages):
                term_share = overlap(weights, passage.text)
                # Similarity cannot tell 2015 from 2016: the claim's numbers must be in the passage.
                number_share = len(numbers & self._numbers[pi]) / len(numbers) if numbers else 1.0
                sentences = self.sentences[pi]
                if claim_vecs is None or sent_vecs is None:
                    best = max(sentences, key=lambda s, w=weights: overlap(w, s))  # type: ignore[misc]
                    row.append((term_share * number_share, best))
                    continue
                sims = [cosine(claim_vecs[ci], v) for v in sent_vecs[pi]]
                i = max(range(len(sims)), key=sims.__getitem__)
                row.append(((_W_SIM * max(0.0, sims[i]) + _W_OVERLAP * term_share) * number_share, sentences[i]))
            out.append(row)
        return out


def support_score(claim: str, passage: Passage, embed: EmbedFn | None) -> float:
    """The support score of one claim by one passage (used for calibration and tests)."""
    return PassageSupport([passage], embed).scores([claim])[0][0][0]


def _numbers(text: str) -> set[str]:
    """Numbers written in ``text`` ("1,200" and "1200" alike; "30th" as "30")."""
    return {m.replace(",", "") for m in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
