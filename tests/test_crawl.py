"""Crawling a docs site into a mirror, against a server on 127.0.0.1: scope, sitemaps, re-crawls and hostile sites."""

from __future__ import annotations

import time

import pytest

from ingest.report import IngestReport
from ingest.sources.crawl import Crawl, CrawlLimits
from ingest.sources.site import SiteSource
from tests.pdfgen import make_pdf
from tests.site_server import Route, Site, html, serve

FAST = CrawlLimits(delay=0.0, timeout=2.0, max_bytes=200_000)


def docs_site() -> Site:
    site = Site()
    site.page(
        "/docs/",
        html(
            "Home",
            "install/",
            "guide.html",
            "faq",
            "/blog/news.html",
            "https://example.org/x",
            "guide.html#usage",
            "search.html?q=x",
            "../outside.html",
        ),
    )
    site.page("/docs/install/", html("Install", "../guide.html", "../"))
    site.page("/docs/guide.html", html("Guide", "install/", "deep/page.html"))
    site.page("/docs/faq", html("FAQ"))
    site.page("/docs/deep/page.html", html("Deep page"))
    site.page("/blog/news.html", html("News"))
    site.page("/outside.html", html("Outside"))
    return site


def crawl(site: Site, mirror, limits: CrawlLimits = FAST, start: str = "/docs/") -> tuple[dict, IngestReport]:
    report = IngestReport()
    pages = Crawl(site.base + start, mirror, limits).run(report)
    return pages, report


def test_links_are_followed_inside_the_start_urls_prefix_only(tmp_path):
    with serve(docs_site()) as site:
        pages, report = crawl(site, tmp_path)
    assert sorted(pages) == ["deep/page.html", "faq.html", "guide.html", "index.html", "install/index.html"]
    assert pages["install/index.html"].url == site.base + "/docs/install/"
    assert (tmp_path / "faq.html").read_text().count("FAQ") >= 1  # the mirror holds the page as served
    fetched = [path for path, _ in site.requests]
    assert "/blog/news.html" not in fetched and "/outside.html" not in fetched  # another prefix: never asked
    assert fetched.count("/docs/guide.html") == 1 and not report.failed


def test_the_sitemap_decides_the_pages_when_there_is_one(tmp_path):
    site = docs_site()
    urls = "".join(f"<url><loc>{{base}}{p}</loc></url>" for p in ("/docs/", "/docs/faq", "/blog/news.html"))
    sitemap = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    with serve(site):
        site.routes["/sitemap.xml"] = Route(sitemap.replace("{base}", site.base).encode(), content_type="text/xml")
        pages, _ = crawl(site, tmp_path)
    assert sorted(pages) == ["faq.html", "index.html"]  # listed and in scope; links not followed


def test_a_recrawl_asks_conditionally_and_keeps_the_stamps_of_unchanged_pages(tmp_path):
    with serve(docs_site()) as site:
        first, _ = crawl(site, tmp_path)
        site.requests.clear()
        site.page("/docs/faq", html("FAQ", body="The answer changed."))
        del site.routes["/docs/deep/page.html"]
        second, report = crawl(site, tmp_path)
    pages = {path: cond for path, cond in site.requests if path.startswith("/docs/")}
    assert pages["/docs/guide.html"] and pages["/docs/install/"]  # If-None-Match sent, 304 back
    assert second["guide.html"] == first["guide.html"]  # same stamp: the pipeline sees it unchanged
    assert second["faq.html"].mtime_ns > first["faq.html"].mtime_ns and "changed" in (tmp_path / "faq.html").read_text()
    assert "deep/page.html" not in second and not (tmp_path / "deep" / "page.html").exists()  # 404: gone
    assert not report.failed


def test_a_server_error_keeps_the_last_copy_and_reports_it(tmp_path):
    with serve(docs_site()) as site:
        first, _ = crawl(site, tmp_path)
        site.routes["/docs/faq"] = Route(b"oops", status=500)
        second, report = crawl(site, tmp_path)
    assert second["faq.html"] == first["faq.html"] and (tmp_path / "faq.html").is_file()
    assert report.failed == [
        {"path": "faq.html", "reason": "the server answered 500 (the copy from the last crawl is kept)"}
    ]


def test_robots_txt_disallowing_the_prefix_is_one_line_and_loses_nothing(tmp_path):
    with serve(docs_site()) as site:
        first, _ = crawl(site, tmp_path)
        site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /docs/\n", content_type="text/plain")
        site.requests.clear()
        second, report = crawl(site, tmp_path)
    assert second == first
    assert len(report.failed) == 1 and "robots.txt disallows" in report.failed[0]["reason"]
    assert [p for p, _ in site.requests] == ["/robots.txt"]


