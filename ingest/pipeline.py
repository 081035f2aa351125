"""Incremental ingest: find files, diff them against the index manifest, embed only what changed.

A file is *unchanged* when its size and mtime match the manifest (or, failing that, its content
hash does); only added and changed documents are chunked, and a chunk whose content was embedded
before (a moved or renamed file, a run interrupted mid-way) reuses that embedding. Files that
cannot be read are reported and keep their previous chunks; deleted files lose theirs.

Changed documents flow through batches of ``batch_chunks`` chunks: many small documents share a
batch, a large one spans several. Each batch is embedded (chunk and sentence vectors in one model
pass where the encoder can) and written at once, a handful of store calls whatever the number of
documents in it; a document becomes visible in the batch that holds its last chunks (see
``Store.write_batch``). Memory stays that of one batch plus the document being cut, and a kill
loses at most one batch of work: the next run reuses the chunks already written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.chunking import Chunk, Chunker
from ingest.document import Document, section_label
from ingest.embedder import Embedder
from ingest.errors import IngestError, SkipFile, StoreUnavailableError
from ingest.loaders import SUPPORTED_SUFFIXES, load_document
from ingest.readahead import ReadAhead
from ingest.records import ChunkMeta, ChunkRow
from ingest.report import IngestProgress, IngestReport, ProgressFn
from ingest.sentence_cache import ChunkSentences, SentenceBatch, SpanEmbedder, chunk_sentences
from ingest.store import DocRecord, FinishedDoc, Store, chunk_id

log = logging.getLogger(__name__)

#: Folders never descended into (besides hidden ones).
IGNORED_DIRS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "site-packages"})
#: Gitignore-style patterns of files to leave out, in the ingested folder itself.
IGNORE_FILE = ".citebotignore"

__all__ = ["IGNORED_DIRS", "Ingestor", "ProgressFn", "SourceFile", "discover", "file_hash"]


@dataclass(frozen=True)
class SourceFile:
    """A candidate document: its path relative to the root ("/" separators) and on disk."""

    rel: str
    path: Path
    size: int
    mtime_ns: int


def discover(
    root: Path, max_bytes: int, report: IngestReport, excludes: Sequence[str] = ()
) -> tuple[list[SourceFile], set[str]]:
    """Supported files under ``root``, and the paths left out on purpose (``.citebotignore``, ``excludes``).

    Hidden files, ignored folders and links leaving ``root`` are skipped; every skip is in ``report``.
    Excluded paths (folders end with "/") are not documents of the folder any more: their chunks go.
    """
    root_resolved = root.resolve()
    rules = exclusion_rules(root, excludes)
    found: list[SourceFile] = []
    excluded: set[str] = set()

    def left_out(rel: str) -> bool:
        for why, spec in rules:
            if spec.match_file(rel):
                report.skip(rel, why)
                excluded.add(rel)
                return True
        return False

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = safe_name(Path(dirpath).relative_to(root).as_posix())
        prefix = "" if here == "." else f"{here}/"
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d not in IGNORED_DIRS and not left_out(f"{prefix}{safe_name(d)}/")
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = f"{prefix}{safe_name(name)}"
            if left_out(rel):
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                report.skip(rel, f"unsupported file type {path.suffix.lower() or '(none)'}")
                continue
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    report.fail(rel, "broken or looping symlink")
                    continue
                if not target.is_relative_to(root_resolved):
                    report.skip(rel, "symlink to a file outside the folder")
                    continue
            try:
                st = path.stat()
            except OSError as exc:
                report.fail(rel, f"cannot stat file: {exc.strerror or exc}")
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read forever; a device never ends
                report.skip(rel, "not a regular file (a pipe, socket or device)")
                continue
            if st.st_size > max_bytes:
                report.skip(rel, f"larger than the {max_bytes / 1e6:g} MB limit ({st.st_size / 1e6:.1f} MB)")
                continue
            found.append(SourceFile(rel, path, st.st_size, st.st_mtime_ns))
    return found, excluded


def safe_name(name: str) -> str:
    """A path as the index names it: file names that are not UTF-8 keep their bytes as ``\\xNN`` escapes.

    Such names reach Python as lone surrogates, which neither the index nor a terminal accepts; the
    escaped form is stable from run to run, and the file itself is still read through its real path.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def exclusion_rules(root: Path, excludes: Sequence[str] = ()) -> list[tuple[str, Any]]:
    """(reason, gitignore-style matcher) for the folder's ``.citebotignore`` and for ``excludes``."""
    import pathspec

    rules: list[tuple[str, Any]] = []
    ignore_file = root / IGNORE_FILE
    if ignore_file.is_file():
        try:
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            log.warning("cannot read %s: %s", ignore_file, exc.strerror or exc)
        else:
            rules.append((f"excluded by {IGNORE_FILE}", pathspec.GitIgnoreSpec.from_lines(lines)))
    for glob in excludes:
        rules.append((f"excluded by --exclude {glob!r}", pathspec.GitIgnoreSpec.from_lines([glob])))
    return rules


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Doc:
    """A changed document on its way into the index: its chunks and their ids."""

    file: SourceFile
    content_hash: str
    title: str
    chunks: list[Chunk]
    is_new: bool
    ids: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = [chunk_id(self.file.rel, self.content_hash, c.index) for c in self.chunks]

    @property
    def record(self) -> DocRecord:
        return DocRecord(
            self.file.rel, self.content_hash, self.file.size, self.file.mtime_ns, len(self.chunks), self.title
        )


