"""Read one file into a Document of blocks, by its suffix; every failure is a ``SkipFile`` with a reason.

One reader per format: text.py (.txt), markdown.py (.md, MkDocs/Docusaurus/GitHub dialects; .mdx),
html.py (.html, main content only), pdf.py, rst.py (Sphinx sources), notebook.py (.ipynb). All of
them return blocks with plain text and their section path; here every document then gets a title,
loses control characters, bracketed numbers that could pass for citation markers and (for web
formats) page clutter, and is checked for being prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from pathlib import Path

from ingest.documents.clean import clean_blocks, defuse_citation_markers, normalize, strip_controls
from ingest.documents.document import Block, Document
from ingest.documents.includes import loading
from ingest.documents.loaders.html import load_html
from ingest.documents.loaders.markdown import load_markdown, load_mdx
from ingest.documents.loaders.notebook import load_notebook
from ingest.documents.loaders.pdf import load_pdf
from ingest.documents.loaders.rst import is_restructuredtext, load_rst
from ingest.documents.loaders.text import decode_text, load_text
from ingest.documents.sentences import SENTENCE_STOP
from ingest.errors import NothingToIndex, SkipFile

__all__ = ["LOADER_VERSION", "NOTHING_TO_INDEX", "SUPPORTED_SUFFIXES", "Document", "decode_text", "load_document"]

#: Bumped when loading or chunking changes what is indexed; recorded in the index's fingerprint.
LOADER_VERSION = 4

_TEXT_LOADERS: dict[str, Callable[[str], Document]] = {
    ".txt": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".mdx": load_mdx,
    ".html": load_html,
    ".htm": load_html,
    ".rst": load_rst,
    ".ipynb": load_notebook,
}
SUPPORTED_SUFFIXES = frozenset({*_TEXT_LOADERS, ".pdf"})
_WEB_FORMATS = frozenset({".md", ".markdown", ".mdx", ".html", ".htm"})  # where page clutter is found
#: How a file with no prose of its own is reported (skipped, one summary line per ingest).
NOTHING_TO_INDEX = "nothing to index"
#: Template tags a built page never shows: ``{% block %}``, ``{{ _('Useful Links') }}``, ``{%- if %}``.
_TEMPLATE_SYNTAX = re.compile(
    r"\{%-?\s*(?:block|extends|if|for|include|macro|set|endif|endfor|endblock)\b|\{\{-?\s*[\w_.(]"
)
_CODE_ELEMENTS = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)  # examples
_PROSE_CHECK_CHARS = 100_000  # texts past this size must contain sentences
_CHARS_PER_SENTENCE_MAX = 2_000  # prose ends a sentence far more often than this


def load_document(path: Path, root: Path | None = None) -> Document:
    """Load one file by its suffix; raise ``SkipFile`` with a reason when it cannot be read.

    ``root``: the folder of the file's source; files it includes are read from inside it
    (ingest/documents/includes.py) and listed in the metadata under ``includes``.
    """
    with loading(path, root) as includes:
        doc = _load(path)
    if includes is not None and includes.read:
        doc = Document(doc.blocks, {**doc.metadata, "includes": includes.read})
    return doc


def _load(path: Path) -> Document:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SkipFile(f"unsupported file type {suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot read file: {exc.strerror or exc}") from None
    if not data.strip():
        raise SkipFile("empty file")
    if suffix == ".mdx" and path.name.startswith("_"):  # Docusaurus: a partial, not a page of its own
        raise NothingToIndex(f"{NOTHING_TO_INDEX}: an MDX partial, read where the pages that import it use it")
    text = "" if suffix == ".pdf" else normalize(decode_text(data))
    if suffix in (".html", ".htm") and _TEMPLATE_SYNTAX.search(_CODE_ELEMENTS.sub(" ", text)):
        raise NothingToIndex(f"{NOTHING_TO_INDEX}: a template (Jinja or Liquid syntax), not a page")
    if suffix == ".pdf":
        doc = load_pdf(data)
    elif suffix == ".txt" and is_restructuredtext(text):  # a Sphinx source kept as .txt (Django's docs)
        doc = load_rst(text)
    else:
        doc = _TEXT_LOADERS[suffix](text)
    blocks = [
        replace(b, text=strip_controls(b.text if b.kind == "code" else defuse_citation_markers(b.text)))
        for b in doc.blocks
    ]
    blocks = [b for b in blocks if b.text.strip()]
    if suffix in _WEB_FORMATS:
        blocks = clean_blocks(blocks)
    title = strip_controls(unescape(str(doc.metadata.get("title", "")))).strip()[:300]
    title = title or _first_heading(blocks) or _from_path(path)
    doc = Document(_without_title(blocks, title), {**doc.metadata, "title": title})
    if not any(b.kind != "heading" for b in doc.blocks):
        dropped = doc.metadata.get("dropped") or []
        only = (
            f"only {len(dropped)} include directive(s), e.g. {dropped[0][:60]!r}" if dropped else "no text of its own"
        )
        raise NothingToIndex(f"{NOTHING_TO_INDEX}: {only}")
    _check_prose(doc.text)
    return doc


def _first_heading(blocks: list[Block]) -> str:
    """A top-level heading at the start names the document ("# CORS"); a first "## v2.1" does not."""
    return next((b.text for b in blocks[:3] if b.kind == "heading" and b.level == 1), "")


def _from_path(path: Path) -> str:
    """``concepts/type_adapter.md`` -> "Type adapter"; ``http2/index.html`` -> "Http2"."""
    stem = path.parent.name if path.stem.lower() in ("index", "readme") and path.parent.name else path.stem
    words = stem.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _without_title(blocks: list[Block], title: str) -> list[Block]:
    """The title is metadata, not the first part of every section path (a page's own heading)."""
    key = title.strip().lower()
    out = []
    for block in blocks:
        if block.section and block.section[0].strip().lower() == key:
            block = replace(block, section=block.section[1:])
            if block.kind == "heading" and not block.section:
                continue
        out.append(block)
    return out


def _check_prose(text: str) -> None:
    """Refuse large texts without sentences (minified data, one giant token): nothing in them is quotable."""
    if len(text) < _PROSE_CHECK_CHARS:
        return
    ends = len(re.findall(rf"{SENTENCE_STOP}\s|\n\s*\n", text))
    if ends * _CHARS_PER_SENTENCE_MAX < len(text):
        raise SkipFile(
            f"no sentences in {len(text) / 1e6:.1f} MB of text ({ends} sentence ends): looks like data, not prose"
        )
