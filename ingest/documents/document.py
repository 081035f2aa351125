"""A loaded document as its author structured it: a sequence of blocks, each in its section.

Every loader (one per format, in ingest/documents/loaders/) produces the same shape: blocks of plain text
(headings, paragraphs, list items, code, table rows, admonitions) with the heading trail they sit
under and, where the source has one, the anchor id of their section. Markup is gone by then:
the text of a block is what a reader sees; code keeps its lines and its language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "list_item", "code", "table_row", "admonition", "quote"]
#: Shown between the parts of a section path ("Timeouts › Setting a default timeout").
SECTION_SEPARATOR = " › "
#: Blocks are joined by a blank line in the document's text (and in a chunk's).
BLOCK_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Block:
    """One unit of a document; ``text`` is plain (code: verbatim lines, fenced when shown)."""

    kind: BlockKind
    text: str
    section: tuple[str, ...] = ()  # the heading trail this block sits under (a heading: its own trail)
    anchor: str = ""  # id of the innermost heading of ``section`` that has one
    language: str = ""  # code blocks: the language, when the source says it
    page: int | None = None  # PDFs: 1-based page
    level: int = 0  # headings: 1 for a top-level heading

    @property
    def shown(self) -> str:
        """The block as it appears in a passage: code fenced with its language, the rest as is."""
        if self.kind == "code":
            return f"```{self.language}\n{self.text}\n```"
        if self.kind == "list_item":
            return f"- {self.text}"
        return self.text


@dataclass
class Document:
    """Blocks plus metadata (title, url, date, author, source_name, and notes such as dropped includes)."""

    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    @property
    def text(self) -> str:
        """The document's text as passages show it: every block but headings, blank-line separated."""
        return BLOCK_SEPARATOR.join(b.shown for b in self.blocks if b.kind != "heading")

    @property
    def paged(self) -> bool:
        return any(b.page is not None for b in self.blocks)


@dataclass(frozen=True)
class Part:
    """A block read back from a passage's text: ``prose`` (paragraph, admonition, table row), ``item`` or ``code``."""

    kind: Literal["prose", "item", "code"]
    text: str  # code: the code without its fences; an item: without its "- "
    start: int  # offsets of the part as shown in the passage (fences included)
    end: int
    language: str = ""


_FENCE_OPEN = re.compile(r"^```([\w+#.-]*)[ \t]*$")


def passage_parts(text: str) -> list[Part]:
    """The blocks of a passage's text, as ``Block.shown`` wrote them (the inverse of joining blocks)."""
    parts: list[Part] = []
    pos = 0
    while pos < len(text):
        while text.startswith("\n", pos):
            pos += 1
        if pos >= len(text):
            break
        line_end = text.find("\n", pos)
        first = text[pos : line_end if line_end >= 0 else len(text)]
        fence = _FENCE_OPEN.match(first)
        if fence and line_end >= 0:
            close = text.find("\n```", line_end)
            while close >= 0 and not (close + 4 == len(text) or text[close + 4] == "\n"):
                close = text.find("\n```", close + 4)
            if close >= 0:
                parts.append(Part("code", text[line_end + 1 : close], pos, close + 4, fence.group(1)))
                pos = close + 4
                continue
        end = text.find(BLOCK_SEPARATOR, pos)
        end = len(text) if end < 0 else end
        chunk = text[pos:end]
        if chunk.startswith("- "):
            parts.append(Part("item", chunk[2:], pos, end))
        else:
            parts.append(Part("prose", chunk, pos, end))
        pos = end
    return parts


def section_label(section: tuple[str, ...]) -> str:
    """``("CORS", "Use CORSMiddleware")`` -> ``"CORS › Use CORSMiddleware"``."""
    return SECTION_SEPARATOR.join(section)


class BlockBuilder:
    """Collects blocks while a loader walks its source, keeping the heading trail and anchors.

    ``inherit_anchors``: a section whose heading has no id of its own is linked by the nearest
    enclosing one (a built HTML page, where the id on the page is all there is). Markdown says no:
    its headings without an explicit ``{#id}`` get the site generator's slug when a link is made
    (ingest/sources/links.py), which an inherited id would hide.
    """

    def __init__(self, inherit_anchors: bool = True) -> None:
        self.inherit_anchors = inherit_anchors
        self.blocks: list[Block] = []
        self._trail: list[tuple[int, str, str]] = []  # (level, heading text, anchor)
        self.objects: list[str] = []  # ids of the object descriptions being read, outermost first (MyST)
        self.page: int | None = None

    @property
    def section(self) -> tuple[str, ...]:
        return tuple(text for _, text, _ in self._trail)

    @property
    def anchor(self) -> str:
        """The current section's id: its heading's own, else (``inherit_anchors``) the nearest enclosing one's."""
        if not self.inherit_anchors:
            return self._trail[-1][2] if self._trail else ""
        return next((a for _, _, a in reversed(self._trail) if a), "")

    def heading(self, level: int, text: str, anchor: str = "") -> None:
        """A heading of ``level`` (1 = top) closes deeper sections and opens its own."""
        text = " ".join(text.split())
        if not text:
            return
        while self._trail and self._trail[-1][0] >= level:
            self._trail.pop()
        self._trail.append((level, text, anchor))
        self.blocks.append(Block("heading", text, self.section, self.anchor, page=self.page, level=level))

    @property
    def depth(self) -> int:
        """The level of the current section's heading (0 before any)."""
        return self._trail[-1][0] if self._trail else 0

    def close(self, level: int) -> None:
        """Close the sections of ``level`` and deeper: what follows belongs to the enclosing one."""
        while self._trail and self._trail[-1][0] >= level:
            self._trail.pop()

    def add(self, kind: BlockKind, text: str, language: str = "") -> None:
        """A content block in the current section; empty text is ignored."""
        if kind == "code":
            text = text.strip("\n")
            if not text.strip():
                return
        else:
            text = " ".join(text.split()) if kind != "table_row" else text.strip()
            if not text:
                return
        self.blocks.append(Block(kind, text, self.section, self.anchor, language, self.page))

    def label(self, start: int, label: str) -> None:
        """Label the blocks added since ``start`` (an admonition, a tab): "Note: first paragraph", else a lead-in.

        When the content starts with code or a table, the label becomes its lead-in paragraph ("pip:");
        an admonition with no content at all is its label alone.
        """
        label = " ".join(label.split())
        if not label:
            return
        added = self.blocks[start:]
        lead = label if label.endswith((":", "?", "!")) else f"{label}:"  # "Why is it slow?" leads in as it is
        if added and added[0].kind in ("paragraph", "list_item", "quote"):
            self.blocks[start] = replace(added[0], kind="admonition", text=f"{lead} {added[0].text}")
        elif added:
            first = added[0]
            self.blocks.insert(start, Block("paragraph", lead, first.section, first.anchor, page=first.page))
        else:
            self.add("paragraph", label if label.endswith((".", ":", "!", "?")) else f"{label}.")
