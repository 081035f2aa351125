"""reStructuredText (Sphinx sources) -> blocks, parsed by docutils.

docutils builds the document tree; this module walks it. Sphinx's own directives and roles are
taught to the parser first, so a Sphinx page parses cleanly without Sphinx: ``code-block`` is code,
``versionadded``/``deprecated``/``seealso`` are labelled paragraphs, ``autofunction``-style and
``toctree``/``literalinclude`` directives are dropped (noted under ``dropped``: their content lives
elsewhere), and roles such as ``:func:`~pkg.name``` read as their text (```name```).
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any

from ingest.documents.document import BlockBuilder, Document
from ingest.documents.loaders.markdown import table_row

_CODE_DIRECTIVES = ("code-block", "sourcecode", "ipython")
_LABELLED = {
    "versionadded": "Added in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "versionremoved": "Removed in version",
    "seealso": "See also",
    "todo": "To do",
}
_DROPPED = (
    "toctree",
    "literalinclude",
    "autofunction",
    "autoclass",
    "automodule",
    "automethod",
    "autodata",
    "autoattribute",
    "autoexception",
    "autosummary",
    "autoprogram",
    "index",
    "highlight",
    "currentmodule",
    "module",
    "tabularcolumns",
    "only",
    "ifconfig",
    "graphviz",
    "plot",
    "jupyter-execute",
    "mermaid",
)
_ROLES = (
    "ref",
    "doc",
    "func",
    "meth",
    "class",
    "attr",
    "mod",
    "obj",
    "exc",
    "data",
    "const",
    "term",
    "envvar",
    "option",
    "program",
    "file",
    "command",
    "kbd",
    "menuselection",
    "guilabel",
    "abbr",
    "any",
    "numref",
    "download",
    "keyword",
    "samp",
    "pep",
    "rfc",
    "issue",
    "pr",
    "user",
    "source",
    *(f"py:{r}" for r in ("func", "meth", "class", "attr", "mod", "obj", "exc", "data", "const")),
)
_CODE_ROLES = frozenset(
    r
    for r in _ROLES
    if r.split(":")[-1]
    in {
        "func",
        "meth",
        "class",
        "attr",
        "mod",
        "obj",
        "exc",
        "data",
        "const",
        "envvar",
        "option",
        "program",
        "file",
        "command",
        "kbd",
        "samp",
        "keyword",
    }
)
_LINK_TARGET = re.compile(r"^(.*?)\s*<[^<>]*>$", re.DOTALL)

_REGISTERED = False
_LOCK = threading.Lock()


def load_rst(text: str) -> Document:
    """A reStructuredText document; docutils' warnings are kept out of the output."""
    from docutils.core import publish_doctree

    _register_sphinx_names()
    _register_project_roles(text)
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
    doctree = publish_doctree(text, settings_overrides=settings)
    blocks = BlockBuilder()
    dropped: list[str] = []
    _Walker(blocks, dropped).children(doctree, depth=0)
    metadata: dict[str, Any] = {"dropped": dropped} if dropped else {}
    return Document(blocks.blocks, metadata)


