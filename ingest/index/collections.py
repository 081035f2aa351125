"""The open collections of one generation of an index, which the store and each of its parts read and write.

``Store.follow()`` opens another generation's collections into the same object, so every part
moves with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ingest.index.chroma_client import Guarded, Place, guard
from ingest.index.lookup import SourceLookup

_PAGE = 1000  # records fetched per page when reading a whole collection


class Collections:
    """The chunk, manifest and sentence collections (None where absent), their client and batch limits."""

    def __init__(self, client: Any, place: Place) -> None:
        self.client = client
        self.place = place
        self.base = ""
        self.chunks: Guarded | None = None
        self.docs: Guarded | None = None
        self.sentences: Guarded | None = None
        self.lookup = SourceLookup()  # a chunk's source and published page, from the source records

    def metadata(self) -> dict[str, Any]:
        """The chunk collection's metadata as the store holds it now (another process may have changed it)."""
        with guard(self.place):
            return dict(self.client.get_collection(self.base, embedding_function=None).metadata or {})

    def set_metadata(self, **values: Any) -> None:
        """Change these keys of the chunk collection's metadata, keeping the others."""
        if self.chunks is None:
            return
        metadata = {**self.metadata(), **values}
        metadata.pop("hnsw:space", None)
        self.chunks.modify(metadata=metadata)

    def max_batch(self) -> int:
        """The most records one Chroma call accepts (5461 for the embedded store and `chroma run`)."""
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:  # older servers do not expose it
            return 500

    def batch_size(self) -> int:
        """Records per call when sending embeddings (kept smaller to bound request size)."""
        return min(1000, self.max_batch())


def pages(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[tuple]:
    """A whole collection, page by page: (ids, metadatas, documents, embeddings) of each page."""
    offset = 0
    while True:
        res = collection.get(include=include, where=where, limit=_PAGE, offset=offset)
        ids = res["ids"]
        if not ids:
            return
        yield (
            ids,
            res.get("metadatas") or [None] * len(ids),
            res.get("documents") or [None] * len(ids),
            res.get("embeddings"),
        )
        if len(ids) < _PAGE:
            return
        offset += len(ids)


def embedding_rows(embeddings: Any) -> list[Any]:
    """Chroma returns embeddings as a numpy array or a list; treat None as empty."""
    if embeddings is None:
        return []
    return list(embeddings)
