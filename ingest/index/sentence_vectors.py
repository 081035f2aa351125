"""The stored side of the sentence cache: ``<name>-sentences``, sentence embeddings keyed by content.

What goes in and when is ingest/index/sentence_cache.py's business; this reads and writes the records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ingest.index.collections import Collections, embedding_rows


class SentenceVectors:
    """Cached sentence embeddings of the index's current generation, by content key."""

    def __init__(self, collections: Collections) -> None:
        self._c = collections

    def get(self, keys: Sequence[str]) -> dict[str, list[float]]:
        """Cached embeddings of sentences, by content key (see ingest/index/sentence_cache.py)."""
        found: dict[str, list[float]] = {}
        if self._c.sentences is None or not keys:
            return found
        wanted = list(dict.fromkeys(keys))
        for i in range(0, len(wanted), 500):
            res = self._c.sentences.get(ids=wanted[i : i + 500], include=["embeddings"])
            for key, emb in zip(res["ids"], embedding_rows(res.get("embeddings"))):
                found[key] = [float(x) for x in emb]
        return found

    def put(self, vectors: Mapping[str, Sequence[float]]) -> None:
        """Remember sentence embeddings by content key; entries are never wrong, only possibly unused."""
        if self._c.sentences is None or not vectors:
            return
        items = list(vectors.items())
        batch = self._c.batch_size()
        for i in range(0, len(items), batch):
            part = items[i : i + batch]
            self._c.sentences.upsert(ids=[k for k, _ in part], embeddings=[list(v) for _, v in part])

    def check(self) -> int:
        """Read a few cached sentence vectors (raises ``StoreUnavailableError`` if that fails); returns the count."""
        if self._c.sentences is None:
            return 0
        self._c.sentences.get(limit=5, include=["embeddings"])
        return int(self._c.sentences.count())
