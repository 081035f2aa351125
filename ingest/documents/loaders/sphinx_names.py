"""The directives and roles Sphinx adds to reStructuredText, taught to docutils so a page parses without Sphinx.

``code-block`` is code; ``versionadded``/``deprecated``/``seealso`` are labelled paragraphs; a
``glossary`` is a definition list; an object's description (``.. method::``, an ``autoclass`` with
content written under it) is a section headed by its name (sphinx_objects.py); ``autofunction``-style
stubs, ``toctree`` and ``contents`` directives are dropped (noted: their content lives elsewhere);
``include`` and ``literalinclude`` read the file in place when it is in the source
(ingest/documents/includes.py), as reStructuredText unless it is literal, code or Markdown, cut to
what ``:start-after:`` and the like keep; roles read as
Sphinx shows them: ``:func:`~pkg.name``` as ```name```, ``:ref:`label``` as the title of the
section the label marks (``labels``), else the label's words.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from ingest.documents.includes import CODE_SUFFIXES, current, excerpt, language
from ingest.documents.loaders.sphinx_layout import AnyOption, register_layout
from ingest.documents.loaders.sphinx_objects import AUTO_DESCRIPTIONS, DESCRIPTIONS, describe

_CODE_DIRECTIVES = ("code-block", "sourcecode", "ipython")
_LABELLED = {
    "versionadded": "Added in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "versionremoved": "Removed in version",
    "seealso": "See also",
    "todo": "To do",
}
#: Directives whose content lives elsewhere (API stubs, tables of contents): they leave no text.
DROPPED_DIRECTIVES = (
    "toctree",
    "contents",
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
    "ifconfig",
    "graphviz",
    "plot",
    "mermaid",
)
#: Roles naming a Python object (also written with the ``py:`` domain prefix).
_PY_OBJECT_ROLES = ("func", "meth", "class", "attr", "mod", "obj", "exc", "data", "const")
_ROLES = (
    "ref",
    "doc",
    *_PY_OBJECT_ROLES,
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
    *(f"py:{r}" for r in _PY_OBJECT_ROLES),
)
#: Roles whose text is shown as code.
_CODE_ROLES = frozenset(
    r
    for r in _ROLES
    if r.split(":")[-1]
    in {*_PY_OBJECT_ROLES, "envvar", "option", "program", "file", "command", "kbd", "samp", "keyword"}
)
_LINK_TARGET = re.compile(r"^(.*?)\s*<[^<>]*>$", re.DOTALL)

_REGISTERED = False
_LOCK = threading.Lock()


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

        def noted(directive: Directive) -> list[Any]:
            """What a directive whose content is not here leaves: a comment the walker notes as dropped."""
            node = nodes.comment(text=f".. {directive.name}:: {' '.join(directive.arguments)}".strip())
            node["citebot_dropped"] = True
            return [node]

        class Dropped(Directive):
            """Content that lives elsewhere (API stubs, tables of contents, included files)."""

            required_arguments = 0
            optional_arguments = 10
            final_argument_whitespace = True
            has_content = True
            option_spec = None

            def run(self) -> list[Any]:
                return noted(self)

        class Description(Directive):
            """An object's description: its name heads its content (``citebot_object`` on a container)."""

            required_arguments = 0
            optional_arguments = 1
            final_argument_whitespace = True
            has_content = True
            option_spec = AnyOption(noindex=directives.flag)

            def run(self) -> list[Any]:
                if self.name.startswith("auto") and not self.content:  # an API stub: the text lives in the code
                    return noted(self)
                document = self.state.document
                scope: list[str] = document.setdefault("citebot_scope", [])  # the enclosing descriptions' ids
                signature = self.arguments[0] if self.arguments else ""
                node = nodes.container()
                node["citebot_object"], node["citebot_id"] = describe(
                    self.name, signature, document.get("citebot_module", ""), scope
                )
                scope.append(node["citebot_id"])
                try:
                    self.state.nested_parse(self.content, self.content_offset, node)
                finally:
                    scope.pop()
                return [node]

        class Module(Dropped):
            """``.. module::`` / ``.. currentmodule::``: no text, but the module the descriptions after it are in."""

            def run(self) -> list[Any]:
                name = self.arguments[0].split()[0] if self.arguments else ""
                self.state.document["citebot_module"] = "" if name == "None" else name
                return super().run()

        # Dropped accepts any option: docutils checks options against option_spec unless it is None.
        for name in (*DESCRIPTIONS, *AUTO_DESCRIPTIONS):
            directives.register_directive(name, Description)
        for name in _CODE_DIRECTIVES:
            directives.register_directive(name, CodeBlock)
        for name in _LABELLED:
            directives.register_directive(name, Labelled)
        for name in DROPPED_DIRECTIVES:
            if name not in AUTO_DESCRIPTIONS:
                directives.register_directive(name, Module if name in ("module", "currentmodule") else Dropped)

        class Glossary(Directive):
            """``.. glossary::`` (terms, each with its indented definition): a definition list."""

            has_content = True
            option_spec: ClassVar[dict[str, Any]] = {"sorted": directives.flag}

            def run(self) -> list[Any]:
                node = nodes.container()
                self.state.nested_parse(self.content, self.content_offset, node)
                return [node]

        class Include(Directive):
            """``.. include::`` / ``.. literalinclude::``: the file's text in place, when it is in the source."""

            required_arguments = 1
            final_argument_whitespace = True
            option_spec = AnyOption(literal=directives.flag)  # every option read (:start-after:, :language:...)
            has_content = False

            def run(self) -> list[Any]:
                includes = current()
                path = includes.resolve(self.arguments[0]) if includes else None
                text = includes.text(path) if includes and path else None
                if includes is None or path is None or text is None:
                    return noted(self)
                options = self.options or {}
                text = excerpt(text, options)
                suffix = path.suffix.lower()
                if self.name == "literalinclude" or suffix in CODE_SUFFIXES or "literal" in options:
                    given = options.get("language")
                    return [nodes.literal_block(text, text, language=given or language(path))]
                # Sphinx reads an include as reStructuredText whatever its suffix (".txt" fragments are the custom),
                # unless a parser is named: Markdown then, read as its paragraphs.
                if suffix in (".md", ".markdown") or "parser" in options:
                    return [nodes.paragraph(p, p) for p in re.split(r"\n\s*\n", text) if p.strip()]
                _register_project_roles(text)  # the fragment's own roles (":setting:", ":pypi:")
                self.state_machine.insert_input(text.splitlines(), str(path))
                return []

        register_layout()
        directives.register_directive("glossary", Glossary)
        directives.register_directive("include", Include)
        directives.register_directive("literalinclude", Include)
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
    """A role as docutils' inliner calls it, read as Sphinx shows it (``role_text``)."""
    from docutils import nodes
    from docutils.utils import unescape

    shown, as_code = role_text(name, unescape(text))
    node = nodes.literal(rawtext, shown) if as_code else nodes.inline(rawtext, shown)
    return [node], []


