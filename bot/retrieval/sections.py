"""Passages widened to their section: the retrieved chunk and its neighbours in the same section.

A how-to answer quotes the section excerpt with its code block; a chunk alone may hold only part of
it. The answerer calls this (as ``widen``) on the passages it answers from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.schema import Passage
from ingest.index.store import Store

#: The most of a section one passage shows (the retrieved chunk and its neighbours in the section).
SECTION_CHARS = 2400


def whole_sections(store: Store, passages: Sequence[Passage]) -> list[Passage]:
    """Each passage widened to its section: the retrieved chunk and its neighbours, up to ``SECTION_CHARS``."""
    out = []
    sections = store.reader.section_chunks([(p.source, p.section) for p in passages if p.section])
    for passage in passages:
        chunks = sections.get((passage.source, passage.section), []) if passage.section else []
        if len(chunks) <= 1:
            out.append(passage)
            continue
        at = next((i for i, c in enumerate(chunks) if c.id == passage.chunk_id), 0)
        lo = hi = at
        size = len(chunks[at].text)
        while True:
            grown = False
            for j in (hi + 1, lo - 1):
                if 0 <= j < len(chunks) and not lo <= j <= hi and size + len(chunks[j].text) <= SECTION_CHARS:
                    lo, hi = min(lo, j), max(hi, j)
                    size += len(chunks[j].text)
                    grown = True
            if not grown:
                break
        text = "\n\n".join(c.text for c in chunks[lo : hi + 1])
        out.append(replace(passage, text=text))
    return out
