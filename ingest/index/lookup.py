"""What a chunk's stored metadata leaves to its source: which source it is in, and its published page.

Both come from the index's source records (ingest/index/registry.py) when chunks are read, so
giving a source a site URL, or moving it, never needs its documents embedded or written again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ingest.documents.document import SECTION_SEPARATOR
from ingest.index.records import ChunkMeta
from ingest.index.registry import SourceRecord
from ingest.sources.links import SiteLinks


class SourceLookup:
    """Reads a chunk's metadata with its source's name and, where the source is published, its URL."""

    def __init__(self, records: Sequence[SourceRecord] = ()) -> None:
        self.first = next((r.name for r in records if not r.prefix), "")
        self._links: dict[str, tuple[SourceRecord, SiteLinks]] = {
            r.name: (r, r.links) for r in records if r.links is not None and r.links.base
        }

    def meta(self, raw: Mapping[str, Any] | None) -> ChunkMeta:
        """``raw`` Chroma metadata as a ChunkMeta; a document without its own URL gets its page's, and
        its section the anchor the site gives it."""
        meta = ChunkMeta.from_chroma(raw, self.first)
        found = self._links.get(meta.origin)
        if found is None or (meta.url and found[1].style != "site"):  # a crawled page is cited where it was read
            return meta
        record, links = found
        page = links.page(record.path(meta.source), meta.slug)
        if not page:
            return meta
        heading = meta.section.rsplit(SECTION_SEPARATOR, 1)[-1] if meta.section else ""
        return replace(meta, url=page, anchor=links.anchor(meta.anchor, heading))
