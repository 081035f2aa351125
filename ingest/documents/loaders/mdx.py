"""MDX (Docusaurus) taught to the Markdown parser: what a reader of the built page sees of it.

An ``.mdx`` page is Markdown with JavaScript in it. These markdown-it rules read it as the site
renders it, leaving the rest to the Markdown reader (markdown.py):

* ``import``/``export`` lines (ESM) and ``{/* comments */}`` are dropped; a Markdown partial
  imported from the same source (``import Flag from './_flag.mdx'``) is read where ``<Flag />``
  stands (ingest/documents/includes.py); an ``export const NAME = 'value'`` is remembered, so
  ``{NAME}`` in the text reads as its value, while any other ``{expression}`` (a value known only
  at build time) is dropped and noted;
* a line of JSX tags becomes open/close tokens: a ``<TabItem label="npm">`` labels its content
  ("npm:", as content tabs do), ``<details>`` takes its ``<summary>`` as the lead-in, an
  ``<Admonition type="tip" title="...">`` its title; other components keep their text children and
  lose their tags, and those with no text (``<DocCardList />``) leave nothing;
* indentation never makes a code block (MDX has none), so content indented inside a component
  stays prose; a ``mdx-code-block`` fence is MDX to render (its imports go, its text stays), and a
  heading's ``{/* #custom-id */}`` is its id.
"""

from __future__ import annotations

import re
from typing import Any

from ingest.documents.loaders.markdown_rules import line_text

_ESM = re.compile(r"^(?:import|export)\s")
_PARTIAL = re.compile(r"""^import\s+([A-Z][\w$]*)\s+from\s+['"](\.{1,2}/[^'"]+\.mdx?)['"];?\s*$""")
_CONST = re.compile(r"""^export\s+const\s+([A-Za-z_$][\w$]*)\s*=\s*(?:(['"])(.*?)\2|(\d+(?:\.\d+)?))\s*;?\s*$""")
_TAG = re.compile(r"""<(/?)([A-Za-z][\w.:-]*)((?:\s+[\w:.@-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|\{[^{}]*\}))?)*)\s*(/?)>""")
_ATTR = re.compile(r"""([\w:.@-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|\{([^{}]*)\}))?""")
_SUMMARY = re.compile(r"^<summary>(.*)</summary>$", re.IGNORECASE)
_ATTR_LIST_BRACE = re.compile(r"\{:?\s*[#.][\w:-]+")  # ``{#custom-id}`` after a heading: not an expression
_HEADING_ID = re.compile(r"/\*\s*#([\w:-]+)\s*\*/")
_MAX_TAG_LINES = 20  # an opening tag whose attributes run over several lines ends within this many


def add_mdx_rules(md: Any) -> None:
    """Teach ``md`` (a MarkdownIt parser) the MDX syntax above."""
    alt: Any = {"alt": ["paragraph", "reference", "blockquote", "list"]}
    md.disable("code")
    md.block.ruler.before("table", "mdx_esm", _esm_rule, alt)
    md.block.ruler.before("table", "mdx_comment", _comment_rule, alt)
    md.block.ruler.before("html_block", "mdx_jsx", _jsx_rule, alt)
    md.inline.ruler.before("escape", "mdx_expression", _expression_rule)


def _esm_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """``import``/``export`` statements at the start of a line, up to the next blank line: dropped."""
    if state.sCount[start] != 0 or not _ESM.match(line_text(state, start)):
        return False
    if silent:
        return True
    line = start
    consts = state.env.setdefault("mdx_consts", {})
    while line < end and not state.isEmpty(line):
        found = _CONST.match(line_text(state, line))
        if found:
            consts[found.group(1)] = found.group(3) if found.group(2) else found.group(4)
        partial = _PARTIAL.match(line_text(state, line))
        if partial:  # a Markdown partial, rendered where <Name /> stands
            state.env.setdefault("mdx_partials", {})[partial.group(1)] = partial.group(2)
        line += 1
    token = state.push("mdx_esm", "", 0)
    token.map = [start, line]
    state.line = line
    return True


def _comment_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """``{/* ... */}`` on lines of its own: dropped."""
    if not line_text(state, start).startswith("{/*"):
        return False
    line = start
    while line < end and "*/}" not in line_text(state, line):
        line += 1
    if line >= end:
        return False
    if silent:
        return True
    token = state.push("mdx_comment", "", 0)
    token.map = [start, line + 1]
    state.line = line + 1
    return True


def _jsx_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """A line (or an opening tag over a few lines) of nothing but JSX tags: one token per tag."""
    text = line_text(state, start).strip()  # indented inside a component or not: MDX has no indented code
    if not text.startswith("<"):
        return False
    last = start
    while ">" not in text and last + 1 < end and last - start < _MAX_TAG_LINES:
        last += 1
        text += " " + line_text(state, last).strip()
    summary = _SUMMARY.match(text)
    tags = [] if summary else _tags(text)
    if not summary and tags is None:
        return False
    if silent:
        return True
    if summary:
        token = state.push("mdx_summary", "", 0)
        token.content = summary.group(1).strip()
    else:
        for closing, name, attrs, self_closing in tags or []:
            kind = "mdx_close" if closing else "mdx_self" if self_closing else "mdx_open"
            token = state.push(kind, name, 0)
            token.meta = {"name": name, "attrs": attrs}
    token.map = [start, last + 1]
    state.line = last + 1
    return True


def _tags(text: str) -> list[tuple[bool, str, dict[str, str], bool]] | None:
    """The tags that make up ``text`` wholly, or None when anything else is on the line."""
    out = []
    at = 0
    while at < len(text):
        found = _TAG.match(text, at)
        if not found:
            return None
        attrs = {m.group(1): next((g for g in m.groups()[1:] if g is not None), "") for m in _ATTR.finditer(found[3])}
        out.append((found[1] == "/", found[2], attrs, found[4] == "/"))
        at = found.end()
        while at < len(text) and text[at].isspace():
            at += 1
    return out


def _expression_rule(state: Any, silent: bool) -> bool:
    """``{NAME}`` reads as an exported constant's value; ``{/* comment */}`` and other expressions go."""
    src, pos = state.src, state.pos
    if src[pos] != "{" or _ATTR_LIST_BRACE.match(src, pos):
        return False
    depth, end = 0, pos
    while end < state.posMax:
        depth += {"{": 1, "}": -1}.get(src[end], 0)
        if depth == 0:
            break
        end += 1
    if depth != 0:
        return False
    inner = src[pos + 1 : end].strip()
    if not silent:
        value = state.env.get("mdx_consts", {}).get(inner)
        heading_id = _HEADING_ID.fullmatch(inner)
        if heading_id:  # ``## Title {/* #custom-id */}``: the heading's id, as an attribute list reads it
            token = state.push("text", "", 0)
            token.content = "{#" + heading_id.group(1) + "}"
        elif value is not None:
            token = state.push("text", "", 0)
            token.content = value
        elif not inner.startswith("/*"):
            state.env.setdefault("mdx_dropped", []).append("{" + inner + "}")
    state.pos = end + 1
    return True


def component_label(name: str, attrs: dict[str, str]) -> str | None:
    """The lead-in a component gives its content: a tab's label, an admonition's title; None: none."""
    low = name.lower()
    if low == "tabitem":
        return attrs.get("label") or attrs.get("value") or None
    if low == "admonition":
        return attrs.get("title") or (attrs.get("type") or "note").capitalize()
    return None