def test_hostile_pages_each_get_one_line_and_the_crawl_ends(tmp_path):
    site = docs_site()
    site.page("/docs/", html("Home", "loop", "away", "huge.html", "binary.html", "slow.html", "ok.html"))
    site.routes["/docs/loop"] = Route(status=302, headers={"Location": "/docs/loop2"})
    site.routes["/docs/loop2"] = Route(status=302, headers={"Location": "/docs/loop"})
    site.routes["/docs/away"] = Route(status=301, headers={"Location": "https://elsewhere.example/"})
    site.routes["/docs/huge.html"] = Route(b"<p>" + b"x" * 300_000)
    site.routes["/docs/binary.html"] = Route(b"\x00\x01\x02PNG" * 100)
    site.routes["/docs/slow.html"] = Route(html("Slow").encode(), hang=3.0)
    site.page("/docs/ok.html", html("OK"))
    started = time.monotonic()
    with serve(site):
        pages, report = crawl(site, tmp_path, CrawlLimits(delay=0.0, timeout=1.0, max_bytes=200_000))
    assert time.monotonic() - started < 15
    assert sorted(pages) == ["index.html", "ok.html"]
    said = {line["path"]: line["reason"] for line in report.failed + report.skipped}
    assert said["loop.html"] == "redirect loop"
    assert said["away.html"].startswith("redirects outside") and "elsewhere.example" in said["away.html"]
    assert said["huge.html"].startswith("larger than the 0.2 MB limit")
    assert said["binary.html"] == "served as HTML but binary"
    assert said["slow.html"] == "no answer in time"


def test_a_malformed_sitemap_falls_back_to_links_and_a_huge_one_is_bounded(tmp_path):
    with serve(docs_site()) as site:
        site.routes["/sitemap.xml"] = Route(b"<urlset><url><loc>oops", content_type="text/xml")
        pages, report = crawl(site, tmp_path / "a")
        assert len(pages) == 5 and any("malformed sitemap" in s["reason"] for s in report.skipped)
        entries = "".join(f"<url><loc>{site.base}/docs/p{i}.html</loc></url>" for i in range(100_000))
        site.routes["/sitemap.xml"] = Route(f"<urlset>{entries}</urlset>".encode(), content_type="text/xml")
        started = time.monotonic()
        pages, report = crawl(
            site, tmp_path / "b", CrawlLimits(delay=0.0, timeout=5.0, max_bytes=20_000_000, max_pages=20)
        )
    assert time.monotonic() - started < 30 and len(pages) <= 20
    assert any("stopped at 20 pages" in s["reason"] for s in report.skipped)


def test_the_server_stopped_mid_crawl_keeps_what_was_indexed(tmp_path):
    with serve(docs_site()) as site:
        first, _ = crawl(site, tmp_path)
        base = site.base
    report = IngestReport()
    second = Crawl(base + "/docs/", tmp_path, FAST).run(report)  # nobody listens there now
    assert second == first  # every page kept: the links are read from the copies
    assert report.failed and all("kept" in f["reason"] for f in report.failed)


@pytest.mark.parametrize("depth", [5000])
def test_deeply_nested_tags_do_not_break_link_reading(tmp_path, depth):
    site = docs_site()
    site.page("/docs/", "<div>" * depth + '<a href="faq">faq</a>' + "</div>" * depth)
    with serve(site):
        pages, report = crawl(site, tmp_path)
    assert "index.html" in pages and not report.failed


def test_the_progress_line_moves_while_pages_are_fetched(tmp_path):
    told = []
    with serve(docs_site()) as site:
        source = SiteSource(site.base + "/docs/", tmp_path, FAST, progress=told.append)
        listing = source.list(IngestReport())
    assert len(listing.stamps) == 5 and len(told) == 5
    assert [p.files_seen for p in told] == [1, 2, 3, 4, 5] and told[-1].files_total == 5
    assert told[0].current == site.base + "/docs/" and told[0].chunks_written == 0


def test_the_server_stopping_mid_crawl_keeps_every_page_indexed_before(tmp_path):
    with serve(docs_site()) as site:
        first, _ = crawl(site, tmp_path)
        base = site.base

        def stop_after_two(_url: str, kept: int, _known: int) -> None:
            if kept == 2:
                site.stop()
                time.sleep(0.5)  # gone before the next request

        report = IngestReport()
        second = Crawl(base + "/docs/", tmp_path, FAST, on_page=stop_after_two).run(report)
    assert second == first and len(report.failed) == 3
    # refused, or cut on a kept-alive connection: either way a network failure, and the copy stays
    assert all(f["reason"].endswith("(the copy from the last crawl is kept)") for f in report.failed), report.failed


def test_a_pdf_the_site_links_to_is_kept_as_a_pdf(tmp_path):
    site = docs_site()
    site.page("/docs/", html("Home", "manual"))
    site.routes["/docs/manual"] = Route(make_pdf(["Widgets need oiling once a year."]), content_type="application/pdf")
    with serve(site):
        pages, report = crawl(site, tmp_path)
        site.requests.clear()
        again, _ = crawl(site, tmp_path)
    assert sorted(pages) == ["index.html", "manual.pdf"] and not report.failed
    assert (tmp_path / "manual.pdf").read_bytes().startswith(b"%PDF")
    assert again == pages and ("/docs/manual", True) in site.requests  # asked conditionally: the same PDF
