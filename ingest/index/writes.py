"""Chunk writes: a batch of chunks, possibly of many documents, written so that a kill at any point is safe.

Writes come in batches of a few hundred chunks that may hold many small documents or part of a
large one (see ``ChunkWriter.write_batch``). A document's manifest entry is first reset to a
placeholder that matches no file, its new chunks are added invisible (over one or several
batches), then, in the batch that holds its last chunks, one metadata-only update makes them
visible and the old version invisible together, then the old chunks are deleted and the manifest
is updated. A run killed at any point (kill -9) leaves either the old or the new version of every
document visible, never both, never half, never duplicated; the placeholder makes the next run
redo the document (or remove it, if its file has gone), and the invisible chunks already written
are reused rather than embedded again, so the next run finishes the job and a kill loses at most
one batch of work. ``tests/test_crash.py`` kills real processes between every step.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ingest.index.collections import Collections, embedding_rows
from ingest.index.manifest import DocRecord, Manifest
from ingest.index.records import CHUNK_HASH, DOC_HASH, LIVE, SOURCE, ChunkRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinishedDoc:
    """A document whose every chunk is written: its manifest record and the ids of all its chunks, in order."""

    record: DocRecord
    ids: Sequence[str]


def chunk_id(source: str, content_hash: str, index: int) -> str:
    """Stable id: same document path, same content, same position -> same id."""
    key = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
    return f"{key}-{content_hash[:12]}-{index:05d}"


class ChunkWriter:
    """Writes and removes the chunks of the index's current generation (and their manifest entries)."""

    def __init__(self, collections: Collections, manifest: Manifest) -> None:
        self._c = collections
        self._manifest = manifest

    def embeddings_by_hash(self, chunk_hashes: Sequence[str]) -> dict[str, list[float]]:
        """Embeddings already stored for chunks with these content hashes (reused, not recomputed)."""
        found: dict[str, list[float]] = {}
        if self._c.chunks is None or not chunk_hashes:
            return found
        wanted = sorted(set(chunk_hashes))
        for i in range(0, len(wanted), 500):
            batch = wanted[i : i + 500]
            res = self._c.chunks.get(where={CHUNK_HASH: {"$in": batch}}, include=["metadatas", "embeddings"])
            for meta, emb in zip(res["metadatas"] or [], embedding_rows(res.get("embeddings"))):
                found.setdefault(str(meta[CHUNK_HASH]), [float(x) for x in emb])
        return found

    def write_document(self, record: DocRecord, rows: Sequence[ChunkRow]) -> None:
        """Replace one document's chunks with ``rows`` (all of them) in a crash-safe order; see ``write_batch``."""
        self.write_batch(started=[record], rows=rows, finished=[FinishedDoc(record, [r.id for r in rows])])

    def write_batch(
        self, *, started: Sequence[DocRecord], rows: Sequence[ChunkRow], finished: Sequence[FinishedDoc]
    ) -> None:
        """Write one batch of chunks, possibly of many documents, and make the documents it completes visible.

        Args:
            started: documents whose first chunks are in ``rows``.
            rows: the chunks to write (a document larger than a batch comes in several calls).
            finished: documents whose last chunks are in ``rows`` (all their chunks are then written).

        The order makes every step safe to be killed after:

        1. The manifest entries of ``started`` become placeholders no file matches: if the run dies
           after the flip, the next run redoes those documents, or removes their chunks if the file
           is gone (without it, a new document whose file was deleted meanwhile would stay visible
           forever).
        2. The rows are added with ``live=False``. Rows already stored under the same id (same
           document, same content, same position) are left as they are: those are the hidden rows of
           a killed run, reused, or visible rows of this very version, which must not vanish.
        3. One update sets ``live`` on every chunk of the finished documents (written in this batch
           or before) and clears it on their old versions: readers see the old version or the new
           one, never both, never part of the new one.
        4. The old chunks are deleted, and 5. the manifest records the finished documents.
        """
        assert self._c.chunks is not None
        if started:
            self._manifest.record_documents([DocRecord(r.source, "", -1, -1, 0, r.title) for r in started])
        if rows:
            present = self._existing_ids([r.id for r in rows])
            fresh = [r for r in rows if r.id not in present]
            batch = self._c.batch_size()
            for i in range(0, len(fresh), batch):
                part = fresh[i : i + batch]
                self._c.chunks.add(
                    ids=[r.id for r in part],
                    embeddings=[list(r.embedding) for r in part],
                    documents=[r.text for r in part],
                    metadatas=[replace(r.meta, live=False).to_chroma() for r in part],
                )
        if not finished:
            return
        old = self._old_versions(finished)
        for ids, metas in self._flips(finished, old):
            self._c.chunks.update(ids=ids, metadatas=metas)
        stale = [cid for doc in finished for cid in old[doc.record.source]]
        limit = self._c.max_batch()
        for i in range(0, len(stale), limit):
            self._c.chunks.delete(ids=stale[i : i + limit])
        self._manifest.record_documents([doc.record for doc in finished])

    def _old_versions(self, finished: Sequence[FinishedDoc]) -> dict[str, list[str]]:
        """The ids of the chunks of each finished document that belong to another version than its new one."""
        assert self._c.chunks is not None
        new_hash = {doc.record.source: doc.record.content_hash for doc in finished}
        old: dict[str, list[str]] = {source: [] for source in new_hash}
        sources = list(new_hash)
        for i in range(0, len(sources), 500):
            res = self._c.chunks.get(where={SOURCE: {"$in": sources[i : i + 500]}}, include=["metadatas"])
            for cid, meta in zip(res["ids"], res["metadatas"] or []):
                source = str((meta or {}).get(SOURCE, ""))
                if source in new_hash and (meta or {}).get(DOC_HASH) != new_hash[source]:
                    old[source].append(cid)
        return old

    def _flips(
        self, finished: Sequence[FinishedDoc], old: dict[str, list[str]]
    ) -> Iterator[tuple[list[str], list[Any]]]:
        """The flip updates: as few calls as Chroma's batch limit allows, never splitting a document between two."""
        limit = self._c.max_batch()
        ids: list[str] = []
        metas: list[Any] = []
        for doc in finished:
            stale = old[doc.record.source]
            size = len(doc.ids) + len(stale)
            if ids and len(ids) + size > limit:
                yield ids, metas
                ids, metas = [], []
            if size > limit:  # Chroma caps one call; only a huge document gets here
                log.warning("%s: %d chunks flipped in several calls, not atomically", doc.record.source, size)
            ids.extend([*doc.ids, *stale])
            metas.extend([{LIVE: True}] * len(doc.ids) + [{LIVE: False}] * len(stale))
            while len(ids) > limit:
                yield ids[:limit], metas[:limit]
                ids, metas = ids[limit:], metas[limit:]
        if ids:
            yield ids, metas

    def _existing_ids(self, ids: Sequence[str]) -> set[str]:
        assert self._c.chunks is not None
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            found.update(self._c.chunks.get(ids=list(ids[i : i + 500]), include=[])["ids"])
        return found

    def remove_document(self, source: str) -> None:
        """Delete a document's chunks, then its manifest entry."""
        self.remove_documents([source])

    def remove_documents(self, sources: Sequence[str]) -> None:
        """Delete these documents' chunks, then their manifest entries (a batch of them per call)."""
        for i in range(0, len(sources), 500):
            part = list(sources[i : i + 500])
            if self._c.chunks is not None:
                self._c.chunks.delete(where={SOURCE: {"$in": part}})
            if self._c.docs is not None:
                self._c.docs.delete(ids=part)

    def drop_hidden(self) -> int:
        """Delete chunks left invisible by an interrupted run; returns how many."""
        if self._c.chunks is None:
            return 0
        res = self._c.chunks.get(where={LIVE: False}, include=[])
        if res["ids"]:
            self._c.chunks.delete(ids=list(res["ids"]))
        return len(res["ids"])
