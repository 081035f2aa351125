"""The Chroma index: one object that opens it, checks what built it, and hands out its parts.

Three collections hold everything, so a Chroma server holds the whole state:

* ``<name>``: one record per chunk. Metadata: source, title, url, date, page, start, end,
  doc_hash, chunk_hash, live. Readers only see ``live`` chunks (``store.reader``, queries.py);
  ingest writes them in a crash-safe order (``store.writer``, writes.py).
* ``<name>-docs``: one record per document (id = source path) with its content hash, size,
  mtime and chunk count: what incremental ingest diffs against (``store.manifest``, manifest.py).
* ``<name>-sentences``: a cache of sentence embeddings keyed by content, filled at ingest so
  the answerer needs no model run to score a passage's sentences (``store.sentences``).

The chunk collection's metadata holds the fingerprint of what built the index and a change
counter (``generation``, ``dirty``) for readers' caches. ``--rebuild`` builds a new set of the
three beside the old one and switches readers over in one write (generations.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ingest.errors import CollectionGoneError, IndexMismatchError, StoreUnavailableError
from ingest.index.chroma_client import Guarded, Place, guard
from ingest.index.collections import Collections
from ingest.index.generations import (
    DOCS_SUFFIX,
    SENTENCES_SUFFIX,
    active_rebuild,
    drop_set,
    set_base,
    switch_readers,
)
from ingest.index.lookup import SourceLookup
from ingest.index.manifest import Manifest
from ingest.index.queries import SEARCH_EF, ChunkReader
from ingest.index.registry import Registry, SourceRecord, default_name
from ingest.index.sentence_vectors import SentenceVectors
from ingest.index.writes import ChunkWriter

log = logging.getLogger(__name__)

#: What an index whose fingerprint lacks a key was built with (the key is newer than the index).
ASSUMED = {"embed_precision": "float"}

SCHEMA_VERSION = 1


class Store:
    """One citebot index in Chroma, checked against the parameters that built it.

    Its parts work on whichever generation the store has open: ``reader`` (queries), ``writer``
    (chunk writes and removals), ``manifest`` (document records), ``sentences`` (the sentence cache).
    """

    def __init__(
        self,
        client: Any,
        name: str,
        fingerprint: dict[str, Any],
        *,
        create: bool,
        place: Place | None = None,
        rebuild: int | None = None,
        default_folder: str = "",
    ) -> None:
        """Open index ``name`` (the set of collections its pointer names, or set ``rebuild`` if given).

        ``default_folder`` is where an index from before sources existed was ingested from, as far
        as anyone knows (the configured docs folder): it names that index's one source.
        """
        self.client = client
        self.place = place or Place()
        self.name = name
        self.default_folder = default_folder
        self.registry = Registry(client, self.place, name)
        self.fingerprint = {"citebot_schema": SCHEMA_VERSION, **fingerprint}
        self.collections = Collections(client, self.place)
        self.manifest = Manifest(self.collections)
        self.reader = ChunkReader(self.collections)
        self.writer = ChunkWriter(self.collections, self.manifest)
        self.sentences = SentenceVectors(self.collections)
        self.rebuild = active_rebuild(client, self.place, name) if rebuild is None else rebuild
        self._open_all(create)

    # -- opening -------------------------------------------------------------------------
    @property
    def base(self) -> str:
        """The name of this index's chunk collection (the others add a suffix to it)."""
        return set_base(self.name, self.rebuild)

    def _open_all(self, create: bool) -> None:
        c = self.collections
        c.base = self.base
        c.chunks = self._open(self.base, create, chunks=True)
        c.docs = self._open(self.base + DOCS_SUFFIX, create, chunks=False) if c.chunks is not None else None
        c.sentences = (
            self._open(self.base + SENTENCES_SUFFIX, create, chunks=False, role="sentences") if c.chunks else None
        )
        self.refresh_lookup()

    # -- sources -----------------------------------------------------------------------------
    def sources(self) -> list[SourceRecord]:
        """The sources the index holds, the first (unprefixed) one first.

        An index built before sources existed has documents and no record of where from: it is one
        source, named after ``default_folder`` and not yet remembered (its next ingest remembers it).
        """
        records = self.registry.all()
        if records or not self._has_documents():
            return records
        folder = self.default_folder
        return [SourceRecord(name=default_name(folder) if folder else "docs", location=folder, remembered=False)]

    def refresh_lookup(self) -> None:
        """Read the source records again, so chunks read from now on name their source and page by them."""
        self.collections.lookup = SourceLookup(self.sources())

    def _has_documents(self) -> bool:
        docs = self.collections.docs
        return docs is not None and bool(docs.get(limit=1, include=[])["ids"])

    def remove_source(self, record: SourceRecord) -> int:
        """Delete a source's chunks and manifest records, then forget it; returns how many documents went."""
        keys = [key for key in self.manifest.documents() if record.owns(key)]
        if keys:
            self.begin_changes()
            self.writer.remove_documents(keys)
            self.end_changes()
        self.registry.forget(record.name)
        self.refresh_lookup()
        return len(keys)

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
        return self.collections.chunks is not None

    def check_fingerprint(self) -> None:
        """Raise ``IndexMismatchError`` if the index was built with other model or chunk parameters."""
        if self.collections.chunks is None:
            return
        stored = {**ASSUMED, **(self.collections.chunks.metadata or {})}
        diffs = [
            f"{key}: index has {stored[key]!r}, settings give {value!r}"
            if key in stored
            else f"{key} {value!r} is new (an older citebot built this index)"
            for key, value in self.fingerprint.items()
            if stored.get(key) != value
        ]
        if diffs:
            hint = ""
            if any(d.startswith("embed_precision:") for d in diffs):  # the one a setting undoes without a rebuild
                hint = f"set CITEBOT_EMBED_PRECISION={'int8' if stored['embed_precision'] == 'int8' else 'fp32'}, or "
            raise IndexMismatchError(
                f"the index '{self.name}' was built with other parameters ({'; '.join(diffs)}); "
                f"{hint}run `citebot ingest --rebuild` to rebuild it"
            )

    def reset(self) -> None:
        """Delete the whole index in place and create it empty with the current fingerprint (no readers kept)."""
        drop_set(self.client, self.place, self.base)
        self._open_all(True)

    # -- generations: rebuild beside, switch in one write ----------------------------------
    def follow(self) -> bool:
        """Move to the index a finished ``--rebuild`` switched readers to, if any; True when it moved."""
        current = active_rebuild(self.client, self.place, self.name)
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
        drop_set(self.client, self.place, set_base(self.name, number))
        return Store(
            self.client,
            self.name,
            self.fingerprint,
            create=True,
            place=self.place,
            rebuild=number,
            default_folder=self.default_folder,
        )

    def activate(self) -> None:
        """Switch every reader to this (staged) index in one write, then delete the index it replaces."""
        previous = active_rebuild(self.client, self.place, self.name)
        if previous == self.rebuild:
            return
        switch_readers(self.client, self.place, self.name, self.rebuild)
        old = set_base(self.name, previous)
        try:
            drop_set(self.client, self.place, old)
        except StoreUnavailableError as exc:  # the switch is done; the old set only costs space
            log.warning("rebuilt, but the old index %s could not be deleted: %s", old, exc)

    # -- the change counter readers' caches key on ------------------------------------------
    def generation(self) -> int:
        """A counter bumped by every ingest that changed the index (for caches such as the keyword index)."""
        if self.collections.chunks is None:
            return -1
        return int(self.collections.metadata().get("generation", 0))

    def stamp(self) -> str:
        """Identifies the index's current content: creation time and generation (changes on every ingest).

        Caches derived from the chunks (the keyword index) are keyed by it; a rebuild changes the
        creation time, so a stale cache from before ``--rebuild`` is never mistaken for fresh.
        """
        if self.collections.chunks is None:
            return "absent"
        meta = self.collections.metadata()
        return f"{meta.get('created', 0)}:{int(meta.get('generation', 0))}"

    def bump_generation(self) -> None:
        """Tell readers' caches that the visible chunks changed."""
        self.collections.set_metadata(generation=int(self.collections.metadata().get("generation", 0)) + 1)

    @property
    def dirty(self) -> bool:
        """True while an ingest is writing, or after one was killed before it finished."""
        return self.collections.chunks is not None and bool(self.collections.metadata().get("dirty", False))

    def begin_changes(self) -> None:
        """Mark the index as being written (and bump the generation): called before a run's first write.

        A run killed later leaves ``dirty`` set, so the next run bumps the generation at its end
        even when it has nothing left to write; caches never keep a half-written state.
        """
        meta = self.collections.metadata()
        self.collections.set_metadata(generation=int(meta.get("generation", 0)) + 1, dirty=True)

    def end_changes(self) -> None:
        """Bump the generation and clear the ``dirty`` mark: called when a run that wrote finishes."""
        meta = self.collections.metadata()
        self.collections.set_metadata(generation=int(meta.get("generation", 0)) + 1, dirty=False)


def _widen_search(collection: Any) -> None:
    """Raise the chunk collection's HNSW search breadth to SEARCH_EF if it is lower (a metadata-only change)."""
    config = getattr(collection, "configuration", None) or {}
    hnsw = config.get("hnsw") if isinstance(config, dict) else None
    current = (hnsw or {}).get("ef_search")
    if isinstance(current, int) and current < SEARCH_EF:
        collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
        log.info("raised the index's search breadth (ef_search) from %d to %d", current, SEARCH_EF)
