"""The Markdown dialects' block syntax, taught to markdown-it as block rules (markdown.py walks the tokens).

* admonitions ``!!! note "Title"`` / ``??? tip`` (python-markdown), ``/// note | Title`` ... ``///``
  (pymdown blocks), ``:::note`` ... ``:::`` (Docusaurus) and VitePress' ``::: tip`` ... ``:::``
  become ``admonition_open``/``_close`` tokens around their parsed content; ``::: details Title``
  and ``::: code-group`` are containers too;
* content tabs ``=== "pip"`` become ``tab_open``/``_close``;
* lines that pull in other files at build time become ``include`` tokens (dropped and noted).
"""

from __future__ import annotations

import re
from typing import Any

#: Labels of admonition types as readers know them.
_DOCUSAURUS_TYPES = frozenset({"note", "tip", "info", "caution", "danger", "warning", "important", "success"})
#: VitePress containers that are not admonitions: ``::: details Title`` and ``::: code-group``.
_VITEPRESS_CONTAINERS = {"details": "Details", "code-group": "", "v-pre": "", "raw": ""}


def add_dialect_rules(md: Any) -> None:
    """Teach ``md`` (a MarkdownIt parser) the dialects' containers and include lines."""
    alt: Any = {"alt": ["paragraph", "reference", "blockquote", "list"]}
    md.block.ruler.before("fence", "indented_containers", _indented_rule, alt)
    md.block.ruler.before("fence", "fenced_blocks", _fenced_block_rule, alt)
    md.block.ruler.before("fence", "include_lines", _include_rule, alt)


def line_text(state: Any, line: int) -> str:
    """Line ``line`` of the source without its indentation."""
    return str(state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]])


def _indented_end(state: Any, start: int, end: int, indent: int) -> int:
    """The first line after ``start`` that is not blank and indented less than ``indent`` (the body's end)."""
    line = start + 1
    while line < end:
        if state.isEmpty(line) or state.sCount[line] >= indent:
            line += 1
            continue
        break
    while line - 1 > start and state.isEmpty(line - 1):
        line -= 1
    return line


_INDENTED_CONTAINER = re.compile(r'^(?:(!!!|\?\?\?\+?)\s*([\w-]+(?:\s+[\w-]+)*)(?:\s+"(.*)")?|(===\+?)\s+"(.*)")\s*$')


def _indented_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """An admonition ``!!! note "Title"`` / ``??? tip`` or a content tab ``=== "pip"`` with its indented body.

    The body is every following line indented by four more spaces, blank lines included (as
    python-markdown and MkDocs read it: a fenced example may hold blank lines).
    """
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    match = _INDENTED_CONTAINER.match(line_text(state, start))
    if not match:
        return False
    if silent:
        return True
    if match.group(4):  # a tab: its title leads its content in
        kind, label = "tab", match.group(5)
    else:  # an admonition: its title, else its type ("note" -> "Note"); "" asks for no title
        kind = "admonition"
        label = match.group(3) if match.group(3) is not None else match.group(2).split()[0].capitalize()
    body_end = _indented_end(state, start, end, state.sCount[start] + 4)
    _push_container(state, kind, label, start, body_end, state.sCount[start] + 4)
    return True


def _fenced_block_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """``/// type | title`` ... ``///`` (pymdown blocks) and ``:::type title`` ... ``:::`` (Docusaurus)."""
    text = line_text(state, start)
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    slash = re.match(r"^(/{3,})\s*([\w-]+)\s*(?:\|\s*(.*))?$", text)
    colon = re.match(r"^(:{3,})\s*([\w-]+)\s*(.*)$", text)
    if slash:
        fence, kind, title = slash.group(1), slash.group(2), (slash.group(3) or "").strip()
    elif colon and colon.group(2).lower() in _DOCUSAURUS_TYPES | _VITEPRESS_CONTAINERS.keys():
        fence, kind, title = colon.group(1), colon.group(2), colon.group(3).strip()
    else:
        return False
    close = start + 1
    while close < end and line_text(state, close).strip() != fence:
        close += 1
    if close >= end:
        return False  # no closing fence: not a block
    if silent:
        return True
    if kind.replace("-", " ").lower() in {"version added", "version changed", "version removed"}:
        label = kind.replace("-", " ").capitalize() + (f" in {title}" if title else "")
    elif kind.lower() in _VITEPRESS_CONTAINERS:
        label = title or _VITEPRESS_CONTAINERS[kind.lower()]
    else:
        label = title or kind.capitalize()
    _push_container(state, "admonition", label, start, close, state.blkIndent)
    state.line = close + 1  # past the closing fence
    return True


def _include_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """Lines that pull in other files at build time: dropped, and noted."""
    text = line_text(state, start).strip()
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    mkdocstrings = re.match(r"^:::\s+([\w.]+)\s*$", text)
    if not (
        re.match(r"^\{\*.*\*\}$", text)
        or re.match(r"^-{2}8<-{2}", text)
        or re.match(r"^\{%\s*include\b.*%\}$", text)
        or re.match(r"^<<<\s+\S", text)  # VitePress: a code snippet imported from a file
        or text.lower() == "[[toc]]"  # VitePress: the table of contents
        or mkdocstrings
    ):
        return False
    if silent:
        return True
    last = start + 1
    if mkdocstrings:  # its options are indented below it
        last = _indented_end(state, start, end, state.sCount[start] + 1)
    token = state.push("include", "", 0)
    token.content = text
    token.map = [start, last]
    state.line = last
    return True


def _push_container(state: Any, kind: str, title: str, start: int, end: int, indent: int) -> None:
    """Open/close tokens around the body lines (start, end), parsed as Markdown with ``indent`` removed."""
    token = state.push(f"{kind}_open", "div", 1)
    token.content = title
    token.map = [start, end]
    old_indent, old_max, old_parent = state.blkIndent, state.lineMax, state.parentType
    state.blkIndent = indent
    state.lineMax = end
    state.parentType = kind
    state.md.block.tokenize(state, start + 1, end)
    state.blkIndent, state.lineMax, state.parentType = old_indent, old_max, old_parent
    state.push(f"{kind}_close", "div", -1)
    state.line = end
