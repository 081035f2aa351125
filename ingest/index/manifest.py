"""Document records: the manifest (``<name>-docs``) incremental ingest diffs against, one record per document.

A record's id is the document's source path; its metadata the content hash, size, mtime, chunk
count, title, and the stamps of the files it includes (a change to one of them is a change to it).
A record with an empty hash is a placeholder no file matches (see ``ChunkWriter.write_batch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.index.collections import Collections, pages


@dataclass(frozen=True)
class DocRecord:
    """The manifest entry of one ingested document."""

    source: str
    content_hash: str
    size: int
    mtime_ns: int
    chunks: int
    title: str = ""
    deps: str = ""  # the files it includes, as JSON {path in its source: [size, mtime_ns]} ("" for none)


class Manifest:
    """Reads and writes the document records of the index's current generation."""

    def __init__(self, collections: Collections) -> None:
        self._c = collections

    def documents(self) -> dict[str, DocRecord]:
        """Every ingested document's manifest entry, by source path."""
        out: dict[str, DocRecord] = {}
        if self._c.docs is None:
            return out
        for ids, metas, _docs, _embs in pages(self._c.docs, include=["metadatas"]):
            for source, meta in zip(ids, metas):
                meta = meta or {}
                out[source] = DocRecord(
                    source=source,
                    content_hash=str(meta.get("content_hash", "")),
                    size=int(meta.get("size", -1)),
                    mtime_ns=int(meta.get("mtime_ns", -1)),
                    chunks=int(meta.get("chunks", 0)),
                    title=str(meta.get("title", "")),
                    deps=str(meta.get("deps", "")),
                )
        return out

    def record_document(self, record: DocRecord) -> None:
        """Write one manifest entry (see ``record_documents``)."""
        self.record_documents([record])

    def record_documents(self, records: Sequence[DocRecord]) -> None:
        """Write these manifest entries, one call per batch of them."""
        assert self._c.docs is not None
        batch = self._c.max_batch()
        for i in range(0, len(records), batch):
            part = records[i : i + batch]
            self._c.docs.upsert(
                ids=[r.source for r in part],
                embeddings=[[0.0]] * len(part),
                metadatas=[
                    {
                        "content_hash": r.content_hash,
                        "size": r.size,
                        "mtime_ns": r.mtime_ns,
                        "chunks": r.chunks,
                        "title": r.title,
                        "deps": r.deps,
                    }
                    for r in part
                ],
            )

    def chunk_counts(self, sources: Sequence[str]) -> dict[str, int]:
        """How many chunks the manifest gives these documents (0 while one is being written, absent if unknown)."""
        if self._c.docs is None or not sources:
            return {}
        res = self._c.docs.get(ids=list(dict.fromkeys(sources)), include=["metadatas"])
        return {source: int((meta or {}).get("chunks", 0)) for source, meta in zip(res["ids"], res["metadatas"] or [])}
