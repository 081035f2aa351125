"""The typed records the index stores and returns: a chunk's metadata, a stored chunk, a chunk to write.

Chroma keeps metadata as flat dicts of str/int/float/bool. ``ChunkMeta`` is the one place that
knows their keys: ``to_chroma`` writes them and ``from_chroma`` reads them back (tolerating
missing or mistyped values from older indexes). Query filters name keys through the constants
below, never as bare strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.index.registry import name_of

#: Metadata keys used in store filters.
SOURCE = "source"
LIVE = "live"
DOC_HASH = "doc_hash"
CHUNK_HASH = "chunk_hash"
SECTION = "section"


@dataclass(frozen=True)
class ChunkMeta:
    """What the index knows about a chunk besides its text and vector."""

    source: str  # the document's id: its path in its source's folder ("/" separators) after the source's prefix
    title: str = ""
    url: str = ""
    date: str = ""
    author: str = ""
    source_name: str = ""  # the publisher
    header: str = ""  # context line, keyword-searchable, never quoted
    section: str = ""  # the heading trail, "CORS › Use CORSMiddleware"
    anchor: str = ""  # the section's id in the document ("use-corsmiddleware"), if it has one
    slug: str = ""  # the page's address from its front matter (Docusaurus ``slug:``), if it gives one
    chunk_index: int = 0
    start: int = 0  # character offsets in the loaded document
    end: int = 0
    doc_hash: str = ""
    chunk_hash: str = ""
    page: int | None = None
    live: bool = True  # False while an ingest writes a new version (see ingest/index/writes.py)
    origin: str = ""  # the name of the index's source the document is in; read from ``source``, never stored

    def to_chroma(self) -> dict[str, str | int | float | bool]:
        """Flat metadata for Chroma (``page`` left out when the document has no pages)."""
        out: dict[str, str | int | float | bool] = {
            k: v for k, v in asdict(self).items() if v is not None and k != "origin"
        }
        return out

    @classmethod
    def from_chroma(cls, meta: Mapping[str, Any] | None, first_source: str = "") -> ChunkMeta:
        """Read flat metadata (Chroma's, or a loaded document's); absent or mistyped values take their defaults.

        ``first_source`` names the index's source whose document ids carry no prefix.
        """
        meta = meta or {}
        page = meta.get("page")
        source = str(meta.get(SOURCE, ""))
        return cls(
            source=source,
            origin=name_of(source, first_source)[0],
            title=str(meta.get("title", "")),
            url=str(meta.get("url", "")),
            date=str(meta.get("date", "")),
            author=str(meta.get("author", "")),
            source_name=str(meta.get("source_name", "")),
            header=str(meta.get("header", "")),
            section=str(meta.get(SECTION, "")),
            anchor=str(meta.get("anchor", "")),
            slug=str(meta.get("slug", "")),
            chunk_index=_int(meta.get("chunk_index")),
            start=_int(meta.get("start")),
            end=_int(meta.get("end")),
            doc_hash=str(meta.get(DOC_HASH, "")),
            chunk_hash=str(meta.get(CHUNK_HASH, "")),
            page=int(page) if isinstance(page, (int, float)) and not isinstance(page, bool) else None,
            live=meta.get(LIVE) is True,
        )


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the store returns it: id, quoted text, metadata; ``score`` for query hits, ``embedding`` if asked."""

    id: str
    text: str
    meta: ChunkMeta
    score: float = 0.0
    embedding: Sequence[float] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ChunkRow:
    """A chunk to write: id, quoted text, embedding and metadata."""

    id: str
    text: str
    embedding: Sequence[float]
    meta: ChunkMeta
