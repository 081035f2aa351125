"""Document metadata written at the top of a file: YAML front matter, or ``Title: ...`` header lines.

Front matter is read with YAML's safe loader, refusing aliases (``*ref``: a few hundred bytes of
nested aliases expand to gigabytes) and anything over ``MAX_FRONT_MATTER`` bytes; a value that is not
a plain scalar or a list of them is ignored. What cannot be read stays in the body, never fatal.
"""

from __future__ import annotations

import html
import re
from typing import Any

#: Header keys recognised in front matter and header lines, mapped to the metadata names the index uses.
HEADER_KEYS = {
    "title": "title",
    "source": "source_name",
    "publisher": "source_name",
    "site": "source_name",
    "url": "url",
    "link": "url",
    "slug": "slug",  # Docusaurus: the page's address, instead of its path (ingest/sources/links.py)
    "published": "date",
    "date": "date",
    "published_at": "date",
    "author": "author",
    "authors": "author",
    "by": "author",
    "category": "category",
    "tags": "category",
}
MAX_FRONT_MATTER = 64 * 1024
_MAX_VALUE = 300
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z _-]{0,20}):[ \t]*(.*)$")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``---``-fenced YAML at the top -> (metadata, the rest); ({}, text) when there is none or it is unreadable."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4, MAX_FRONT_MATTER + 4)
    if end < 0:
        return {}, text
    rest = text[end + 4 :]
    rest = rest.split("\n", 1)[1] if "\n" in rest else ""
    try:
        raw = _safe_yaml(text[4:end])
    except _Refused:
        return {}, rest  # front matter, but hostile: left out entirely
    if not isinstance(raw, dict):
        return {}, text
    return map_header(raw), rest


class _Refused(Exception):
    """Front matter that uses aliases: refused before anything is built from it."""


def _safe_yaml(source: str) -> Any:
    """YAML's safe loader without aliases (``_Refused``); None when the text is not YAML at all."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise _Refused
            return super().compose_node(parent, index)

    try:
        return yaml.load(source, Loader=NoAliasLoader)  # a SafeLoader: builds plain data only
    except (yaml.YAMLError, ValueError, RecursionError):
        return None


def split_header_lines(text: str) -> tuple[dict[str, Any], str]:
    """Leading ``Title: ...`` style lines up to the first blank line, if the first one is a known key."""
    lines = text.split("\n")
    raw: dict[str, Any] = {}
    consumed = 0
    for line in lines[:20]:
        if not line.strip():
            if raw:
                consumed += 1
            break
        match = _HEADER_LINE.match(line.strip())
        if not match or match.group(1).strip().lower().replace(" ", "_") not in HEADER_KEYS:
            if not raw:
                return {}, text
            break
        raw[match.group(1).strip().lower().replace(" ", "_")] = match.group(2).strip()
        consumed += 1
    if not raw:
        return {}, text
    return map_header(raw), "\n".join(lines[consumed:])


def map_header(raw: dict[Any, Any]) -> dict[str, Any]:
    """Known keys to metadata names; lists joined with commas; other values (mappings...) ignored."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = HEADER_KEYS.get(str(key).strip().lower().replace(" ", "_"))
        if name is None or value in (None, ""):
            continue
        if isinstance(value, list):
            if not all(isinstance(v, (str, int, float)) for v in value):
                continue
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            continue
        out.setdefault(name, html.unescape(str(value)).strip()[:_MAX_VALUE])
    return out
