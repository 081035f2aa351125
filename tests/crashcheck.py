"""Helpers for the kill tests: build corpora, read what an index shows, compare with a clean ingest."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.index.chroma_client import open_client
from ingest.index.records import LIVE, ChunkMeta
from ingest.index.store import Store
from tests.crash_driver import Write, WriteCounter, ingest_counting
from tests.support import FINGERPRINT, FakeEmbedder, make_ingestor, make_store, raw_collection

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "crash_driver.py"
WORDS = (
    "river market council school harbour energy farmer budget station museum bridge storm league doctor "
    "railway festival glacier copper orchard tunnel senate lantern vaccine harvest"
).split()


def write_corpus(folder: Path, n: int, seed: int = 1, paragraphs: int = 8) -> None:
    """``n`` documents of several chunks each, made of random words (deterministic)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(n):
        paras = [" ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "." for _ in range(paragraphs)]
        (folder / f"doc{d}.txt").write_text(f"Document {d}\n\n" + "\n\n".join(paras) + "\n")


def edit_corpus(v1: Path, v2: Path) -> None:
    """v2 = v1 with three documents edited, one deleted, one added and one renamed."""
    shutil.copytree(v1, v2)
    for d in (1, 3, 5):
        path = v2 / f"doc{d}.txt"
        path.write_text(path.read_text().replace("Document", "Revised document") + "\nA closing paragraph.\n")
    (v2 / "doc6.txt").unlink()
    (v2 / "doc7.txt").rename(v2 / "renamed7.txt")
    write_corpus(v2 / "new", 1, seed=99)


@dataclass(frozen=True)
class IndexView:
    """What an index shows readers, per source: its doc hashes and its live (id, text) pairs."""

    docs: dict[str, tuple[frozenset[str], tuple[tuple[str, str], ...]]]
    hidden: int
    manifest: dict[str, str]
    dirty: bool
    generation: int
    stored: frozenset[str] = frozenset()  # content hashes of every chunk stored, visible or hidden

    @property
    def state(self) -> dict[str, tuple[tuple[str, str], ...]]:
        return {source: chunks for source, (_h, chunks) in self.docs.items()}


def view(store: Store) -> IndexView:
    col = raw_collection(store)
    live = col.get(where={LIVE: True}, include=["metadatas", "documents"])
    docs: dict[str, Any] = {}
    for cid, meta, text in zip(live["ids"], live["metadatas"], live["documents"]):
        record = ChunkMeta.from_chroma(meta)
        hashes, chunks = docs.setdefault(record.source, (set(), []))
        hashes.add(record.doc_hash)
        chunks.append((cid, text))
    hidden = len(col.get(where={LIVE: False}, include=[])["ids"])
    every = col.get(include=["metadatas"])
    return IndexView(
        docs={s: (frozenset(h), tuple(sorted(c))) for s, (h, c) in docs.items()},
        hidden=hidden,
        manifest={s: r.content_hash for s, r in store.manifest.documents().items()},
        dirty=store.dirty,
        generation=store.generation(),
        stored=frozenset(ChunkMeta.from_chroma(m).chunk_hash for m in every["metadatas"] or []),
    )


def open_view(index_dir: Path, name: str = "test-index") -> IndexView:
    return view(Store(open_client(index_dir), name, FINGERPRINT, create=False))


def clean_view(docs: Path, index_dir: Path, chunk_tokens: int | None = None) -> IndexView:
    """What a clean, uninterrupted ingest of ``docs`` shows (with the given chunk size)."""
    store = make_store(index_dir)
    make_ingestor(store, FakeEmbedder(), chunk_tokens=chunk_tokens).run(docs)
    return view(store)


def assert_complete(seen: IndexView, *allowed: IndexView) -> None:
    """Every visible document is exactly one complete version from a clean ingest: never mixed, halved, doubled."""
    for source, (hashes, chunks) in seen.docs.items():
        assert len(hashes) == 1, f"{source}: two versions visible at once"
        versions = [v.state[source] for v in allowed if source in v.state]
        assert chunks in versions, f"{source}: {len(chunks)} visible chunks match no complete version"


def driver_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def run_driver(index_dir: Path, docs: Path, pause_after: int = 0, batch: int = 256, timeout: float = 120) -> list[str]:
    """Run the driver; with ``pause_after`` kill it with SIGKILL right after that write. Returns its lines."""
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), str(index_dir), str(docs), str(pause_after), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=driver_env(),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("PAUSED"):
            proc.send_signal(signal.SIGKILL)
            break
        assert time.monotonic() < deadline, "driver took too long"
    proc.wait(timeout=30)
    if pause_after:
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    else:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return lines


def record_writes(index_dir: Path, docs: Path, batch: int = 256) -> list[Write]:
    """The numbered writes of an ingest run here, in this process (no kill: nothing to wait for)."""
    counter = WriteCounter()
    ingest_counting(index_dir, docs, counter, batch)
    return counter.writes


def writes(lines: list[str]) -> list[Write]:
    """The driver's ``WRITE n collection method kind`` lines, parsed."""
    out = []
    for line in lines:
        if line.startswith("WRITE "):
            _, n, role, method, kind = line.split()
            out.append((int(n), role, method, kind))
    return out
