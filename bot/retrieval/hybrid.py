"""Hybrid retrieval: dense + BM25 candidates, reciprocal-rank fusion, metadata cues, document diversity.

1. Candidate pool: the ``pool`` nearest chunks by embedding and the ``pool`` best by BM25
   (header + text, see bot/keyword.py).
2. Fusion: weighted reciprocal rank fusion, ``w / (rrf_k + rank)`` summed over both lists.
3. Metadata cues: a chunk whose publisher (``source_name``) or publication day is named in the
   question gets its fused score raised by ``metadata_boost`` (relative), so "according to
   TechCrunch ... on October 7, 2023" prefers those articles.
4. Document support: a chunk's score also gains ``doc_support`` times the fused score of its
   document's next-best candidate, so documents matching the question in several places rank up.
5. Diversity: the top ``k`` take at most ``max_per_doc`` chunks of one document while other
   documents have candidates left, so a multi-source question sees several sources instead of
   k chunks of one article. The selection is greedy in score order, so the top 4 of a top-10
   list are the top 4.
6. Coverage (``cover_named``): when the question names publishers, each named publisher with a
   candidate gets at least one of the top ``k`` places (its best-ranked document), taken from
   the lowest-ranked documents of publishers the question does not need ("according to
   TechCrunch and The Verge" sees both).
7. Passage choice (``passage_choice``): steps 1-5 choose documents well but the chunk that
   brought a document in is often not the part of it that answers. Every chunk of each chosen
   document is scored again against the question: the best sentence's summed IDF of question
   terms (normalised within the document) plus ``passage_dense`` times the chunk's cosine
   similarity; each document's slots get its best chunks in that order (bot/passages.py).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, TypeVar

from bot.retrieval.base import to_passage
from bot.retrieval.keyword import KeywordIndex
from bot.retrieval.passages import choose_passages
from bot.retrieval.scope import KEYWORD_WIDEN, Scope
from bot.schema import Passage
from bot.settings import Settings
from ingest.embedding.embedder import Embedder
from ingest.index.records import StoredChunk
from ingest.index.store import Store


@dataclass(frozen=True)
class HybridOptions:
    """Knobs of hybrid retrieval (from Settings)."""

    pool: int = 50
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 2.0
    metadata_boost: float = 1.0
    doc_support: float = 0.0
    max_per_doc: int = 1
    cover_named: bool = True
    passage_choice: bool = True
    passage_dense: float = 2.0
    second_section: float | None = 0.5  # see choose_passages; None: never

    @classmethod
    def from_settings(cls, s: Settings) -> HybridOptions:
        """The options the CITEBOT_ settings describe."""
        return cls(
            pool=s.retrieval_pool,
            rrf_k=s.rrf_k,
            keyword_weight=s.keyword_weight,
            metadata_boost=s.metadata_boost,
            doc_support=s.doc_support,
            max_per_doc=s.max_per_doc,
            cover_named=s.cover_named,
            passage_choice=s.passage_choice,
            passage_dense=s.passage_dense,
            second_section=s.second_section if s.second_section >= 0 else None,
        )


class _HasSource(Protocol):
    source: str


_C = TypeVar("_C", bound=_HasSource)
#: Extra ids the first dense search asks for, so that a few chunks dropped as hidden leave ``pool`` visible ones.
NEAREST_SLACK = 8


@dataclass
class _Candidate:
    index: str  # chunk id
    source: str
    source_name: str
    date: str
    hit: StoredChunk | None = None  # the stored chunk when the dense list brought it (text included)
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)


class HybridRetriever:
    """Retriever combining dense and keyword rankings; see the module docstring for the steps."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        keyword: KeywordIndex | None,
        options: HybridOptions,
        scope: Scope | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.keyword = keyword
        self.options = options
        self.scope = scope  # only these sources' documents are retrieved (None: all of them)

    def retrieve(self, query: str, k: int) -> list[Passage]:
        opts = self.options
        pool = max(opts.pool, k)
        cands: dict[str, _Candidate] = {}
        vector: list[float] | None = None
        nearest: dict[str, list[str]] = defaultdict(list)  # the dense hits of each document, nearest first
        if self.embedder is not None and opts.dense_weight > 0:
            vector = self.embedder.embed([query])[0]
            where = self.scope.where() if self.scope is not None else None
            for rank, found in enumerate(self._nearest(vector, pool, where), 1):
                c = cands.setdefault(found.index, found)
                c.ranks["dense"] = rank
                c.score += opts.dense_weight / (opts.rrf_k + rank)
                nearest[found.source].append(found.index)
        publishers: set[str] = set()
        if self.keyword is not None and opts.keyword_weight > 0:
            for rank, (pos, _score) in enumerate(self._keyword_hits(query, pool), 1):
                cid, info = self.keyword.ids[pos], self.keyword.info[pos]
                c = cands.setdefault(cid, _Candidate(cid, info.source, info.source_name, info.date))
                c.ranks["keyword"] = rank
                c.score += opts.keyword_weight / (opts.rrf_k + rank)
            publishers = self.keyword.publishers()
        if not cands:
            return []
        named = named_publishers(query, publishers)
        if opts.metadata_boost > 0:
            days = named_days(query)
            for c in cands.values():
                cues = (c.source_name in named) + (c.date[:10] in days)
                c.score *= 1 + opts.metadata_boost * cues
        ranked = _with_document_support(list(cands.values()), opts.doc_support)
        if opts.cover_named and named:
            diverse = select_diverse(ranked, len(ranked), opts.max_per_doc)
            chosen = cover(diverse, [c.source_name for c in diverse], named, k)
        else:
            chosen = select_diverse(ranked, k, opts.max_per_doc)
        _document_ranks(chosen, cands.values())
        if opts.passage_choice:
            return choose_passages(
                self.store, self.keyword, query, vector, chosen, opts.passage_dense, opts.second_section, nearest
            )
        return self._passages(chosen)

    def _nearest(self, vector: list[float], n: int, where: dict[str, Any] | None) -> list[_Candidate]:
        """The ``n`` nearest visible chunks, best first, as candidates.

        With a keyword index their document, publisher and date come from it, so the search reads ids and
        distances only (metadata was two thirds of its time); a chunk the keyword index does not know (one
        written since it was built, or hidden by an ingest in flight) is read, and kept only if visible.
        """
        keyword = self.keyword
        if keyword is None:
            hits = self.store.reader.query(vector, n, where)
            return [_Candidate(h.id, h.meta.source, h.meta.source_name, h.meta.date, h) for h in hits]
        keyword.refresh()  # in step with the store (a no-op within ``steady``)
        ids = [cid for cid, _ in self.store.reader.nearest(vector, n + NEAREST_SLACK, where)]
        known = {cid: info for cid in ids if (info := keyword.info_of(cid)) is not None}
        unknown = [cid for cid in ids if cid not in known]
        read = {h.id: h for h in self.store.reader.get_chunks(unknown)} if unknown else {}  # visible ones only
        out: list[_Candidate] = []
        for cid in ids:
            if (info := known.get(cid)) is not None:
                out.append(_Candidate(cid, info.source, info.source_name, info.date))
            elif (hit := read.get(cid)) is not None:
                out.append(_Candidate(cid, hit.meta.source, hit.meta.source_name, hit.meta.date, hit))
        return out[:n]

    def lookup(self, name: str, n: int) -> list[Passage]:
        """The ``n`` chunks the keyword ranking puts first for ``name`` alone (in scope), best first.

        A name a question asks about is looked up this way when the passages retrieved for the whole
        question do not cover it: a chunk whose title or section names it ranks first.
        """
        if self.keyword is None:
            return []
        scores = {self.keyword.ids[pos]: score for pos, score in self._keyword_hits(name, n)}
        chunks = self.store.reader.get_chunks(list(scores))
        return [to_passage(c, score=scores[c.id], ranks={"keyword": i}) for i, c in enumerate(chunks, 1)]

    def _keyword_hits(self, query: str, n: int) -> list[tuple[int, float]]:
        """The ``n`` best BM25 (position, score) pairs for ``query`` among the chunks in scope."""
        assert self.keyword is not None
        if self.scope is None:
            return self.keyword.search(query, n)
        hits = self.keyword.search(query, n * KEYWORD_WIDEN)
        return [(pos, score) for pos, score in hits if self.scope.owns(self.keyword.info[pos].source)][:n]

    def _passages(self, chosen: list[_Candidate]) -> list[Passage]:
        missing = [c.index for c in chosen if c.hit is None]
        fetched = {h.id: h for h in self.store.reader.get_chunks(missing)} if missing else {}
        out = []
        for c in chosen:
            hit = c.hit or fetched.get(c.index)
            if hit is not None:  # a chunk removed since the keyword index was built is skipped
                out.append(to_passage(hit, score=c.score, ranks=c.ranks))
        return out