@dataclass(frozen=True)
class _Slice:
    """Chunks ``start:end`` of a document, in one batch."""

    doc: _Doc
    start: int
    end: int

    @property
    def chunks(self) -> list[Chunk]:
        return self.doc.chunks[self.start : self.end]


class _Tracker:
    """Counts what is done and written, and tells the progress callback (if any); safe across threads."""

    def __init__(self, callback: ProgressFn | None, files_total: int, work_total: float) -> None:
        self.callback = callback
        self.files_total = files_total
        self.work_total = work_total
        self.files_done = 0
        self.chunks_written = 0
        self.work_done = 0.0
        self._lock = threading.Lock()

    def settle(self, path: str, work: float = 0.0) -> None:
        """One file is done with: unchanged, failed, or its new version is visible."""
        with self._lock:
            self.files_done += 1
            self.work_done += work
            self._tell(path)

    def written(self, path: str, chunks: int, work: float) -> None:
        """Chunks of a document reached the index (hidden until the document is complete)."""
        with self._lock:
            self.chunks_written += chunks
            self.work_done += work
            self._tell(path)

    def _tell(self, path: str) -> None:
        if self.callback is not None:
            self.callback(
                IngestProgress(
                    files_done=self.files_done,
                    files_total=self.files_total,
                    chunks_written=self.chunks_written,
                    work_done=min(self.work_done, self.work_total),
                    work_total=self.work_total,
                    current=path,
                )
            )


