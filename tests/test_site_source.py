"""`citebot ingest https://...`: a docs site served on 127.0.0.1 crawled as a source, re-crawled, and cited by URL."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

import bot.cli.common as cli
from bot.services import Services
from tests.site_server import Route, Site, html, serve
from tests.support import FakeEmbedder
from tests.support import run_cli as run


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli, "Services", functools.partial(Services, embedder=FakeEmbedder()))
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("CITEBOT_DOCS_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CITEBOT_CRAWL_DELAY", "0")
    return tmp_path


def site() -> Site:
    s = Site()
    s.page("/guide/", html("Widgetlib guide", "install/", "faq.html", "/blog/"))
    s.page("/guide/install/", html("Installing", body="Widgetlib needs Python 3.10 or later and a C compiler."))
    s.page("/guide/faq.html", html("FAQ", body="The default timeout of a widget request is thirty seconds."))
    s.page("/blog/", html("Blog", body="Widgetlib news nobody asked about."))
    return s


def cli_json(*args: str) -> dict:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_site_is_crawled_as_a_source_and_cited_by_page_url_and_anchor(env):
    with serve(site()) as s:
        report = cli_json("ingest", s.base + "/guide/")
        assert (report["added"], report["failed"]) == (3, [])
        (source,) = cli_json("sources")["sources"]
        assert (source["name"], source["kind"], source["location"]) == ("guide", "site", s.base + "/guide/")
        hits = cli_json("search", "default timeout of a widget request", "-k", "1")["passages"]
        assert hits[0]["source"] == "faq.html" and hits[0]["url"] == s.base + "/guide/faq.html#usage"
        hits = cli_json("search", "Python 3.10 C compiler", "-k", "1")["passages"]
        assert hits[0]["url"] == s.base + "/guide/install/#usage"  # the folder's URL, not index.html

        again = cli_json("ingest", s.base + "/guide/")  # nothing changed: conditional requests, nothing embedded
        assert (again["unchanged"], again["added"], again["updated"], again["embedded"]) == (3, 0, 0, 0)

        s.page("/guide/faq.html", html("FAQ", "new.html", body="The default timeout is now sixty seconds."))
        del s.routes["/guide/install/"]
        s.page("/guide/new.html", html("New page", body="Gadgets pair with widgets over Bluetooth."))
        changed = cli_json("ingest")  # every source refreshed: the site is re-crawled
        assert (changed["updated"], changed["removed"], changed["added"]) == (1, 1, 1)


def test_a_site_that_is_down_keeps_its_pages_and_says_so(env):
    with serve(site()) as s:
        base = s.base
        assert cli_json("ingest", base + "/guide/")["added"] == 3
    code, out, err = run("ingest", base + "/guide/", "--json")
    report = json.loads(out)
    assert code == 0 and report["removed"] == 0 and report["unchanged"] == 3
    assert report["failed"] and all("kept" in f["reason"] for f in report["failed"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ftp://example.org/docs/",), "folder not found"),
        (("https://example.org/docs/?page=2",), "without a query string"),
        (("https://example.org/docs/", "--watch"), "--watch follows folders"),
        (("https://example.org/docs/", "--exclude", "*.md"), "--exclude is for folders"),
    ],
)
def test_a_bad_address_is_one_line(env, args, message):
    code, _out, err = run("ingest", *args)
    assert code == 1 and err.count("\n") == 1 and message in err, err


def test_robots_txt_is_honoured_for_the_crawl(env):
    s0 = site()
    with serve(s0) as s:
        s.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /guide/faq.html\n", content_type="text/plain")
        report = cli_json("ingest", s.base + "/guide/")
    assert report["added"] == 2 and {"path": "faq.html", "reason": "disallowed by robots.txt"} in report["skipped"]
    assert "/guide/faq.html" not in [p for p, _ in s0.requests]


def test_removing_a_site_removes_its_pages_and_their_copies(env):
    with serve(site()) as s:
        assert cli_json("ingest", s.base + "/guide/")["added"] == 3
    mirrors = list((env / "index" / "sites").iterdir())
    assert len(mirrors) == 1 and (mirrors[0] / "faq.html").is_file()
    code, _out, err = run("sources", "remove", "guide")
    assert code == 0, err
    assert not mirrors[0].exists() and cli_json("sources")["sources"] == []


def test_a_crawled_page_is_cited_where_it_was_read_not_at_its_canonical_address(env):
    s0 = site()
    page = html("FAQ", body="The default timeout of a widget request is thirty seconds.")
    s0.page(
        "/guide/faq.html", page.replace("<head>", '<head><link rel="canonical" href="https://elsewhere.example/faq">')
    )
    with serve(s0) as s:
        assert cli_json("ingest", s.base + "/guide/")["added"] == 3
        hits = cli_json("search", "default timeout of a widget request", "-k", "1")["passages"]
    assert hits[0]["url"] == s.base + "/guide/faq.html#usage"


def test_sources_says_a_site_is_crawled_once_not_twice(env):
    with serve(site()) as s:
        assert cli_json("ingest", s.base + "/guide/")["added"] == 3
    code, out, _err = run("sources")
    assert code == 0 and f"{s.base}/guide/ (a site: crawled; citations link to its pages)" in out
    assert "links to" not in out
