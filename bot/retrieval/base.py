"""Retrieval behind a small interface: ``Retriever.retrieve(query, k) -> list[Passage]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bot.schema import Passage
from ingest.embedding.embedder import Embedder
from ingest.index.records import StoredChunk
from ingest.index.store import Store


class Retriever(Protocol):
    """Finds the passages most likely to answer a query."""

    def retrieve(self, query: str, k: int) -> list[Passage]: ...


def to_passage(chunk: StoredChunk, score: float | None = None, ranks: dict[str, int] | None = None) -> Passage:
    """Convert one stored chunk into a Passage (``score`` replaces the store's); the only such conversion.

    ``ranks`` are where the dense and keyword rankings put the passage's document ("dense", "keyword").
    """
    ranks = ranks or {}
    meta = chunk.meta
    return Passage(
        chunk_id=chunk.id,
        source=meta.source,
        source_name=meta.origin,
        text=chunk.text,
        score=chunk.score if score is None else float(score),
        title=meta.title,
        url=f"{meta.url}#{meta.anchor}" if meta.url and meta.anchor and "#" not in meta.url else meta.url,
        date=meta.date,
        page=meta.page,
        start=meta.start,
        end=meta.end,
        section=meta.section,
        dense_rank=ranks.get("dense"),
        keyword_rank=ranks.get("keyword"),
    )


class DenseRetriever:
    """Nearest chunks by cosine similarity of the query's embedding (within ``where``'s chunks, if given)."""

    def __init__(self, store: Store, embedder: Embedder, where: Callable[[], dict[str, Any]] | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.where = where

    def retrieve(self, query: str, k: int) -> list[Passage]:
        vector = self.embedder.embed([query])[0]
        hits = self.store.reader.query(vector, k, self.where() if self.where else None)
        return [to_passage(hit, ranks={"dense": i}) for i, hit in enumerate(hits, 1)]
