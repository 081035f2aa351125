"""Files a page pulls in when its site is built: read in place, when they are inside the same source.

``.. include::`` and ``literalinclude`` (Sphinx), MyST's ``{include}`` and ``{literalinclude}``,
MkDocs' ``--8<-- "file"`` snippets and VitePress' ``<<< @/file`` imports put another file's text
into the page. While a document is loaded, ``current()`` says where it is and which folder is its
source: an include is read only when it resolves to a file inside that folder (never ``/etc/passwd``,
never another source), at most ``MAX_BYTES`` and ``MAX_DEPTH`` includes deep. What cannot be read is
dropped and noted, as before; what was read is listed, so that re-ingest can tell when it changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_BYTES = 1_000_000
MAX_DEPTH = 3
#: Languages of included code files, by suffix (others: the suffix itself).
LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".sh": "bash", ".yml": "yaml", ".rs": "rust"}
#: Included files that are code, not text to read as the page's own.
CODE_SUFFIXES = frozenset(
    {
        *LANGUAGES,
        ".mjs",
        ".cjs",
        ".tsx",
        ".jsx",
        ".vue",
        ".json",
        ".toml",
        ".yaml",
        ".ini",
        ".cfg",
        ".css",
        ".go",
        ".java",
    }
)


@dataclass
class Includes:
    """Where the document being loaded is (``page``), the folder its source is (``root``), and what it read."""

    page: Path
    root: Path
    read: list[str] = field(default_factory=list)  # paths under ``root`` that were included
    _stack: list[Path] = field(default_factory=list)

    def resolve(self, spec: str, *, from_root: bool = False) -> Path | None:
        """The file ``spec`` names (relative to the including file, or the source's folder), if it may be read."""
        spec = spec.strip().strip("\"'")
        if not spec or len(self._stack) >= MAX_DEPTH:
            return None
        here = (self._stack[-1] if self._stack else self.page).parent
        tries = [self.root / spec.lstrip("/")] if from_root else [here / spec, self.root / spec.lstrip("/")]
        root = self.root.resolve()
        for candidate in tries:
            try:
                path = candidate.resolve()
                if path.is_file() and path.is_relative_to(root) and path.stat().st_size <= MAX_BYTES:
                    return path
            except OSError:
                continue
        return None

    def text(self, path: Path) -> str | None:
        """The included file's text (recorded as read), or None on a cycle or an unreadable file."""
        if path in self._stack or path == self.page.resolve():
            return None
        try:
            text = path.read_bytes().decode("utf-8-sig", errors="replace")
        except OSError:
            return None
        rel = path.relative_to(self.root.resolve()).as_posix()
        if rel not in self.read:
            self.read.append(rel)
        return text

    @contextmanager
    def inside(self, path: Path) -> Iterator[None]:
        """While an included file's own text is parsed: its includes are relative to it."""
        self._stack.append(path)
        try:
            yield
        finally:
            self._stack.pop()


_CURRENT: ContextVar[Includes | None] = ContextVar("citebot_includes", default=None)


def current() -> Includes | None:
    """The includes of the document being loaded, or None when it has no source folder to read them from."""
    return _CURRENT.get()


@contextmanager
def loading(page: Path, root: Path | None) -> Iterator[Includes | None]:
    """While ``page`` is loaded: its includes are read from ``root`` (None: not at all)."""
    includes = Includes(page.resolve(), root) if root is not None else None
    token = _CURRENT.set(includes)
    try:
        yield includes
    finally:
        _CURRENT.reset(token)


def language(path: Path) -> str:
    return LANGUAGES.get(path.suffix.lower(), path.suffix.lower().lstrip("."))


def excerpt(text: str, options: dict[str, Any]) -> str:
    """The part of an included file its options keep: ``:lines: 1,3,5-10``, ``:start-line:``/``:end-line:``,
    then the text after ``:start-after:`` (or from ``:start-at:``) and before ``:end-before:`` (or up to
    ``:end-at:``)."""
    lines = text.splitlines(keepends=True)
    if spec := str(options.get("lines") or "").strip():
        lines = _numbered_lines(lines, spec)
    try:
        start, end = int(options.get("start-line") or 0), options.get("end-line")
    except ValueError:
        start, end = 0, None
    text = "".join(lines[start : int(end) if end and str(end).lstrip("-").isdigit() else None])
    for key, after in (("start-after", True), ("start-at", False)):
        if (mark := options.get(key)) and (at := text.find(mark)) >= 0:
            text = text[at + len(mark) if after else at :]
    for key, before in (("end-before", True), ("end-at", False)):
        if (mark := options.get(key)) and (at := text.find(mark)) >= 0:
            text = text[: at if before else at + len(mark)]
    return text


def _numbered_lines(lines: list[str], spec: str) -> list[str]:
    """The lines ``spec`` names, 1-based as Sphinx reads it ("1,3,5-10,20-"); all of them if it cannot be read."""
    picked: list[str] = []
    for part in spec.replace(" ", "").split(","):
        first, dash, last = part.partition("-")
        try:
            lo = int(first) if first else 1
            hi = (int(last) if last else len(lines)) if dash else lo
        except ValueError:
            return lines
        picked.extend(lines[max(lo, 1) - 1 : hi])
    return picked
