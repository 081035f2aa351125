"""Naming what a quoted sentence is about when its own words do not: a setting's row, an option's description,
a release note's version.

A table row read alone ("Default: `30`") or the description under an option's heading ("Override
CPU architecture of native modules to install." under ``### --cpu=<name>``) does not say which
setting or option it is about; the heading does, and a reader needs it with the sentence. A line of
release notes ("Fixed AttributeError with quorum queues (#9657)") says what changed but not in
which release: its version heading ("5.5.1", "v2.0 (2023-06-30)") does, and that is often what
was asked ("which release fixed it?", "when did 2.0 come out?").
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.answering.question import identifiers
from ingest.documents.document import SECTION_SEPARATOR

_KEY_VALUE = re.compile(r"^(`[^`]+`|[A-Za-z][\w .-]{0,30}?)(:| —) \S")
#: The labels of admonitions (Markdown dialects, reStructuredText, Sphinx), which the loaders write as "Note: ...".
_ADMONITIONS = frozenset(
    {"note", "tip", "hint", "info", "warning", "caution", "danger", "important", "attention", "error", "success"}
    | {"example", "todo", "see also"}
)


def is_key_value(sentence: str) -> bool:
    """A table row or field as the loaders write them: ``Key: value`` or ``name — Header: value``."""
    return bool(_KEY_VALUE.match(sentence)) and len(sentence) <= 400


def with_setting(sentence: str, section: str, *, notes: bool = True) -> str:
    """A setting's row read alone ("Default: `30`") is named by its section: "timeout — Default: `30`".

    ``notes``: an admonition ("Note: VitePress is an ESM-only package.") and a row keyed by its own name in code
    ("`pnpm add -D sax` — Meaning: ...") too. What a sentence is scored by reads better with its section; a
    reader shown "Prerequisites — Note: ..." or "TL;DR — `pnpm add -D sax` — Meaning: ..." sees markup.
    """
    leaf = _leaf(section)
    if not leaf or not is_key_value(sentence) or leaf.lower() in sentence.lower():
        return sentence
    if not notes and (_admonition(sentence) or sentence.startswith("`")):
        return sentence  # a row keyed by its own name ("`celery[slmq]` — for using ...") needs no other
    return f"{leaf} — {sentence}"


def _admonition(text: str) -> bool:
    """``text`` is an admonition ("Note: ...", "Warning: ..."), as the loaders label them, not a key and its value."""
    match = _KEY_VALUE.match(text)
    return match is not None and match.group(1).strip().lower() in _ADMONITIONS


#: A heading that names an option or a setting (``--cpu=<name>``, ``--save-exact, -E``, ``catalogMode``,
#: ``max_age``): its section describes that name, which a reader needs with the description.
_OPTION_HEADING = re.compile(
    r"`?(?:--?[A-Za-z][\w-]*(?:[= ]\S+)?(?:,\s*--?[\w-]+)*|[a-z]+(?:[A-Z][a-z0-9]*)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)`?"
)


#: A heading that is a release's: "5.5.1", "v2.0 (2023-06-30)", "Version 1.2.3", "Scrapy 2.13.0 (2025-05-08)",
#: "1.4.0 - 2024-01-02"; not a numbered section ("4.1 ReduMIS") or a title naming a version ("KaMIS v2.0 – User Guide").
_RELEASE_HEADING = re.compile(
    r"^(?:[A-Za-z][\w.-]*\s+){0,2}(?:v|version\s|release\s)?\d+\.\d+(?:\.\d+)*[\w.+-]*"
    r"(?:\s*\(.*\)|\s*[-–—:]\s*\d.*)?$",
    re.IGNORECASE,
)
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)*")
#: A release heading longer than this is cut to its version.
RELEASE_HEADING_CHARS = 40


def release_of(section: str) -> str:
    """The heading of the release a section belongs to (its innermost heading that names one), or ""."""
    for heading in reversed(section.split(SECTION_SEPARATOR)):
        heading = heading.strip()
        if _RELEASE_HEADING.match(heading):
            if len(heading) > RELEASE_HEADING_CHARS:
                found = _VERSION.search(heading)
                return found.group(0) if found else ""
            return heading
    return ""


#: A version as a release names it: "5.5.0", "v2.0"; not the start of "5.5.0rc2" or of "1.2.3.4a".
RELEASE_VERSION = re.compile(r"(?<![\w.])v?(\d+\.\d+(?:\.\d+)*)(?![\w.]*\d)")


def normal_version(version: str) -> str:
    """ "5.5.0" and "5.5" name one release; "2.0" stays "2.0"."""
    parts = version.split(".")
    while len(parts) > 2 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=4096)
def release_version(section: str) -> str:
    """The version of the release whose section this is ("5.5.1 › What's Changed" -> "5.5.1"), or "".
    Remembered: a question naming a release reads the sections of every chunk of a long changelog."""
    found = RELEASE_VERSION.search(release_of(section)) if section else None
    return normal_version(found.group(1)) if found else ""


def with_release(sentence: str, section: str) -> str:
    """A release note named by its release when it does not name one: "5.5.1 — Fixed ... (#9657)"."""
    release = release_of(section)
    version = _VERSION.search(release)
    if not release or (version is not None and version.group(0) in sentence):
        return sentence
    return f"{release} — {sentence}"


def with_option(sentence: str, section: str, *, notes: bool = True) -> str:
    """A sentence of an option's or a setting's own section, named by it when it does not say it:
    "``--cpu=<name>`` — Override CPU architecture of native modules to install.". ``notes``: as ``with_setting``."""
    leaf = _leaf(section)
    name = _name_key(leaf)
    if not name or not _OPTION_HEADING.fullmatch(leaf) or name.lower() in sentence.lower():
        return with_setting(sentence, section, notes=notes)
    return f"`{leaf.strip('`')}` — {sentence}"


def asked_names(query: str) -> set[str]:
    """The API, setting and option names the question writes as code, as section headings are compared."""
    return {key for ident in identifiers(query) if (key := _name_key(ident))}


def heads(section: str, names: set[str]) -> bool:
    """The innermost heading of ``section`` is one of ``names``: "scrapy.Request › Request.replace()" heads
    "Request.replace", "SessionBase › flush()" heads "SessionBase.flush", "`worker_concurrency`" its setting."""
    leaf = _name_key(_leaf(section))
    return bool(leaf) and any(leaf == n or n.endswith(f".{leaf}") or leaf.endswith(f".{n}") for n in names)


def _leaf(section: str) -> str:
    """The innermost heading of a section path."""
    return section.rsplit(SECTION_SEPARATOR, 1)[-1].strip()


def _name_key(text: str) -> str:
    """A name as written in a question or a heading, compared: no backticks, call parentheses, value or alias.
    Case counts, as in code: ``BROKER_URL`` (celery 3's setting) is not ``broker_url``."""
    first = re.split(r"[=,\s]", text.strip().strip("`").strip(), maxsplit=1)[0]
    return first.strip("`").removesuffix("()")
