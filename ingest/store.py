"""The Chroma index: chunk records, the per-document manifest, the build fingerprint, queries.

Three collections hold everything, so a Chroma server holds the whole state:

* ``<name>``: one record per chunk. Metadata: source, title, url, date, page, start, end,
  doc_hash, chunk_hash, live. Readers only see ``live`` chunks.
* ``<name>-docs``: one record per document (id = source path) with its content hash, size,
  mtime and chunk count: what incremental ingest diffs against.
* ``<name>-sentences``: a cache of sentence embeddings keyed by content, filled at ingest so
  the answerer needs no model run to score a passage's sentences.

``ingest --rebuild`` builds a whole new set of the three beside the old one (``<name>.r<N>``,
``<name>.r<N>-docs``, ...), then switches readers over by writing N into the metadata of a small
pointer collection, ``<name>-active`` (one atomic write), and deletes the old set. Until then
every reader keeps answering from the old index; ``Store.follow()`` moves a long-running reader
to the new one. No pointer means the index built before the first rebuild: ``<name>`` itself.

Writes come in batches of a few hundred chunks that may hold many small documents or part of a
large one (crash-safe; see ``write_batch``). A document's manifest entry is first reset to a
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
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ingest.chroma_client import Guarded, Place, guard
from ingest.errors import CollectionGoneError, IndexMismatchError, StoreUnavailableError
from ingest.records import CHUNK_HASH, DOC_HASH, LIVE, SECTION, SOURCE, ChunkMeta, ChunkRow, StoredChunk

log = logging.getLogger(__name__)

#: HNSW search breadth of the chunk collection. Chroma's default (100) returned 97.8% of the exact
#: 50 nearest chunks on the techdocs dev set, and which ones it missed changed with the order chunks
#: were written in: two indexes of the same chunks gave Hit@4 1.000 and 0.957. At 400 the second
#: returned 99.4% and gave 1.000 again; the dense search stays a few milliseconds.
SEARCH_EF = 400

SCHEMA_VERSION = 1
_DOCS_SUFFIX = "-docs"
_SENTENCES_SUFFIX = "-sentences"
_POINTER_SUFFIX = "-active"
_PAGE = 1000  # records fetched per page when reading a whole collection
_VISIBLE: dict[str, Any] = {LIVE: True}
_SLACK = 8  # extra unfiltered hits fetched so that a few hidden chunks do not force a filtered search


@dataclass(frozen=True)
class DocRecord:
    """The manifest entry of one ingested document."""

    source: str
    content_hash: str
    size: int
    mtime_ns: int
    chunks: int
    title: str = ""


@dataclass(frozen=True)
class FinishedDoc:
    """A document whose every chunk is written: its manifest record and the ids of all its chunks, in order."""

    record: DocRecord
    ids: Sequence[str]


def chunk_id(source: str, content_hash: str, index: int) -> str:
    """Stable id: same document path, same content, same position -> same id."""
    key = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
    return f"{key}-{content_hash[:12]}-{index:05d}"


class Store:
    """One citebot index in Chroma (chunks + manifest), checked against the parameters that built it."""

    def __init__(
        self,
        client: Any,
        name: str,
        fingerprint: dict[str, Any],
        *,
        create: bool,
        place: Place | None = None,
        rebuild: int | None = None,
    ) -> None:
        """Open index ``name`` (the set of collections its pointer names, or set ``rebuild`` if given)."""
        self.client = client
        self.place = place or Place()
        self.name = name
        self.fingerprint = {"citebot_schema": SCHEMA_VERSION, **fingerprint}
        self.rebuild = self._pointer() if rebuild is None else rebuild
        self._open_all(create)

    # -- opening -------------------------------------------------------------------------
    @property
    def base(self) -> str:
        """The name of this index's chunk collection (the others add a suffix to it)."""
        return self.name if self.rebuild == 0 else f"{self.name}.r{self.rebuild}"

    def _open_all(self, create: bool) -> None:
        self._chunks = self._open(self.base, create, chunks=True)
        self._docs = self._open(self.base + _DOCS_SUFFIX, create, chunks=False) if self._chunks is not None else None
        self._sents = (
            self._open(self.base + _SENTENCES_SUFFIX, create, chunks=False, role="sentences") if self._chunks else None
        )

    def _pointer(self) -> int:
        """Which set of collections readers use: the rebuild number in ``<name>-active`` (0 without one)."""
        try:
            with guard(self.place):
                meta = self.client.get_collection(self.name + _POINTER_SUFFIX, embedding_function=None).metadata
        except CollectionGoneError:
            return 0
        return int((meta or {}).get("rebuild", 0))

    def follow(self) -> bool:
        """Move to the index a finished ``--rebuild`` switched readers to, if any; True when it moved."""
        current = self._pointer()
        if current == self.rebuild:
            return False
        log.info("index %s was rebuilt: reading rebuild %d (was %d)", self.name, current, self.rebuild)
        self.rebuild = current
        self._open_all(False)
        return True

    def staged(self) -> Store:
        """A new, empty index beside this one for ``--rebuild``: readers see it once ``activate()`` is called.

        What an interrupted rebuild left under the same number is deleted first.
        """
        number = self.rebuild + 1
        _drop_set(self.client, self.place, self.name if number == 0 else f"{self.name}.r{number}")
        return Store(self.client, self.name, self.fingerprint, create=True, place=self.place, rebuild=number)

    def activate(self) -> None:
        """Switch every reader to this (staged) index in one write, then delete the index it replaces."""
        previous = self._pointer()
        if previous == self.rebuild:
            return
        with guard(self.place):
            pointer = self.client.get_or_create_collection(
                self.name + _POINTER_SUFFIX, embedding_function=None, metadata={"rebuild": self.rebuild}
            )
            pointer.modify(metadata={"rebuild": self.rebuild, "switched": time.time()})
        old = self.name if previous == 0 else f"{self.name}.r{previous}"
        try:
            _drop_set(self.client, self.place, old)
        except StoreUnavailableError as exc:  # the switch is done; the old set only costs space
            log.warning("rebuilt, but the old index %s could not be deleted: %s", old, exc)

    def _open(self, name: str, create: bool, *, chunks: bool, role: str = "manifest") -> Any:
        try:
            with guard(self.place):
                found = self.client.get_collection(name, embedding_function=None)
                if chunks and create:  # a writer brings an index made before SEARCH_EF up to it
                    _widen_search(found)
                return Guarded(found, self.place)
        except CollectionGoneError:
            if not create:
                return None
        metadata = {**self.fingerprint, "created": time.time(), "generation": 0} if chunks else {"role": role}
        configuration = {"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}} if chunks else None
        with guard(self.place):
            collection = self.client.get_or_create_collection(
                name, embedding_function=None, metadata=metadata, configuration=configuration
            )
        return Guarded(collection, self.place)

    @property
    def exists(self) -> bool:
        """False when nothing was ever ingested into this collection."""
        return self._chunks is not None

    def check_fingerprint(self) -> None:
        """Raise ``IndexMismatchError`` if the index was built with other model or chunk parameters."""
        if self._chunks is None:
            return
        stored = self._chunks.metadata or {}
        diffs = [
            f"{key}: index has {stored[key]!r}, settings give {value!r}"
            if key in stored
            else f"{key} {value!r} is new (an older citebot built this index)"
            for key, value in self.fingerprint.items()
            if stored.get(key) != value
        ]
        if diffs:
            raise IndexMismatchError(
                f"the index '{self.name}' was built with other parameters ({'; '.join(diffs)}); "
                "run `citebot ingest --rebuild` to rebuild it"
            )

    def generation(self) -> int:
        """A counter bumped by every ingest that changed the index (for caches such as the keyword index)."""
        if self._chunks is None:
            return -1
        return int(self._fresh_metadata().get("generation", 0))

    def stamp(self) -> str:
        """Identifies the index's current content: creation time and generation (changes on every ingest).

        Caches derived from the chunks (the keyword index) are keyed by it; a rebuild changes the
        creation time, so a stale cache from before ``--rebuild`` is never mistaken for fresh.
        """
        if self._chunks is None:
            return "absent"
        meta = self._fresh_metadata()
        return f"{meta.get('created', 0)}:{int(meta.get('generation', 0))}"

    def bump_generation(self) -> None:
        """Tell readers' caches that the visible chunks changed."""
        self._set_metadata(generation=int(self._fresh_metadata().get("generation", 0)) + 1)

    @property
    def dirty(self) -> bool:
        """True while an ingest is writing, or after one was killed before it finished."""
        return self._chunks is not None and bool(self._fresh_metadata().get("dirty", False))

    def begin_changes(self) -> None:
        """Mark the index as being written (and bump the generation): called before a run's first write.

        A run killed later leaves ``dirty`` set, so the next run bumps the generation at its end
        even when it has nothing left to write; caches never keep a half-written state.
        """
        meta = self._fresh_metadata()
        self._set_metadata(generation=int(meta.get("generation", 0)) + 1, dirty=True)

    def end_changes(self) -> None:
        """Bump the generation and clear the ``dirty`` mark: called when a run that wrote finishes."""
        meta = self._fresh_metadata()
        self._set_metadata(generation=int(meta.get("generation", 0)) + 1, dirty=False)

    def _fresh_metadata(self) -> dict[str, Any]:
        """The chunk collection's metadata as the store holds it now (another process may have changed it)."""
        with guard(self.place):
            return dict(self.client.get_collection(self.base, embedding_function=None).metadata or {})

    def _set_metadata(self, **values: Any) -> None:
        if self._chunks is None:
            return
        metadata = {**self._fresh_metadata(), **values}
        metadata.pop("hnsw:space", None)
        self._chunks.modify(metadata=metadata)

    def reset(self) -> None:
        """Delete the whole index in place and create it empty with the current fingerprint (no readers kept)."""
        _drop_set(self.client, self.place, self.base)
        self._open_all(True)

    # -- sentence vectors ------------------------------------------------------------------
    def sentence_vectors(self, keys: Sequence[str]) -> dict[str, list[float]]:
        """Cached embeddings of sentences, by content key (see ingest/sentence_cache.py)."""
        found: dict[str, list[float]] = {}
        if self._sents is None or not keys:
            return found
        wanted = list(dict.fromkeys(keys))
        for i in range(0, len(wanted), 500):
            res = self._sents.get(ids=wanted[i : i + 500], include=["embeddings"])
            for key, emb in zip(res["ids"], _rows(res.get("embeddings"))):
                found[key] = [float(x) for x in emb]
        return found

    def put_sentence_vectors(self, vectors: Mapping[str, Sequence[float]]) -> None:
        """Remember sentence embeddings by content key; entries are never wrong, only possibly unused."""
        if self._sents is None or not vectors:
            return
        items = list(vectors.items())
        batch = self._batch_size()
        for i in range(0, len(items), batch):
            part = items[i : i + batch]
            self._sents.upsert(ids=[k for k, _ in part], embeddings=[list(v) for _, v in part])

    # -- manifest --------------------------------------------------------------------------
    def documents(self) -> dict[str, DocRecord]:
        """Every ingested document's manifest entry, by source path."""
        out: dict[str, DocRecord] = {}
        if self._docs is None:
            return out
        for ids, metas, _docs, _embs in self._pages(self._docs, include=["metadatas"]):
            for source, meta in zip(ids, metas):
                meta = meta or {}
                out[source] = DocRecord(
                    source=source,
                    content_hash=str(meta.get("content_hash", "")),
                    size=int(meta.get("size", -1)),
                    mtime_ns=int(meta.get("mtime_ns", -1)),
                    chunks=int(meta.get("chunks", 0)),
                    title=str(meta.get("title", "")),
                )
        return out

    def record_document(self, record: DocRecord) -> None:
        """Write one manifest entry (see ``record_documents``)."""
        self.record_documents([record])

    def record_documents(self, records: Sequence[DocRecord]) -> None:
        """Write these manifest entries, one call per batch of them."""
        assert self._docs is not None
        batch = self._max_batch()
        for i in range(0, len(records), batch):
            part = records[i : i + batch]
            self._docs.upsert(
                ids=[r.source for r in part],
                embeddings=[[0.0]] * len(part),
                metadatas=[
                    {
                        "content_hash": r.content_hash,
                        "size": r.size,
                        "mtime_ns": r.mtime_ns,
                        "chunks": r.chunks,
                        "title": r.title,
                    }
                    for r in part
                ],
            )

    # -- chunks ----------------------------------------------------------------------------
    def embeddings_by_hash(self, chunk_hashes: Sequence[str]) -> dict[str, list[float]]:
        """Embeddings already stored for chunks with these content hashes (reused, not recomputed)."""
        found: dict[str, list[float]] = {}
        if self._chunks is None or not chunk_hashes:
            return found
        wanted = sorted(set(chunk_hashes))
        for i in range(0, len(wanted), 500):
            batch = wanted[i : i + 500]
            res = self._chunks.get(where={CHUNK_HASH: {"$in": batch}}, include=["metadatas", "embeddings"])
            for meta, emb in zip(res["metadatas"] or [], _rows(res.get("embeddings"))):
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
        assert self._chunks is not None
        if started:
            self.record_documents([DocRecord(r.source, "", -1, -1, 0, r.title) for r in started])
        if rows:
            present = self._existing_ids([r.id for r in rows])
            fresh = [r for r in rows if r.id not in present]
            batch = self._batch_size()
            for i in range(0, len(fresh), batch):
                part = fresh[i : i + batch]
                self._chunks.add(
                    ids=[r.id for r in part],
                    embeddings=[list(r.embedding) for r in part],
                    documents=[r.text for r in part],
                    metadatas=[replace(r.meta, live=False).to_chroma() for r in part],
                )
        if not finished:
            return
        old = self._old_versions(finished)
        for ids, metas in self._flips(finished, old):
            self._chunks.update(ids=ids, metadatas=metas)
        stale = [cid for doc in finished for cid in old[doc.record.source]]
        limit = self._max_batch()
        for i in range(0, len(stale), limit):
            self._chunks.delete(ids=stale[i : i + limit])
        self.record_documents([doc.record for doc in finished])

    def _old_versions(self, finished: Sequence[FinishedDoc]) -> dict[str, list[str]]:
        """The ids of the chunks of each finished document that belong to another version than its new one."""
        assert self._chunks is not None
        new_hash = {doc.record.source: doc.record.content_hash for doc in finished}
        old: dict[str, list[str]] = {source: [] for source in new_hash}
        sources = list(new_hash)
        for i in range(0, len(sources), 500):
            res = self._chunks.get(where={SOURCE: {"$in": sources[i : i + 500]}}, include=["metadatas"])
            for cid, meta in zip(res["ids"], res["metadatas"] or []):
                source = str((meta or {}).get(SOURCE, ""))
                if source in new_hash and (meta or {}).get(DOC_HASH) != new_hash[source]:
                    old[source].append(cid)
        return old

    def _flips(
        self, finished: Sequence[FinishedDoc], old: dict[str, list[str]]
    ) -> Iterator[tuple[list[str], list[Any]]]:
        """The flip updates: as few calls as Chroma's batch limit allows, never splitting a document between two."""
        limit = self._max_batch()
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
        assert self._chunks is not None
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            found.update(self._chunks.get(ids=list(ids[i : i + 500]), include=[])["ids"])
        return found

    def remove_document(self, source: str) -> None:
        """Delete a document's chunks, then its manifest entry."""
        self.remove_documents([source])

    def remove_documents(self, sources: Sequence[str]) -> None:
        """Delete these documents' chunks, then their manifest entries (a batch of them per call)."""
        for i in range(0, len(sources), 500):
            part = list(sources[i : i + 500])
            if self._chunks is not None:
                self._chunks.delete(where={SOURCE: {"$in": part}})
            if self._docs is not None:
                self._docs.delete(ids=part)

    def drop_hidden(self) -> int:
        """Delete chunks left invisible by an interrupted run; returns how many."""
        if self._chunks is None:
            return 0
        res = self._chunks.get(where={LIVE: False}, include=[])
        if res["ids"]:
            self._chunks.delete(ids=list(res["ids"]))
        return len(res["ids"])

    def has_chunks(self) -> bool:
        """True when at least one chunk is visible."""
        return self._chunks is not None and bool(self._chunks.get(where=_VISIBLE, limit=1, include=[])["ids"])

    def check_search(self) -> None:
        """Read one chunk with its vector and search with it: raises ``StoreUnavailableError`` if either fails."""
        if self._chunks is None:
            return
        res = self._chunks.get(where=_VISIBLE, limit=1, include=["embeddings"])
        vectors = _rows(res.get("embeddings"))
        if vectors:
            self._chunks.query(query_embeddings=[list(vectors[0])], n_results=1, include=[])

    def check_sentence_cache(self) -> int:
        """Read a few cached sentence vectors (raises ``StoreUnavailableError`` if that fails); returns the count."""
        if self._sents is None:
            return 0
        self._sents.get(limit=5, include=["embeddings"])
        return int(self._sents.count())

    def count(self) -> int:
        """Visible chunks in the index."""
        if self._chunks is None:
            return 0
        return len(self._chunks.get(where=_VISIBLE, include=[])["ids"])

    def query(self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[StoredChunk]:
        """Top ``k`` visible chunks by cosine similarity, best first, ``score`` = similarity.

        Hidden (``live = False``) chunks exist only while an ingest writes or after a crash, so the
        search first runs without a metadata filter (a filter makes Chroma scan metadata across the
        whole collection before the vector search) and drops hidden hits here; only when that leaves
        fewer than ``k`` while more chunks exist does it search again with the filter. Either way
        no hidden chunk is returned.
        """
        if self._chunks is None:
            return []
        if where is None:
            wanted = k + _SLACK
            hits = self._query(embedding, wanted, None)
            live = [h for h in hits if h.meta.live]
            if len(live) >= k or len(hits) < wanted:
                return live[:k]
        return self._query(embedding, k, {"$and": [_VISIBLE, where]} if where else _VISIBLE)

    def _query(self, embedding: Sequence[float], k: int, flt: dict[str, Any] | None) -> list[StoredChunk]:
        assert self._chunks is not None
        res = self._chunks.query(
            query_embeddings=[list(embedding)], n_results=k, where=flt, include=["documents", "metadatas", "distances"]
        )
        return [
            StoredChunk(cid, text or "", ChunkMeta.from_chroma(meta), score=1.0 - float(dist))
            for cid, text, meta, dist in zip(
                res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]
            )
        ]

    def get_chunks(self, ids: Sequence[str], *, embeddings: bool = False) -> list[StoredChunk]:
        """The visible chunks with these ids (with embeddings if asked), in the order asked; missing ones left out."""
        if self._chunks is None or not ids:
            return []
        include = ["documents", "metadatas", "embeddings"] if embeddings else ["documents", "metadatas"]
        try:
            res = self._chunks.get(ids=list(ids), include=include)  # live checked below, cheaply
        except Exception as exc:  # a server read that raced a delete: see chunks_of
            log.debug("unfiltered read raced a delete (%s); reading visible chunks only", exc)
            res = self._chunks.get(ids=list(ids), where=_VISIBLE, include=include)
        found = {c.id: c for c in _stored(res, embeddings=embeddings) if c.meta.live}
        return [found[cid] for cid in ids if cid in found]

    def chunk_counts(self, sources: Sequence[str]) -> dict[str, int]:
        """How many chunks the manifest gives these documents (0 while one is being written, absent if unknown)."""
        if self._docs is None or not sources:
            return {}
        res = self._docs.get(ids=list(dict.fromkeys(sources)), include=["metadatas"])
        return {source: int((meta or {}).get("chunks", 0)) for source, meta in zip(res["ids"], res["metadatas"] or [])}

    def chunks_of(self, sources: Sequence[str], *, embeddings: bool = False) -> list[StoredChunk]:
        """Every visible chunk (with its embedding if asked) of these documents."""
        if self._chunks is None or not sources:
            return []
        include = ["documents", "metadatas", "embeddings"] if embeddings else ["documents", "metadatas"]
        # Filter by source alone and drop hidden chunks here: an "$and" with live=True makes Chroma scan
        # every record's metadata (110-220 ms at 100k chunks against 11 ms for the source filter alone).
        # A Chroma server can fail such a read while an ingest deletes the hidden chunks it matched
        # ("Error finding id"); the filtered read never matches those, so it is the fallback.
        by_source = {SOURCE: {"$in": list(sources)}}
        try:
            res = self._chunks.get(where=by_source, include=include)
        except Exception as exc:  # chromadb raises InternalError and friends for this race
            log.debug("unfiltered read raced a delete (%s); reading visible chunks only", exc)
            res = self._chunks.get(where={"$and": [_VISIBLE, by_source]}, include=include)
        return [c for c in _stored(res, embeddings=embeddings) if c.meta.live]

    def section_chunks(self, source: str, section: str) -> list[StoredChunk]:
        """The visible chunks of one section of one document, in reading order."""
        if self._chunks is None:
            return []
        res = self._chunks.get(
            where={"$and": [{SOURCE: source}, {SECTION: section}]}, include=["documents", "metadatas"]
        )
        chunks = [c for c in _stored(res, embeddings=False) if c.meta.live]
        return sorted(chunks, key=lambda c: c.meta.chunk_index)

    def iter_chunks(self) -> Iterator[StoredChunk]:
        """Every visible chunk (without embedding), page by page."""
        if self._chunks is None:
            return
        for ids, metas, docs, _embs in self._pages(self._chunks, include=["metadatas", "documents"], where=_VISIBLE):
            for cid, meta, text in zip(ids, metas, docs):
                yield StoredChunk(cid, text or "", ChunkMeta.from_chroma(meta))

    # -- helpers ---------------------------------------------------------------------------
    def _max_batch(self) -> int:
        """The most records one Chroma call accepts (5461 for the embedded store and `chroma run`)."""
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:  # older servers do not expose it
            return 500

    def _batch_size(self) -> int:
        """Records per call when sending embeddings (kept smaller to bound request size)."""
        return min(1000, self._max_batch())

    @staticmethod
    def _pages(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[tuple]:
        offset = 0
        while True:
            res = collection.get(include=include, where=where, limit=_PAGE, offset=offset)
            ids = res["ids"]
            if not ids:
                return
            yield (
                ids,
                res.get("metadatas") or [None] * len(ids),
                res.get("documents") or [None] * len(ids),
                res.get("embeddings"),
            )
            if len(ids) < _PAGE:
                return
            offset += len(ids)


def _widen_search(collection: Any) -> None:
    """Raise the chunk collection's HNSW search breadth to SEARCH_EF if it is lower (a metadata-only change)."""
    config = getattr(collection, "configuration", None) or {}
    hnsw = config.get("hnsw") if isinstance(config, dict) else None
    current = (hnsw or {}).get("ef_search")
    if isinstance(current, int) and current < SEARCH_EF:
        collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
        log.info("raised the index's search breadth (ef_search) from %d to %d", current, SEARCH_EF)


def _drop_set(client: Any, place: Place, base: str) -> None:
    """Delete the chunk, manifest and sentence collections named after ``base`` (those that exist)."""
    for name in (base, base + _DOCS_SUFFIX, base + _SENTENCES_SUFFIX):
        try:
            with guard(place):
                client.delete_collection(name)
        except CollectionGoneError:
            log.debug("no collection %s to delete", name)


def _rows(embeddings: Any) -> list[Any]:
    """Chroma returns embeddings as a numpy array or a list; treat None as empty."""
    if embeddings is None:
        return []
    return list(embeddings)


def _stored(res: dict[str, Any], *, embeddings: bool) -> list[StoredChunk]:
    """Chroma's batch-shaped ``get`` result as StoredChunks (the one place that reads its columns)."""
    ids = res["ids"]
    texts = res.get("documents") or [None] * len(ids)
    metas = res.get("metadatas") or [None] * len(ids)
    vectors: list[Any] = [[float(x) for x in v] for v in _rows(res.get("embeddings"))] if embeddings else []
    vectors = vectors or [None] * len(ids)
    return [
        StoredChunk(cid, text or "", ChunkMeta.from_chroma(meta), embedding=vec)
        for cid, text, meta, vec in zip(ids, texts, metas, vectors)
    ]
