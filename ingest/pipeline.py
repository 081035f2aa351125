"""Incremental ingest of one source: diff it against the index manifest, embed only what changed.

A document is *unchanged* when its stamp (size and mtime) matches the manifest (or, failing that,
its content hash does); only added and changed documents are chunked, and a chunk whose content was
embedded before (a moved or renamed file, a run interrupted mid-way) reuses that embedding.
Documents that cannot be read are reported and keep their previous chunks; deleted ones lose theirs.
A document that includes other files of its folder (ingest/documents/includes.py) is changed when
one of them is: the manifest keeps their stamps, and its hash covers them.

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
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ingest.batches import BatchWriter, ChangedDoc, RunState, Slice
from ingest.documents.chunking import Chunker
from ingest.documents.document import Document
from ingest.documents.loaders import load_document
from ingest.embedding.embedder import Embedder
from ingest.errors import IngestError, NothingToIndex, SkipFile
from ingest.index.manifest import DocRecord
from ingest.index.store import Store
from ingest.readahead import ReadAhead
from ingest.report import IngestReport, ProgressFn, ProgressTracker
from ingest.sources import Listing, Source, Stamp
from ingest.sources.folder import FolderSource

log = logging.getLogger(__name__)

__all__ = ["Ingestor", "ProgressFn"]


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
        load: Callable[[Path, Path | None], Document] = load_document,
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
        self._remove(gone + run.emptied, run)
        self._finish(run)
        report.seconds = time.perf_counter() - started
        return report

    # -- the steps, in order -----------------------------------------------------------------
    def _diff(self, source: Source, listing: Listing, report: IngestReport) -> tuple[dict[str, DocRecord], list[str]]:
        """The source's documents in the manifest, and those the source no longer holds (refusing to remove all)."""
        known = {doc_id: r for doc_id, r in self.store.manifest.documents().items() if source.owns(doc_id)}
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
    ) -> RunState:
        """The run's state; the work it expects is the bytes of the documents whose stamp changed."""
        todo = sum(stamp.size for doc_id, stamp in listing.stamps.items() if not _same_stamp(known.get(doc_id), stamp))
        return RunState(
            report,
            ProgressTracker(progress, len(listing.stamps), float(todo)),
            caching=self.cache_sentences,
            was_dirty=self.store.dirty,
        )

    def _changed(
        self, source: Source, listing: Listing, known: dict[str, DocRecord], run: RunState
    ) -> Iterator[ChangedDoc]:
        """Yield the documents whose content differs from the manifest, loaded and chunked, one at a time."""
        report, tracker = run.report, run.tracker
        root: Path | None = getattr(source, "root", None)  # a folder's includes are read from inside it
        for doc_id, stamp in listing.stamps.items():
            record = known.get(doc_id)
            if _same_stamp(record, stamp) and _same_deps(record, root):
                report.unchanged += 1
                tracker.settle(doc_id)
                continue
            try:
                digest = hashlib.sha256(source.fetch(doc_id)).hexdigest()
            except OSError as exc:
                report.fail(doc_id, f"cannot read file: {exc.strerror or exc}")
                tracker.settle(doc_id, stamp.size)
                continue
            if record and record.content_hash == digest and _same_deps(record, root):
                report.unchanged += 1
                run.touched.append(
                    DocRecord(doc_id, digest, stamp.size, stamp.mtime_ns, record.chunks, record.title, record.deps)
                )
                tracker.settle(doc_id, stamp.size)
                continue
            try:
                doc = self.load(source.locate(doc_id), root)
                chunks = self.chunker.chunk(doc, {"source": doc_id})
            except NothingToIndex as exc:  # only directives, a template: skipped, and what it held before goes
                report.skip(doc_id, str(exc))
                if record is not None:
                    run.emptied.append(doc_id)
                tracker.settle(doc_id, stamp.size)
                continue
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
            deps = _dep_stamps(root, doc.metadata.get("includes") or [])
            if deps:  # its text is its own and what it includes: so are its hash and its chunks' ids
                digest = hashlib.sha256(f"{digest}\n{deps}".encode()).hexdigest()
            tracker.read(doc_id)
            yield ChangedDoc(doc_id, stamp, digest, doc.title, chunks, is_new=record is None, deps=deps)

    def _embed_and_write(self, changed: Iterator[ChangedDoc], run: RunState) -> None:
        """Cut the changed documents into batches of ``batch_chunks`` chunks; embed and write each batch.

        The next documents are read and cut in a thread while the model embeds the current batch.
        """
        writer = BatchWriter(self.store, self.embedder, pool_sentences=self.pool_sentences)
        batch: list[Slice] = []
        filled = 0
        with ReadAhead(changed, size=lambda doc: len(doc.chunks), limit=2 * self.batch_chunks) as docs:
            for doc in docs:
                start = 0
                while start < len(doc.chunks):  # a document larger than the room left spans batches
                    end = min(len(doc.chunks), start + self.batch_chunks - filled)
                    batch.append(Slice(doc, start, end))
                    filled += end - start
                    start = end
                    if filled >= self.batch_chunks:
                        writer.flush(batch, run)
                        batch, filled = [], 0
        writer.flush(batch, run)
        if run.touched:  # touched but not changed: remember the new mtimes, so the next run skips hashing them
            self.store.manifest.record_documents(run.touched)

    def _remove(self, gone: list[str], run: RunState) -> None:
        """Delete the chunks and manifest entries of the documents the source no longer holds."""
        if not gone:
            return
        run.begin_writing(self.store)
        self.store.writer.remove_documents(gone)
        run.report.removed += len(gone)
        for doc_id in gone:
            log.info("removed %s", doc_id)

    def _finish(self, run: RunState) -> None:
        """Drop what an interrupted run left hidden, and tell readers' caches the index changed (if it did)."""
        dropped = self.store.writer.drop_hidden()
        if dropped:
            log.info("dropped %d invisible chunks left by an interrupted run", dropped)
        if run.writing or run.was_dirty:
            self.store.end_changes()


def _same_stamp(record: DocRecord | None, stamp: Stamp) -> bool:
    """True when the manifest has this document with the same size and mtime (unchanged, no need to hash it)."""
    return record is not None and record.size == stamp.size and record.mtime_ns == stamp.mtime_ns


def _dep_stamps(root: Path | None, paths: Sequence[str]) -> str:
    """The stamps of the files a document included (paths inside ``root``), as a manifest record keeps them."""
    if root is None or not paths:
        return ""
    stamps: dict[str, list[int]] = {}
    for rel in paths:
        try:
            st = (root / rel).stat()
        except OSError:
            continue
        stamps[rel] = [st.st_size, st.st_mtime_ns]
    return json.dumps(stamps, sort_keys=True) if stamps else ""


def _same_deps(record: DocRecord | None, root: Path | None) -> bool:
    """True unless a file the document included has changed (or gone) since it was ingested."""
    if record is None or not record.deps or root is None:
        return True
    try:
        stamps = json.loads(record.deps)
    except ValueError:
        return False
    for rel, (size, mtime_ns) in stamps.items():
        try:
            st = (root / rel).stat()
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return False
    return True
