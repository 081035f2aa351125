"""A published docs site as a source: its pages crawled into a mirror folder, then read like a built HTML folder.

``list`` crawls (ingest/sources/crawl.py): a page's stamp is its size and the time its content last
changed, so a page the server says is unchanged (304) or that has the same bytes keeps its stamp and
the pipeline skips it. A page that failed for a network reason keeps the stamp of its last copy, so its
chunks stay; one that is gone is not listed, so its chunks go. Citations link to the page's URL.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from ingest.errors import IngestError
from ingest.report import IngestProgress, IngestReport, ProgressFn
from ingest.sources import Listing, Stamp, owned
from ingest.sources.crawl import Crawl, CrawlLimits
from ingest.sources.links import SiteLinks


def is_url(location: str) -> bool:
    """Whether a source location is a site's address rather than a folder."""
    return location.startswith(("http://", "https://"))


def check_start_url(url: str) -> str:
    """``url`` as a crawl's start (fragment dropped), or an ``IngestError`` saying what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IngestError(f"not a web address to crawl: {url!r} (give one such as https://docs.example.org/guide/)")
    if parts.query:
        raise IngestError(f"{url}: give the address of the docs without a query string")
    return parts._replace(fragment="").geturl()


def site_links(start_url: str) -> SiteLinks:
    """Citations of a crawled site link to its pages: the start URL's folder plus each page's id."""
    return SiteLinks(start_url[: start_url.rfind("/") + 1], style="site")


def mirror_folder(root: Path, start_url: str) -> Path:
    """Where the pages of the site at ``start_url`` are kept, under ``root``."""
    host = urlsplit(start_url).hostname or "site"
    return root / f"{host}-{hashlib.sha1(start_url.encode('utf-8')).hexdigest()[:12]}"


class SiteSource:
    """The pages under ``start_url``, mirrored in ``mirror``; ids after ``prefix`` (see ingest/index/registry.py)."""

    def __init__(
        self, start_url: str, mirror: Path, limits: CrawlLimits, prefix: str = "", progress: ProgressFn | None = None
    ) -> None:
        self.progress = progress
        self.start_url = start_url
        self.mirror = mirror
        self.limits = limits
        self.prefix = prefix

    def __str__(self) -> str:
        return self.start_url

    def list(self, report: IngestReport) -> Listing:
        crawl = Crawl(self.start_url, self.mirror, self.limits, on_page=self._crawled if self.progress else None)
        pages = crawl.run(report)
        stamps = {self.prefix + k: Stamp(p.size, p.mtime_ns) for k, p in pages.items()}
        return Listing(stamps, frozenset(self.prefix + k for k in crawl.excluded))

    def _crawled(self, url: str, kept: int, known: int) -> None:
        """The progress line while pages are fetched: pages so far of those known so far, and the page."""
        if self.progress is not None:
            self.progress(IngestProgress(0, known, 0, 0.0, 0.0, url, files_seen=kept))

    def owns(self, doc_id: str) -> bool:
        return owned(self.prefix, doc_id)

    def fetch(self, doc_id: str) -> bytes:
        return self.locate(doc_id).read_bytes()

    def locate(self, doc_id: str) -> Path:
        return self.mirror / doc_id[len(self.prefix) :]
