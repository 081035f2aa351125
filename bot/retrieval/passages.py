"""Choosing, within each retrieved document, the chunk that answers the question.

Document ranking (bot/hybrid.py) decides *which* articles a question needs; the chunk that
brought an article in is the one that matched best in the fused ranking, which on multi-part
questions is often a chunk matching the article's topic rather than the sentence the question
paraphrases. Here every chunk of each chosen document is scored again:

* lexical: the chunk's best sentence, scored by the summed inverse document frequency of the
  question's content terms it contains (a paraphrased fact keeps its rare words: names, figures),
  divided by the best such score in the document;
* dense: the cosine similarity of the chunk's stored embedding to the question's, times a weight.

A chunk of the section the question names (an API, setting or option written as code: "Request.replace",
``DOWNLOAD_DELAY``; or the release it asks about) counts as a full lexical match besides. A document given
``m`` slots gets its ``m`` best chunks, in the slots' order.

The work per question is bounded by k, not by the size of the documents: a document of up to
``WHOLE_DOCUMENT`` chunks is scored whole, a larger one (a changelog of 1,600 chunks) only on its
chunks that rank best for the question by embedding and by keywords, ``PER_RANKING`` of each,
found with the index's own searches restricted to that document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Protocol

from bot.answering.focus import asks_change
from bot.answering.setting_names import RELEASE_VERSION, asked_names, heads, normal_version, release_version
from bot.retrieval.base import to_passage
from bot.retrieval.keyword import KeywordIndex, tokenize
from bot.schema import Passage
from bot.text import camel_parts, split_sentences
from ingest.embedding.embedder import cosine
from ingest.index.records import SOURCE, StoredChunk
from ingest.index.store import Store


class Slot(Protocol):
    """A chosen candidate: its document, its fused score, and where each ranking put it."""

    source: str
    score: float
    ranks: dict[str, int]


#: Documents up to this many chunks are scored whole (nearly every article or page).
WHOLE_DOCUMENT = 40
#: A larger document offers this many of its best chunks by embedding, and as many by keywords.
PER_RANKING = 8
#: BM25 hits over the whole index searched for the keyword candidates of large documents.
KEYWORD_DEPTH = 200


def choose_passages(
    store: Store,
    keyword: KeywordIndex | None,
    query: str,
    vector: Sequence[float] | None,
    chosen: Sequence[Slot],
    dense_weight: float,
    second_section: float | None = None,
    nearest: Mapping[str, Sequence[str]] | None = None,
) -> list[Passage]:
    """The passages for ``chosen`` (document slots, best first): each document's best chunks for ``query``.

    ``second_section``: when the first document's best chunk of another section outscores the last slot's
    chunk by this margin (scores comparable across documents), it takes that slot (None: never).
    ``nearest``: the chunk ids the first-stage dense search found, per document, nearest first.
    """
    sources = list(dict.fromkeys(c.source for c in chosen))
    use_dense = vector is not None and dense_weight > 0
    versions = asked_versions(query)
    named = asked_names(query)
    by_doc: dict[str, list[StoredChunk]] = defaultdict(list)
    for chunk in candidates(store, keyword, query, vector if use_dense else None, sources, versions, nearest):
        by_doc[chunk.meta.source].append(chunk)
    terms = set(tokenize(query))
    idf = keyword.idf(terms) if keyword is not None else dict.fromkeys(terms, 1.0)
    order: dict[str, list[StoredChunk]] = {}
    lexical_of: dict[str, float] = {}
    dense_of: dict[str, float] = {}
    for source, chunks in by_doc.items():
        # A section's heading counts as one of its sentences: "v2.0 (2023-06-30)" answers "when did 2.0 come out?".
        lexical = [
            best_sentence_score(f"{c.meta.section}\n{c.text}" if c.meta.section else c.text, idf) for c in chunks
        ]
        dense = [
            dense_weight * cosine(vector, c.embedding) if vector and c.embedding is not None else 0.0 for c in chunks
        ]
        lexical_of.update((c.id, lex) for c, lex in zip(chunks, lexical))
        dense_of.update((c.id, d) for c, d in zip(chunks, dense))
        top = max(lexical) or 1.0
        # A chunk of the release the question names, or of the section of the API, setting or option it names
        # ("Request.replace", "DOWNLOAD_DELAY"), counts as a full match of its words.
        scores = [
            lex / top
            + d
            + (1.0 if versions and release_version(c.meta.section) in versions else 0.0)
            + (1.0 if named and heads(c.meta.section, named) else 0.0)
            for c, lex, d in zip(chunks, lexical, dense)
        ]
        ranked = sorted(range(len(chunks)), key=lambda i: (-scores[i], chunks[i].id))
        order[source] = [chunks[i] for i in ranked]
    # Comparable across documents (for the second section): lexical over the best of all chunks, plus dense.
    overall = max(lexical_of.values(), default=0.0) or 1.0
    raw = {cid: lex / overall + dense_of[cid] for cid, lex in lexical_of.items()}
    out: list[Passage] = []
    used: dict[str, int] = defaultdict(int)
    for slot in chosen:
        chunks = order.get(slot.source, [])
        if used[slot.source] < len(chunks):  # a document removed since ranking is skipped
            out.append(to_passage(chunks[used[slot.source]], score=slot.score, ranks=slot.ranks))
            used[slot.source] += 1
    if second_section is not None and len(out) >= 3 and len(out) == len(chosen):
        first, last = out[0], out[-1]
        other = next((c for c in order.get(first.source, []) if c.meta.section != first.section), None)
        if (
            other is not None
            and last.source != first.source
            and raw.get(other.id, 0.0) >= raw.get(last.chunk_id, 0.0) * (1 + second_section)
        ):
            out[-1] = to_passage(other, score=last.score, ranks=chosen[0].ranks)
    return out


def candidates(
    store: Store,
    keyword: KeywordIndex | None,
    query: str,
    vector: Sequence[float] | None,
    sources: Sequence[str],
    versions: set[str] | frozenset[str] = frozenset(),
    nearest: Mapping[str, Sequence[str]] | None = None,
) -> list[StoredChunk]:
    """The chunks of ``sources`` worth scoring (with embeddings when ``vector`` is given), a bounded number of each.

    A document whose manifest entry gives up to WHOLE_DOCUMENT chunks offers all of them; a larger
    one, or one being rewritten (its count unknown), its PER_RANKING nearest chunks to ``vector``
    and its PER_RANKING best by BM25 among the index's KEYWORD_DEPTH best, and up to PER_RANKING of
    the sections of the releases in ``versions`` (``asked_versions``). A document of which the first-stage
    search (``nearest``) found PER_RANKING chunks already has its nearest: they are not searched again.
    """
    sizes = store.manifest.chunk_counts(sources)
    whole = [s for s in sources if 0 < sizes.get(s, 0) <= WHOLE_DOCUMENT]
    large = [s for s in sources if s not in whole]
    found = store.reader.chunks_of(whole, embeddings=vector is not None)
    if not large:
        return found
    ids: dict[str, None] = {}
    if vector is not None:
        for source in large:
            known = (nearest or {}).get(source, ())
            if len(known) >= PER_RANKING:  # the index's nearest chunks held this many: they are this document's
                ids.update(dict.fromkeys(known[:PER_RANKING]))
                continue
            ids.update(dict.fromkeys(hit.id for hit in store.reader.query(vector, PER_RANKING, where={SOURCE: source})))
    if keyword is not None:
        taken: dict[str, int] = defaultdict(int)
        for pos, _score in keyword.search(query, KEYWORD_DEPTH):
            source = keyword.info[pos].source
            if source in large and taken[source] < PER_RANKING:
                ids.setdefault(keyword.ids[pos], None)
                taken[source] += 1
        if versions:  # "when did 2.0 come out?": the release's own section of a long changelog ("v2.0 (2023-06-30)")
            named: dict[str, int] = defaultdict(int)
            for pos, info in enumerate(keyword.info):
                if (
                    info.source in large
                    and named[info.source] < PER_RANKING
                    and release_version(info.section) in versions
                ):
                    ids.setdefault(keyword.ids[pos], None)
                    named[info.source] += 1
    picked = store.reader.get_chunks(list(ids), embeddings=vector is not None)
    unseen = set(large) - {c.meta.source for c in picked}  # found by neither search: read whole, never dropped
    return found + picked + store.reader.chunks_of([s for s in large if s in unseen], embeddings=vector is not None)


def asked_versions(query: str) -> set[str]:
    """The release versions a question names when it asks about a release ("when did 5.5.0 come out?")."""
    if not asks_change(RELEASE_VERSION.sub(" ", query)):  # asked in words ("come out", "fixed"), not "2.5 seconds"
        return set()
    return {normal_version(m.group(1)) for m in RELEASE_VERSION.finditer(query)}


def best_sentence_score(text: str, idf: dict[str, float]) -> float:
    """The highest summed IDF of query terms found in one sentence of ``text``."""
    best = 0.0
    for found in sentence_terms(text):
        best = max(best, sum(weight for term, weight in idf.items() if term in found))
    return best


@lru_cache(maxsize=8192)
def sentence_terms(text: str) -> tuple[frozenset[str], ...]:
    """The terms of each sentence of a chunk's text; remembered, since the same chunks come back question after
    question (splitting and stemming them was a third of a warm retrieval)."""
    return tuple(frozenset([*tokenize(s.text), *camel_parts(s.text)]) for s in split_sentences(text))
