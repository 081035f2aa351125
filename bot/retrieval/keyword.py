"""The keyword (BM25) index over the chunks, built from the collection itself and kept in step with it.

Built from ``store.reader.iter_chunks()``, so it works the same against the embedded store and a Chroma
server, and always describes exactly the visible chunks. Every search first compares the store's
``stamp()`` (creation time + generation, bumped by every ingest that changed something) with the
stamp the index was built at and rebuilds when they differ. For the embedded store the built index
can be cached on disk (``<index_dir>/keyword/<collection>/``) under that stamp, so a new process skips the
rebuild when nothing changed.

What is indexed per chunk: its context header ("title | publisher | date") and its text, so a
question naming a publisher or a title finds the chunk; the quoted text itself is not altered. A
chunk is also found by the parts of its camelCase and PascalCase words (``camel_parts``: "dev
dependency" finds ``devDependencies``), but how rare a word is and whether the index holds it at
all (``idf``, ``counts``) count whole words, so "Radar" stays a word no page of "GameRadar" writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.text import camel_parts, content_terms
from ingest.index.records import StoredChunk
from ingest.index.store import Store

log = logging.getLogger(__name__)

_CACHE_VERSION = 3  # 2: accents folded (bot/text.py words); 3: camelCase parts, whole-word counts


@dataclass(frozen=True)
class ChunkInfo:
    """What ranking needs to know about a chunk without fetching it: its document, publisher, date, section."""

    source: str
    source_name: str
    date: str
    section: str = ""


def tokenize(text: str) -> list[str]:
    """BM25 terms: lower-cased, lightly stemmed content words (the answerer's notion of a term)."""
    return content_terms(text)


def indexed_text(chunk: StoredChunk) -> str:
    """The text a chunk is found by: its context header, then its text."""
    header = chunk.meta.header
    return f"{header}\n{chunk.text}" if header else chunk.text


class KeywordIndex:
    """BM25 over the visible chunks of a Store; ``search`` refreshes it when the store changed."""

    def __init__(self, store: Store, cache_dir: Path | None = None) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self.stamp: str | None = None
        self.ids: list[str] = []
        self.info: list[ChunkInfo] = []
        self._positions: dict[str, int] = {}
        self._bm25: Any = None
        self._df: dict[str, int] = {}  # how many chunks hold each whole word
        self._lock = threading.Lock()
        self._steady = threading.local()  # this thread reads one state of the index (``steady``)
        self.builds = 0  # rebuilds from the store (not cache loads); for tests and benchmarks

    # -- keeping in step -------------------------------------------------------------------
    def refresh(self) -> bool:
        """Rebuild (or load from cache) if the store changed since the last build; True if it did."""
        if getattr(self._steady, "depth", 0):
            return False
        stamp = self.store.stamp()
        if stamp == self.stamp:
            return False
        with self._lock:
            if stamp == self.stamp:
                return False
            if not self._load_cache(stamp):
                self._build()
                self._save_cache(stamp)
            self.stamp = stamp
        return True

    @contextmanager
    def steady(self) -> Iterator[None]:
        """Within, this thread's searches and rarities read the index as it was on entry.

        One answer asks for BM25 hits, rarities and chunk counts half a dozen times; checking the
        store's stamp each time (a Chroma read) was a tenth of a warm answer. A change that lands
        meanwhile is seen by the next question, as it would be had it landed a moment later.
        """
        self.refresh()
        self._steady.depth = getattr(self._steady, "depth", 0) + 1
        try:
            yield
        finally:
            self._steady.depth -= 1

    def _build(self) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        ids: list[str] = []
        info: list[ChunkInfo] = []
        corpus: list[list[str]] = []
        df: Counter[str] = Counter()
        for chunk in self.store.reader.iter_chunks():
            ids.append(chunk.id)
            info.append(ChunkInfo(chunk.meta.source, chunk.meta.source_name, chunk.meta.date, chunk.meta.section))
            text = indexed_text(chunk)
            words = tokenize(text)
            df.update(set(words))
            corpus.append([*words, *camel_parts(text)] or ["\x00empty"])
        bm25 = None
        if corpus:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
        self.ids, self.info, self._bm25, self._df = ids, info, bm25, dict(df)
        self._positions = {cid: i for i, cid in enumerate(ids)}
        self.builds += 1
        log.info("keyword index built: %d chunks", len(ids))

    # -- searching -------------------------------------------------------------------------
    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        """Up to ``n`` (position, BM25 score) pairs, best first; positions index ``ids``/``info``."""
        self.refresh()
        bm25, size = self._bm25, len(self.ids)
        # a word the question repeats counts twice, as ever; each part of its camelCase words once
        asked = [*tokenize(query), *dict.fromkeys(camel_parts(query))]
        terms = [t for t in asked if bm25 is not None and t in bm25.vocab_dict]
        if bm25 is None or not terms or size == 0:
            return []
        docs, scores = bm25.retrieve([terms], k=min(n, size), show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if float(s) > 0]

    def info_of(self, chunk_id: str) -> ChunkInfo | None:
        """What the index knows of a chunk (None: a chunk it was not built with)."""
        pos = self._positions.get(chunk_id)
        return self.info[pos] if pos is not None else None

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """``log(1 + N / df)`` over the indexed chunks for each term that occurs in them (as a whole word)."""
        self.refresh()
        n, df = len(self.ids), self._df
        return {t: math.log(1 + n / df[t]) for t in set(terms) if df.get(t)}

    def counts(self, terms: Iterable[str]) -> dict[str, int]:
        """How many indexed chunks hold each term as a whole word (terms no chunk holds are left out)."""
        self.refresh()
        df = self._df
        return {t: df[t] for t in set(terms) if df.get(t)}

    def publishers(self) -> set[str]:
        """The distinct publisher names (``source_name``) of the indexed chunks."""
        return {i.source_name for i in self.info if i.source_name}

    # -- disk cache (embedded store only) --------------------------------------------------
    def _cache_path(self, stamp: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha1(f"{_CACHE_VERSION}:{self.store.name}:{stamp}".encode()).hexdigest()[:16]
        return self.cache_dir / self.store.name / key

    def _load_cache(self, stamp: str) -> bool:
        path = self._cache_path(stamp)
        if path is None or not (path / "chunks.json").is_file():
            return False
        try:
            import bm25s

            rows = json.loads((path / "chunks.json").read_text(encoding="utf-8"))
            if rows and len(rows[0]) != 5:  # written by a citebot that did not keep sections: rebuilt, quietly
                log.info("keyword cache %s is from an older version; rebuilding it", path)
                return False
            self.ids = [r[0] for r in rows]
            self.info = [ChunkInfo(r[1], r[2], r[3], r[4]) for r in rows]
            self._positions = {cid: i for i, cid in enumerate(self.ids)}
            self._bm25 = bm25s.BM25.load(str(path / "bm25"), show_progress=False) if rows else None
            self._df = json.loads((path / "df.json").read_text(encoding="utf-8"))
        except Exception as exc:  # a damaged cache is rebuilt, never fatal
            log.warning("ignoring unreadable keyword cache %s: %s", path, exc)
            return False
        log.info("keyword index loaded from %s", path)
        return True

    def _save_cache(self, stamp: str) -> None:
        path = self._cache_path(stamp)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            if self._bm25 is not None:
                self._bm25.save(str(tmp / "bm25"), show_progress=False)
            rows = [[cid, i.source, i.source_name, i.date, i.section] for cid, i in zip(self.ids, self.info)]
            (tmp / "chunks.json").write_text(json.dumps(rows), encoding="utf-8")
            (tmp / "df.json").write_text(json.dumps(self._df), encoding="utf-8")
            shutil.rmtree(path, ignore_errors=True)
            tmp.rename(path)
            for old in path.parent.iterdir():  # older generations of this collection
                if old != path and old.is_dir() and not old.name.endswith(".tmp"):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:  # a read-only index folder only costs the cache
            log.warning("cannot cache the keyword index in %s: %s", path, exc)