def _document_ranks(chosen: list[_Candidate], cands: Iterable[_Candidate]) -> None:
    """Each chosen candidate's ranks become its document's best rank in each ranking (an answerability signal)."""
    best: dict[str, dict[str, int]] = defaultdict(dict)
    for c in cands:
        for name, rank in c.ranks.items():
            best[c.source][name] = min(rank, best[c.source].get(name, rank))
    for c in chosen:
        c.ranks = dict(best[c.source])


def _with_document_support(cands: list[_Candidate], share: float) -> list[_Candidate]:
    """Candidates best first, each raised by ``share`` of its document's next-best candidate score."""
    by_doc: dict[str, list[float]] = defaultdict(list)
    for c in cands:
        by_doc[c.source].append(c.score)
    if share > 0:
        for scores in by_doc.values():
            scores.sort(reverse=True)
        bonus = {src: share * (s[1] if len(s) > 1 else 0.0) for src, s in by_doc.items()}
        for c in cands:
            c.score += bonus[c.source]
    return sorted(cands, key=lambda c: (-c.score, c.index))


def select_diverse(ranked: list[_C], k: int, max_per_doc: int) -> list[_C]:
    """Greedy top ``k`` in score order with at most ``max_per_doc`` per document, filled up if too few documents."""
    if max_per_doc <= 0:
        return ranked[:k]
    chosen: list[_C] = []
    deferred: list[_C] = []
    per_doc: Counter[str] = Counter()
    for c in ranked:
        if len(chosen) >= k:
            break
        if per_doc[c.source] < max_per_doc:
            chosen.append(c)
            per_doc[c.source] += 1
        else:
            deferred.append(c)
    chosen.extend(deferred[: k - len(chosen)])
    return chosen


