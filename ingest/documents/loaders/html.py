"""HTML pages -> blocks: the main content only, with its headings, code, tables and definition lists.

A built documentation site (MkDocs, Sphinx, Docusaurus...) or an article page puts its content in
``<article>``, ``<main>`` or an element with ``role="main"``; that element is walked with lxml and
everything around it (navigation, sidebars, headers, footers) is left out. Inside it, page
furniture goes too: scripts, forms, "edit this page" links, permalink pilcrows (``a.headerlink``),
and elements a browser would not show (``hidden``, ``aria-hidden``, ``display: none``). A page with
no such element falls back to trafilatura's boilerplate removal, paragraph by paragraph.

Headings give the section trail, with the heading's id (or its section's) as the anchor; ``<pre>``
is code, line by line, with the language from its class; a table row keeps its column headers
("timeout — Default: 30 — ..."); a ``<dt>``/``<dd>`` pair reads "term — definition".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from ingest.documents.clean import clean_text
from ingest.documents.document import BlockBuilder, Document
from ingest.documents.loaders.markdown import table_row
from ingest.errors import SkipFile

log = logging.getLogger(__name__)

_DROP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "canvas",
        "iframe",
        "form",
        "button",
        "input",
        "select",
        "textarea",
        "nav",
        "footer",
        "aside",
        "img",
        "picture",
        "video",
        "audio",
        "object",
        "embed",
        "link",
        "meta",
    }
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = frozenset(
    {
        "p",
        "pre",
        "ul",
        "ol",
        "table",
        "dl",
        "blockquote",
        "div",
        "section",
        "article",
        "main",
        "details",
        "figure",
        "header",
        *_HEADINGS,
    }
)
_CODE_INLINE = frozenset({"code", "kbd", "samp", "tt"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_FURNITURE_CLASS = re.compile(
    r"\b(headerlink|md-content__button|md-source-file|md-feedback|md-footer|md-sidebar|md-nav|sphinxsidebar|"
    r"related|breadcrumbs?|skip-link|visually-hidden|sr-only|edit-this-page|theme-edit-this-page|"
    r"pagination-nav|toc|table-of-contents)\b"
)
_LANGUAGE_CLASS = re.compile(r"\b(?:language|lang|highlight)-([\w+#-]+)")
_MIN_MAIN_CHARS = 200


def load_html(html: str) -> Document:
    """A web page: metadata from its head, blocks from its main content."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError) as exc:  # type: ignore[attr-defined]
        raise SkipFile(f"unreadable HTML ({type(exc).__name__})") from None
    metadata = _metadata(html, root)
    main = _main_element(root)
    if main is None:
        return _fallback(html, metadata)
    _prune(main)
    blocks = BlockBuilder()
    _Walker(blocks).walk(main)
    if not any(b.kind != "heading" for b in blocks.blocks):
        return _fallback(html, metadata)
    heading = next((b.text for b in blocks.blocks if b.kind == "heading"), "")
    if heading and not metadata.get("title_from_meta_only"):
        metadata["title"] = heading
    metadata.pop("title_from_meta_only", None)
    return Document(blocks.blocks, metadata)


def _metadata(html: str, root: Any) -> dict[str, Any]:
    """Title, url (canonical or og:url), date, author, site name, via trafilatura's metadata reader."""
    import trafilatura

    metadata: dict[str, Any] = {}
    try:
        meta = trafilatura.extract_metadata(html, extensive=False)  # dates stated, not guessed from the text
    except Exception:  # trafilatura raises many kinds on odd pages; metadata is optional
        log.debug("trafilatura metadata failed", exc_info=True)
        meta = None
    if meta is not None:
        for attr, name in (("title", "title"), ("url", "url"), ("date", "date"), ("author", "author")):
            value = getattr(meta, attr, None)
            if value:
                metadata[name] = str(value)
        if getattr(meta, "sitename", None):
            metadata["source_name"] = str(meta.sitename)
    canonical = root.xpath("//link[@rel='canonical']/@href")
    if canonical and str(canonical[0]).startswith(("http://", "https://")):
        metadata["url"] = str(canonical[0])
    return metadata


