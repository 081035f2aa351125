"""Follow a folder and re-ingest what changes (`citebot ingest --watch`, reused by the Discord bot)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.errors import USER_ERRORS
from bot.schema import IngestReport
from bot.services import Services

log = logging.getLogger(__name__)


def watch_changes(
    services: Services,
    folder: Path,
    on_report: Callable[[IngestReport], None],
    *,
    stop: threading.Event | None = None,
    debounce_ms: int = 1500,
) -> None:
    """Re-ingest ``folder`` after each burst of file changes until ``stop`` is set (or Ctrl-C)."""
    from watchfiles import watch

    for changes in watch(folder, debounce=debounce_ms, stop_event=stop, raise_interrupt=False, recursive=True):
        log.info("%d file change(s) seen; re-ingesting", len(changes))
        try:
            on_report(services.ingest(folder))
        except USER_ERRORS as exc:
            log.error("re-ingest failed: %s", exc)


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
