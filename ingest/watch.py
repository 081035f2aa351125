"""Follow a folder and re-ingest what changes: the one watcher behind `citebot ingest --watch` and the Discord bot.

``watch_changes`` blocks, runs ``reingest`` once per burst of relevant changes (the same files
ingest would read: supported suffixes, outside hidden and ignored folders), hands each report to
``on_report``, and returns when ``stop`` is set (from another thread) or on Ctrl-C. A failed
re-ingest is logged and the watch goes on: the next change retries. Re-ingesting is incremental,
so each burst costs a stat of every file plus the work for the files that changed.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ingest.documents.loaders import SUPPORTED_SUFFIXES
from ingest.errors import IngestError
from ingest.report import IngestReport
from ingest.sources.folder import IGNORE_FILE, IGNORED_DIRS

log = logging.getLogger(__name__)

#: A burst ends after this long without a new change (an editor's save, a `cp -r`).
QUIET_MS = 200
#: How often the watcher wakes when nothing happens (stop checks, the first catch-up).
IDLE_MS = 1000
#: How long a watcher's re-ingest waits for another process's ingest of the same index to finish.
WAIT_FOR_OTHER_INGEST_S = 3600.0


def is_relevant(*roots: Path) -> Callable[[Any, str], bool]:
    """A watchfiles filter: changes ingest could see (supported files, or folders), outside hidden/ignored
    dirs, in any of the folders ``roots``."""

    def keep(_change: Any, path: str) -> bool:
        root = next((r for r in roots if Path(path).is_relative_to(r)), None)
        if root is None:
            return False
        parts = Path(path).relative_to(root).parts
        if parts == (IGNORE_FILE,):  # what to leave out changed
            return True
        if not parts or any(p.startswith(".") or p in IGNORED_DIRS for p in parts):
            return False
        suffix = Path(parts[-1]).suffix.lower()
        return suffix in SUPPORTED_SUFFIXES or suffix == ""  # no suffix: maybe a folder moved or deleted

    return keep


def describe(changes: set[tuple[Any, str]]) -> str:
    """'2 modified, 1 added' for a set of watchfiles changes."""
    counts = Counter(change.name for change, _ in changes)
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


def watch_changes(
    folder: Path | Sequence[Path],
    reingest: Callable[[], IngestReport],
    on_report: Callable[[IngestReport], None],
    *,
    stop: threading.Event | None = None,
    debounce_ms: int = 1500,
    catch_up: bool = True,
    user_errors: tuple[type[BaseException], ...] = (IngestError,),
) -> None:
    """Run ``reingest`` after each burst of changes in ``folder`` (or any of several) until ``stop`` is set or Ctrl-C.

    Args:
        reingest: brings the index up to date with ``folder`` and returns its report.
        on_report: called with the report of each re-ingest that changed the index, or that newly failed on a file.
        stop: set it from another thread to return within about a second.
        debounce_ms: the longest a continuing burst is grouped before ingesting.
        catch_up: once the watcher runs, ingest any change made since the caller's last ingest.
        user_errors: errors whose message is logged as one line (others with their traceback).
    """
    from watchfiles import watch

    roots = [f.resolve() for f in ([folder] if isinstance(folder, Path) else folder)]
    where = ", ".join(str(r) for r in roots)  # as the log names it
    pending_catch_up = catch_up
    problems: dict[tuple[str, str], str] | None = None  # the files the last re-ingest could not index, and why
    try:
        for changes in watch(
            *roots,
            watch_filter=is_relevant(*roots),
            debounce=debounce_ms,
            step=QUIET_MS,
            stop_event=stop,
            rust_timeout=IDLE_MS,
            yield_on_timeout=True,
            recursive=True,
        ):
            if not changes and not pending_catch_up:
                continue
            pending_catch_up = False
            if changes:
                log.info("%s: %s; re-ingesting", where, describe(changes))
            try:
                report = reingest()
            except user_errors as exc:
                log.error("re-ingest of %s failed: %s", where, exc)
                continue
            except Exception:  # a long-running watcher outlives one bad run; the traceback is kept
                log.exception("re-ingest of %s failed unexpectedly", where)
                continue
            seen, problems = problems, report.problems()
            # A catch-up that found nothing new says nothing; nor does a change that left the index as it
            # was (a save without edits, or the second event of one write), unless what fails is new.
            if report.changed or (changes and problems and problems != seen):
                log.info("%s: %s", where, report.summary())
                on_report(report)
            else:
                log.debug("%s: nothing to update", where)
    except KeyboardInterrupt:
        log.info("watch interrupted")