def _main_element(root: Any) -> Any:
    """The element holding the page's content: the largest article, else main / role=main, else None."""
    for xpath in ("//article", "//*[@role='main']", "//main", "//div[@id='content' or @class='body']"):
        found = [el for el in root.xpath(xpath) if _visible(el)]
        if found:
            best = max(found, key=lambda el: len(el.text_content()))
            if len(best.text_content().strip()) >= _MIN_MAIN_CHARS:
                return best
    return None


def _visible(el: Any) -> bool:
    return not (
        el.get("hidden") is not None or el.get("aria-hidden") == "true" or _HIDDEN_STYLE.search(el.get("style") or "")
    )


def _prune(main: Any) -> None:
    """Remove what a reader of the content would not see or need (see the module docstring)."""
    doomed = []
    for el in main.iter():
        if not isinstance(el.tag, str):  # comments and processing instructions
            doomed.append(el)
            continue
        if el.tag in _DROP or not _visible(el) or _FURNITURE_CLASS.search(el.get("class") or ""):
            doomed.append(el)
    for el in doomed:
        parent = el.getparent()
        if parent is None:
            continue
        if el.tail and el.tail.strip():  # keep the text that follows it
            previous = el.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)


def _fallback(html: str, metadata: dict[str, Any]) -> Document:
    """No recognisable content element: trafilatura's main text, one paragraph per line."""
    import trafilatura

    try:
        body = trafilatura.extract(
            html, output_format="txt", include_comments=False, include_tables=True, favor_recall=True
        )
    except Exception as exc:  # trafilatura/lxml raise many kinds on malformed input
        raise SkipFile(f"unreadable HTML ({type(exc).__name__})") from None
    blocks = BlockBuilder()
    for line in clean_text(body or "").split("\n"):
        blocks.add("paragraph", line)
    return Document(blocks.blocks, metadata)


