"""A folder on disk as a source: the supported files under it, each stamped with its size and mtime.

Hidden files and folders, the folders in ``IGNORED_DIRS``, links leaving the folder, files that
are not regular files or are too large are left out, each with a reason in the report; the
folder's ``.citebotignore`` (gitignore syntax) and ``--exclude`` globs leave out more, and what
they leave out is no longer a document of the folder (its chunks go).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest.documents.loaders import SUPPORTED_SUFFIXES
from ingest.errors import IngestError
from ingest.report import IngestReport
from ingest.sources import Listing, Stamp, owned

log = logging.getLogger(__name__)

#: Folders never descended into (besides hidden ones).
IGNORED_DIRS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "site-packages"})
#: Gitignore-style patterns of files to leave out, in the ingested folder itself.
IGNORE_FILE = ".citebotignore"


class FolderSource:
    """The documents under ``root``: at most ``max_bytes`` each, leaving out ``excludes`` (gitignore globs).

    A document's id is its path under ``root`` after ``prefix`` (the source's key prefix in an
    index of several sources, ``/<name>/``; see ingest/index/registry.py).
    """

    def __init__(self, root: Path, max_bytes: int, excludes: Sequence[str] = (), prefix: str = "") -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.excludes = tuple(excludes)
        self.prefix = prefix
        self._paths: dict[str, Path] = {}

    def __str__(self) -> str:
        return str(self.root)

    def list(self, report: IngestReport) -> Listing:
        """Supported files under the folder with their stamps, and the paths left out on purpose.

        Raises ``IngestError`` when the folder does not exist.
        """
        if not self.root.is_dir():
            raise IngestError(f"folder not found: {self.root}")
        stamps: dict[str, Stamp] = {}
        excluded: set[str] = set()
        for rel, path, st in self._walk(report, excluded):
            self._paths[rel] = path
            stamps[rel] = Stamp(st.st_size, st.st_mtime_ns)
        return Listing(stamps, frozenset(excluded))

    def owns(self, doc_id: str) -> bool:
        """Whether a document id in the index is one of this folder's (another source's has another prefix)."""
        return owned(self.prefix, doc_id)

    def fetch(self, doc_id: str) -> bytes:
        """The file's bytes (``OSError`` if it cannot be read)."""
        return self.locate(doc_id).read_bytes()

    def locate(self, doc_id: str) -> Path:
        """The file on disk (its real name, which ``doc_id`` may show escaped; see ``safe_name``)."""
        return self._paths.get(doc_id) or self.root / doc_id[len(self.prefix) :]

    def _walk(self, report: IngestReport, excluded: set[str]) -> Iterator[tuple[str, Path, os.stat_result]]:
        """(id, path, stat) of every file that is a document; every file left out is in ``report``."""
        root, max_bytes = self.root, self.max_bytes
        root_resolved = root.resolve()
        rules = exclusion_rules(root, self.excludes)

        def left_out(rel: str) -> bool:
            for why, spec in rules:
                if spec.match_file(rel[len(self.prefix) :]):  # the rules speak of paths inside the folder
                    report.skip(rel, why)
                    excluded.add(rel)
                    return True
            return False

        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            here = safe_name(Path(dirpath).relative_to(root).as_posix())
            prefix = self.prefix if here == "." else f"{self.prefix}{here}/"
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".") and d not in IGNORED_DIRS and not left_out(f"{prefix}{safe_name(d)}/")
            )
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                rel = f"{prefix}{safe_name(name)}"
                if left_out(rel):
                    continue
                if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    report.skip(rel, f"unsupported file type {path.suffix.lower() or '(none)'}")
                    continue
                if path.is_symlink():
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):
                        report.fail(rel, "broken or looping symlink")
                        continue
                    if not target.is_relative_to(root_resolved):
                        report.skip(rel, "symlink to a file outside the folder")
                        continue
                try:
                    st = path.stat()
                except OSError as exc:
                    report.fail(rel, f"cannot stat file: {exc.strerror or exc}")
                    continue
                if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read forever; a device never ends
                    report.skip(rel, "not a regular file (a pipe, socket or device)")
                    continue
                if st.st_size > max_bytes:
                    report.skip(rel, f"larger than the {max_bytes / 1e6:g} MB limit ({st.st_size / 1e6:.1f} MB)")
                    continue
                yield rel, path, st


def safe_name(name: str) -> str:
    """A path as the index names it: file names that are not UTF-8 keep their bytes as ``\\xNN`` escapes.

    Such names reach Python as lone surrogates, which neither the index nor a terminal accepts; the
    escaped form is stable from run to run, and the file itself is still read through its real path.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def exclusion_rules(root: Path, excludes: Sequence[str] = ()) -> list[tuple[str, Any]]:
    """(reason, gitignore-style matcher) for the folder's ``.citebotignore`` and for ``excludes``."""
    import pathspec

    rules: list[tuple[str, Any]] = []
    ignore_file = root / IGNORE_FILE
    if ignore_file.is_file():
        try:
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            log.warning("cannot read %s: %s", ignore_file, exc.strerror or exc)
        else:
            rules.append((f"excluded by {IGNORE_FILE}", pathspec.GitIgnoreSpec.from_lines(lines)))
    for glob in excludes:
        rules.append((f"excluded by --exclude {glob!r}", pathspec.GitIgnoreSpec.from_lines([glob])))
    return rules