def role_text(name: str, text: str, labels: dict[str, str] | None = None) -> tuple[str, bool]:
    """What Sphinx shows for the role ``name`` with ``text``, and whether it shows it as code.

    Its title (``text <target>``), else its target: ``~`` keeps the last part, a leading ``.``, ``!``
    or (celery's, in a code role) ``@`` goes; a ``ref`` without a title shows its section's title
    (``labels``, else the labels of the reStructuredText being parsed), a ``doc`` the document's name.
    Used for reStructuredText and MyST (``{func}`~pkg.name```) alike.
    """
    name = name.split(":")[-1] if name.startswith(("py:", "std:")) else name
    shown = text
    link = _LINK_TARGET.match(shown)
    if link and link.group(1):
        shown = link.group(1)
    elif name in ("ref", "doc", "any"):  # no title given: what Sphinx shows for the target
        shown = _target_title(name, shown.strip().lstrip("!~"), labels)
    shown = shown.lstrip("!")
    if shown.startswith("~"):
        shown = shown[1:].rsplit(".", 1)[-1]
    shown = shown.lstrip(".") or shown
    if name in _CODE_ROLES and shown.startswith("@") and len(shown) > 1:
        shown = shown[1:]  # celery's "@" (an attribute of the app: ":class:`@AsyncResult`"), never in a name
    as_code = name in _CODE_ROLES or (name not in _ROLES and " " not in shown.strip())
    return shown, as_code


_CONTEXT = threading.local()
#: ``.. _label:`` lines, and a section title's underline (or overline) of punctuation.
_LABEL = re.compile(r"^\.\. _([^:`]+):\s*$")
ADORNMENT = re.compile(r"""^([=\-~^"'`#*+<>_:.])\1{2,}\s*$""")


def register(text: str) -> None:
    """Teach docutils Sphinx's names and the roles ``text`` uses (see the module docstring)."""
    _register_sphinx_names()
    _register_project_roles(text)


@contextmanager
def label_titles(text: str) -> Iterator[None]:
    """While ``text`` is parsed, ``:ref:`label``` reads as the title of the section the label marks in it."""
    _CONTEXT.labels = section_labels(text)
    try:
        yield
    finally:
        _CONTEXT.labels = {}


def section_labels(text: str) -> dict[str, str]:
    """``label -> section title`` for the labels of ``text`` that stand right before a section title."""
    out: dict[str, str] = {}
    pending: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        label = _LABEL.match(line)
        if label:
            pending.append(label.group(1).strip().lower())
            continue
        if not line.strip() or not pending:
            continue
        title, after = (lines[i + 1 : i + 2] or [""])[0], (lines[i + 2 : i + 3] or [""])[0]
        if ADORNMENT.match(line) and title.strip() and ADORNMENT.match(after):  # an overlined title
            out.update(dict.fromkeys(pending, title.strip()))
        elif ADORNMENT.match(title) and len(title.strip()) >= len(line.strip()):
            out.update(dict.fromkeys(pending, line.strip()))
        pending = []
    return out


def _target_title(role: str, target: str, labels: dict[str, str] | None = None) -> str:
    """What a reference with no title shows: the section its label marks, else the target's own words."""
    if role == "doc":
        parts = [p for p in target.strip("/").split("/") if p]
        if len(parts) > 1 and parts[-1].lower() == "index":
            parts.pop()
        target = parts[-1] if parts else target
    else:
        found = (labels if labels is not None else getattr(_CONTEXT, "labels", {})).get(target.lower())
        if found:
            return found
    return " ".join(re.split(r"[-_]+", target)).strip() or target
