"""Citations that open the published page: links checked against sites built by the real MkDocs and Sphinx."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import bot.cli.common as cli
from bot.retrieval.base import to_passage
from bot.services import Services
from bot.settings import load_settings
from ingest.sources.links import SiteLinks, detect, github_slug, mkdocs_slug, sphinx_slug, vitepress_slug
from tests.support import FakeEmbedder
from tests.support import run_cli as run


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli, "Services", functools.partial(Services, embedder=FakeEmbedder()))
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    return tmp_path


def ingest(*args: str) -> dict:
    code, out, err = run("ingest", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def indexed_urls() -> dict[tuple[str, str], str]:
    """(document, section) -> the URL a citation of it carries, for every chunk in the index."""
    store = Services(load_settings(), embedder=FakeEmbedder()).store()
    return {(c.meta.source, c.meta.section): to_passage(c).url for c in store.reader.iter_chunks()}


def ids_in(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text()))


MKDOCS = {
    "mkdocs.yml": """
        site_name: Widgets
        site_url: https://docs.example.org/widgets/
        markdown_extensions:
          - attr_list
          - toc:
              permalink: true
        extra:
          analytics: !ENV [WIDGETS_ANALYTICS, "off"]
    """,
    "docs/index.md": """
        # Widgets

        Widgets turn gadgets into reports you can read on any screen.
    """,
    "docs/guide/install.md": """
        # Installing widgets

        Widgets need Python 3.10 or later on every platform we support.

        ## Install with pip

        Run pip install widgets in a fresh virtual environment.

        ## Build from source { #from-source }

        Clone the repository, then run make to build the extension.

        ### Options & flags (advanced)

        Pass --fast to skip the documentation when building.
    """,
    "docs/guide/index.md": """
        # The guide

        The guide walks through installing and configuring widgets.
    """,
    "README.md": "# Widgets repository\n\nThe sources of the widgets documentation live in docs/.\n",
}


def test_mkdocs_citations_open_the_built_page_at_an_existing_heading(env):
    repo = write(env / "widgets", MKDOCS)
    site = env / "site"
    build = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(repo / "mkdocs.yml"), "-d", str(site)]
    subprocess.run(build, check=True, capture_output=True, timeout=120)

    ingest(str(repo))
    urls = indexed_urls()
    assert urls[("README.md", "")] == ""  # outside docs/: no page of the site
    checked = 0
    for (doc, section), url in urls.items():
        if not doc.startswith("docs/"):
            continue
        parts = urlsplit(url)
        assert url.startswith("https://docs.example.org/widgets/"), url
        page = site / parts.path.removeprefix("/widgets/") / "index.html"
        assert page.is_file(), url
        assert bool(parts.fragment) == bool(section), url  # a page's opening text links to the page
        assert not parts.fragment or parts.fragment in ids_in(page), url
        checked += bool(parts.fragment)
    assert checked == 3
    assert urls[("docs/guide/install.md", "Build from source")] == (
        "https://docs.example.org/widgets/guide/install/#from-source"
    )
    assert urls[("docs/guide/install.md", "Build from source › Options & flags (advanced)")] == (
        "https://docs.example.org/widgets/guide/install/#options-flags-advanced"
    )
    assert urls[("docs/guide/index.md", "")] == "https://docs.example.org/widgets/guide/"

    listed = json.loads(run("sources", "--json")[1])["sources"]
    assert listed[0]["site_url"] == "https://docs.example.org/widgets/"


SPHINX = {
    "conf.py": """
        import os
        project = "Gadgets"
        html_baseurl = "https://gadgets.example.org/en/latest/"
        extensions = []
        version = os.environ.get("GADGETS_VERSION", "1.0")  # computed: read as data, never run
    """,
    "index.rst": """
        Gadgets
        =======

        Gadgets measure how widgets are used.

        .. toctree::

           usage
    """,
    "usage.rst": """
        Using gadgets
        =============

        Gadgets report to a server that you run yourself.

        .. _configuring-gadgets:

        Configure the server
        --------------------

        Set the port in gadgets.toml before the first start.

        Logs and metrics
        ----------------

        Logs are written to the gadgets folder, rotated daily.
    """,
}


def test_sphinx_citations_end_in_html_and_the_label_or_section_id(env):
    src = write(env / "gadgets", SPHINX)
    out = env / "html"
    build = [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src), str(out)]
    subprocess.run(build, check=True, capture_output=True, timeout=180)

    ingest(str(src))
    urls = indexed_urls()
    assert urls[("usage.rst", "Configure the server")] == (
        "https://gadgets.example.org/en/latest/usage.html#configuring-gadgets"
    )
    for (_doc, _section), url in urls.items():
        parts = urlsplit(url)
        page = out / parts.path.removeprefix("/en/latest/")
        assert url.startswith("https://gadgets.example.org/en/latest/") and page.suffix == ".html", url
        assert page.is_file() and parts.fragment in ids_in(page), url


def test_site_url_given_at_ingest_replaces_the_configured_one_and_a_plain_folder_gets_html_pages(env):
    repo = write(env / "widgets", MKDOCS)
    ingest(str(repo), "--site-url", "https://mirror.example.net/w")
    assert indexed_urls()[("docs/guide/install.md", "Install with pip")] == (
        "https://mirror.example.net/w/guide/install/#install-with-pip"
    )
    notes = write(env / "notes", {"meeting.md": "# Weekly meeting\n\nWe agreed to ship widgets on Friday.\n"})
    ingest(str(notes))
    assert indexed_urls()[("/notes/meeting.md", "")] == ""  # no site: no link
    ingest(str(notes), "--site-url", "https://intranet.example.com/notes/")
    assert indexed_urls()[("/notes/meeting.md", "")] == "https://intranet.example.com/notes/meeting.html"
    code, _, err = run("ingest", str(notes), "--site-url", "intranet/notes")
    assert code == 1 and "--site-url must be an http(s) address" in err


@pytest.mark.parametrize(
    ("style", "path", "page"),
    [
        ("mkdocs", "guide/install.md", "guide/install/"),
        ("mkdocs", "guide/index.md", "guide/"),
        ("mkdocs", "README.md", ""),  # MkDocs serves a README as its folder's index
        ("mkdocs", "img/logo.png", None),
        ("mkdocs-files", "guide/install.md", "guide/install.html"),
        ("sphinx", "api/client.rst", "api/client.html"),
        ("sphinx", "tutorial/intro.md", "tutorial/intro.html"),
        ("docusaurus", "guides/02-deploy.mdx", "docs/guides/deploy"),
        ("docusaurus", "guides/index.md", "docs/guides/"),
        ("vitepress", "guide/getting-started.md", "guide/getting-started.html"),
        ("vitepress", "guide/index.md", "guide/"),
        ("vitepress-clean", "guide/getting-started.md", "guide/getting-started"),
        ("plain", "reports/q3.html", "reports/q3.html"),
        ("plain", "manual.pdf", "manual.pdf"),
    ],
)
def test_each_generator_maps_a_file_to_its_page(style, path, page):
    links = SiteLinks("https://x.org/", style, route="docs/" if style == "docusaurus" else "")
    assert links.page(path) == ("" if page is None else f"https://x.org/{page}")


def test_each_generator_slugs_a_heading_its_own_way():
    heading = "Options & flags (advanced): v2.0"
    assert mkdocs_slug(heading) == "options-flags-advanced-v20"
    assert github_slug(heading) == "options--flags-advanced-v20"
    assert vitepress_slug(heading) == "options-flags-advanced-v2-0"
    assert sphinx_slug(heading) == "options-flags-advanced-v2-0"
    assert SiteLinks("https://x.org/", "mkdocs").anchor("explicit-id", heading) == "explicit-id"


def test_docusaurus_and_vitepress_configs_are_read_as_data(tmp_path):
    site = write(
        tmp_path / "site",
        {
            "docusaurus.config.ts": """
                const config: Config = {
                  title: 'Gizmo',
                  url: 'https://gizmo.dev',
                  baseUrl: '/docs-site/',
                  presets: [['classic', {docs: {sidebarPath: './sidebars.ts'}}]],
                };
            """,
            "docs/intro.md": "# Intro\n",
        },
    )
    assert detect(site) == SiteLinks("https://gizmo.dev/docs-site/", "docusaurus", "docs/", "docs/")
    assert detect(site / "docs") == SiteLinks("https://gizmo.dev/docs-site/", "docusaurus", "", "docs/")
    press = write(
        tmp_path / "press",
        {
            "docs/.vitepress/config.mts": """
                export default defineConfig({
                  base: '/gizmo/',
                  cleanUrls: true,
                  sitemap: { hostname: 'https://example.github.io' },
                })
            """,
            "docs/guide.md": "# Guide\n",
        },
    )
    assert detect(press) == SiteLinks("https://example.github.io/gizmo/", "vitepress-clean", "docs/")


def test_a_docusaurus_front_matter_slug_is_the_page_address(env):
    site = write(
        env / "gizmo",
        {
            "docusaurus.config.js": "module.exports = { url: 'https://gizmo.dev', baseUrl: '/' };\n",
            "docs/guides/deploy.md": "---\nslug: /shipping\n---\n# Deploying\n\nShip gizmos with gizmo deploy.\n",
            "docs/guides/scale.md": "---\nslug: scaling-out\n---\n# Scaling\n\nAdd gizmo workers to scale out.\n",
            "docs/guides/02-intro.md": "# Getting started\n\nInstall gizmo first.\n\n## First steps\n\nRun gizmo init.\n",
        },
    )
    ingest(str(site))
    urls = indexed_urls()
    assert urls[("docs/guides/deploy.md", "")] == "https://gizmo.dev/docs/shipping"
    assert urls[("docs/guides/scale.md", "")] == "https://gizmo.dev/docs/guides/scaling-out"
    assert urls[("docs/guides/02-intro.md", "First steps")] == "https://gizmo.dev/docs/guides/intro#first-steps"
