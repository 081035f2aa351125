"""reStructuredText (Sphinx sources) -> blocks, parsed by docutils.

docutils builds the document tree; this module walks it. Sphinx's own directives and roles are
taught to the parser first (sphinx_names.py), so a Sphinx page parses cleanly without Sphinx, as
its built page reads: API stubs and tables of contents leave no text (they are noted under
``dropped``), an object's description is a section headed by its name, its info fields read as
Sphinx lists them ("`url` (str) — ..."), a glossary is a definition list, a reference shows its
target's title. Code blocks lose the markers a docs build turns into markup (``{execsql}``), and a
compound language keeps its first part (``pycon+sql`` -> ``pycon``).
"""

from __future__ import annotations

import io
import re
from typing import Any

from ingest.documents.document import BlockBuilder, Document
from ingest.documents.loaders.markdown import table_row
from ingest.documents.loaders.sphinx_names import ADORNMENT, label_titles, register
from ingest.documents.loaders.text import RST_FIELD

#: Markers a docs build turns into markup inside code (SQLAlchemy's ``{execsql}``, ``{stop}``...).
_BUILD_MARKERS = re.compile(r"\{(?:execsql|printsql|opensql|sql|stop)\}")


#: What only reStructuredText writes: a directive, a role, a field, a ``literal``, a paragraph ending "::".
_RST_MARKUP = re.compile(
    r"^[ \t]*\.\. [A-Za-z][\w:-]*::(?:\s|$)|(?<![\w`]):[a-z][\w:+.-]*:`[^`\n]+`|^" + RST_FIELD + "|"
    r"``[^`\n]+``|\S::[ \t]*$",
    re.MULTILINE,
)


def is_restructuredtext(text: str) -> bool:
    """A text file written in reStructuredText: a Sphinx source kept as ``.txt`` (Django's docs, an included
    fragment). It has an underlined section title and markup only reStructuredText writes, and no Markdown fence."""
    if "```" in text:
        return False
    lines = text.splitlines()
    titled = any(
        ADORNMENT.match(under) and not ADORNMENT.match(title) and 2 <= len(title.strip()) <= len(under.rstrip())
        for title, under in zip(lines, lines[1:])
    )
    return titled and _RST_MARKUP.search(text) is not None


def load_rst(text: str) -> Document:
    """A reStructuredText document; docutils' warnings are kept out of the output."""
    from docutils.core import publish_doctree

    register(text)
    settings = {
        "report_level": 5,
        "halt_level": 5,
        "warning_stream": io.StringIO(),
        "file_insertion_enabled": False,
        "raw_enabled": False,
        "doctitle_xform": False,
        "sectsubtitle_xform": False,
        "syntax_highlight": "none",
        "_disable_config": True,
    }
    with label_titles(text):
        doctree = publish_doctree(text, settings_overrides=settings)
    blocks = BlockBuilder()
    dropped: list[str] = []
    _Walker(blocks, dropped).children(doctree, depth=0)
    metadata: dict[str, Any] = {"dropped": dropped} if dropped else {}
    return Document(blocks.blocks, metadata)


