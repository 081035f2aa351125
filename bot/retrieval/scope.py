"""Answering from some of an index's sources: a Discord channel given the guide, a CLI run given ``--source``.

A ``Scope`` names sources of the index (ingest/index/registry.py). Retrieval keeps to their
documents: the dense search is filtered by their document ids, the keyword ranking skips the
others. The answerability statistics (how rare a term is) stay those of the whole index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.errors import ConfigError
from ingest.index.records import SOURCE
from ingest.index.registry import SourceRecord
from ingest.index.store import Store

#: The keyword ranking searches this many times deeper when a scope leaves out most of what it finds.
KEYWORD_WIDEN = 4


class Scope:
    """The sources ``names`` of ``store``; ``ConfigError`` names the index's sources when one is unknown."""

    def __init__(self, store: Store, names: Sequence[str]) -> None:
        records = {r.name: r for r in store.sources()}
        unknown = [n for n in names if n not in records]
        if unknown:
            known = ", ".join(records) or "none"
            raise ConfigError(f"no source named {', '.join(map(repr, unknown))} in the index (its sources: {known})")
        self.store = store
        self.records: tuple[SourceRecord, ...] = tuple(records[n] for n in dict.fromkeys(names))
        self._where: tuple[str, dict[str, Any]] | None = None

    def owns(self, key: str) -> bool:
        """Whether the document with this id in the index is in one of the scope's sources."""
        return any(r.owns(key) for r in self.records)

    def where(self) -> dict[str, Any]:
        """A Chroma filter for the scope's chunks (their documents' ids, read again after each ingest)."""
        stamp = self.store.stamp()
        if self._where is None or self._where[0] != stamp:
            keys = [key for key in self.store.manifest.documents() if self.owns(key)]
            self._where = (stamp, {SOURCE: {"$in": keys or [""]}})
        return self._where[1]
