"""Incremental ingest of one source: diff it against the index manifest, embed only what changed.

A document is *unchanged* when its stamp (size and mtime) matches the manifest (or, failing that,
its content hash does); only added and changed documents are chunked, and a chunk whose content was
embedded before (a moved or renamed file, a run interrupted mid-way) reuses that embedding.
Documents that cannot be read are reported and keep their previous chunks; deleted ones lose theirs.

Changed documents flow through batches of ``batch_chunks`` chunks: many small documents share a
batch, a large one spans several. Each batch is embedded (chunk and sentence vectors in one model
pass where the encoder can) and written at once, a handful of store calls whatever the number of
documents in it; a document becomes visible in the batch that holds its last chunks (see
``ChunkWriter.write_batch``). Memory stays that of one batch plus the document being cut, and a kill
loses at most one batch of work: the next run reuses the chunks already written.

``Ingestor.run`` reads as its steps: discover (the source's listing), diff (against the manifest),
embed and write (the changed documents, batch by batch), remove (what is gone), finish.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.documents.chunking import Chunk, Chunker
from ingest.documents.document import Document, section_label
from ingest.documents.loaders import load_document
from ingest.embedding.embedder import Embedder
from ingest.errors import IngestError, SkipFile, StoreUnavailableError
from ingest.index.manifest import DocRecord
from ingest.index.records import ChunkMeta, ChunkRow
from ingest.index.sentence_cache import ChunkSentences, SentenceBatch, SpanEmbedder, chunk_sentences
from ingest.index.store import Store
from ingest.index.writes import FinishedDoc, chunk_id
from ingest.readahead import ReadAhead
from ingest.report import IngestReport, ProgressFn, ProgressTracker
from ingest.sources import Listing, Source, Stamp
from ingest.sources.folder import FolderSource

log = logging.getLogger(__name__)

__all__ = ["Ingestor", "ProgressFn"]


@dataclass
class _Doc:
    """A changed document on its way into the index: its chunks and their ids."""

    id: str
    stamp: Stamp
    content_hash: str
    title: str
    chunks: list[Chunk]
    is_new: bool
    ids: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = [chunk_id(self.id, self.content_hash, c.index) for c in self.chunks]

    @property
    def record(self) -> DocRecord:
        return DocRecord(self.id, self.content_hash, self.stamp.size, self.stamp.mtime_ns, len(self.chunks), self.title)


@dataclass(frozen=True)
class _Slice:
    """Chunks ``start:end`` of a document, in one batch."""

    doc: _Doc
    start: int
    end: int

    @property
    def chunks(self) -> list[Chunk]:
        return self.doc.chunks[self.start : self.end]


@dataclass
class _Run:
    """One run's state: what it reports, where it stands, and whether it has written yet."""

    report: IngestReport
    tracker: ProgressTracker
    caching: bool  # fill the sentence cache: off for the rest of the run once the cache cannot be written
    was_dirty: bool  # a killed run left the index's generation mid-change
    writing: bool = False
    touched: list[DocRecord] = field(default_factory=list)  # unchanged content under a new mtime


