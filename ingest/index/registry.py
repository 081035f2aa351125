"""The sources an index holds: named folders (sites later), remembered in ``<name>-sources``.

One record per source, its id the source's name; its metadata where the source is, how its
documents are keyed, its link base and exclusions, and when it was last ingested. The collection
sits beside the index's generations, so ``--rebuild`` keeps the sources it rebuilds from.

A source's documents are the manifest records whose id starts with its key prefix. The first
source of an index has none, so an index built before sources existed is that source as it is;
every later one has ``/<name>/``. A folder's own paths never start with ``/``, so two sources that
both hold ``index.md`` never collide.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ingest.errors import CollectionGoneError, IngestError
from ingest.index.chroma_client import Guarded, Place, guard
from ingest.sources import owned
from ingest.sources.links import SiteLinks

SOURCES_SUFFIX = "-sources"
#: What a source's name may be: it is typed on the command line and shown in citations.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class SourceRecord:
    """One source of an index: a folder (``kind`` "folder") at ``location``."""

    name: str
    location: str
    prefix: str = ""  # what its documents' ids in the index start with ("" for the first source)
    kind: str = "folder"
    site_url: str = ""  # where the folder is published, as given with --site-url (else read from its config)
    links: SiteLinks | None = None  # how its files map to published pages, when that is known
    excludes: tuple[str, ...] = ()
    last_ingest: float = 0.0  # epoch seconds of its last finished ingest (0: never)
    remembered: bool = field(default=True, compare=False)  # False: inferred for an index from before sources

    def owns(self, key: str) -> bool:
        """Whether the document with this id in the index is one of this source's."""
        return owned(self.prefix, key)

    def key(self, path: str) -> str:
        """The id in the index of the document at ``path`` inside the source."""
        return self.prefix + path

    def path(self, key: str) -> str:
        """The document's path inside the source, from its id in the index."""
        return key[len(self.prefix) :]


def name_of(key: str, first: str) -> tuple[str, str]:
    """(source name, path inside it) of a document id in the index; ``first`` names the unprefixed source."""
    if key.startswith("/"):
        name, _, path = key[1:].partition("/")
        return name, path
    return first, key


def default_name(location: str) -> str:
    """A source name made from a folder's last part: ``~/work/My Docs`` -> ``My-Docs``."""
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-._")[:64]
    return name if name and NAME.fullmatch(name) else "docs"


def check_name(name: str) -> str:
    """``name`` if it can name a source, else an ``IngestError`` saying what a name may be."""
    if not NAME.fullmatch(name):
        raise IngestError(
            f"invalid source name {name!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


class Registry:
    """Reads and writes the source records of index ``index`` (the collection is made on first write)."""

    def __init__(self, client: Any, place: Place, index: str) -> None:
        self._client = client
        self._place = place
        self._name = index + SOURCES_SUFFIX
        self._collection: Guarded | None = None

    def _open(self, create: bool) -> Guarded | None:
        if self._collection is None:
            try:
                with guard(self._place):
                    found = self._client.get_collection(self._name, embedding_function=None)
                self._collection = Guarded(found, self._place)
            except CollectionGoneError:
                if not create:
                    return None
                with guard(self._place):
                    made = self._client.get_or_create_collection(
                        self._name, embedding_function=None, metadata={"role": "sources"}
                    )
                self._collection = Guarded(made, self._place)
        return self._collection

    def all(self) -> list[SourceRecord]:
        """Every remembered source, the first (unprefixed) one first, then by name."""
        collection = self._open(create=False)
        if collection is None:
            return []
        res = collection.get(include=["metadatas"])
        records = [_record(name, meta or {}) for name, meta in zip(res["ids"], res["metadatas"] or [])]
        return sorted(records, key=lambda r: (r.prefix != "", r.name))

    def get(self, name: str) -> SourceRecord | None:
        return next((r for r in self.all() if r.name == name), None)

    def save(self, record: SourceRecord) -> SourceRecord:
        """Remember ``record`` (replacing the one of that name); returns it as remembered."""
        collection = self._open(create=True)
        assert collection is not None
        record = replace(record, remembered=True)
        collection.upsert(ids=[record.name], embeddings=[[0.0]], metadatas=[_metadata(record)])
        return record

    def touch(self, name: str) -> None:
        """Record that source ``name`` was just ingested."""
        record = self.get(name)
        if record is not None:
            self.save(replace(record, last_ingest=time.time()))

    def forget(self, name: str) -> None:
        collection = self._open(create=False)
        if collection is not None:
            collection.delete(ids=[name])


def _metadata(record: SourceRecord) -> dict[str, str | float]:
    return {
        "kind": record.kind,
        "location": record.location,
        "prefix": record.prefix,
        "site_url": record.site_url,
        "links": record.links.to_json() if record.links else "",
        "excludes": json.dumps(list(record.excludes)),
        "last_ingest": record.last_ingest,
    }


def _record(name: str, meta: dict[str, Any]) -> SourceRecord:
    try:
        excludes = tuple(str(g) for g in json.loads(str(meta.get("excludes") or "[]")))
    except (ValueError, TypeError):
        excludes = ()
    return SourceRecord(
        name=name,
        location=str(meta.get("location", "")),
        prefix=str(meta.get("prefix", "")),
        kind=str(meta.get("kind", "folder")),
        site_url=str(meta.get("site_url", "")),
        links=SiteLinks.from_json(str(meta.get("links") or "")),
        excludes=excludes,
        last_ingest=float(meta.get("last_ingest") or 0.0),
    )
