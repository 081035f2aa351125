"""Incremental ingest: find files, diff them against the index manifest, embed only what changed.

A file is *unchanged* when its size and mtime match the manifest (or, failing that, its content
hash does); only added and changed documents are chunked, and a chunk whose content was embedded
before (a moved or renamed file, a run interrupted mid-way) reuses that embedding. Files that
cannot be read are reported and keep their previous chunks; deleted files lose theirs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ingest.chunking import Chunk, Chunker
from ingest.document import section_label
from ingest.embedder import Embedder
from ingest.errors import IngestError, SkipFile
from ingest.loaders import SUPPORTED_SUFFIXES, load_document
from ingest.records import ChunkMeta, ChunkRow
from ingest.report import IngestReport
from ingest.sentence_cache import cache_sentences
from ingest.store import DocRecord, Store, chunk_id

log = logging.getLogger(__name__)

#: Folders never descended into (besides hidden ones).
IGNORED_DIRS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "site-packages"})
#: Gitignore-style patterns of files to leave out, in the ingested folder itself.
IGNORE_FILE = ".citebotignore"

ProgressFn = Callable[[int, int, str], None]  # (done, total, current path)


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
class _Pending:
    file: SourceFile
    content_hash: str
    title: str
    chunks: list[Chunk]
    is_new: bool


class Ingestor:
    """Brings a Store up to date with a folder; the same object serves one-shot runs and watch mode."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        chunker: Chunker,
        *,
        max_bytes: int,
        batch_chunks: int = 256,
        cache_sentences: bool = True,
    ) -> None:
        self.store = store
        self.cache_sentences = cache_sentences
        self.embedder = embedder
        self.chunker = chunker
        self.max_bytes = max_bytes
        self.batch_chunks = batch_chunks
        self._writing = False
        self._was_dirty = False

    def run(self, root: Path, *, excludes: Sequence[str] = (), progress: ProgressFn | None = None) -> IngestReport:
        """Ingest ``root`` incrementally (leaving out ``excludes``, gitignore globs) and return what happened."""
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
        pending: list[_Pending] = []
        for done, item in enumerate(self._changed(files, known, report), 1):
            pending.append(item)
            if sum(len(p.chunks) for p in pending) >= self.batch_chunks:
                self._flush(pending, report)
                pending = []
            if progress:
                progress(done, len(files), item.file.rel)
        self._flush(pending, report)
        for source in gone:
            self._begin_writing()
            self.store.remove_document(source)
            report.removed += 1
            log.info("removed %s", source)
        dropped = self.store.drop_hidden()
        if dropped:
            log.info("dropped %d invisible chunks left by an interrupted run", dropped)
        if self._writing or self._was_dirty:
            self.store.end_changes()
        if progress:
            progress(len(files), len(files), "")
        report.seconds = time.perf_counter() - started
        return report

    def _begin_writing(self) -> None:
        """Before the run's first change: mark the index dirty (and bump its generation)."""
        if not self._writing:
            self.store.begin_changes()
            self._writing = True

    def _changed(
        self, files: list[SourceFile], known: dict[str, DocRecord], report: IngestReport
    ) -> Iterator[_Pending]:
        """Yield the files whose content differs from the manifest, loaded and chunked."""
        for f in files:
            record = known.get(f.rel)
            if record and record.size == f.size and record.mtime_ns == f.mtime_ns:
                report.unchanged += 1
                continue
            try:
                digest = file_hash(f.path)
            except OSError as exc:
                report.fail(f.rel, f"cannot read file: {exc.strerror or exc}")
                continue
            if record and record.content_hash == digest:
                report.unchanged += 1
                self.store.record_document(
                    DocRecord(f.rel, digest, f.size, f.mtime_ns, record.chunks, record.title)
                )  # touched but not changed: remember the new mtime
                continue
            try:
                doc = load_document(f.path)
                chunks = self.chunker.chunk(doc, {"source": f.rel})
            except SkipFile as exc:
                report.fail(f.rel, str(exc))
                continue
            except Exception as exc:  # a loader bug must not stop the whole run
                log.exception("unexpected error loading %s", f.rel)
                report.fail(f.rel, f"unexpected error: {type(exc).__name__}: {exc}")
                continue
            if not chunks:
                report.fail(f.rel, "no text to index")
                continue
            yield _Pending(f, digest, doc.title, chunks, is_new=record is None)

    def _flush(self, pending: list[_Pending], report: IngestReport) -> None:
        """Embed what is not in the index yet (one batch for many documents), then write each document."""
        if not pending:
            return
        all_chunks = [c for p in pending for c in p.chunks]
        vectors = self.store.embeddings_by_hash([c.content_hash for c in all_chunks])
        missing: dict[str, str] = {}
        for c in all_chunks:
            if c.content_hash not in vectors:
                missing.setdefault(c.content_hash, c.embed_text)
        if missing:
            fresh = self.embedder.embed(list(missing.values()))
            vectors.update(zip(missing.keys(), fresh))
            report.embedded += len(missing)
        if self.cache_sentences:  # before the documents become visible, so their first question is fast
            report.sentences_embedded += cache_sentences(self.store, self.embedder, [c.text for c in all_chunks])
        for p in pending:
            rows = [
                ChunkRow(
                    id=chunk_id(p.file.rel, p.content_hash, c.index),
                    text=c.text,
                    embedding=vectors[c.content_hash],
                    meta=_chunk_meta(c, p.content_hash),
                )
                for c in p.chunks
            ]
            record = DocRecord(p.file.rel, p.content_hash, p.file.size, p.file.mtime_ns, len(rows), p.title)
            self._begin_writing()
            self.store.write_document(record, rows)
            log.info("%s %s: %d chunks", "added" if p.is_new else "updated", p.file.rel, len(rows))
            report.chunks += len(rows)
            if p.is_new:
                report.added += 1
            else:
                report.updated += 1


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