class Ingestor:
    """Brings a Store up to date with a source; the same object serves one-shot runs and watch mode.

    Args:
        batch_chunks: chunks embedded and written together (across and within documents).
        cache_sentences: fill the answerer's sentence cache for every chunk written.
        pool_sentences: take sentence vectors from the chunk pass when the encoder can (else each
            sentence is embedded alone, a second model pass).
        load: reads one file into a Document (default ``load_document`` in this process; the
            application passes a ``LoadWorker``'s, which limits each file's time and memory).
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        chunker: Chunker,
        *,
        max_bytes: int,
        batch_chunks: int = 256,
        cache_sentences: bool = True,
        pool_sentences: bool = True,
        load: Callable[[Path], Document] = load_document,
    ) -> None:
        self.store = store
        self.load = load
        self.cache_sentences = cache_sentences
        self.pool_sentences = pool_sentences
        self.embedder = embedder
        self.chunker = chunker
        self.max_bytes = max_bytes
        self.batch_chunks = max(1, batch_chunks)

    def run(
        self, source: Source | Path, *, excludes: Sequence[str] = (), progress: ProgressFn | None = None
    ) -> IngestReport:
        """Ingest ``source`` incrementally and return what happened.

        A ``Path`` is the folder there, without ``excludes`` (gitignore globs). ``progress`` hears of
        every file done and every batch written (files, chunks written, and the share of the work
        done, by the bytes of the files that changed).
        """
        started = time.perf_counter()
        if isinstance(source, Path):
            source = FolderSource(source, self.max_bytes, excludes)
        report = IngestReport()
        listing = source.list(report)
        known, gone = self._diff(source, listing, report)
        run = self._start(listing, known, report, progress)
        self._embed_and_write(self._changed(source, listing, known, run), run)
        self._remove(gone, run)
        self._finish(run)
        report.seconds = time.perf_counter() - started
        return report

    # -- the steps, in order -----------------------------------------------------------------
    def _diff(self, source: Source, listing: Listing, report: IngestReport) -> tuple[dict[str, DocRecord], list[str]]:
        """The manifest, and the documents in it that the source no longer holds (refusing to remove all)."""
        known = self.store.manifest.documents()
        # A file that could not be read (or is too big now) keeps its chunks; an excluded one loses them.
        kept = {item["path"] for item in report.failed + report.skipped} - listing.excluded
        seen = set(listing.stamps) | kept
        gone = sorted(doc_id for doc_id in known if doc_id not in seen)
        if not listing.stamps and known and gone == sorted(known):
            raise IngestError(
                f"no documents found in {source}; refusing to empty an index of {len(known)} documents "
                "(check the path, or use --rebuild to clear it)"
            )
        return known, gone

    def _start(
        self, listing: Listing, known: dict[str, DocRecord], report: IngestReport, progress: ProgressFn | None
    ) -> _Run:
        """The run's state; the work it expects is the bytes of the documents whose stamp changed."""
        todo = sum(stamp.size for doc_id, stamp in listing.stamps.items() if not _same_stamp(known.get(doc_id), stamp))
        return _Run(
            report,
            ProgressTracker(progress, len(listing.stamps), float(todo)),
            caching=self.cache_sentences,
            was_dirty=self.store.dirty,
        )

    def _changed(self, source: Source, listing: Listing, known: dict[str, DocRecord], run: _Run) -> Iterator[_Doc]:
        """Yield the documents whose content differs from the manifest, loaded and chunked, one at a time."""
        report, tracker = run.report, run.tracker
        for doc_id, stamp in listing.stamps.items():
            record = known.get(doc_id)
            if _same_stamp(record, stamp):
                report.unchanged += 1
                tracker.settle(doc_id)
                continue
            try:
                digest = hashlib.sha256(source.fetch(doc_id)).hexdigest()
            except OSError as exc:
                report.fail(doc_id, f"cannot read file: {exc.strerror or exc}")
                tracker.settle(doc_id, stamp.size)
                continue
            if record and record.content_hash == digest:
                report.unchanged += 1
                run.touched.append(DocRecord(doc_id, digest, stamp.size, stamp.mtime_ns, record.chunks, record.title))
                tracker.settle(doc_id, stamp.size)
                continue
            try:
                doc = self.load(source.locate(doc_id))
                chunks = self.chunker.chunk(doc, {"source": doc_id})
            except SkipFile as exc:
                report.fail(doc_id, str(exc))
                tracker.settle(doc_id, stamp.size)
                continue
            except Exception as exc:  # a loader bug must not stop the whole run
                log.exception("unexpected error loading %s", doc_id)
                report.fail(doc_id, f"unexpected error: {type(exc).__name__}: {exc}")
                tracker.settle(doc_id, stamp.size)
                continue
            if not chunks:
                report.fail(doc_id, "no text to index")
                tracker.settle(doc_id, stamp.size)
                continue
            yield _Doc(doc_id, stamp, digest, doc.title, chunks, is_new=record is None)

    def _embed_and_write(self, changed: Iterator[_Doc], run: _Run) -> None:
        """Cut the changed documents into batches of ``batch_chunks`` chunks; embed and write each batch.

        The next documents are read and cut in a thread while the model embeds the current batch.
        """
        batch: list[_Slice] = []
        filled = 0
        with ReadAhead(changed, size=lambda doc: len(doc.chunks), limit=2 * self.batch_chunks) as docs:
            for doc in docs:
                start = 0
                while start < len(doc.chunks):  # a document larger than the room left spans batches
                    end = min(len(doc.chunks), start + self.batch_chunks - filled)
                    batch.append(_Slice(doc, start, end))
                    filled += end - start
                    start = end
                    if filled >= self.batch_chunks:
                        self._flush(batch, run)
                        batch, filled = [], 0
        self._flush(batch, run)
        if run.touched:  # touched but not changed: remember the new mtimes, so the next run skips hashing them
            self.store.manifest.record_documents(run.touched)

    def _remove(self, gone: list[str], run: _Run) -> None:
        """Delete the chunks and manifest entries of the documents the source no longer holds."""
        if not gone:
            return
        self._begin_writing(run)
        self.store.writer.remove_documents(gone)
        run.report.removed += len(gone)
        for doc_id in gone:
            log.info("removed %s", doc_id)

    def _finish(self, run: _Run) -> None:
        """Drop what an interrupted run left hidden, and tell readers' caches the index changed (if it did)."""
        dropped = self.store.writer.drop_hidden()
        if dropped:
            log.info("dropped %d invisible chunks left by an interrupted run", dropped)
        if run.writing or run.was_dirty:
            self.store.end_changes()

    # -- one batch -----------------------------------------------------------------------------
    def _begin_writing(self, run: _Run) -> None:
        """Before the run's first change: mark the index dirty (and bump its generation)."""
        if not run.writing:
            self.store.begin_changes()
            run.writing = True

    def _flush(self, batch: list[_Slice], run: _Run) -> None:
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
                meta=_chunk_meta(c, part.doc.content_hash),
            )
            for part in batch
            for c in part.chunks
        ]
        finished = [part.doc for part in batch if part.end == len(part.doc.chunks)]
        self._begin_writing(run)
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

    def _save_sentences(self, cache: SentenceBatch, run: _Run) -> int:
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


def _same_stamp(record: DocRecord | None, stamp: Stamp) -> bool:
    """True when the manifest has this document with the same size and mtime (unchanged, no need to hash it)."""
    return record is not None and record.size == stamp.size and record.mtime_ns == stamp.mtime_ns


def _chunk_meta(chunk: Chunk, doc_hash: str) -> ChunkMeta:
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
