"""Queries: the visible chunks of the index's current generation, by vector, by id, by document, by section.

Readers only ever see ``live`` chunks: hidden ones exist while an ingest writes a new version of a
document, or after a run was killed (see ingest/index/writes.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from ingest.index.collections import Collections, embedding_rows, pages
from ingest.index.lookup import SourceLookup
from ingest.index.records import LIVE, SECTION, SOURCE, StoredChunk

log = logging.getLogger(__name__)

#: HNSW search breadth of the chunk collection. Chroma's default (100) returned 97.8% of the exact
#: 50 nearest chunks on the techdocs dev set, and which ones it missed changed with the order chunks
#: were written in: two indexes of the same chunks gave Hit@4 1.000 and 0.957. At 400 the second
#: returned 99.4% and gave 1.000 again; the dense search stays a few milliseconds.
SEARCH_EF = 400

_VISIBLE: dict[str, Any] = {LIVE: True}
_SLACK = 8  # extra unfiltered hits fetched so that a few hidden chunks do not force a filtered search


class ChunkReader:
    """Reads the visible chunks of the index's current generation."""

    def __init__(self, collections: Collections) -> None:
        self._c = collections

    def has_chunks(self) -> bool:
        """True when at least one chunk is visible."""
        return self._c.chunks is not None and bool(self._c.chunks.get(where=_VISIBLE, limit=1, include=[])["ids"])

    def check_search(self) -> None:
        """Read one chunk with its vector and search with it: raises ``StoreUnavailableError`` if either fails."""
        if self._c.chunks is None:
            return
        res = self._c.chunks.get(where=_VISIBLE, limit=1, include=["embeddings"])
        vectors = embedding_rows(res.get("embeddings"))
        if vectors:
            self._c.chunks.query(query_embeddings=[list(vectors[0])], n_results=1, include=[])

    def count(self) -> int:
        """Visible chunks in the index."""
        if self._c.chunks is None:
            return 0
        return len(self._c.chunks.get(where=_VISIBLE, include=[])["ids"])

    def query(self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[StoredChunk]:
        """Top ``k`` visible chunks by cosine similarity, best first, ``score`` = similarity.

        Hidden (``live = False``) chunks exist only while an ingest writes or after a crash, so the
        search first runs without a metadata filter (a filter makes Chroma scan metadata across the
        whole collection before the vector search) and drops hidden hits here; only when that leaves
        fewer than ``k`` while more chunks exist does it search again with the filter. Either way
        no hidden chunk is returned.
        """
        if self._c.chunks is None:
            return []
        if where is None:
            wanted = k + _SLACK
            hits = self._query(embedding, wanted, None)
            live = [h for h in hits if h.meta.live]
            if len(live) >= k or len(hits) < wanted:
                return live[:k]
        return self._query(embedding, k, {"$and": [_VISIBLE, where]} if where else _VISIBLE)

    def nearest(
        self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ids and cosine similarities of the ``k`` nearest chunks, best first: no text, no metadata, so
        hidden chunks are among them (whoever reads their metadata elsewhere must check ``live``)."""
        if self._c.chunks is None:
            return []
        res = self._c.chunks.query(query_embeddings=[list(embedding)], n_results=k, where=where, include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0])]

    def _query(self, embedding: Sequence[float], k: int, flt: dict[str, Any] | None) -> list[StoredChunk]:
        assert self._c.chunks is not None
        res = self._c.chunks.query(
            query_embeddings=[list(embedding)], n_results=k, where=flt, include=["documents", "metadatas", "distances"]
        )
        return [
            StoredChunk(cid, text or "", self._c.lookup.meta(meta), score=1.0 - float(dist))
            for cid, text, meta, dist in zip(
                res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]
            )
        ]

    def get_chunks(self, ids: Sequence[str], *, embeddings: bool = False) -> list[StoredChunk]:
        """The visible chunks with these ids (with embeddings if asked), in the order asked; missing ones left out."""
        if self._c.chunks is None or not ids:
            return []
        include = ["documents", "metadatas", "embeddings"] if embeddings else ["documents", "metadatas"]
        try:
            res = self._c.chunks.get(ids=list(ids), include=include)  # live checked below, cheaply
        except Exception as exc:  # a server read that raced a delete: see chunks_of
            log.debug("unfiltered read raced a delete (%s); reading visible chunks only", exc)
            res = self._c.chunks.get(ids=list(ids), where=_VISIBLE, include=include)
        found = {c.id: c for c in _stored(res, embeddings=embeddings, lookup=self._c.lookup) if c.meta.live}
        return [found[cid] for cid in ids if cid in found]

    def chunks_of(self, sources: Sequence[str], *, embeddings: bool = False) -> list[StoredChunk]:
        """Every visible chunk (with its embedding if asked) of these documents."""
        if self._c.chunks is None or not sources:
            return []
        include = ["documents", "metadatas", "embeddings"] if embeddings else ["documents", "metadatas"]
        # Filter by source alone and drop hidden chunks here: an "$and" with live=True makes Chroma scan
        # every record's metadata (110-220 ms at 100k chunks against 11 ms for the source filter alone).
        # A Chroma server can fail such a read while an ingest deletes the hidden chunks it matched
        # ("Error finding id"); the filtered read never matches those, so it is the fallback.
        by_source = {SOURCE: {"$in": list(sources)}}
        try:
            res = self._c.chunks.get(where=by_source, include=include)
        except Exception as exc:  # chromadb raises InternalError and friends for this race
            log.debug("unfiltered read raced a delete (%s); reading visible chunks only", exc)
            res = self._c.chunks.get(where={"$and": [_VISIBLE, by_source]}, include=include)
        return [c for c in _stored(res, embeddings=embeddings, lookup=self._c.lookup) if c.meta.live]

    def section_chunks(self, sections: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[StoredChunk]]:
        """The visible chunks of each (document, section), in reading order: one read for them all."""
        wanted = set(sections)
        if self._c.chunks is None or not wanted:
            return {}
        sources = sorted({source for source, _ in wanted})
        names = sorted({section for _, section in wanted})
        res = self._c.chunks.get(
            where={"$and": [{SOURCE: {"$in": sources}}, {SECTION: {"$in": names}}]}, include=["documents", "metadatas"]
        )
        out: dict[tuple[str, str], list[StoredChunk]] = {}
        for c in _stored(res, embeddings=False, lookup=self._c.lookup):
            key = (c.meta.source, c.meta.section)
            if c.meta.live and key in wanted:  # a section of the same name in another of the documents is not asked
                out.setdefault(key, []).append(c)
        return {key: sorted(chunks, key=lambda c: c.meta.chunk_index) for key, chunks in out.items()}

    def iter_chunks(self) -> Iterator[StoredChunk]:
        """Every visible chunk (without embedding), page by page."""
        if self._c.chunks is None:
            return
        for ids, metas, docs, _embs in pages(self._c.chunks, include=["metadatas", "documents"], where=_VISIBLE):
            for cid, meta, text in zip(ids, metas, docs):
                yield StoredChunk(cid, text or "", self._c.lookup.meta(meta))


def _stored(res: dict[str, Any], *, embeddings: bool, lookup: SourceLookup) -> list[StoredChunk]:
    """Chroma's batch-shaped ``get`` result as StoredChunks (the one place that reads its columns)."""
    ids = res["ids"]
    texts = res.get("documents") or [None] * len(ids)
    metas = res.get("metadatas") or [None] * len(ids)
    vectors: list[Any] = [[float(x) for x in v] for v in embedding_rows(res.get("embeddings"))] if embeddings else []
    vectors = vectors or [None] * len(ids)
    return [
        StoredChunk(cid, text or "", lookup.meta(meta), embedding=vec)
        for cid, text, meta, vec in zip(ids, texts, metas, vectors)
    ]
