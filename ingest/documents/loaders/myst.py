"""MyST (Markdown for Sphinx) taught to the Markdown parser: roles, targets and directives as Sphinx renders them.

* ``{func}`~pkg.name``` and the other roles read as Sphinx shows them (sphinx_names.role_text): code
  for API names, a ``{ref}`` as the title of the section its label marks;
* a ``(label)=`` line is the next heading's id (its anchor), never text;
* a directive fence ````` ```{name} argument ````` (or ``:::{name} argument``, MyST's colon fence) is
  read by what it is: ``code-block`` is code,
  an admonition (``note``, ``warning``, ``seealso``...) its content led in by its label, a
  ``glossary`` its terms and definitions, an object's description (``{py:method}``, an ``{autoclass}``
  with content) a section headed by its name, and ``toctree``, ``contents``, ``include`` and the API
  stubs leave no text (noted under ``dropped``). Its ``:option: value`` lines are never text.
"""

from __future__ import annotations

import re
from typing import Any

from ingest.documents.loaders.markdown_rules import line_text
from ingest.documents.loaders.sphinx_layout import CODE_TAB, TITLED, shown_in_html
from ingest.documents.loaders.sphinx_names import DROPPED_DIRECTIVES as SPHINX_DROPPED
from ingest.documents.loaders.sphinx_names import role_text
from ingest.documents.loaders.sphinx_objects import AUTO_DESCRIPTIONS, DESCRIPTIONS, describe

_TARGET = re.compile(r"^\(([^()\s]+)\)=\s*$")
_ROLE = re.compile(r"\{([A-Za-z][\w.+:-]*)\}(`+)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_OPTION = re.compile(r"^:[\w-]+:(?:\s.*)?$")
_COLON_FENCE = re.compile(r"^(:{3,})\s*(\{[A-Za-z][\w:-]*\}.*)$")

CODE_DIRECTIVES = frozenset({"code-block", "code", "sourcecode", "code-cell", CODE_TAB})
#: MyST's directives that leave no text: Sphinx's (sphinx_names.py), and includes it could not read.
DROPPED_DIRECTIVES = frozenset({*SPHINX_DROPPED, "include", "literalinclude", "eval-rst", "image", "figure", "raw"})
#: Directives whose content is led in by a label, as their rendered box shows it.
LABELLED = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
    "versionadded": "Added in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "admonition": "",
    # sphinx-design and sphinx-tabs: a tab's, card's or dropdown's title leads its content in (sphinx_layout.py)
    **dict.fromkeys(TITLED, ""),
    "topic": "",
    "sidebar": "",
}


def add_myst_rules(md: Any) -> None:
    """Teach ``md`` (a MarkdownIt parser) MyST's targets and roles; its directives are fences (``directive``),
    written with backticks or, MyST's ``colon_fence``, with colons (``:::{note}`` ... ``:::``)."""
    md.block.ruler.before("fence", "myst_target", _target_rule, {"alt": ["paragraph"]})
    md.block.ruler.before("fence", "myst_colon_fence", _colon_fence_rule, {"alt": ["paragraph"]})
    md.inline.ruler.before("backticks", "myst_role", _role_rule)


def targets(source: str) -> dict[str, str]:
    """``label -> heading`` for the ``(label)=`` lines of ``source`` that stand right before a heading."""
    out: dict[str, str] = {}
    pending: list[str] = []
    for line in source.splitlines():
        target = _TARGET.match(line.strip())
        if target:
            pending.append(target.group(1).lower())
            continue
        if not line.strip():
            continue
        heading = _HEADING.match(line.strip())
        if heading and pending:
            out.update(dict.fromkeys(pending, heading.group(1)))
        pending = []
    return out


def _target_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    found = _TARGET.match(line_text(state, start))
    if state.sCount[start] - state.blkIndent >= 4 or not found:
        return False
    if silent:
        return True
    token = state.push("myst_target", "", 0)
    token.content = found.group(1)
    token.map = [start, start + 1]
    state.line = start + 1
    return True


