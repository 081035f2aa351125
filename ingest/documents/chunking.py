"""Chunks packed from whole blocks of one section, sized in the embedding model's word pieces.

A chunk is consecutive blocks of one section (same heading trail), packed until the next block
would pass ``params.tokens`` word pieces or ``params.max_chars`` characters; the section path
travels with the chunk (in its header and metadata), never in its quoted text. A block that alone
is too big is cut where its kind allows: a paragraph between sentences (llama-index's
``SentenceSplitter``, with ``params.overlap`` word pieces carried over), code and table rows between
lines (each piece fenced again). Nothing is ever cut inside a line of code or a sentence that fits.

The header ("title | publisher | date | section") is always kept with the chunk for keyword search
and metadata cues; it is embedded with the text only when ``ChunkParams.embed_header`` is set (a
header shared by every chunk of a document pulls their vectors together; see bench/README.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ingest.documents.document import BLOCK_SEPARATOR, Block, Document, section_label

#: Word pieces kept free for the header and the model's special tokens.
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
    start: int  # offsets in ``Document.text``
    end: int
    page: int | None
    metadata: dict[str, Any]
    header: str = ""
    section: tuple[str, ...] = ()
    anchor: str = ""
    kinds: tuple[str, ...] = field(default=(), compare=False)  # the kinds of blocks it holds, in order

    @property
    def content_hash(self) -> str:
        """Identifies what was embedded; equal hashes can share one embedding."""
        return hashlib.sha1(self.embed_text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Piece:
    """A block, or a part of one too big to stay whole, as it will appear in a chunk."""

    shown: str
    block: Block
    start: int


class Chunker:
    """Cuts Documents into Chunks of at most ``params.tokens`` word pieces and ``params.max_chars`` characters."""

    def __init__(self, params: ChunkParams, tokenize: Callable[[str], list[str]]) -> None:
        self.params = params
        self._tokenize = tokenize
        self._splitter: Any = None

    def header(self, metadata: dict[str, Any], section: tuple[str, ...] = ()) -> str:
        """The context line kept (not quoted) with every chunk: title, publisher, day, section path."""
        parts = [str(metadata.get(key, "")).strip() for key in ("title", "source_name", "date")]
        parts[2] = parts[2][:10]  # the day is enough to rank by
        parts.append(section_label(section))
        header = " | ".join(p for p in parts if p)
        pieces = self._tokenize(header)
        if len(pieces) > HEADER_TOKENS - 4:
            header = header[: max(20, len(header) * (HEADER_TOKENS - 4) // max(1, len(pieces)))]
        return header

    def chunk(self, doc: Document, base_metadata: dict[str, Any] | None = None) -> list[Chunk]:
        """Split ``doc`` into chunks carrying the document's metadata, section, page and character offsets."""
        metadata = {**doc.metadata, **(base_metadata or {})}
        chunks: list[Chunk] = []
        group: list[_Piece] = []
        size = 0
        for piece in self._pieces(doc):
            tokens = len(self._tokenize(piece.shown))
            same_section = not group or (group[0].block.section, group[0].block.anchor) == (
                piece.block.section,
                piece.block.anchor,
            )
            joined = sum(len(p.shown) for p in group) + len(BLOCK_SEPARATOR) * len(group) + len(piece.shown)
            if group and (not same_section or size + tokens > self.params.tokens or joined > self.params.max_chars):
                chunks.append(self._make(group, len(chunks), metadata))
                group, size = [], 0
            group.append(piece)
            size += tokens + 1
        if group:
            chunks.append(self._make(group, len(chunks), metadata))
        return chunks

    def _make(self, group: list[_Piece], index: int, metadata: dict[str, Any]) -> Chunk:
        first = group[0]
        text = BLOCK_SEPARATOR.join(p.shown for p in group)
        section = first.block.section
        header = self.header(metadata, section)
        embed_text = f"{header}\n{text}" if header and self.params.embed_header else text
        return Chunk(
            text=text,
            embed_text=embed_text,
            index=index,
            start=first.start,
            end=group[-1].start + len(group[-1].shown),
            page=first.block.page,
            metadata=metadata,
            header=header,
            section=section,
            anchor=first.block.anchor,
            kinds=tuple(p.block.kind for p in group),
        )

    def _pieces(self, doc: Document) -> Iterator[_Piece]:
        """Every content block (headings live in the section paths), cut when it alone is too big."""
        offset = 0
        for block in doc.blocks:
            if block.kind == "heading":
                continue
            shown = block.shown
            for part, at in self._fit(block, shown):
                yield _Piece(part, block, offset + at)
            offset += len(shown) + len(BLOCK_SEPARATOR)

    def _fit(self, block: Block, shown: str) -> list[tuple[str, int]]:
        """``shown`` whole if it fits, else its parts with their offsets in it."""
        if len(shown) <= self.params.max_chars and len(self._tokenize(shown)) <= self.params.tokens:
            return [(shown, 0)]
        if block.kind == "code":
            return self._code_parts(block)
        if block.kind == "table_row":
            cells = self._lines_parts(shown.split(" — "), " — ", self.params.max_chars)
            return [(p, shown.find(p)) for p in cells]
        return [(p, max(0, shown.find(p[:40]))) for p in self._sentence_parts(shown)]

    def _code_parts(self, block: Block) -> list[tuple[str, int]]:
        """An over-long code block as several fenced blocks, cut between lines (a too-long line alone is cut)."""
        fence_open, fence_close = f"```{block.language}\n", "\n```"
        budget = self.params.max_chars - len(fence_open) - len(fence_close)
        lines: list[str] = []
        for line in block.text.split("\n"):
            lines.extend(line[i : i + budget] for i in range(0, max(1, len(line)), budget))
        parts = self._lines_parts(lines, "\n", budget, reserve=len(self._tokenize(fence_open + fence_close)))
        out, at = [], len(fence_open)
        for part in parts:
            out.append((f"{fence_open}{part}{fence_close}", at - len(fence_open)))
            at += len(part) + 1
        return out

    def _lines_parts(self, lines: list[str], joiner: str, char_limit: int, reserve: int = 0) -> list[str]:
        """Lines packed greedily into parts of at most ``char_limit`` characters and the token budget."""
        parts: list[str] = []
        current: list[str] = []
        size = reserve
        for line in lines:
            tokens = len(self._tokenize(line)) + 1
            too_big = size + tokens > self.params.tokens or len(joiner.join([*current, line])) > char_limit
            if current and too_big:
                parts.append(joiner.join(current))
                current, size = [], reserve
            current.append(line)
            size += tokens
        if current:
            parts.append(joiner.join(current))
        return parts

    def _sentence_parts(self, text: str) -> list[str]:
        """A long paragraph cut between sentences, within the budgets (llama-index's sentence-aware splitter)."""
        if self._splitter is None:
            # Imported here: llama-index takes about 1.8 s to import, and most documents never need it.
            from llama_index.core.node_parser import SentenceSplitter

            self._splitter = SentenceSplitter(
                chunk_size=self.params.tokens,
                chunk_overlap=min(self.params.overlap, self.params.tokens // 2),
                tokenizer=self._tokenize,
                paragraph_separator="\n\n",
                include_metadata=False,
                include_prev_next_rel=False,
            )
        out: list[str] = []
        for part in self._splitter.split_text(text):
            out.extend(_cap_chars(part, self.params.max_chars))
        return [p for p in out if p.strip()]


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
