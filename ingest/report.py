"""The result of one ingest run, and where a running one stands."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class IngestReport:
    """What an ingest run did; ``to_json`` is the `citebot ingest --json` contract."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0  # chunks written in this run
    embedded: int = 0  # chunks whose embedding was computed (the rest were reused)
    sentences_embedded: int = 0  # sentences added to the answerer's sentence cache (pooled or embedded)
    failed: list[dict[str, str]] = field(default_factory=list)  # files that could not be read
    skipped: list[dict[str, str]] = field(default_factory=list)  # files left out on purpose (size, links)
    seconds: float = 0.0
    sources: list[dict[str, Any]] = field(default_factory=list)  # each source's own counts, when there were several

    def add(self, other: IngestReport, source: dict[str, Any]) -> None:
        """Count ``other`` (one source's run, described by ``source``) into this report."""
        for name in ("added", "updated", "unchanged", "removed", "chunks", "embedded", "sentences_embedded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed += other.failed
        self.skipped += other.skipped
        self.seconds += other.seconds
        counts = {k: getattr(other, k) for k in ("added", "updated", "unchanged", "removed", "chunks")}
        self.sources.append({**source, **counts, "failed": len(other.failed)})

    def fail(self, path: str, reason: str) -> None:
        self.failed.append({"path": path, "reason": reason})

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append({"path": path, "reason": reason})

    def problems(self) -> dict[tuple[str, str], str]:
        """The files this run failed or skipped, by ("failed" or "skipped", path), and why."""
        return {
            **{("failed", item["path"]): item["reason"] for item in self.failed},
            **{("skipped", item["path"]): item["reason"] for item in self.skipped},
        }

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """The run in one line, as every front end shows it."""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed, "
            f"{len(self.failed)} failed; {_count(self.chunks, 'chunk')} written ({self.embedded} embedded) "
            f"in {self.seconds:.1f}s"
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


def _count(n: int, noun: str) -> str:
    """'1 chunk', '2 chunks'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest stands: what a progress callback receives after each file and each batch written."""

    files_done: int  # files dealt with: unchanged, failed, or their new version visible
    files_total: int
    chunks_written: int  # chunks that reached the index (a kill keeps them)
    work_done: float  # bytes of the changed files done with, a file being written counted pro rata
    work_total: float  # bytes of the files whose size or date changed: the work this run expects
    current: str  # the file last read or written
    files_seen: int = 0  # files read (or found unchanged or failed): moves while the first batch is embedded


ProgressFn = Callable[[IngestProgress], None]


class ProgressTracker:
    """Counts what a run has done and written, and tells the progress callback (if any); safe across threads."""

    def __init__(self, callback: ProgressFn | None, files_total: int, work_total: float) -> None:
        self.callback = callback
        self.files_total = files_total
        self.work_total = work_total
        self.files_done = 0
        self._read: set[str] = set()  # changed files read whose chunks are not all written yet
        self.chunks_written = 0
        self.work_done = 0.0
        self._lock = threading.Lock()

    def settle(self, path: str, work: float = 0.0) -> None:
        """One file is done with: unchanged, failed, or its new version is visible."""
        with self._lock:
            self.files_done += 1
            self._read.discard(path)
            self.work_done += work
            self._tell(path)

    def read(self, path: str) -> None:
        """A changed file was read and cut into chunks (it is settled once its chunks are written)."""
        with self._lock:
            self._read.add(path)
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
                    files_seen=self.files_done + len(self._read),
                )
            )