def _register_sphinx_names() -> None:
    """Teach docutils the directives and roles Sphinx adds (once per process)."""
    global _REGISTERED
    with _LOCK:
        if _REGISTERED:
            return
        from docutils import nodes
        from docutils.parsers.rst import Directive, directives, roles
        from docutils.parsers.rst.directives.body import CodeBlock

        class Labelled(Directive):
            """``.. versionadded:: 2.10 text`` (as Sphinx reads it) -> "Added in version 2.10: text"."""

            required_arguments = 0
            optional_arguments = 1
            final_argument_whitespace = True
            has_content = True

            def run(self) -> list[Any]:
                label = _LABELLED[self.name]
                words = (self.arguments[0] if self.arguments else "").split(None, 1)
                version, text = ([*words, "", ""])[:2]
                if self.name != "seealso" and version:
                    label = f"{label} {version}"
                elif version:
                    text = f"{version} {text}"
                node = nodes.admonition()
                node += nodes.title(text=label)
                if text.strip():
                    inline_nodes, _messages = self.state.inline_text(" ".join(text.split()), self.lineno)
                    node += nodes.paragraph("", "", *inline_nodes)
                self.state.nested_parse(self.content, self.content_offset, node)
                return [node]

        class Dropped(Directive):
            """Content that lives elsewhere (API stubs, tables of contents, included files)."""

            required_arguments = 0
            optional_arguments = 10
            final_argument_whitespace = True
            has_content = True
            option_spec = None

            def run(self) -> list[Any]:
                node = nodes.comment(text=f".. {self.name}:: {' '.join(self.arguments)}".strip())
                node["citebot_dropped"] = True
                return [node]

        # Dropped accepts any option: docutils checks options against option_spec unless it is None.
        for name in _CODE_DIRECTIVES:
            directives.register_directive(name, CodeBlock)
        for name in _LABELLED:
            directives.register_directive(name, Labelled)
        for name in _DROPPED:
            directives.register_directive(name, Dropped)

        for name in _ROLES:
            roles.register_local_role(name, _text_role)
        _KNOWN_ROLES.update(_ROLES)
        _REGISTERED = True


#: Roles registered so far: Sphinx's own, then every project role met in a document.
_KNOWN_ROLES: set[str] = set()
#: ``:name:`text``` (also ``:domain:name:``), the way roles are written.
_ROLE_USE = re.compile(r"(?<![\w`:]):((?:[A-Za-z][\w.+-]*:)?[A-Za-z][\w.+-]*):`")


def _register_project_roles(text: str) -> None:
    """Register the roles a project adds (``:setting:``, ``:confval:``, ``:paramref:``...) so their text stays.

    docutils drops the text of a role it does not know; Sphinx projects define their own in
    extensions this loader cannot run. Each keeps its displayed text, as code when it is one name.
    """
    from docutils.parsers.rst import roles

    new = {m.group(1) for m in _ROLE_USE.finditer(text)} - _KNOWN_ROLES
    if not new:
        return
    with _LOCK:
        for name in new - _KNOWN_ROLES:
            roles.register_local_role(name, _text_role)
            _KNOWN_ROLES.add(name)


def _text_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None, content: Any = None
) -> Any:
    """A role read as Sphinx shows it: its title, else its target (``~`` keeps the last part, ``.`` is dropped)."""
    from docutils import nodes
    from docutils.utils import unescape

    shown = unescape(text)
    link = _LINK_TARGET.match(shown)
    if link and link.group(1):
        shown = link.group(1)
    shown = shown.lstrip("!")
    if shown.startswith("~"):
        shown = shown[1:].rsplit(".", 1)[-1]
    shown = shown.lstrip(".") or shown
    as_code = name in _CODE_ROLES or (name not in _ROLES and " " not in shown.strip())
    node = nodes.literal(rawtext, shown) if as_code else nodes.inline(rawtext, shown)
    return [node], []


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
            self.blocks.add("code", node.astext(), "python" if isinstance(node, nodes.doctest_block) else language)
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
        elif isinstance(node, (nodes.definition_list, nodes.field_list, nodes.option_list)):
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

    def _definition(self, item: Any, depth: int) -> None:
        """term — definition (definition lists, field lists, option lists); a rich definition keeps its blocks."""
        from docutils import nodes

        term_nodes = [c for c in item.children if isinstance(c, (nodes.term, nodes.field_name, nodes.option_group))]
        body = next(
            (c for c in item.children if isinstance(c, (nodes.definition, nodes.field_body, nodes.description))), None
        )
        term = " ".join(t.astext() if isinstance(t, nodes.option_group) else inline(t) for t in term_nodes)
        if body is None:
            self.blocks.add("paragraph", term)
            return
        parts = body.children
        if parts and all(isinstance(p, nodes.paragraph) for p in parts):
            text = " ".join(inline(p) for p in parts)
            self.blocks.add("paragraph", f"{term} — {text}" if term else text)
            return
        if term:
            self.blocks.add("paragraph", term)
        self.children(body, depth)


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
