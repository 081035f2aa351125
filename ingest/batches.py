"""One batch of an ingest run: embed what the index lacks in one model pass, then write the batch in one go.

A batch holds ``batch_chunks`` chunks: many small documents, or a slice of a large one (a document
larger than a batch spans several, and becomes visible in the batch that holds its last chunks;
see ``ChunkWriter.write_batch``). A chunk whose content the index already holds reuses its vector.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from ingest.documents.chunking import Chunk
from ingest.documents.document import section_label
from ingest.embedding.embedder import Embedder
from ingest.errors import StoreUnavailableError
from ingest.index.manifest import DocRecord
from ingest.index.records import ChunkMeta, ChunkRow
from ingest.index.sentence_cache import ChunkSentences, SentenceBatch, SpanEmbedder, chunk_sentences
from ingest.index.store import Store
from ingest.index.writes import FinishedDoc, chunk_id
from ingest.report import IngestReport, ProgressTracker
from ingest.sources import Stamp

log = logging.getLogger(__name__)


@dataclass
class ChangedDoc:
    """A changed document on its way into the index: its chunks and their ids."""

    id: str
    stamp: Stamp
    content_hash: str
    title: str
    chunks: list[Chunk]
    is_new: bool
    deps: str = ""  # the stamps of the files it includes (DocRecord.deps)
    ids: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = [chunk_id(self.id, self.content_hash, c.index) for c in self.chunks]

    @property
    def record(self) -> DocRecord:
        return DocRecord(
            self.id, self.content_hash, self.stamp.size, self.stamp.mtime_ns, len(self.chunks), self.title, self.deps
        )


@dataclass(frozen=True)
class Slice:
    """Chunks ``start:end`` of a document, in one batch."""

    doc: ChangedDoc
    start: int
    end: int

    @property
    def chunks(self) -> list[Chunk]:
        return self.doc.chunks[self.start : self.end]


@dataclass
class RunState:
    """One run's state: what it reports, where it stands, and whether it has written yet."""

    report: IngestReport
    tracker: ProgressTracker
    caching: bool  # fill the sentence cache: off for the rest of the run once the cache cannot be written
    was_dirty: bool  # a killed run left the index's generation mid-change
    writing: bool = False
    touched: list[DocRecord] = field(default_factory=list)  # unchanged content under a new mtime
    emptied: list[str] = field(default_factory=list)  # indexed before, nothing to index now: their chunks go

    def begin_writing(self, store: Store) -> None:
        """Before the run's first change: mark the index dirty (and bump its generation)."""
        if not self.writing:
            store.begin_changes()
            self.writing = True


class BatchWriter:
    """Embeds and writes the batches of a run into ``store``.

    Args:
        pool_sentences: take sentence vectors from the chunk pass when the encoder can (else each
            sentence is embedded alone, a second model pass).
    """

    def __init__(self, store: Store, embedder: Embedder, *, pool_sentences: bool) -> None:
        self.store = store
        self.embedder = embedder
        self.pool_sentences = pool_sentences

    def flush(self, batch: list[Slice], run: RunState) -> None:
        """Embed what the index lacks (one model pass for the batch), then write the batch in one go."""
        if not batch:
            return
        report, tracker = run.report, run.tracker
        chunks = [c for part in batch for c in part.chunks]
        sentences = [chunk_sentences(c.text, c.embed_text) for c in chunks] if run.caching else []
        cache = SentenceBatch()
        vectors = self.store.writer.embeddings_by_hash([c.content_hash for c in chunks])
        missing: dict[str, int] = {}  # content hash -> position of its first chunk in the batch
        for i, c in enumerate(chunks):
            if c.content_hash not in vectors:
                missing.setdefault(c.content_hash, i)
        if missing:
            firsts = list(missing.values())
            plans = [sentences[i] for i in firsts] if sentences else []
            vectors.update(self._embed([chunks[i] for i in firsts], plans, cache))
            report.embedded += len(missing)
        if run.caching:  # before the documents become visible, so their first question is fast
            for plan in sentences:
                cache.add(plan)
            report.sentences_embedded += self._save_sentences(cache, run)
        rows = [
            ChunkRow(
                id=part.doc.ids[c.index],
                text=c.text,
                embedding=vectors[c.content_hash],
                meta=chunk_meta(c, part.doc.content_hash),
            )
            for part in batch
            for c in part.chunks
        ]
        finished = [part.doc for part in batch if part.end == len(part.doc.chunks)]
        run.begin_writing(self.store)
        self.store.writer.write_batch(
            started=[part.doc.record for part in batch if part.start == 0],
            rows=rows,
            finished=[FinishedDoc(doc.record, doc.ids) for doc in finished],
        )
        report.chunks += len(rows)
        for part in batch:
            share = (part.end - part.start) / len(part.doc.chunks)
            tracker.written(part.doc.id, part.end - part.start, part.doc.stamp.size * share)
        for doc in finished:
            log.info("%s %s: %d chunks", "added" if doc.is_new else "updated", doc.id, len(doc.chunks))
            if doc.is_new:
                report.added += 1
            else:
                report.updated += 1
            tracker.settle(doc.id)

    def _save_sentences(self, cache: SentenceBatch, run: RunState) -> int:
        """Store a batch's sentence vectors; if the cache cannot be written, warn once and go on without it.

        The cache only makes answers faster (they embed what it lacks), so a damaged or unwritable
        sentence collection must not cost the chunks. A store that is down fails the chunk write next.
        """
        try:
            return cache.save(self.store, self.embedder)
        except StoreUnavailableError as exc:
            log.warning("the sentence cache cannot be written (%s); going on without it for this run", exc)
            run.caching = False
            return 0

    def _embed(self, todo: list[Chunk], plans: list[ChunkSentences], cache: SentenceBatch) -> dict[str, list[float]]:
        """Vectors of ``todo`` by content hash; a span-pooling encoder also caches their sentences (``plans``)."""
        texts = [c.embed_text for c in todo]
        if plans and self.pool_sentences and isinstance(self.embedder, SpanEmbedder):
            encoded = self.embedder.embed_spans(texts, [p.spans for p in plans])
            for plan, result in zip(plans, encoded):
                cache.add(plan, result)
            return {c.content_hash: e.vector for c, e in zip(todo, encoded)}
        return dict(zip((c.content_hash for c in todo), self.embedder.embed(texts)))


def chunk_meta(chunk: Chunk, doc_hash: str) -> ChunkMeta:
    """The stored metadata of a chunk: its document's (source, title, url, ...) plus where and what it is."""
    return replace(
        ChunkMeta.from_chroma(chunk.metadata),
        header=chunk.header,
        section=section_label(chunk.section),
        anchor=chunk.anchor,
        chunk_index=chunk.index,
        start=chunk.start,
        end=chunk.end,
        doc_hash=doc_hash,
        chunk_hash=chunk.content_hash,
        page=chunk.page,
        live=True,
    )
