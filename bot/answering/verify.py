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

from bot.answering.evidence import overlap, term_weights
from bot.schema import Citation, Claim, Passage
from bot.text import CITATION_MARKER, CITATION_RUN, content_terms, split_sentences, strip_citations
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
_MIN_CLAIM_TERMS = 3

# "It closed. [1] Then" -> "It closed [1]. Then": a marker after the full stop belongs to that sentence.
_MARKERS_AFTER_STOP = re.compile(rf"([.!?])({CITATION_RUN.pattern})")


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


def verify_answer(text: str, passages: Sequence[Passage], embed: EmbedFn | None) -> Verified:
    """Parse ``[n]`` markers in ``text``, map them to ``passages`` (1-based), and check each claim."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text.strip())
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
    text = re.sub(r"[ \t]+([.!?,;:])", r"\1", text)  # the space a dropped marker left before a stop
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    by_id = {i: passages[n - 1] for n, i in renumber.items()}

    raw_claims = []
    for sentence in split_sentences(text):
        ids = tuple(dict.fromkeys(int(m) for m in re.findall(r"\[(\d+)\]", sentence.text)))
        plain = " ".join(strip_citations(sentence.text).split())
        if not ids and len(content_terms(plain)) < _MIN_CLAIM_TERMS:
            continue
        raw_claims.append((plain, ids, sentence.start, sentence.end))

    scorer = _SupportScorer([c[0] for c in raw_claims], list(by_id.values()), embed)
    claims: list[Claim] = []
    best_quote: dict[int, tuple[float, str]] = {}
    supported_ids: set[int] = set()
    for ci, (plain, ids, start, end) in enumerate(raw_claims):
        best = 0.0
        for cid in ids:
            pi = list(by_id).index(cid)
            score, quote = scorer.support(ci, pi)
            best = max(best, score)
            if score >= scorer.threshold:
                supported_ids.add(cid)
            if cid not in best_quote or score > best_quote[cid][0]:
                best_quote[cid] = (score, quote)
        claims.append(Claim(plain, ids, bool(ids) and best >= scorer.threshold, round(best, 4), start, end))
    citations = [
        Citation(id=cid, passage=by_id[cid], quote=best_quote.get(cid, (0.0, ""))[1], supported=cid in supported_ids)
        for cid in sorted(by_id)
    ]
    return Verified(text, claims, citations, dropped)


class _SupportScorer:
    """Scores (claim, passage) pairs; embeds every claim and passage sentence in one call."""

    def __init__(self, claims: list[str], passages: list[Passage], embed: EmbedFn | None) -> None:
        self._overlap = overlap
        self._weights = [term_weights(c) for c in claims]
        self._numbers = [_numbers(c) for c in claims]
        self.passages = passages
        self.sentences = [[s.text for s in split_sentences(p.text)] or [p.text] for p in passages]
        self.threshold = SUPPORT_THRESHOLD if embed is not None else OVERLAP_ONLY_THRESHOLD
        self._claim_vecs: list[list[float]] = []
        self._sent_vecs: list[list[list[float]]] = []
        if embed is not None and claims and passages:
            flat = [s for group in self.sentences for s in group]
            vectors = embed(list(claims) + flat)
            self._claim_vecs = vectors[: len(claims)]
            rest = vectors[len(claims) :]
            for group in self.sentences:
                self._sent_vecs.append(rest[: len(group)])
                rest = rest[len(group) :]

    def support(self, claim: int, passage: int) -> tuple[float, str]:
        """The support score of a claim by a passage, and the passage sentence closest to it."""
        sentences = self.sentences[passage]
        text = self.passages[passage].text
        term_share = self._overlap(self._weights[claim], text)
        # Similarity cannot tell 2015 from 2016: the claim's numbers must be in the passage.
        numbers = self._numbers[claim]
        number_share = len(numbers & _numbers(text)) / len(numbers) if numbers else 1.0
        if not self._claim_vecs:
            best = max(sentences, key=lambda s: self._overlap(self._weights[claim], s))
            return term_share * number_share, best
        sims = [cosine(self._claim_vecs[claim], v) for v in self._sent_vecs[passage]]
        i = max(range(len(sims)), key=sims.__getitem__)
        return (_W_SIM * max(0.0, sims[i]) + _W_OVERLAP * term_share) * number_share, sentences[i]


def support_score(claim: str, passage: Passage, embed: EmbedFn | None) -> float:
    """The support score of one claim by one passage (used for calibration and tests)."""
    return _SupportScorer([claim], [passage], embed).support(0, 0)[0]


def _numbers(text: str) -> set[str]:
    """Numbers written in ``text`` ("1,200" and "1200" alike; "30th" as "30")."""
    return {m.replace(",", "") for m in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