class _Walker:
    def __init__(self, blocks: BlockBuilder) -> None:
        self.blocks = blocks
        self.section_ids: list[str] = []

    def walk(self, el: Any) -> None:
        """Blocks of ``el``'s children, in order; loose text between block elements is a paragraph."""
        loose: list[str] = [el.text or ""]
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _BLOCK_TAGS or tag == "li":
                self._paragraph(loose)
                loose = []
                self.element(child)
                loose.append(child.tail or "")
            else:
                loose.append(inline(child))
                loose.append(child.tail or "")
        self._paragraph(loose)

    def element(self, el: Any) -> None:
        tag = el.tag
        if tag in _HEADINGS:
            self.blocks.heading(_HEADINGS[tag], inline(el, code_marks=False).replace("¶", ""), self._anchor(el))
        elif tag == "p":
            self.blocks.add("paragraph", inline(el))
        elif tag == "pre":
            self.blocks.add("code", el.text_content(), _language(el))
        elif tag in ("ul", "ol"):
            for item in el:
                if isinstance(item.tag, str) and item.tag == "li":
                    self._list_item(item)
        elif tag == "li":
            self._list_item(el)
        elif tag == "table":
            self._table(el)
        elif tag == "dl":
            self._definitions(el)
        elif tag == "blockquote":
            for text in self._texts(el):
                self.blocks.add("quote", text)
        elif self._admonition(el):
            return
        else:  # div, section, article, header, figure...: a container
            pushed = bool(el.get("id")) and tag in ("section", "div")
            if pushed:
                self.section_ids.append(el.get("id"))
            self.walk(el)
            if pushed:
                self.section_ids.pop()

    def _anchor(self, heading: Any) -> str:
        if heading.get("id"):
            return str(heading.get("id"))
        named = heading.xpath(".//a[@id or @name]")
        if named:
            return str(named[0].get("id") or named[0].get("name"))
        return self.section_ids[-1] if self.section_ids else ""

    def _paragraph(self, parts: Iterable[str]) -> None:
        self.blocks.add("paragraph", " ".join("".join(parts).split()))

    def _list_item(self, item: Any) -> None:
        """The item's own text; nested lists, code and tables inside it become their own blocks."""
        own: list[str] = [item.text or ""]
        nested = []
        for child in item:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in ("ul", "ol", "pre", "table", "dl", "div", "blockquote"):
                nested.append(child)
            elif tag == "p":
                own.append(" " + inline(child) + " ")
            else:
                own.append(inline(child))
            own.append(child.tail or "")
        self.blocks.add("list_item", "".join(own))
        for child in nested:
            self.element(child)

    def _table(self, table: Any) -> None:
        rows = table.xpath("./thead/tr | ./tbody/tr | ./tr | ./tfoot/tr")
        headers: list[str] = []
        for row in rows:
            cells = [c for c in row if isinstance(c.tag, str) and c.tag in ("td", "th")]
            texts = [inline(c) for c in cells]
            if not headers and cells and all(c.tag == "th" for c in cells):
                headers = texts
            elif len(cells) == 2 and cells[0].tag == "th" and not headers:  # a key-value table: "Default: 30"
                self.blocks.add("table_row", f"{texts[0]}: {texts[1]}")
            else:
                self.blocks.add("table_row", table_row(headers, texts))

    def _definitions(self, dl: Any) -> None:
        term = ""
        for child in dl:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "dt":
                term = inline(child)
            elif child.tag == "dd":
                if child.xpath("./p|./pre|./ul|./ol|./dl|./div|./table"):  # a rich definition: its own blocks
                    if term:
                        self.blocks.add("paragraph", term)
                    self.walk(child)
                else:
                    text = inline(child)
                    self.blocks.add("paragraph", f"{term} — {text}" if term else text)
                term = ""

    def _admonition(self, el: Any) -> bool:
        """``div.admonition`` (MkDocs, Sphinx) or ``<details>``: "Title: first paragraph", then the rest."""
        classes = (el.get("class") or "").split()
        if el.tag == "details":
            title_el = el.find("summary")
        elif "admonition" in classes:
            title_el = next(iter(el.xpath("./*[contains(@class, 'admonition-title')]")), None)
        else:
            return False
        label = inline(title_el, code_marks=False) if title_el is not None else ""
        if title_el is not None:
            title_el.getparent().remove(title_el)
        elif len(classes) > 1:
            label = classes[-1].capitalize()  # <div class="admonition note"> without a title element
        start = len(self.blocks.blocks)
        self.walk(el)
        self.blocks.label(start, label)
        return True

    def _texts(self, el: Any) -> list[str]:
        paragraphs = [inline(p) for p in el.xpath("./p")]
        return paragraphs or [inline(el)]


def inline(el: Any, *, code_marks: bool = True) -> str:
    """The text of an inline element: code in backticks, <br> as a space, whitespace collapsed."""
    parts: list[str] = []

    def visit(node: Any, in_code: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        code = tag in _CODE_INLINE and not in_code
        if tag == "br":
            parts.append(" ")
        elif tag:
            if code and code_marks:
                parts.append("`")
            parts.append(node.text or "")
            for child in node:
                visit(child, in_code or code)
                parts.append(child.tail or "")
            if code and code_marks:
                parts.append("`")

    visit(el, False)
    return " ".join("".join(parts).split())


def _language(pre: Any) -> str:
    for node in (
        pre,
        *pre.iterchildren("code"),
        pre.getparent(),
        pre.getparent().getparent() if pre.getparent() is not None else None,
    ):
        if node is None:
            continue
        match = _LANGUAGE_CLASS.search(node.get("class") or "")
        if match and match.group(1) not in ("default", "none", "text"):
            return match.group(1)
    return ""
