"""Crawling a published docs site into a local mirror: the pages under a start URL, politely and in bounded time.

The site is the start URL's host and path prefix (``https://docs.example.org/guide/`` holds
``/guide/install/`` but not ``/blog/``). Its pages come from its sitemap (robots.txt's ``Sitemap:``
lines, else ``/sitemap.xml``) when there is one, else by following links from the start page.
robots.txt is honoured (the standard library's parser, its ``Crawl-delay`` too); one request is in
flight at a time, ``delay`` seconds apart; each response has a time and a size limit, and is kept only
when it is HTML (or a PDF). Redirects are followed only inside the prefix.

Each page is saved in the mirror under its id, the URL's path inside the prefix (``install/index.html``
for ``/guide/install/``; ``.html`` added to a path without a suffix). The mirror's ``.crawl.json``
remembers each page's URL, ETag and Last-Modified, so a re-crawl asks conditionally and an unchanged
page costs one small request. A page that now answers 404 or 410, or left the sitemap, is gone; one
that fails for any other reason (a timeout, a 500, the server gone) keeps its last copy and is
reported, as an unreadable file is.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from ingest.report import IngestReport
from ingest.sources.mirror import Mirror, Page, Scope

log = logging.getLogger(__name__)

USER_AGENT = "citebot (docs question bot; +https://github.com/citebot)"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Sitemaps read from one sitemap index, and URLs taken from all of them.
_MAX_SITEMAPS = 50
_MAX_SITEMAP_URLS = 100_000


#: Told after each page: its URL, pages kept so far, pages known so far (kept and still to visit).
PageFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CrawlLimits:
    """How far and how fast a crawl goes."""

    max_pages: int = 5000
    max_bytes: int = 10_000_000  # one response
    timeout: float = 20.0  # one response, start to end
    delay: float = 0.2  # between requests (robots.txt's Crawl-delay when longer)
    max_redirects: int = 5


class Crawl:
    """One crawl of the site under ``start`` into ``mirror`` (see the module docstring)."""

    def __init__(
        self, start: str, mirror: Path, limits: CrawlLimits, client: Any = None, on_page: PageFn | None = None
    ) -> None:
        import httpx  # here: only a crawl needs an HTTP client

        self.start = urldefrag(start)[0]
        parts = urlsplit(self.start)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.scope = Scope(self.origin + (parts.path[: parts.path.rfind("/") + 1] or "/"))
        self.mirror = Mirror(mirror)
        self.limits = limits
        self.client = client or httpx.Client(
            headers={"User-Agent": USER_AGENT}, follow_redirects=False, timeout=limits.timeout
        )
        self._last_request = 0.0
        self._delay = limits.delay
        self.on_page = on_page
        #: Ids of pages told in the report as left out (robots.txt, not a page, too large): no longer documents.
        self.excluded: set[str] = set()

    # -- the crawl ------------------------------------------------------------------------------------
    def run(self, report: IngestReport) -> dict[str, Page]:
        """Every page of the site now, by id: fetched, unchanged since the last crawl, or kept after a failure."""
        before = self.mirror.load()
        robots = self._robots(report)
        if robots is not None and not robots.can_fetch(USER_AGENT, self.start):
            report.fail(self.start, "robots.txt disallows crawling it; the pages indexed before are kept")
            return before
        listed = self._sitemap_urls(robots, report)
        queue = deque([self.start, *(listed or [])])
        seen = set(queue)
        pages: dict[str, Page] = {}
        while queue and len(pages) < self.limits.max_pages:
            url = queue.popleft()
            if robots is not None and not robots.can_fetch(USER_AGENT, url):
                page_id = self.scope.page_id(url)
                report.skip(page_id, "disallowed by robots.txt")
                self.excluded.add(page_id)
                continue
            page_id, page, links = self._visit(url, before, report)
            if page is not None:
                pages[page_id] = page
            if self.on_page is not None:
                self.on_page(url, len(pages), len(pages) + len(queue))
            if listed is None:  # no sitemap: the links are the map
                for link in links:
                    if link not in seen and self.scope.in_scope(link):
                        seen.add(link)
                        queue.append(link)
        if queue:
            report.skip(self.start, f"more pages are linked: {self._stopped}")
        self.mirror.save(self.start, pages)
        return pages

    def _visit(self, url: str, before: dict[str, Page], report: IngestReport) -> tuple[str, Page | None, list[str]]:
        """Fetch one page: (its id, its Page or None when it is gone or not a page, the links it holds)."""
        page_id, old = _previous(self.scope.page_id(url), before)
        try:
            final, status, headers, body = self._get(url, old)
        except CrawlFailure as exc:
            if exc.keep and old is not None:
                report.fail(page_id, f"{exc} (the copy from the last crawl is kept)")
                return page_id, old, self._links_of_copy(page_id, url)
            if exc.keep:
                report.fail(page_id, str(exc))
            elif not exc.gone:  # a page that is gone is no news: its chunks go, as a deleted file's do
                report.skip(page_id, str(exc))
                self.excluded.add(page_id)  # a skip would keep its chunks; this page is no longer a document
            return page_id, None, []
        if final != url:
            page_id, old = _previous(self.scope.page_id(final), before)
        if status == 304 and old is not None:
            return page_id, old, self._links_of_copy(page_id, final)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        is_pdf = kind == "application/pdf"
        if kind not in _HTML_TYPES and not is_pdf:
            report.skip(page_id, f"not an HTML page or a PDF ({kind or 'no content type'})")
            self.excluded.add(page_id)
            return page_id, None, []
        if not is_pdf and b"\x00" in body[:4096]:
            report.skip(page_id, "served as HTML but binary")
            self.excluded.add(page_id)
            return page_id, None, []
        if is_pdf and not page_id.endswith(".pdf"):  # read by the PDF loader (its link is then a guess)
            page_id = _as_pdf(page_id)
        digest = hashlib.sha1(body).hexdigest()
        changed = old is None or old.digest != digest
        if changed:
            self.mirror.write(page_id, body)
        page = Page(
            final,
            len(body),
            time.time_ns() if changed else old.mtime_ns,  # type: ignore[union-attr]
            headers.get("etag", ""),
            headers.get("last-modified", ""),
            digest,
        )
        return page_id, page, [] if is_pdf else self.scope.links(body, final)

    def _get(self, url: str, old: Page | None) -> tuple[str, int, dict[str, str], bytes]:
        """GET ``url`` (conditionally when ``old`` says how), following redirects inside the prefix."""
        conditional = {}
        if old is not None and old.etag:
            conditional["If-None-Match"] = old.etag
        if old is not None and old.last_modified:
            conditional["If-Modified-Since"] = old.last_modified
        visited = [url]
        for _ in range(self.limits.max_redirects + 1):
            status, headers, body = self._request(url, conditional)
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                target = urldefrag(urljoin(url, headers["location"]))[0]
                if not self.scope.in_scope(target):
                    raise CrawlFailure(f"redirects outside {self.scope.prefix} (to {target})", keep=False)
                if target in visited:
                    raise CrawlFailure("redirect loop", keep=True)
                visited.append(target)
                url = target
                continue
            if status in (404, 410):
                raise CrawlFailure(f"gone ({status})", keep=False, gone=True)
            if status >= 400:
                raise CrawlFailure(f"the server answered {status}", keep=True)
            return url, status, headers, body
        raise CrawlFailure(f"more than {self.limits.max_redirects} redirects", keep=True)

    def _fetch(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """One request: status, headers (lower-case names), and a body within the size and time limits."""
        limits = self.limits
        deadline = time.monotonic() + limits.timeout
        with self.client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limits.max_bytes:
                raise CrawlFailure(_too_large(limits.max_bytes, int(declared)), keep=False)
            chunks, size = [], 0
            if response.status_code == 200:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limits.max_bytes:
                        raise CrawlFailure(_too_large(limits.max_bytes), keep=False)
                    if time.monotonic() > deadline:
                        raise CrawlFailure(f"took longer than {limits.timeout:g} s", keep=True)
                    chunks.append(chunk)
            return response.status_code, {k.lower(): v for k, v in response.headers.items()}, b"".join(chunks)

    def _pause(self) -> None:
        wait = self._last_request + self._delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()

    # -- robots.txt and sitemaps --------------------------------------------------------------------------
    def _robots(self, report: IngestReport) -> RobotFileParser | None:
        """The site's robots.txt rules (None: there are none to honour)."""
        try:
            status, _headers, body = self._request(self.origin + "/robots.txt")
        except CrawlFailure:
            return None
        robots = RobotFileParser(self.origin + "/robots.txt")
        if status in (401, 403):  # as the standard library reads it: no access to the rules, no access at all
            robots.disallow_all = True  # type: ignore[attr-defined]
        elif status == 200:
            robots.parse(body.decode("utf-8", "replace").splitlines())
        else:
            return None
        delay = robots.crawl_delay(USER_AGENT)
        if delay:
            self._delay = max(self._delay, min(float(delay), 30.0))
        return robots

    def _sitemap_urls(self, robots: RobotFileParser | None, report: IngestReport) -> list[str] | None:
        """The in-scope page URLs the site's sitemaps list, or None when it has no sitemap to go by."""
        candidates = list((robots.site_maps() if robots is not None else None) or []) or [self.origin + "/sitemap.xml"]
        if self.scope.prefix != self.origin + "/":
            candidates.append(self.scope.prefix + "sitemap.xml")
        for candidate in dict.fromkeys(candidates):
            urls = self._read_sitemap(candidate, report, depth=0)
            if urls is not None:
                listed = [u for u in dict.fromkeys(urls) if self.scope.in_scope(u)]
                if len(listed) > self.limits.max_pages:
                    report.skip(candidate, f"lists {len(listed):,} pages: {self._stopped}")
                return listed[: self.limits.max_pages]
        return None

    @property
    def _stopped(self) -> str:
        return f"stopped at {self.limits.max_pages} pages (CITEBOT_CRAWL_MAX_PAGES)"

    def _read_sitemap(self, url: str, report: IngestReport, depth: int) -> list[str] | None:
        from lxml import etree  # here: only a crawl reads sitemaps

        try:
            status, _headers, body = self._request(url)
        except CrawlFailure as exc:
            report.skip(url, f"sitemap not read: {exc}")
            return None
        if status != 200:
            return None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            root = etree.fromstring(body, parser=parser)
        except etree.XMLSyntaxError as exc:
            report.skip(url, f"malformed sitemap ({exc}); following links instead")
            return None
        locs = [str(x).strip() for x in root.xpath("//*[local-name()='loc']/text()")[:_MAX_SITEMAP_URLS]]
        if etree.QName(root).localname != "sitemapindex":
            return locs
        urls: list[str] = []
        for child in locs[:_MAX_SITEMAPS] if depth == 0 else []:
            urls.extend(self._read_sitemap(child, report, depth + 1) or [])
            if len(urls) >= _MAX_SITEMAP_URLS:
                break
        return urls

    def _request(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request, ``delay`` after the last one; a network failure is a ``CrawlFailure`` that keeps copies."""
        import httpx

        self._pause()
        try:
            return self._fetch(url, headers or {})
        except httpx.HTTPError as exc:
            raise CrawlFailure(_network_reason(exc), keep=True) from None

    def _links_of_copy(self, page_id: str, url: str) -> list[str]:
        body = None if page_id.endswith(".pdf") else self.mirror.read(page_id)
        return self.scope.links(body, url) if body is not None else []


class CrawlFailure(Exception):
    """A page that could not be fetched; ``keep``: its last copy stays (a failure, not a removal); ``gone``: 404 or
    410, which needs no report line."""

    def __init__(self, reason: str, *, keep: bool, gone: bool = False) -> None:
        super().__init__(reason)
        self.keep = keep
        self.gone = gone


def _as_pdf(page_id: str) -> str:
    """The id of a PDF served at an address without ``.pdf`` (``manual`` -> ``manual.pdf``)."""
    return page_id.removesuffix(".html") + ".pdf"


def _previous(page_id: str, before: dict[str, Page]) -> tuple[str, Page | None]:
    """The id a page had in the last crawl and its state then (a PDF's id was given once it was seen)."""
    if page_id in before or _as_pdf(page_id) not in before:
        return page_id, before.get(page_id)
    return _as_pdf(page_id), before[_as_pdf(page_id)]


def _network_reason(exc: Exception) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect to the server"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "the server closed the connection"
    return f"network error ({type(exc).__name__})"


def _too_large(limit: int, size: int | None = None) -> str:
    told = f" ({size / 1e6:.1f} MB)" if size else ""
    return f"larger than the {limit / 1e6:g} MB limit{told}"
