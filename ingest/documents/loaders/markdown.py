"""Markdown (CommonMark with the MkDocs, Docusaurus and GitHub dialects, and MDX) -> blocks, parsed by markdown-it.

Parsed, not stripped: markdown-it builds the token stream and this module walks it. The dialects'
block syntax is taught to the parser as block rules (markdown_rules.py; MDX: mdx.py; MyST: myst.py):

* admonitions ``!!! note "Title"`` / ``??? tip`` (python-markdown), ``/// note | Title`` ... ``///``
  (pymdown blocks), ``:::note`` ... ``:::`` (Docusaurus) and ``> [!NOTE]`` (GitHub) become one
  labelled paragraph ("Note: ...") followed by the rest of their content;
* content tabs ``=== "pip"`` become a lead-in paragraph ("pip:") before their content;
* VitePress containers: ``::: tip`` (and the other admonition types) as admonitions, ``::: details
  Title`` labelled by its title, ``::: code-group`` whose fences' ``[npm]`` titles lead each code in;
* include and snippet directives (``{* file *}``, ``--8<-- "file"``, ``{% include %}``, VitePress'
  ``<<< @/file`` and ``[[toc]]``, a paragraph that is only a ``{{ macro }}``, mkdocstrings' ``:::
  module.path`` with its options) are dropped and listed in the document's metadata under ``dropped``;
* heading attribute lists (``## Title { #anchor }``) give the section's anchor;
* inline: links and emphasis keep only their text, inline HTML tags go, images go, code spans keep
  their backticks; fenced code is kept verbatim with its language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ingest.documents.document import BlockBuilder, Document
from ingest.documents.includes import CODE_SUFFIXES, current, language
from ingest.documents.loaders.frontmatter import split_front_matter
from ingest.documents.loaders.markdown_rules import add_dialect_rules
from ingest.documents.loaders.mdx import add_mdx_rules, component_label
from ingest.documents.loaders.myst import add_myst_rules, description_heading, directive, glossary, targets
from ingest.documents.loaders.text import load_text

_ATTR_LIST = re.compile(r"\s*\{:?\s*((?:[#.][\w:-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|\S+))(?:\s+[^}]*)?)\s*\}\s*$")
_ANCHOR_IN_ATTRS = re.compile(r"#([\w:-]+)")
_LEADING_ATTR_LIST = re.compile(r"^\{:?\s*(?:[#.][\w:-]+\s*)+\}\s*")
_GITHUB_ALERT = re.compile(r"^\[!(\w+)\]\s*")
_REFERENCE_USE = re.compile(r"\[([^\]\n]+)\]\[([^\]\n]*)\]")  # [text][label] and [text][]
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
#: The file an include line names: ``--8<-- "file"``, ``{* file ln[1:3] *}``, ``<<< @/file``, ``{include} file``.
_INCLUDE_SPEC = re.compile(r'"([^"]+)"|\{\*\s*(\S+)|(?:<<<|\{include\}|\{literalinclude\})\s+(\S+)')
#: A Docusaurus page importing its theme's components or a partial (``import Tabs from '@theme/Tabs';``): MDX.
_DOCUSAURUS_IMPORT = re.compile(
    r"""^import\s+[\w{},\s]+\s+from\s+['"](?:@(?:theme|site|docusaurus)/|\.{1,2}/[^'"]+\.mdx['"])""", re.MULTILINE
)
_EMOJI = re.compile(r"(?<![\w:]):[a-z0-9][a-z0-9_+-]*:(?![\w:])")  # emoji and icon shortcodes (pymdownx.emoji)
_FENCE_TITLE = re.compile(r"\[([^\]\n]+)\]")


def load_markdown(text: str, *, mdx: bool = False) -> Document:
    """A Markdown document (``mdx``: a Docusaurus ``.mdx`` page): front matter to metadata, then its blocks."""
    metadata, body = split_front_matter(text)
    mdx = mdx or _DOCUSAURUS_IMPORT.search(body) is not None  # Docusaurus reads its .md files as MDX too
    blocks = BlockBuilder(inherit_anchors=False)  # a link slugs the heading (ingest/sources/links.py)
    dropped: list[str] = []
    walk_markdown(body, blocks, dropped, mdx=mdx)
    if dropped:
        metadata["dropped"] = dropped
    return Document(blocks.blocks, metadata)


def load_mdx(text: str) -> Document:
    """A Docusaurus ``.mdx`` page, read as its built page shows it (mdx.py)."""
    return load_markdown(text, mdx=True)


def walk_markdown(source: str, blocks: BlockBuilder, dropped: list[str], *, mdx: bool = False) -> None:
    """Parse ``source`` and append its blocks to ``blocks`` (notebooks call this once per cell)."""
    md = _parser(mdx)
    env: dict[str, Any] = {"references": _assumed_references(source), "myst_labels": targets(source)}

    def render_inline(text: str) -> str:
        tokens = md.parseInline(text, env)
        return inline_text(tokens[0].children or [], code_marks=False) if tokens else text

    _Walker(blocks, dropped, render_inline, env).walk(md.parse(source, env))
    dropped.extend(env.get("mdx_dropped", []))


_MD: dict[bool, Any] = {}


def _parser(mdx: bool = False) -> Any:
    if mdx not in _MD:
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
        add_dialect_rules(md)
        if mdx:
            add_mdx_rules(md)
        else:
            add_myst_rules(md)
        _MD[mdx] = md
    return _MD[mdx]


def _assumed_references(source: str) -> dict[str, dict[str, str]]:
    """MkDocs resolves ``[text][pkg.Name]`` at build time; defining each such label keeps it a link (text only)."""
    from markdown_it.common.utils import normalizeReference

    refs = {}
    for match in _REFERENCE_USE.finditer(source):
        label = match.group(2) if match.group(2).strip() else match.group(1)
        refs[normalizeReference(label)] = {"href": "#", "title": ""}
    return refs


# -- the walk ----------------------------------------------------------------------------------


class _Walker:
    """Turns markdown-it tokens into blocks."""

    def __init__(
        self,
        blocks: BlockBuilder,
        dropped: list[str],
        render_inline: Callable[[str], str],
        env: dict[str, Any] | None = None,
    ) -> None:
        self.env = env or {}  # the parse's environment: MDX partials imported by the page
        self.blocks = blocks
        self.dropped = dropped
        self.render_inline = render_inline  # Markdown found outside the block structure: titles, HTML blocks
        self.opened: list[tuple[str, int]] = []  # open admonitions and tabs: (label, index of their first block)
        self.components: list[list[Any]] = []  # open MDX components: [name, label, index of their first block]
        self.target = ""  # a MyST ``(label)=`` waiting for its heading
        self.rows: list[list[str]] = []
        self.headers: list[str] = []

    def walk(self, tokens: Sequence[Any]) -> None:
        list_depth = quote_depth = 0
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if kind == "heading_open":
                text, anchor = heading_text(tokens[i + 1].children or [])
                self.blocks.heading(int(tok.tag[1]), text, anchor or self.target)
                self.target = ""
                i += 3
                continue
            if kind == "inline" and i > 0 and tokens[i - 1].type in ("th_open", "td_open"):
                self.rows[-1].append(inline_text(tok.children or []))
            elif kind == "inline":
                text = self._without_templates(inline_text(tok.children or []))
                if quote_depth and not list_depth:
                    self._quote(text)
                else:
                    self._text("list_item" if list_depth else "paragraph", text)
            elif kind in ("bullet_list_open", "ordered_list_open"):
                list_depth += 1
            elif kind in ("bullet_list_close", "ordered_list_close"):
                list_depth -= 1
            elif kind == "blockquote_open":
                quote_depth += 1
            elif kind == "blockquote_close":
                quote_depth -= 1
            elif kind == "fence" and tok.info.strip() == "mdx-code-block":  # Docusaurus: MDX to render, not show
                walk_markdown(tok.content, self.blocks, self.dropped, mdx=True)
            elif kind == "fence" and tok.info.strip().startswith("{"):
                self._directive(tok.info, tok.content)
            elif kind == "myst_target":
                self.target = tok.content
            elif kind in ("fence", "code_block"):
                info = tok.info.strip().split(maxsplit=1)
                language = re.sub(r"\{.*$|\[.*$", "", info[0]).strip(".") if info else ""
                title = _FENCE_TITLE.search(tok.info)  # VitePress: ```sh [npm] in a code group, ```js [vite.config.js]
                if title and title.group(1).strip():
                    self.blocks.add("paragraph", f"{title.group(1).strip()}:")
                self.blocks.add("code", tok.content, language)
            elif kind in ("admonition_open", "tab_open"):
                self.opened.append((self.render_inline(tok.content), len(self.blocks.blocks)))
            elif kind in ("admonition_close", "tab_close"):
                label, start = self.opened.pop()
                self.blocks.label(start, label)
            elif kind == "include":
                self._include(tok.content)
            elif kind in ("mdx_open", "mdx_close", "mdx_summary"):
                self._component(tok)
            elif kind == "mdx_self" and tok.meta["name"] in self.env.get("mdx_partials", {}):
                self._include(self.env["mdx_partials"][tok.meta["name"]], mdx=True)
            elif kind == "html_block":  # its text may be Markdown (md_in_html: <figure markdown>)
                self._text("paragraph", self.render_inline(html_text(tok.content)))
            elif kind == "thead_open":
                self.rows = []
            elif kind == "thead_close":
                self.headers = self.rows[0] if self.rows else []
                self.rows = []
            elif kind == "tr_open":
                self.rows.append([])
            elif kind in ("th_open", "td_open") and tokens[i + 1].type != "inline":
                self.rows[-1].append("")
            elif kind == "table_close":
                for row in self.rows:
                    self.blocks.add("table_row", table_row(self.headers, row))
                self.rows, self.headers = [], []
            i += 1

    def _include(self, line: str, *, code: bool = False, mdx: bool = False) -> None:
        """A file the page pulls in (``--8<--``, ``{* *}``, ``<<<``, ``{include}``, an MDX partial, whose
        ``line`` is its path): read in place when it is inside the source (ingest/documents/includes.py),
        else dropped and noted."""
        includes = current()
        found = None if mdx else _INCLUDE_SPEC.search(line)
        spec = line if mdx else (found.group(1) or found.group(2) or found.group(3) or "") if found else ""
        spec = re.sub(r"[{#].*$", "", spec.removeprefix("@/")).strip() if spec else ""
        path = includes.resolve(spec, from_root=line.lstrip().startswith("<<< @/")) if includes and spec else None
        text = includes.text(path) if includes and path else None
        if includes is None or path is None or text is None:
            self.dropped.append(line)
            return
        suffix = path.suffix.lower()
        if code or suffix in CODE_SUFFIXES:
            self.blocks.add("code", text, language(path))
        elif suffix in (".md", ".markdown", ".mdx"):
            with includes.inside(path):
                walk_markdown(split_front_matter(text)[1], self.blocks, self.dropped, mdx=mdx or suffix == ".mdx")
        else:  # CHANGES.rst, LICENSE, AUTHORS: its paragraphs
            for block in load_text(text).blocks:
                self.blocks.add(block.kind, block.text)

    def _directive(self, info: str, content: str) -> None:
        """A MyST directive fence, by what it is (myst.py)."""
        kind, argument, body = directive(info, content)
        if kind == "dropped" and argument.startswith(("{include}", "{literalinclude}")):
            self._include(argument, code=argument.startswith("{literalinclude}"))
        elif kind == "code":
            self.blocks.add("code", body, argument.split()[0] if argument else "")
        elif kind == "dropped":
            self.dropped.append(argument)
        elif kind == "description":  # a section headed by the object's name, closed after its content
            level, scope = self.blocks.depth + 1, self.blocks.objects
            title, anchor = description_heading(info, argument, scope)
            self.blocks.heading(level, title, anchor)
            scope.append(anchor)
            walk_markdown(body, self.blocks, self.dropped)
            scope.pop()
            self.blocks.close(level)
        elif kind == "glossary":
            for entry in glossary(body):
                self.blocks.add("paragraph", self.render_inline(entry))
        else:
            start = len(self.blocks.blocks)
            walk_markdown(body, self.blocks, self.dropped)
            if kind == "labelled":
                self.blocks.label(start, self.render_inline(argument))

    def _component(self, tok: Any) -> None:
        """An MDX component's tag: its label (a tab's, a ``<details>``' summary) leads its content in."""
        if tok.type == "mdx_open":
            name = tok.meta["name"]
            self.components.append([name, component_label(name, tok.meta["attrs"]), len(self.blocks.blocks)])
        elif tok.type == "mdx_summary":
            details = next((c for c in reversed(self.components) if c[0].lower() == "details"), None)
            if details is not None:
                details[1] = self.render_inline(tok.content)
        else:
            at = next(
                (i for i in range(len(self.components) - 1, -1, -1) if self.components[i][0] == tok.meta["name"]), None
            )
            if at is not None:
                _name, label, start = self.components.pop(at)
                self.blocks.label(start, label or "")

    def _text(self, kind: str, text: str) -> None:
        if text.strip(" .,:;"):
            self.blocks.add(kind, text)  # type: ignore[arg-type]

    def _without_templates(self, text: str) -> str:
        """Template expressions (``{{ version }}``, ``{% include %}``) are build-time values we cannot know;
        inside a code span they are an example the page shows, and stay."""
        parts = re.split(r"(`[^`]*`)", text)
        for i in range(0, len(parts), 2):  # the even parts are outside code spans
            self.dropped.extend(_TEMPLATE.findall(parts[i]))
            parts[i] = _TEMPLATE.sub(" ", parts[i])
        return " ".join("".join(parts).split())

    def _quote(self, text: str) -> None:
        alert = _GITHUB_ALERT.match(text)
        if alert:
            self.blocks.add("admonition", f"{alert.group(1).capitalize()}: {text[alert.end() :]}")
        else:
            self.blocks.add("quote", text)


