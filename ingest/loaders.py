"""Read .txt, .md, .html and .pdf files into Documents with metadata.

Every loader either returns a Document with non-empty text or raises ``SkipFile``
with a one-line reason; nothing else escapes ``load_document``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.clean import clean_text
from ingest.errors import SkipFile
from ingest.sentences import SENTENCE_STOP

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf"})

# Header keys recognised at the top of .txt/.md files ("Title: ..." lines) and in front matter,
# mapped to the metadata names the index uses.
_HEADER_KEYS = {
    "title": "title",
    "source": "source_name",
    "publisher": "source_name",
    "site": "source_name",
    "url": "url",
    "link": "url",
    "published": "date",
    "date": "date",
    "published_at": "date",
    "author": "author",
    "authors": "author",
    "by": "author",
    "category": "category",
    "tags": "category",
}
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z _-]{0,20}):[ \t]*(.*)$")
_MAX_BAD_BYTE_SHARE = 0.002  # a few stray bytes are replaced; more means "not text"
_PROSE_CHECK_CHARS = 100_000  # texts past this size must contain sentences
_CHARS_PER_SENTENCE_MAX = 2_000  # prose ends a sentence far more often than this
_SENTENCE_ENDS = re.compile(rf"{SENTENCE_STOP}\s|\n\s*\n")


@dataclass
class Document:
    """A loaded document: cleaned text plus metadata (title, url, date, author, source_name).

    ``page_starts`` holds, for PDFs, the character offset where each page begins.
    """

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    page_starts: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    def page_at(self, offset: int) -> int | None:
        """1-based page number holding character ``offset``, or None for unpaged documents."""
        if not self.page_starts:
            return None
        page = 1
        for number, start in enumerate(self.page_starts, 1):
            if start <= offset:
                page = number
            else:
                break
        return page


def load_document(path: Path) -> Document:
    """Load one file by its suffix; raise ``SkipFile`` with a reason when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SkipFile(f"unsupported file type {suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot read file: {exc.strerror or exc}") from None
    if not data.strip():
        raise SkipFile("empty file")
    if suffix == ".pdf":
        doc = _load_pdf(data)
    elif suffix in (".html", ".htm"):
        doc = _load_html(decode_text(data))
    else:
        doc = _load_plain(decode_text(data))
    if doc.metadata.get("title"):
        doc.metadata["title"] = _unescape(str(doc.metadata["title"]))[:300]
        _drop_leading_title(doc)
    else:
        doc.metadata["title"] = _title_from_text(doc.text) or path.stem.replace("_", " ").replace("-", " ")
    if not doc.text.strip():
        raise SkipFile("no text left after cleaning")
    _check_prose(doc.text)
    return doc


def _check_prose(text: str) -> None:
    """Refuse large texts without sentences (minified data, one giant token): nothing in them is quotable."""
    if len(text) < _PROSE_CHECK_CHARS:
        return
    ends = len(_SENTENCE_ENDS.findall(text))
    if ends * _CHARS_PER_SENTENCE_MAX < len(text):
        raise SkipFile(
            f"no sentences in {len(text) / 1e6:.1f} MB of text ({ends} sentence ends): looks like data, not prose"
        )


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


def _load_plain(text: str) -> Document:
    """A .txt or .md file: optional YAML front matter or ``Key: value`` header lines, then the body."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    metadata, body = _split_front_matter(text)
    if not metadata:
        metadata, body = _split_header_lines(body)
    return Document(text=clean_text(body), metadata=metadata)


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    import yaml

    try:
        raw = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return {}, text
    if not isinstance(raw, dict):
        return {}, text
    rest = text[end + 4 :]
    rest = rest.split("\n", 1)[1] if "\n" in rest else ""
    return _map_header(raw), rest


def _split_header_lines(text: str) -> tuple[dict[str, Any], str]:
    """Leading ``Title: ...`` style lines up to the first blank line, if the first one is a known key."""
    lines = text.split("\n")
    raw: dict[str, Any] = {}
    consumed = 0
    for line in lines[:20]:
        if not line.strip():
            if raw:
                consumed += 1
            break
        match = _HEADER_LINE.match(line.strip())
        if not match or match.group(1).strip().lower().replace(" ", "_") not in _HEADER_KEYS:
            if not raw:
                return {}, text
            break
        raw[match.group(1).strip().lower().replace(" ", "_")] = match.group(2).strip()
        consumed += 1
    if not raw:
        return {}, text
    return _map_header(raw), "\n".join(lines[consumed:])


def _map_header(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = _HEADER_KEYS.get(str(key).strip().lower().replace(" ", "_"))
        if name is None or value in (None, ""):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        out.setdefault(name, _unescape(str(value)).strip())
    return out


def _load_html(html: str) -> Document:
    """Main text and metadata of a web page, via trafilatura's boilerplate removal."""
    import trafilatura

    try:
        body = trafilatura.extract(
            html, output_format="txt", include_comments=False, include_tables=True, favor_recall=True
        )
        meta = trafilatura.extract_metadata(html)
    except Exception as exc:  # trafilatura/lxml raise many kinds on malformed input
        log.debug("trafilatura failed", exc_info=True)
        raise SkipFile(f"unreadable HTML ({type(exc).__name__})") from None
    if not body:
        body = trafilatura.html2txt(html) or ""
    metadata: dict[str, Any] = {}
    if meta is not None:
        for attr, name in (
            ("title", "title"),
            ("url", "url"),
            ("date", "date"),
            ("author", "author"),
            ("sitename", "source_name"),
        ):
            value = getattr(meta, attr, None)
            if value:
                metadata[name] = str(value)
    return Document(text=clean_text(body), metadata=metadata)


def _load_pdf(data: bytes) -> Document:
    """Text of each page of a PDF, with the offsets where pages start."""
    import io

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
        pages = []
        for page in reader.pages:
            pages.append(page.extract_text() or "")
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises a wide range of errors on damaged files
        raise SkipFile(f"broken PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    text_parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page_text in pages:
        cleaned = clean_text(page_text)
        starts.append(offset)
        text_parts.append(cleaned)
        offset += len(cleaned) + 2
    text = "\n\n".join(text_parts)
    if not text.strip():
        raise SkipFile("PDF has no extractable text (scanned images?)")
    metadata = {"title": title} if title else {}
    return Document(text=text, metadata=metadata, page_starts=starts)


def _drop_leading_title(doc: Document) -> None:
    """The headline repeated as the body's first line is metadata, not a passage to quote."""
    first, _, rest = doc.text.partition("\n")
    if first.strip().lstrip("#").strip().lower() == doc.title.strip().lower() and rest.strip() and not doc.page_starts:
        doc.text = rest.lstrip("\n")


def _title_from_text(text: str) -> str:
    for line in text.split("\n")[:5]:
        line = line.strip().lstrip("#").strip()
        if 3 <= len(line) <= 150 and len(line.split()) <= 20:
            return line
    return ""


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