def cover(ranked: list[_C], labels: list[str], needed: set[str], k: int) -> list[_C]:
    """The top ``k`` of ``ranked`` re-picked so that every needed label that occurs gets a place.

    Walking in rank order, an item is kept when it brings a needed label not yet covered, or
    when enough places remain for the needed labels still to come; the others are passed over.
    """
    chosen: list[_C] = []
    uncovered = set(needed)
    for i, item in enumerate(ranked):
        if len(chosen) >= k:
            break
        if labels[i] in uncovered:
            chosen.append(item)
            uncovered.discard(labels[i])
        elif len(chosen) + len(uncovered.intersection(labels[i + 1 :])) < k:
            chosen.append(item)
    return chosen


def _norm(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def named_publishers(question: str, publishers: set[str]) -> set[str]:
    """The publisher names that appear (case- and punctuation-insensitively, as whole words) in the question."""
    q = _norm(question)
    return {p for p in publishers if len(_norm(p).strip()) >= 3 and _norm(p) in q}


_MONTHS = {
    m: i
    for i, m in enumerate(
        "january february march april may june july august september october november december".split(), 1
    )
}
_MONTH_RE = "(" + "|".join(_MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), ("y", "m", "d")),
    (re.compile(_MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE), ("mon", "d", "y")),
    (
        re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE + r",?\s+(\d{4})\b", re.IGNORECASE),
        ("d", "mon", "y"),
    ),
]


def named_days(question: str) -> set[str]:
    """Calendar days written in the question ("October 7, 2023", "7 Oct 2023", "2023-10-07") as ISO strings."""
    out: set[str] = set()
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(question):
            parts = dict(zip(order, match.groups()))
            try:
                month = int(parts["m"]) if "m" in parts else _month(parts["mon"])
                out.add(date(int(parts["y"]), month, int(parts["d"])).isoformat())
            except (ValueError, KeyError):
                continue
    return out


def _month(name: str) -> int:
    name = name.lower().rstrip(".")
    for full, number in _MONTHS.items():
        if full.startswith(name):
            return number
    raise ValueError(name)
