"""Sentence-aware chunks with character offsets and a short context header.

llama-index's ``SentenceSplitter`` does the splitting, sized in the embedding model's own word
pieces so that header + chunk always fits the model's window (256 for all-MiniLM-L6-v2).

The header ("title | publisher | date") is always kept with the chunk for keyword search and
metadata cues; it is embedded with the text only when ``ChunkParams.embed_header`` is set. By
default it is not: a header shared by every chunk of an article pulls their vectors together,
and on the multihop-news dev set embedding the text alone ranked documents slightly better
(see bench/README.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.loaders import Document

#: Word pieces kept free for the header ("title | source | date") and the model's special tokens.
HEADER_TOKENS = 36


@dataclass(frozen=True)
class ChunkParams:
    """How documents are cut; recorded in the index so a change is detected."""

    tokens: int = 220
    overlap: int = 30
    max_chars: int = 1200
    embed_header: bool = False


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: the quoted ``text``, its context ``header`` and the ``embed_text`` that is embedded."""

    text: str
    embed_text: str
    index: int
    start: int
    end: int
    page: int | None
    metadata: dict[str, Any]
    header: str = ""

    @property
    def content_hash(self) -> str:
        """Identifies what was embedded; equal hashes can share one embedding."""
        return hashlib.sha1(self.embed_text.encode("utf-8")).hexdigest()


class Chunker:
    """Cuts Documents into Chunks of at most ``params.tokens`` word pieces and ``params.max_chars`` characters."""

    def __init__(self, params: ChunkParams, tokenize: Callable[[str], list[str]]) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        self.params = params
        self._tokenize = tokenize
        self._splitter = SentenceSplitter(
            chunk_size=params.tokens,
            chunk_overlap=min(params.overlap, params.tokens // 2),
            tokenizer=tokenize,
            paragraph_separator="\n\n",
            include_metadata=False,
            include_prev_next_rel=False,
        )

    def header(self, metadata: dict[str, Any]) -> str:
        """The context line embedded (not quoted) with every chunk: title, publisher, date."""
        parts = [str(metadata.get(key, "")).strip() for key in ("title", "source_name", "date")]
        date = parts[2]
        parts[2] = date[:10]  # the day is enough to rank by
        header = " | ".join(p for p in parts if p)
        pieces = self._tokenize(header)
        if len(pieces) > HEADER_TOKENS - 4:
            header = header[: max(20, len(header) * (HEADER_TOKENS - 4) // max(1, len(pieces)))]
        return header

    def chunk(self, doc: Document, base_metadata: dict[str, Any] | None = None) -> list[Chunk]:
        """Split ``doc`` into chunks carrying the document's metadata, page and character offsets."""
        metadata = {**doc.metadata, **(base_metadata or {})}
        header = self.header(metadata)
        pieces = [p for p in self._splitter.split_text(doc.text) if p.strip()]
        chunks: list[Chunk] = []
        cursor = 0
        for piece in pieces:
            for part in _cap_chars(piece, self.params.max_chars):
                start = doc.text.find(part, max(0, cursor - len(part)))
                if start < 0:
                    start = doc.text.find(part)
                if start < 0:  # the splitter normalised something; keep an approximate offset
                    start = cursor
                else:
                    cursor = start + 1
                end = start + len(part)
                embed_text = f"{header}\n{part}" if header and self.params.embed_header else part
                chunks.append(
                    Chunk(
                        text=part,
                        embed_text=embed_text,
                        index=len(chunks),
                        start=start,
                        end=end,
                        page=doc.page_at(start),
                        metadata=metadata,
                        header=header,
                    )
                )
        return chunks


def _cap_chars(text: str, limit: int) -> list[str]:
    """Split text longer than ``limit`` characters at whitespace (or hard, for one giant token)."""
    text = text.strip()
    out: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", limit // 2, limit)
        if cut <= 0:
            cut = limit
        out.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        out.append(text)
    return out