def heading_text(children: Sequence[Any]) -> tuple[str, str]:
    """A heading's plain text (no backticks) and the anchor from a trailing ``{ #id }`` attribute list."""
    text = _joined(children, code_marks=False)
    anchor = ""
    match = _ATTR_LIST.search(text)
    if match:
        found = _ANCHOR_IN_ATTRS.search(match.group(1))
        anchor = found.group(1) if found else ""
        text = text[: match.start()]
    return text.replace("¶", "").strip(), anchor


def inline_text(children: Sequence[Any], *, code_marks: bool = True) -> str:
    """The text a reader sees: link and emphasis text kept, inline HTML and images dropped, code spans in backticks."""
    text = _joined(children, code_marks=code_marks)
    match = _ATTR_LIST.search(text)  # a trailing attribute list `{ .class }` (or a lone `{#id}`) is not text
    if match:
        text = text[: match.start()].rstrip()
    leading = _LEADING_ATTR_LIST.match(text)
    return text[leading.end() :] if leading else text


def _joined(children: Sequence[Any], *, code_marks: bool) -> str:
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind == "text":
            parts.append(_EMOJI.sub("", child.content))  # :tada:, :material-help: render as icons
        elif kind == "code_inline":
            parts.append(f"`{child.content}`" if code_marks else child.content)
        elif kind in ("softbreak", "hardbreak") or (kind == "html_inline" and child.content.lower().startswith("<br")):
            parts.append(" ")
    return " ".join("".join(parts).split())


def table_row(headers: Sequence[str], cells: Sequence[str]) -> str:
    """``timeout — Default: 30 — Workers silent for more than this...``: each cell keeps its header."""
    parts = []
    for i, cell in enumerate(cells):
        if not cell.strip():
            continue
        header = headers[i].strip() if i < len(headers) else ""
        parts.append(cell if i == 0 or not header else f"{header}: {cell}")
    return " — ".join(parts)


def html_text(fragment: str) -> str:
    """The text of a raw HTML fragment (tags, comments and scripts dropped)."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in ("script", "style"):
                self.skip += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("script", "style") and self.skip:
                self.skip -= 1

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(fragment)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
