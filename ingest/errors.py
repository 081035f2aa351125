"""Errors raised by the ingest library; each message is fit for a user."""

from __future__ import annotations


class IngestError(Exception):
    """Base of the ingest library's user-facing errors."""


class SkipFile(IngestError):
    """A file cannot be read as a document; the message says why. Ingest reports and moves on."""


class NothingToIndex(SkipFile):
    """A file with no prose of its own (only directives or includes, a template): skipped, not failed."""


class IndexMismatchError(IngestError):
    """The index was built with other embedding or chunking parameters."""


class StoreUnavailableError(IngestError):
    """The Chroma store (folder or server) cannot be opened or reached."""


class IndexDamagedError(StoreUnavailableError):
    """The index's files are damaged; the message says how to rebuild it."""


class CollectionGoneError(StoreUnavailableError):
    """A collection disappeared while in use (another process rebuilt or removed the index)."""


class IngestLockedError(IngestError):
    """Another ingest is writing the same index."""