def _colon_fence_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """``:::{tab-item} Windows`` ... ``:::``: a directive fence, as one written with backticks is read (a longer
    fence around shorter ones nests them: ``::::{tab-set}`` holds ``:::{tab-item}``)."""
    found = _COLON_FENCE.match(line_text(state, start))
    if state.sCount[start] - state.blkIndent >= 4 or not found:
        return False
    fence = found.group(1)
    close = start + 1
    while close < end and not (line_text(state, close).strip() == fence and state.sCount[close] - state.blkIndent < 4):
        close += 1
    if close >= end:
        return False  # never closed: not a fence
    if silent:
        return True
    token = state.push("fence", "code", 0)
    token.info = found.group(2).strip()
    indent = state.sCount[start]  # the body keeps its own indentation (code, nested lists), less the fence's
    body = state.src[state.bMarks[start + 1] : state.bMarks[close]] if close > start + 1 else ""
    token.content = "".join(re.sub(rf"^ {{0,{indent}}}", "", line) for line in body.splitlines(keepends=True))
    token.markup = fence
    token.map = [start, close + 1]
    state.line = close + 1
    return True


def _role_rule(state: Any, silent: bool) -> bool:
    found = _ROLE.match(state.src, state.pos)
    if not found:
        return False
    ticks = found.group(2)
    body_start = found.end()
    close = state.src.find(ticks, body_start)
    if close < 0 or close > state.posMax:
        return False
    if not silent:
        shown, as_code = role_text(found.group(1), state.src[body_start:close], state.env.get("myst_labels", {}))
        token = state.push("code_inline" if as_code else "text", "code" if as_code else "", 0)
        token.content = shown
        token.markup = "`"
    state.pos = close + len(ticks)
    return True


def directive(info: str, content: str) -> tuple[str, str, str]:
    """(what the fence is: code, labelled, dropped or other; its argument; its content without options)."""
    name, _, argument = info.strip()[1:].partition("}")
    name, argument = name.strip().lower(), argument.strip()
    lines = content.split("\n")
    if lines and lines[0].strip() == "---":
        lines = _front_options(lines)
    while lines and _OPTION.match(lines[0].strip()):
        lines = lines[1:]
    body = "\n".join(lines).strip("\n")
    if name in CODE_DIRECTIVES:
        return "code", argument, body
    if name in DESCRIPTIONS or (name in AUTO_DESCRIPTIONS and body.strip()):  # an object's description
        return "description", argument.split("\n")[0], body
    if name in DROPPED_DIRECTIVES or (name == "only" and not shown_in_html(argument)):
        return "dropped", f"{{{name}}} {argument}".strip(), body
    if name in LABELLED:
        label = LABELLED[name]
        label = f"{label} {argument}".strip() if name.startswith(("version", "deprecated")) else argument or label
        return "labelled", label, body
    if name == "glossary":
        return "glossary", "", body
    return "other", argument, body


def description_heading(info: str, signature: str, scope: list[str]) -> tuple[str, str]:
    """The heading and id of an object's description fence (``{py:method} Request.replace(url)``) inside the
    descriptions ``scope`` names, as Sphinx gives them (sphinx_objects.describe); the id lacks the module
    MyST's ``{currentmodule}`` would add (not tracked here)."""
    return describe(info.strip()[1:].partition("}")[0].strip().lower(), signature, "", scope)


def _front_options(lines: list[str]) -> list[str]:
    """``lines`` after a ``---`` ... ``---`` block of YAML options at the top of a directive."""
    for i, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            return lines[i + 1 :]
    return lines


def glossary(body: str) -> list[str]:
    """``term — definition`` for each term of a glossary (terms at the margin, definitions indented)."""
    out: list[str] = []
    terms: list[str] = []
    definition: list[str] = []
    for line in [*body.split("\n"), ""]:
        if line.strip() and not line[:1].isspace():
            if definition:
                out.append(f"{', '.join(terms)} — {' '.join(definition)}")
                terms, definition = [], []
            terms.append(line.strip())
        elif line.strip():
            definition.append(line.strip())
    if terms and definition:
        out.append(f"{', '.join(terms)} — {' '.join(definition)}")
    return out
