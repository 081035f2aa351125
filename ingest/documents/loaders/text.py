"""Bytes to text (refusing binary data), and plain-text documents: header lines, then paragraphs."""

from __future__ import annotations

import re

from ingest.documents.clean import clean_text
from ingest.documents.document import BlockBuilder, Document
from ingest.documents.loaders.frontmatter import split_front_matter, split_header_lines
from ingest.documents.sentences import ENDS_SENTENCE
from ingest.errors import SkipFile

_MAX_BAD_BYTE_SHARE = 0.002  # a few stray bytes are replaced; more means "not text"
#: A reStructuredText field (":Version: 5.5.3 (immunity)"), as a fragment a Sphinx page includes starts: no title.
RST_FIELD = r":[A-Za-z][\w -]*:(?:\s|$)"
_FIELD = re.compile(r"^\s*" + RST_FIELD)


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 text; a handful of bad bytes become U+FFFD, binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SkipFile("undecodable UTF-16 text") from None
    head = data[:65536]
    if b"\x00" in head:
        raise SkipFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > max(3, _MAX_BAD_BYTE_SHARE * len(data)):
        raise SkipFile(f"undecodable: not UTF-8 text ({bad} invalid byte sequences)")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 65536):
        raise SkipFile("binary file (control characters)")
    return text


def load_text(text: str) -> Document:
    """A .txt file: optional front matter or ``Key: value`` header lines, then paragraphs (clutter removed)."""
    metadata, body = split_front_matter(text)
    if not metadata:
        metadata, body = split_header_lines(body)
    body = clean_text(body)
    first, _, rest = body.partition("\n")
    title = str(metadata.get("title", "")).strip()
    if title and first.strip().lstrip("#").strip().lower() == title.lower() and rest.strip():
        body = rest  # the headline repeated as the first line is metadata, not a passage to quote
    elif not title and 3 <= len(first.strip()) <= 150 and len(first.split()) <= 20 and not _FIELD.match(first):
        metadata["title"] = first.strip().lstrip("#").strip()
    blocks = BlockBuilder()
    for paragraph in re.split(r"\n\s*\n", body):
        for part in _standalone_lines(paragraph):
            blocks.add("paragraph", part)
    return Document(blocks.blocks, metadata)


def _standalone_lines(paragraph: str) -> list[str]:
    """A paragraph's lines joined back into prose, except short heading-like lines, which stand alone.

    A hard-wrapped line goes on; a line of at most eight words without end punctuation, followed by a
    line that starts a new sentence, is a heading or a caption (as ingest/documents/sentences.py reads lines).
    """
    lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
    out: list[str] = []
    current: list[str] = []
    for i, line in enumerate(lines):
        current.append(line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        heading_like = len(line.split()) <= 8 and not ENDS_SENTENCE.search(line) and not following[:1].islower()
        if following and heading_like:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out
