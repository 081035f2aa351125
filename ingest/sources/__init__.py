"""Where documents come from. A source answers two questions, and the pipeline never knows which kind it drives.

* ``list(report)``: what exists now, cheaply: each document's id (its path as the index names it,
  ``/`` separators) and a stamp (size and modification time for a folder; a crawled site would give
  its Content-Length and Last-Modified). Documents left out on purpose go in ``report``; those
  excluded by a rule come back in ``Listing.excluded``, since their chunks must go.
* ``fetch(id)``: the document's bytes (hashed to tell a touched file from a changed one), and
  ``locate(id)``: the file a loader reads it from (a folder's own file, a site's cached copy).

``owns(id)`` tells which of an index's documents are the source's: its ids carry the source's key
prefix (ingest/index/registry.py), so refreshing one source never touches another's documents.

``folder.FolderSource`` is the folder on disk behind `citebot ingest PATH`; a docs site plugs in
here beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ingest.report import IngestReport


@dataclass(frozen=True)
class Stamp:
    """What tells a document changed without reading it: the manifest keeps both values."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Listing:
    """What a source holds now: a stamp per document id, and the ids left out by an exclusion rule."""

    stamps: dict[str, Stamp]
    excluded: frozenset[str] = field(default_factory=frozenset)


class Source(Protocol):
    """A place documents come from (see the module docstring)."""

    def list(self, report: IngestReport) -> Listing:
        """Every document there now with its stamp; skips and unreadable entries are told to ``report``."""
        ...

    def owns(self, doc_id: str) -> bool:
        """Whether a document id in the index is this source's (an index holds several sources)."""
        ...

    def fetch(self, doc_id: str) -> bytes:
        """The document's content; raises ``OSError`` when it cannot be read."""
        ...

    def locate(self, doc_id: str) -> Path:
        """The file a loader reads the document from."""
        ...


def owned(prefix: str, doc_id: str) -> bool:
    """Whether the document ``doc_id`` of an index belongs to the source whose ids start with ``prefix`` (the
    first source's is "", and only its ids do not start with "/")."""
    return doc_id.startswith(prefix) if prefix else not doc_id.startswith("/")