class Ingestor:
    """Brings a Store up to date with a folder; the same object serves one-shot runs and watch mode.

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
        self._writing = False
        self._was_dirty = False
        self._caching = cache_sentences  # this run's: off once the cache cannot be written

    def run(self, root: Path, *, excludes: Sequence[str] = (), progress: ProgressFn | None = None) -> IngestReport:
        """Ingest ``root`` incrementally (leaving out ``excludes``, gitignore globs) and return what happened.

        ``progress`` hears of every file done and every batch written (files, chunks written, and
        the share of the work done, by the bytes of the files that changed).
        """
        started = time.perf_counter()
        if not root.is_dir():
            raise IngestError(f"folder not found: {root}")
        report = IngestReport()
        files, excluded = discover(root, self.max_bytes, report, excludes)
        known = self.store.documents()
        # A file that could not be read (or is too big now) keeps its chunks; an excluded one loses them.
        kept = {item["path"] for item in report.failed + report.skipped} - excluded
        seen = {f.rel for f in files} | kept
        gone = sorted(source for source in known if source not in seen)
        if not files and known and gone == sorted(known):
            raise IngestError(
                f"no documents found in {root}; refusing to empty an index of {len(known)} documents "
                "(check the path, or use --rebuild to clear it)"
            )
        self._was_dirty = self.store.dirty  # a killed run left the generation mid-change
        self._writing = False
        self._caching = self.cache_sentences
        todo = sum(f.size for f in files if not _same_stat(known.get(f.rel), f))
        tracker = _Tracker(progress, len(files), float(todo))
        touched: list[DocRecord] = []
        batch: list[_Slice] = []
        filled = 0
        # The next documents are read and cut in a thread while the model embeds the current batch.
        changed = self._changed(files, known, report, tracker, touched)
        with ReadAhead(changed, size=lambda doc: len(doc.chunks), limit=2 * self.batch_chunks) as docs:
            for doc in docs:
                start = 0
                while start < len(doc.chunks):  # a document larger than the room left spans batches
                    end = min(len(doc.chunks), start + self.batch_chunks - filled)
                    batch.append(_Slice(doc, start, end))
                    filled += end - start
                    start = end
                    if filled >= self.batch_chunks:
                        self._flush(batch, report, tracker)
                        batch, filled = [], 0
        self._flush(batch, report, tracker)
        if touched:  # touched but not changed: remember the new mtimes, so the next run skips hashing them
            self.store.record_documents(touched)
        if gone:
            self._begin_writing()
            self.store.remove_documents(gone)
            report.removed += len(gone)
            for source in gone:
                log.info("removed %s", source)
        dropped = self.store.drop_hidden()
        if dropped:
            log.info("dropped %d invisible chunks left by an interrupted run", dropped)
        if self._writing or self._was_dirty:
            self.store.end_changes()
        report.seconds = time.perf_counter() - started
        return report

    def _begin_writing(self) -> None:
        """Before the run's first change: mark the index dirty (and bump its generation)."""
        if not self._writing:
            self.store.begin_changes()
            self._writing = True

    def _changed(
        self,
        files: list[SourceFile],
        known: dict[str, DocRecord],
        report: IngestReport,
        tracker: _Tracker,
        touched: list[DocRecord],
    ) -> Iterator[_Doc]:
        """Yield the files whose content differs from the manifest, loaded and chunked, one at a time."""
        for f in files:
            record = known.get(f.rel)
            if _same_stat(record, f):
                report.unchanged += 1
                tracker.settle(f.rel)
                continue
            try:
                digest = file_hash(f.path)
            except OSError as exc:
                report.fail(f.rel, f"cannot read file: {exc.strerror or exc}")
                tracker.settle(f.rel, f.size)
                continue
            if record and record.content_hash == digest:
                report.unchanged += 1
                touched.append(DocRecord(f.rel, digest, f.size, f.mtime_ns, record.chunks, record.title))
                tracker.settle(f.rel, f.size)
                continue
            try:
                doc = self.load(f.path)
                chunks = self.chunker.chunk(doc, {"source": f.rel})
            except SkipFile as exc:
                report.fail(f.rel, str(exc))
                tracker.settle(f.rel, f.size)
                continue
            except Exception as exc:  # a loader bug must not stop the whole run
                log.exception("unexpected error loading %s", f.rel)
                report.fail(f.rel, f"unexpected error: {type(exc).__name__}: {exc}")
                tracker.settle(f.rel, f.size)
                continue
            if not chunks:
                report.fail(f.rel, "no text to index")
                tracker.settle(f.rel, f.size)
                continue
            yield _Doc(f, digest, doc.title, chunks, is_new=record is None)

    def _flush(self, batch: list[_Slice], report: IngestReport, tracker: _Tracker) -> None:
        """Embed what the index lacks (one model pass for the batch), then write the batch in one go."""
        if not batch:
            return
        chunks = [c for part in batch for c in part.chunks]
        sentences = [chunk_sentences(c.text, c.embed_text) for c in chunks] if self._caching else []
        cache = SentenceBatch()
        vectors = self.store.embeddings_by_hash([c.content_hash for c in chunks])
        missing: dict[str, int] = {}  # content hash -> position of its first chunk in the batch
        for i, c in enumerate(chunks):
            if c.content_hash not in vectors:
                missing.setdefault(c.content_hash, i)
        if missing:
            firsts = list(missing.values())
            plans = [sentences[i] for i in firsts] if sentences else []
            vectors.update(self._embed([chunks[i] for i in firsts], plans, cache))
            report.embedded += len(missing)
        if self._caching:  # before the documents become visible, so their first question is fast
            for plan in sentences:
                cache.add(plan)
            report.sentences_embedded += self._save_sentences(cache)
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
        self._begin_writing()
        self.store.write_batch(
            started=[part.doc.record for part in batch if part.start == 0],
            rows=rows,
            finished=[FinishedDoc(doc.record, doc.ids) for doc in finished],
        )
        report.chunks += len(rows)
        for part in batch:
            share = (part.end - part.start) / len(part.doc.chunks)
            tracker.written(part.doc.file.rel, part.end - part.start, part.doc.file.size * share)
        for doc in finished:
            log.info("%s %s: %d chunks", "added" if doc.is_new else "updated", doc.file.rel, len(doc.chunks))
            if doc.is_new:
                report.added += 1
            else:
                report.updated += 1
            tracker.settle(doc.file.rel)

    def _save_sentences(self, cache: SentenceBatch) -> int:
        """Store a batch's sentence vectors; if the cache cannot be written, warn once and go on without it.

        The cache only makes answers faster (they embed what it lacks), so a damaged or unwritable
        sentence collection must not cost the chunks. A store that is down fails the chunk write next.
        """
        try:
            return cache.save(self.store, self.embedder)
        except StoreUnavailableError as exc:
            log.warning("the sentence cache cannot be written (%s); going on without it for this run", exc)
            self._caching = False
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


def _same_stat(record: DocRecord | None, f: SourceFile) -> bool:
    """True when the manifest has this file with the same size and mtime (unchanged, no need to hash it)."""
    return record is not None and record.size == f.size and record.mtime_ns == f.mtime_ns


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
