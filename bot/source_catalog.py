"""The index's sources: `citebot ingest [PATH]`, `citebot sources` and `citebot sources remove`.

Each source (a folder) is brought up to date alone, under the index's ingest lock; which sources an
ingest touches, and how a new folder is recorded, is ingest/sources/plan.py's.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import components
from bot.index_access import IndexAccess
from bot.settings import Settings
from ingest.errors import IngestError, StoreUnavailableError
from ingest.index.lock import WaitFn, ingest_lock
from ingest.index.registry import SourceRecord
from ingest.index.store import Store
from ingest.pipeline import Ingestor
from ingest.report import IngestReport, ProgressFn
from ingest.sources.crawl import CrawlLimits
from ingest.sources.folder import FolderSource
from ingest.sources.plan import sources_to_ingest
from ingest.sources.site import SiteSource, check_start_url, mirror_folder

log = logging.getLogger(__name__)


def watched_folders(records: Sequence[SourceRecord]) -> list[Path]:
    """The folders these sources read (a crawled site is none): what a watch follows."""
    return [Path(r.location) for r in records if r.kind != "site"]


class SourceCatalog:
    """Adds, refreshes, lists and removes the sources of the index ``index`` opens.

    ``ingestor`` makes the pipeline that writes a store; ``load_model`` loads the embedding model
    (called first, so that a model problem stops an ingest before it takes the lock).
    """

    def __init__(
        self,
        settings: Settings,
        index: IndexAccess,
        ingestor: Callable[[Store], Ingestor],
        load_model: Callable[[], object],
    ) -> None:
        self.settings = settings
        self.index = index
        self._ingestor = ingestor
        self._load_model = load_model

    def ingest(
        self,
        path: Path | str | None = None,
        *,
        name: str | None = None,
        site_url: str | None = None,
        rebuild: bool = False,
        excludes: Sequence[str] | None = None,
        progress: ProgressFn | None = None,
        wait: float | None = None,
        on_wait: WaitFn | None = None,
    ) -> IngestReport:
        """Add or refresh the folder ``path`` as a source of the index (named ``name``, default the
        folder's name); with no ``path``, refresh every source the index has (for an index with none,
        the docs folder). Each source is brought up to date alone: the others are not touched.

        Files matching ``CITEBOT_EXCLUDE``, the source's ``excludes`` (remembered; given ones replace
        them) or its ``.citebotignore`` are left out. Only one ingest writes an index at a time: this
        one waits up to ``wait`` seconds (default ``CITEBOT_INGEST_WAIT``) for another to finish,
        telling ``on_wait``, then refuses. With ``rebuild`` every source is ingested into a new index
        built beside the old one, which keeps answering until it is complete.
        """
        s = self.settings
        if isinstance(path, str):
            path = check_start_url(path)  # a site's address: crawled (a mistake in it is told before the model loads)
        elif path is not None and not path.is_dir():  # before the model loads (a first ingest exports it: seconds)
            raise IngestError(f"folder not found: {path}")
        self._load_model()  # a model or device problem stops the run before it takes the lock or stages a rebuild
        wait = s.ingest_wait if wait is None else wait
        client = self.index.client() if s.chroma_host else None  # a server holds the lock; a folder has a lock file
        with ingest_lock(client=client, name=s.collection, wait=wait, on_wait=on_wait, place=self.index.place):

            def plan(store: Store) -> list[SourceRecord]:
                return sources_to_ingest(
                    store,
                    path,
                    name=name,
                    excludes=excludes,
                    site_url=site_url,
                    default_folder=s.docs_dir,
                    max_bytes=components.max_file_bytes(s),
                )

            if not rebuild:
                self.index.follow()  # another process may have rebuilt the index since this one opened it
                live = self.index.store(create=True)
                targets = plan(live)
                if path is None and s.sources:  # a document set of some sources (a Discord channel's) refreshes those
                    targets = [r for r in targets if r.name in s.sources] or targets
                return self._ingest_sources(live, targets, progress, strict=path is not None)
            recorded: list[SourceRecord] = []
            records: list[SourceRecord] | None = None
            try:  # the sources are remembered beside the index's generations: a rebuild reads them first
                old = self.index.unchecked()
                recorded = old.sources()
                plan(old)
                records = old.sources()
            except StoreUnavailableError as exc:  # damaged: moved aside below, with what could be read of it
                log.info("rebuilding from the sources that could be read (%d): %s", len(recorded), exc)
            staged = self.index.staged_rebuild()
            if records is None:
                for record in recorded:
                    staged.registry.save(record)
                plan(staged)
                records = staged.sources()
            report = self._ingest_sources(staged, records, progress, strict=False)
            staged.activate()
            self.index.adopt(staged)
            self.index.follow()
        return report

    def _ingest_sources(
        self, store: Store, records: Sequence[SourceRecord], progress: ProgressFn | None, *, strict: bool
    ) -> IngestReport:
        """Bring each source up to date in ``store``; a missing folder is an error when ``strict``, else
        reported (its documents kept) while the other sources go on."""
        s = self.settings
        if len(records) == 1:
            return self._ingest_one(store, records[0], progress)
        total = IngestReport()
        for record in records:
            try:
                report = self._ingest_one(store, record, progress)
            except IngestError as exc:
                if strict:
                    raise
                total.fail(record.name, str(exc))
                continue
            total.add(report, {"name": record.name, "location": record.location})
        log.debug("ingested %d sources of %s", len(records), s.collection)
        return total

    def _ingest_one(self, store: Store, record: SourceRecord, progress: ProgressFn | None) -> IngestReport:
        s = self.settings
        source: FolderSource | SiteSource
        if record.kind == "site":
            limits = CrawlLimits(s.crawl_max_pages, components.max_file_bytes(s), s.crawl_timeout, s.crawl_delay)
            source = SiteSource(record.location, self._mirror(record), limits, prefix=record.prefix, progress=progress)
        else:
            folder = Path(record.location)
            if not folder.is_dir():
                raise IngestError(f"folder not found: {folder} (source '{record.name}')")
            source = FolderSource(
                folder, components.max_file_bytes(s), [*s.exclude, *record.excludes], prefix=record.prefix
            )
        report = self._ingestor(store).run(source, progress=progress)
        store.registry.touch(record.name)
        return report

    def sources(self) -> list[SourceRecord]:
        """The sources the index holds (an index not made yet holds none)."""
        if self.index.missing:
            return []
        store = self.index.store()
        return store.sources() if store.exists else []

    def label(self) -> str:
        """How an ingest of every source names what it ingested: the one folder, or how many sources."""
        records = self.sources()
        return records[0].location if len(records) == 1 else f"{len(records)} sources"

    def summaries(self) -> list[dict[str, object]]:
        """Each source as `citebot sources` shows it: name, location, documents, chunks, last ingest, link base."""
        records = self.sources()
        docs = self.index.store().manifest.documents() if records else {}
        rows: list[dict[str, object]] = []
        for r in records:
            mine = [d for key, d in docs.items() if r.owns(key)]
            last = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(r.last_ingest)) if r.last_ingest else None
            rows.append(
                {
                    "name": r.name,
                    "kind": r.kind,
                    "location": r.location,
                    "documents": len(mine),
                    "chunks": sum(d.chunks for d in mine),
                    "last_ingest": last,
                    "site_url": r.links.base if r.links else None,
                    "excludes": list(r.excludes),
                    "recorded": r.remembered,  # false: an index from before sources, its folder a guess
                }
            )
        return rows

    def remove(self, name: str, *, wait: float | None = None, on_wait: WaitFn | None = None) -> int:
        """Remove source ``name`` and its documents from the index; returns how many documents went."""
        s = self.settings
        record = next((r for r in self.sources() if r.name == name), None)
        if record is None:
            known = ", ".join(r.name for r in self.sources()) or "none"
            raise IngestError(f"no source named '{name}' in the index (its sources: {known})")
        wait = s.ingest_wait if wait is None else wait
        client = self.index.client() if s.chroma_host else None
        with ingest_lock(client=client, name=s.collection, wait=wait, on_wait=on_wait, place=self.index.place):
            removed = self.index.store(create=True).remove_source(record)
            if record.kind == "site":  # its pages' copies go with it
                shutil.rmtree(self._mirror(record), ignore_errors=True)
            return removed

    def _mirror(self, record: SourceRecord) -> Path:
        """Where a crawled site's pages are kept: in the index folder (with a Chroma server, DATA_DIR)."""
        s = self.settings
        return mirror_folder(s.data_dir / "sites" if s.chroma_host else s.index_dir / "sites", record.location)
