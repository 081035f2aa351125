"""Follow a folder and re-ingest what changes (`citebot ingest --watch`, reused by the Discord bot).

``watch_changes`` is the reusable part: it blocks, calls back with one ``IngestReport`` per burst
of changes, and returns when ``stop`` is set (from another thread) or on Ctrl-C. Re-ingesting is
incremental, so each burst costs a stat of every file plus the work for the files that changed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import USER_ERRORS
from bot.schema import IngestReport
from bot.services import Services
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.pipeline import IGNORED_DIRS

log = logging.getLogger(__name__)

#: A burst ends after this long without a new change (an editor's save, a `cp -r`).
QUIET_MS = 200
#: How often the watcher wakes when nothing happens (stop checks, the first catch-up).
IDLE_MS = 1000


def is_relevant(root: Path) -> Callable[[Any, str], bool]:
    """A watchfiles filter: changes ingest could see (supported files, or folders), outside hidden/ignored dirs."""

    def keep(_change: Any, path: str) -> bool:
        try:
            parts = Path(path).relative_to(root).parts
        except ValueError:
            return False
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
    services: Services,
    folder: Path,
    on_report: Callable[[IngestReport], None],
    *,
    stop: threading.Event | None = None,
    debounce_ms: int = 1500,
    catch_up: bool = True,
) -> None:
    """Re-ingest ``folder`` after each burst of file changes until ``stop`` is set or Ctrl-C.

    Args:
        on_report: called with the report of each re-ingest (from this thread).
        stop: set it from another thread to return within about a second.
        debounce_ms: the longest a continuing burst is grouped before ingesting.
        catch_up: once the watcher runs, ingest any change made since the caller's last ingest
            (reported only if something changed).
    """
    from watchfiles import watch

    root = folder.resolve()
    pending_catch_up = catch_up
    try:
        for changes in watch(
            root,
            watch_filter=is_relevant(root),
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
                log.info("%s: %s; re-ingesting", folder, describe(changes))
            report = _ingest(services, folder)
            if report is not None and (changes or report.changed or report.failed):
                log.info(
                    "%s: %d added, %d updated, %d removed, %d unchanged, %d failed (%d embedded)",
                    folder,
                    report.added,
                    report.updated,
                    report.removed,
                    report.unchanged,
                    len(report.failed),
                    report.embedded,
                )
                on_report(report)
    except KeyboardInterrupt:
        log.info("watch interrupted")


def _ingest(services: Services, folder: Path) -> IngestReport | None:
    """One re-ingest; a failure is logged and the watch goes on (the next change retries)."""
    try:
        return services.ingest(folder)
    except USER_ERRORS as exc:
        log.error("re-ingest of %s failed: %s", folder, exc)
    except Exception:  # a long-running watcher outlives one bad run; the traceback is kept
        log.exception("re-ingest of %s failed unexpectedly", folder)
    return None


def watch_folder(services: Services, folder: Path, *, as_json: bool = False) -> None:
    """The CLI's watch loop: prints one line (or JSON object) per re-ingest; Ctrl-C exits cleanly."""
    from bot import render

    render.err.print(f"watching {folder} for changes (Ctrl-C to stop)")

    def show(report: IngestReport) -> None:
        if as_json:
            print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
        else:
            render.ingest_report(report, folder)

    watch_changes(services, folder, show)
    render.err.print("stopped watching")
