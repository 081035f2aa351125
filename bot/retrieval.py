"""Retrieval behind a small interface: ``Retriever.retrieve(query, k) -> list[Passage]``."""

from __future__ import annotations

from typing import Any, Protocol

from bot.schema import Passage
from ingest.embedder import Embedder
from ingest.store import Store


class Retriever(Protocol):
    """Finds the passages most likely to answer a query."""

    def retrieve(self, query: str, k: int) -> list[Passage]: ...


def to_passage(hit: dict[str, Any], score: float | None = None) -> Passage:
    """Convert one store hit (id, text, metadata, score) into a Passage; the only such conversion."""
    meta = hit.get("metadata") or {}
    page = meta.get("page")
    return Passage(
        chunk_id=str(hit["id"]),
        source=str(meta.get("source", "")),
        text=str(hit.get("text", "")),
        score=float(hit.get("score", 0.0) if score is None else score),
        title=str(meta.get("title", "")),
        url=str(meta.get("url", "")),
        date=str(meta.get("date", "")),
        page=int(page) if isinstance(page, (int, float)) else None,
        start=int(meta.get("start", 0) or 0),
        end=int(meta.get("end", 0) or 0),
    )


class DenseRetriever:
    """Nearest chunks by cosine similarity of the query's embedding."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, query: str, k: int) -> list[Passage]:
        vector = self.embedder.embed([query])[0]
        return [to_passage(hit) for hit in self.store.query(vector, k)]
