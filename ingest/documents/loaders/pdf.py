"""PDF files -> blocks: the text layer (pypdf), without running headers, footers and page numbers.

A PDF's text comes as lines; the structure is rebuilt from them:

* lines repeated at the top or bottom of most pages (running headers and footers, digits
  ignored) and lines that are only a page number go; table-of-contents lines (dot leaders ending
  in a page number) and figure debris (lines of numbers only) go too;
* numbered headings ("3.2 Output File Formats") open sections, so passages carry a section path;
* lines are joined into paragraphs: a paragraph ends at a line that ends a sentence and falls short
  of the page's usual line length (or ends its page), before a bullet or an option line, and before
  a heading;
* a word hyphenated across a line break is joined ("combina-/torial"), keeping the hyphen when the
  document writes that word with one elsewhere ("real-/world");
* ligatures (ﬁ) become letters, and LaTeX's en dash for ``--`` before an option name (–help) is
  written back as ``--``.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from ingest.documents.document import BlockBuilder, Document
from ingest.errors import SkipFile

_PAGE_NUMBER = re.compile(r"^(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
_DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}$")
_NUMBERS_ONLY = re.compile(r"^[\d\s.,:;()/+-]+$")
_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([A-Z][^\n]{0,90})$")
_TOC_ENTRY = re.compile(r"\s\d{1,4}$")  # "2 Algorithmic components 2": a contents line, not a heading
_BULLET = re.compile(r"^(?:(?:[•●▪◦·*]|\(?[a-z0-9]\)|\d{1,2}\.)\s+|--?[A-Za-z])")  # list items, option lines
_LATEX_OPTION_DASH = re.compile(r"(^|[\s\[(])–(?=[a-z])")
_HYPHEN_BREAK = re.compile(r"([A-Za-z]{2,})-$")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")
_ENDS = re.compile(r"[.!?:][\"”’')\]]*$")
_EDGE_LINES = 2  # lines at the top and at the bottom of a page where running headers and footers sit


@dataclass
class _Line:
    text: str
    page: int


def load_pdf(data: bytes) -> Document:
    """Text of each page as blocks (each with its page), title from the PDF's metadata."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise SkipFile("broken PDF: no PDF header")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise SkipFile("encrypted PDF") from None
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.title) if reader.metadata is not None and reader.metadata.title else ""
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises a wide range of errors on damaged files
        raise SkipFile(f"broken PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    lines = _content_lines(pages)
    if not lines:
        raise SkipFile("PDF has no extractable text (scanned images?)")
    blocks = _blocks(lines)
    if not title.strip():
        title = _first_line_title(pages)
    metadata = {"title": title} if title.strip() else {}
    return Document(blocks.blocks, metadata)


def _content_lines(pages: list[str]) -> list[_Line]:
    """Every page's lines without running headers/footers, page numbers, TOC leaders and figure debris."""
    per_page = []
    for page in pages:
        text = unicodedata.normalize("NFKC", page).replace("\t", " ")
        per_page.append([" ".join(line.split()) for line in text.split("\n") if line.strip()])
    repeated = _running_lines(per_page)
    out: list[_Line] = []
    for number, lines in enumerate(per_page, 1):
        for i, line in enumerate(lines):
            at_edge = i < _EDGE_LINES or i >= len(lines) - _EDGE_LINES
            if at_edge and (_PAGE_NUMBER.match(line) or _shape(line) in repeated):
                continue
            if _DOT_LEADER.search(line) or (_NUMBERS_ONLY.match(line) and len(line) < 40):
                continue
            out.append(_Line(_LATEX_OPTION_DASH.sub(r"\1--", line), number))
    return out


def _first_line_title(pages: list[str]) -> str:
    """The first line of the first page, when it reads like a title (often also the running header)."""
    for page in pages[:1]:
        for line in unicodedata.normalize("NFKC", page).split("\n"):
            line = " ".join(line.split())
            if line:
                short = len(line.split()) <= 15 and not _ENDS.search(line) and not _PAGE_NUMBER.match(line)
                return line if short else ""
    return ""


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Line shapes at the top or bottom of at least half the pages (three at least): headers and footers."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edges = {_shape(line) for line in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]}
        counts.update(edges)
    return {shape for shape, n in counts.items() if n >= max(3, len(pages) / 2)}


def _blocks(lines: list[_Line]) -> BlockBuilder:
    vocabulary = {w.lower() for line in lines for w in _WORD.findall(line.text)}
    typical: dict[int, float] = {}
    for page in {line.page for line in lines}:
        lengths = sorted(len(line.text) for line in lines if line.page == page)
        typical[page] = lengths[int(0.8 * (len(lengths) - 1))]
    blocks = BlockBuilder()
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.add("paragraph", " ".join(current))
            current.clear()

    for i, line in enumerate(lines):
        text = line.text
        heading = _HEADING.match(text)
        if heading and _TOC_ENTRY.search(text):
            continue
        if heading and not _ENDS.search(text) and len(text.split()) <= 12:
            flush()
            blocks.page = line.page
            blocks.heading(heading.group(1).count(".") + 1, text)
            continue
        if _BULLET.match(text):
            flush()
        if not current:
            blocks.page = line.page
        if current and _HYPHEN_BREAK.search(current[-1]) and text[:1].islower():
            current[-1] = _join_hyphenated(current[-1], text, vocabulary)
        else:
            current.append(text)
        following = lines[i + 1].text if i + 1 < len(lines) else ""
        page_ends = i + 1 < len(lines) and lines[i + 1].page != line.page
        short = len(text) < 0.85 * typical[line.page] or page_ends
        if not following or (_ENDS.search(text) and short) or _BULLET.match(following):
            flush()
    flush()
    return blocks


def _join_hyphenated(head: str, tail: str, vocabulary: set[str]) -> str:
    """``head`` ends with a hyphenated word part: glue ``tail``'s first word to it, as the document spells it."""
    first, _, rest = tail.partition(" ")
    part = _HYPHEN_BREAK.search(head)
    assert part is not None
    joined = part.group(1) + first
    word = re.sub(r"\W+$", "", joined).lower()
    hyphenated = re.sub(r"\W+$", "", f"{part.group(1)}-{first}").lower()
    if hyphenated in vocabulary and word not in vocabulary:
        joined = f"{part.group(1)}-{first}"
    return head[: part.start()] + joined + (f" {rest}" if rest else "")