class _Walker:
    def __init__(self, blocks: BlockBuilder, dropped: list[str]) -> None:
        self.blocks = blocks
        self.dropped = dropped

    def children(self, node: Any, depth: int) -> None:
        for child in node.children:
            self.node(child, depth)

    def node(self, node: Any, depth: int) -> None:
        from docutils import nodes

        if isinstance(node, nodes.section):
            title = node.next_node(nodes.title)
            text = inline(title) if title is not None else ""
            self.blocks.heading(depth + 1, text, section_id(node.get("ids") or [], text))
            for child in node.children:
                if not isinstance(child, nodes.title):
                    self.node(child, depth + 1)
        elif isinstance(node, nodes.paragraph):
            self.blocks.add("paragraph", inline(node))
        elif isinstance(node, (nodes.literal_block, nodes.doctest_block)):
            classes = [c for c in node.get("classes", []) if c != "code"]
            language = node.get("language") or (classes[0] if classes else "")
            language = "python" if isinstance(node, nodes.doctest_block) else re.split(r"[+\s]", language)[0]
            self.blocks.add("code", _BUILD_MARKERS.sub("", node.astext()), language)  # pycon+sql -> pycon
        elif isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
            for item in node.children:
                self._list_item(item, depth)
        elif isinstance(node, nodes.Admonition):
            title = node.next_node(nodes.title)
            label = inline(title) if title is not None and title.parent is node else type(node).__name__.capitalize()
            start = len(self.blocks.blocks)
            for child in node.children:
                if not isinstance(child, nodes.title):
                    self.node(child, depth)
            self.blocks.label(start, label)
        elif isinstance(node, nodes.table):
            self._table(node)
        elif isinstance(node, nodes.field_list):
            self._fields(node, depth)
        elif isinstance(node, (nodes.definition_list, nodes.option_list)):
            for item in node.children:
                self._definition(item, depth)
        elif isinstance(node, nodes.line_block):
            self.blocks.add("paragraph", " ".join(inline(line) for line in node.children))
        elif isinstance(node, nodes.rubric):
            self.blocks.add("paragraph", inline(node))
        elif isinstance(node, nodes.comment):
            if node.get("citebot_dropped"):
                self.dropped.append(node.astext())
        elif isinstance(
            node,
            (
                nodes.system_message,
                nodes.substitution_definition,
                nodes.target,
                nodes.raw,
                nodes.image,
                nodes.figure,
                nodes.transition,
                nodes.problematic,
                nodes.title,
                nodes.footnote,
                nodes.citation,
            ),
        ):
            return
        elif isinstance(node, nodes.container) and node.get("citebot_object"):
            # an object's description (sphinx_names.Description): a section of its own, closed after its content
            self.blocks.heading(depth + 1, node["citebot_object"], node.get("citebot_id", ""))
            self.children(node, depth + 1)
            self.blocks.close(depth + 1)
        elif isinstance(node, nodes.Element):  # block_quote, container, compound, topic, sidebar...
            self.children(node, depth)

    def _list_item(self, item: Any, depth: int) -> None:
        from docutils import nodes

        own = [inline(p) for p in item.children if isinstance(p, nodes.paragraph)]
        self.blocks.add("list_item", " ".join(own))
        for child in item.children:
            if not isinstance(child, nodes.paragraph):
                self.node(child, depth)

    def _table(self, table: Any) -> None:
        from docutils import nodes

        headers: list[str] = []
        for head in table.findall(nodes.thead):
            for row in head.findall(nodes.row):
                headers = [inline(entry) for entry in row.children]
        for body in table.findall(nodes.tbody):
            for row in body.findall(nodes.row):
                self.blocks.add("table_row", table_row(headers, [inline(entry) for entry in row.children]))

    def _fields(self, fields: Any, depth: int) -> None:
        """A field list; the fields Sphinx reads as an object's info are shown as it shows them: ":param url:" with
        ":type url: str" as "`url` (str) — ...", ":raises ValueError:" as "Raises `ValueError` — ...", ":rtype:"
        as "Return type — ..."."""
        from docutils import nodes

        named: list[tuple[Any, list[str]]] = []  # each field with the words of its name (":param str url:")
        types: dict[str, str] = {}
        for field in fields.children:
            name = field.next_node(nodes.field_name)
            words = name.astext().split() if name is not None else []
            named.append((field, words))
            if len(words) == 2 and words[0] in _TYPE_FIELDS and (body := field.next_node(nodes.field_body)) is not None:
                types[words[1]] = inline(body)
        for field, words in named:
            kind = words[0] if words else ""
            if len(words) == 2 and kind in _TYPE_FIELDS:
                continue  # shown with its parameter
            if len(words) >= 2 and kind in _PARAM_FIELDS:
                given = " ".join(words[1:-1])  # ":param str url:" gives the type in place
                typed = types.get(words[-1]) or given
                self._definition(field, depth, f"`{words[-1]}`" + (f" ({typed})" if typed else ""))
            elif len(words) >= 2 and kind in _RAISES_FIELDS:
                self._definition(field, depth, f"Raises `{' '.join(words[1:])}`")
            elif len(words) == 1 and kind in _LABELLED_FIELDS:
                self._definition(field, depth, _LABELLED_FIELDS[kind])
            else:
                self._definition(field, depth)

    def _definition(self, item: Any, depth: int, term: str | None = None) -> None:
        """term — definition (definition lists, field lists, option lists); a rich definition keeps its blocks."""
        from docutils import nodes

        term_nodes = [c for c in item.children if isinstance(c, (nodes.term, nodes.field_name, nodes.option_group))]
        body = next(
            (c for c in item.children if isinstance(c, (nodes.definition, nodes.field_body, nodes.description))), None
        )
        if term is None:
            term = " ".join(t.astext() if isinstance(t, nodes.option_group) else inline(t) for t in term_nodes)
        if body is None:
            self.blocks.add("paragraph", term)
            return
        parts = body.children
        if parts and isinstance(parts[0], nodes.paragraph):
            first = inline(parts[0])
            if first.endswith(_STOPS) and all(isinstance(p, nodes.paragraph) for p in parts[1:]):
                text = " ".join([first, *(inline(p) for p in parts[1:])])
                self.blocks.add("paragraph", f"{term} — {text}" if term else text)
                return
            # "`headers` (dict) — the headers of this request", then its other paragraphs, notes and code: a first
            # paragraph without a stop would run into the next one's sentence
            self.blocks.add("paragraph", f"{term} — {first}" if term else first)
            for child in parts[1:]:
                self.node(child, depth)
            return
        if term:
            self.blocks.add("paragraph", term)
        self.children(body, depth)


_STOPS = (".", "!", "?", ":", ";")
#: Sphinx's info fields (in an object's description): a parameter, its type, what is raised, what is returned.
_PARAM_FIELDS = frozenset(
    {"param", "parameter", "arg", "argument", "key", "keyword", "kwarg", "kwparam", "var", "ivar", "cvar"}
)
_TYPE_FIELDS = frozenset({"type", "vartype"})
_RAISES_FIELDS = frozenset({"raises", "raise", "except", "exception"})
_LABELLED_FIELDS = {"returns": "Returns", "return": "Returns", "rtype": "Return type", "yields": "Yields"}


def inline(node: Any) -> str:
    """A node's text with literals in backticks; references and emphasis as their text."""
    from docutils import nodes

    parts: list[str] = []

    def visit(n: Any) -> None:
        if isinstance(n, nodes.Text):
            parts.append(str(n))
        elif isinstance(n, nodes.literal):
            parts.append(f"`{n.astext()}`")
        elif isinstance(
            n,
            (
                nodes.footnote_reference,
                nodes.citation_reference,
                nodes.problematic,
                nodes.target,
                nodes.system_message,
                nodes.image,
            ),
        ):
            return
        else:
            for child in n.children:
                visit(child)

    visit(node)
    return " ".join("".join(parts).split())


def section_id(ids: list[str], title: str) -> str:
    """The id to link a section by: a label's (``.. _label:``, stable when the title changes), else its own."""
    from docutils import nodes

    own = nodes.make_id(title)
    labels = [i for i in ids if i != own]
    return labels[0] if labels else (ids[0] if ids else "")
