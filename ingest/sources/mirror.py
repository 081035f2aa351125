"""A crawled site on disk: which URLs are its pages, their ids, and the folder that keeps their last copies.

``Scope`` is the site a crawl stays in (the start URL's host and path prefix) and names each page;
``Mirror`` keeps each page's bytes under its id and, in ``.crawl.json``, what the next crawl needs to
ask conditionally (URL, ETag, Last-Modified) and to tell an unchanged page (its digest and stamp).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urldefrag, urljoin, urlsplit

STATE_FILE = ".crawl.json"
_KEPT_SUFFIXES = (".html", ".htm", ".pdf")


@dataclass(frozen=True)
class Page:
    """A page of the site as the mirror holds it."""

    url: str
    size: int
    mtime_ns: int  # when its content last changed, as the crawls saw it
    etag: str = ""
    last_modified: str = ""
    digest: str = ""


@dataclass(frozen=True)
class Scope:
    """The pages under ``prefix`` (``https://docs.example.org/guide/``)."""

    prefix: str

    def in_scope(self, url: str) -> bool:
        """Whether ``url`` is a page of this site: same scheme and host, under the prefix, no query."""
        return url.startswith(self.prefix) and "?" not in url

    def page_id(self, url: str) -> str:
        """The page's id: its path inside the prefix, ``index.html`` for a folder, ``.html`` added when it has
        no suffix (``/guide/install/`` -> ``install/index.html``, ``/guide/faq`` -> ``faq.html``)."""
        rel = urlsplit(url).path[len(urlsplit(self.prefix).path) :]
        if not rel or rel.endswith("/"):
            return rel + "index.html"
        return rel if PurePosixPath(rel).suffix.lower() in _KEPT_SUFFIXES else rel + ".html"

    def links(self, body: bytes, base: str) -> list[str]:
        """The in-scope links of an HTML page, absolute and without fragments."""
        import lxml.html  # here: only a crawl reads links
        from lxml import etree

        try:
            tree = lxml.html.fromstring(body, base_url=base)
        except (ValueError, TypeError, etree.LxmlError):  # empty, too deep, or not a document at all
            return []
        out = []
        for href in tree.xpath("//a/@href"):
            link = urldefrag(urljoin(base, str(href).strip()))[0]
            if self.in_scope(link):
                out.append(link)
        return list(dict.fromkeys(out))


class Mirror:
    """The folder holding the last copy of each page (by id) and the crawl state."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __truediv__(self, page_id: str) -> Path:
        return self.root / page_id

    def read(self, page_id: str) -> bytes | None:
        try:
            return (self.root / page_id).read_bytes()
        except OSError:
            return None

    def write(self, page_id: str, body: bytes) -> None:
        path = self.root / page_id
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)  # a reader never sees half a page

    def load(self) -> dict[str, Page]:
        """The pages the last crawl left, by id (those whose copy is still there)."""
        try:
            data = json.loads((self.root / STATE_FILE).read_text(encoding="utf-8"))
            return {k: Page(**v) for k, v in data.get("pages", {}).items() if (self.root / k).is_file()}
        except (OSError, ValueError, TypeError):
            return {}

    def save(self, start: str, pages: dict[str, Page]) -> None:
        """Remember ``pages`` as the site now; the copies of pages it no longer has are deleted."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f"{STATE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"start": start, "pages": {k: asdict(v) for k, v in pages.items()}}))
        os.replace(tmp, self.root / STATE_FILE)
        for path in self._stale(pages):
            with contextlib.suppress(OSError):
                path.unlink()

    def _stale(self, pages: dict[str, Page]) -> Iterator[Path]:
        for path in self.root.rglob("*"):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and not rel.startswith(".") and rel not in pages:
                yield path
