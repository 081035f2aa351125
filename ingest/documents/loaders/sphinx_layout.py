"""Layout and code directives of Sphinx extensions (sphinx-design, sphinx-tabs, doctest...): the page shows them.

docutils drops a directive it does not know, content and all, so a page laid out in tabs, cards or
grids would lose its text. Each is read as what the built page shows: a tab's, card's or dropdown's
title leads its content in ("Windows: run the installer ..."), as an admonition's label does; a
code tab is a code block in its language; a grid, a tab set or a horizontal list is its content;
``.. only::`` content is read when an HTML build shows it; Django's ``console``, ``doctest`` and the
other blocks of code shown under their own names are code.
"""

from __future__ import annotations

from typing import Any

#: Containers whose content is simply the page's.
CONTAINERS = ("hlist", "tabs", "tab-set", "tab-set-code", "grid", "grid-item", "div", "card-carousel")
#: Containers titled by their argument, which leads their content in.
TITLED = ("tab", "group-tab", "tab-item", "dropdown", "card", "grid-item-card")
#: A tab that is a code block in the language its argument names (sphinx-tabs).
CODE_TAB = "code-tab"
#: Code shown on the page under another name, and its language: Django's ``console``, sphinx-prompt's
#: ``prompt`` (its first argument), sphinx.ext.doctest's blocks, jupyter-sphinx's executed cells.
CODE_SHOWN = {
    "console": "console",
    "prompt": "",
    "doctest": "pycon",
    "testcode": "python",
    "testoutput": "",
    "jupyter-execute": "python",
}


#: The tags an HTML build of the docs sets (``.. only:: html`` is shown on the site, ``.. only:: latex`` is not).
HTML_TAGS = frozenset({"html", "format_html", "builder_html", "dirhtml", "builder_dirhtml"})


def shown_in_html(expression: str) -> bool:
    """Whether ``.. only:: <expression>`` content is on the built site ("html", "not latex", "html or epub");
    an expression that cannot be read is taken as shown."""
    import ast

    def value(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in HTML_TAGS
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not value(node.operand)
        if isinstance(node, ast.BoolOp):
            results = [value(v) for v in node.values]
            return all(results) if isinstance(node.op, ast.And) else any(results)
        raise ValueError("not a tag expression")

    try:
        return value(ast.parse(expression.strip(), mode="eval").body)
    except (SyntaxError, ValueError):
        return True


class AnyOption(dict[str, Any]):
    """An ``option_spec`` that takes every option as text, unless it names a conversion for it."""

    def __missing__(self, key: str) -> Any:
        from docutils.parsers.rst import directives

        return directives.unchanged


def register_layout() -> None:
    """Teach docutils the layout directives (called once, with Sphinx's own names)."""
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives

    class Container(Directive):
        """A tab set, a grid, a horizontal list: the content, titled by the argument when it has one."""

        optional_arguments = 1
        final_argument_whitespace = True
        has_content = True
        option_spec = AnyOption(name=directives.unchanged)

        def run(self) -> list[Any]:
            title = " ".join((self.arguments[0] if self.arguments else "").split())
            if self.name in TITLED and title:
                node: Any = nodes.admonition()
                node += nodes.title(text=title)
            else:
                node = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, node)
            return [node]

    class CodeTab(Container):
        """``.. code-tab:: python``, ``.. console::``, ``.. doctest::``: a code block (``CODE_SHOWN``)."""

        def run(self) -> list[Any]:
            text = "\n".join(self.content)
            given = (self.arguments[0].split()[0] if self.arguments else "").lower()
            language = CODE_SHOWN.get(self.name) or (given if self.name in (CODE_TAB, "prompt") else "")
            return [nodes.literal_block(text, text, language=language)]

    class Only(Directive):
        """``.. only:: html``: its content when the built site shows it, else nothing."""

        required_arguments = 1
        final_argument_whitespace = True
        has_content = True

        def run(self) -> list[Any]:
            node = nodes.container()
            if shown_in_html(self.arguments[0]):
                self.state.nested_parse(self.content, self.content_offset, node)
            return [node]

    for name in (*CONTAINERS, *TITLED):
        directives.register_directive(name, Container)
    for name in (CODE_TAB, *CODE_SHOWN):
        directives.register_directive(name, CodeTab)
    directives.register_directive("only", Only)
