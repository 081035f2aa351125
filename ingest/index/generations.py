"""Generations of an index: the set of collections readers use, and the one-write switch a rebuild ends with.

``ingest --rebuild`` builds a whole new set of the three collections beside the old one
(``<name>.r<N>``, ``<name>.r<N>-docs``, ``<name>.r<N>-sentences``), then switches readers over by
writing N into the metadata of a small pointer collection, ``<name>-active`` (one atomic write),
and deletes the old set. Until then every reader keeps answering from the old index;
``Store.follow()`` moves a long-running reader to the new one. No pointer means the index built
before the first rebuild: ``<name>`` itself.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ingest.errors import CollectionGoneError
from ingest.index.chroma_client import Place, guard

log = logging.getLogger(__name__)

DOCS_SUFFIX = "-docs"
SENTENCES_SUFFIX = "-sentences"
POINTER_SUFFIX = "-active"


def set_base(name: str, rebuild: int) -> str:
    """The chunk collection of rebuild ``rebuild`` of index ``name`` (the others add a suffix to it)."""
    return name if rebuild == 0 else f"{name}.r{rebuild}"


def active_rebuild(client: Any, place: Place, name: str) -> int:
    """Which set of collections readers use: the rebuild number in ``<name>-active`` (0 without one)."""
    try:
        with guard(place):
            meta = client.get_collection(name + POINTER_SUFFIX, embedding_function=None).metadata
    except CollectionGoneError:
        return 0
    return int((meta or {}).get("rebuild", 0))


def switch_readers(client: Any, place: Place, name: str, rebuild: int) -> None:
    """Point every reader of index ``name`` at rebuild ``rebuild``: one metadata write."""
    with guard(place):
        pointer = client.get_or_create_collection(
            name + POINTER_SUFFIX, embedding_function=None, metadata={"rebuild": rebuild}
        )
        pointer.modify(metadata={"rebuild": rebuild, "switched": time.time()})


def drop_set(client: Any, place: Place, base: str) -> None:
    """Delete the chunk, manifest and sentence collections named after ``base`` (those that exist)."""
    for name in (base, base + DOCS_SUFFIX, base + SENTENCES_SUFFIX):
        try:
            with guard(place):
                client.delete_collection(name)
        except CollectionGoneError:
            log.debug("no collection %s to delete", name)
