"""Documents as their authors structured them: one test group per syntax, on real-world pages (tests/fixtures/docs).

Each page is written the way its generator writes it (MkDocs Material, Docusaurus, Sphinx, a Jupyter
notebook); what comes out must be sections, whole code blocks, table rows that keep their headers,
and text with no markup left in it.
"""

from __future__ import annotations

import pytest

from ingest.documents.chunking import Chunker, ChunkParams
from ingest.documents.clean import strip_controls
from ingest.documents.document import Document
from ingest.documents.loaders import load_document
from ingest.documents.loaders.pdf import load_pdf
from ingest.embedding.embedder import token_counter
from tests.pdfgen import make_pdf
from tests.support import FIXTURES, markup_in

DOCS = FIXTURES / "docs"
CHUNKER = Chunker(ChunkParams(), token_counter("all-MiniLM-L6-v2"))


def load(name: str) -> Document:
    return load_document(DOCS / name)


def blocks_of(doc: Document, kind: str) -> list[str]:
    return [b.text for b in doc.blocks if b.kind == kind]


def by_text(doc: Document, start: str):
    return next(b for b in doc.blocks if b.text.startswith(start))


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.iterdir()))
def test_no_passage_or_title_shows_markup(name):
    doc = load(name)
    assert markup_in(doc.title) == []
    for chunk in CHUNKER.chunk(doc, {"source": name}):
        assert markup_in(chunk.text) == [], chunk.text


# -- MkDocs (Material) Markdown --------------------------------------------------------------------


def test_mkdocs_headings_give_sections_and_anchors():
    doc = load("mkdocs-cors.md")
    assert doc.title == "CORS (Cross-Origin Resource Sharing)"  # front matter
    block = by_text(doc, "You can configure it in your FastAPI application")
    assert block.section == ("Use CORSMiddleware",)  # the page title is not repeated in every path
    assert block.anchor == "use-corsmiddleware"
    assert by_text(doc, "An origin is the combination").anchor == "origin"


def test_mkdocs_includes_are_dropped_and_noted():
    doc = load("mkdocs-cors.md")
    assert doc.metadata["dropped"] == [
        "{* ../../docs_src/cors/tutorial001_py39.py hl[2,6:11,13:19] *}",
        '--8<-- "docs/en/docs/snippets/footer.md"',
        "{{ external_links }}",
    ]
    assert "docs_src" not in doc.text and "--8<--" not in doc.text


def test_mkdocs_admonitions_become_labelled_paragraphs_with_their_code():
    doc = load("mkdocs-cors.md")
    notes = blocks_of(doc, "admonition")
    assert "Technical Details: You could also use `from starlette.middleware.cors import CORSMiddleware`." in notes
    assert "Tip: Check the Starlette's CORS documentation for more info." in notes
    warning = by_text(doc, "Wildcards and credentials:")
    assert warning.text.startswith("Wildcards and credentials: `allow_origins` cannot be set to `['*']`")
    code = doc.blocks[doc.blocks.index(warning) + 1]
    assert code.kind == "code" and code.language == "Python"
    assert code.text.splitlines()[1] == "    CORSMiddleware,"  # verbatim, indentation kept


def test_mkdocs_tabs_lead_into_their_code_and_inline_html_goes():
    doc = load("mkdocs-cors.md")
    i = next(i for i, b in enumerate(doc.blocks) if b.text == "pip:")
    assert doc.blocks[i + 1].kind == "code" and doc.blocks[i + 1].text.startswith('$ pip install "fastapi[standard]"')
    assert doc.blocks[i + 2].text == "uv:" and doc.blocks[i + 3].language == "bash"
    assert "termy" not in doc.text and "<img" not in doc.text and "image01.png" not in doc.text


def test_mkdocs_tables_keep_their_headers_and_links_their_text():
    doc = load("mkdocs-cors.md")
    assert "`max_age` — Default: `600` — Description: Sets a maximum time in seconds" in doc.text
    assert by_text(doc, "CORS or").text.startswith('CORS or "Cross-Origin Resource Sharing" refers to')
    assert "Read more in the tutorial and the API reference." in doc.text
    assert "**" not in doc.text


def test_docusaurus_and_github_admonitions():
    doc = load("docusaurus-deploy.md")
    assert doc.title == "Deploying to production"
    assert blocks_of(doc, "admonition") == [
        "Serve it locally first: Run `npm run serve` to check the production build on http://localhost:3000 "
        "before uploading it.",
        "Warning: The `baseUrl` must end with a slash, or links between pages break after deployment.",
        "Note: GitHub Pages serves the `gh-pages` branch; set `deploymentBranch` if yours is different.",
    ]
    assert blocks_of(doc, "quote") == ["Quotes from users stay quotes."]
    assert "`USE_SSH` — Required: no — Meaning: Push over SSH instead of HTTPS. Default: `false`" in doc.text


def test_front_matter_aliases_are_refused_not_expanded(tmp_path):
    bomb = "---\ntitle: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"l{i}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    path = tmp_path / "bomb.md"
    path.write_text(bomb + "---\n\nThe body of a page whose front matter is hostile.\n")
    doc = load_document(path)  # instant: aliases are refused before anything is built
    assert doc.text == "The body of a page whose front matter is hostile."
    assert doc.title == "Bomb"


# -- built HTML sites ------------------------------------------------------------------------------


def test_mkdocs_material_page_keeps_only_its_content():
    doc = load("mkdocs-material-timeouts.html")
    assert doc.title == "Timeouts" and doc.metadata["url"] == "https://www.python-httpx.org/advanced/timeouts/"
    for furniture in (
        "Skip to content",
        "Edit this page",
        "Table of contents",
        "QuickStart",
        "Made with",
        "¶",
        "Previous Clients",
        "Last update",
        "Search",
    ):
        assert furniture not in doc.text, furniture
    assert "do not index this sentence" not in doc.text  # display: none
    assert "hidden upgrade notice" not in doc.text  # the hidden attribute


def test_html_sections_code_tables_and_definitions():
    doc = load("mkdocs-material-timeouts.html")
    code = next(b for b in doc.blocks if b.kind == "code")
    assert code.section == ("Setting and disabling timeouts",) and code.anchor == "setting-and-disabling-timeouts"
    assert code.language == "python"
    assert code.text.splitlines() == [
        "# Using the top-level API:",
        "httpx.get('http://example.com/api/v1/example', timeout=10.0)",
        "",
        "# Using a client instance:",
        "with httpx.Client() as client:",
        '    client.get("http://example.com/api/v1/example", timeout=10.0)',
    ]
    assert "Note: A timeout of `None` disables the timeout entirely." in blocks_of(doc, "admonition")
    assert "`connect` — Default: 5 seconds — Description: The maximum amount of time to wait until a socket" in doc.text
    assert "`pool` — The maximum duration to wait for acquiring a connection from the connection pool." in doc.text


def test_sphinx_settings_default_stays_with_its_setting():
    doc = load("sphinx-settings.html")
    assert doc.title == "Settings" and doc.metadata["url"] == "https://docs.gunicorn.org/en/stable/settings.html"
    chunk = next(c for c in CHUNKER.chunk(doc, {"source": "settings.html"}) if "Workers silent" in c.text)
    assert chunk.section == ("Worker Processes", "timeout") and chunk.anchor == "timeout"
    assert "Default: `30`" in chunk.text and "Command line: `-t INT`" in chunk.text
    assert "timeout" in chunk.header  # the setting's name is searchable with its default
    assert "Navigation" not in doc.text and "Copyright" not in doc.text and "Table of Contents" not in doc.text


# -- Sphinx reStructuredText, notebooks ----------------------------------------------------------


def test_rst_sections_code_and_sphinx_directives():
    doc = load("sphinx-quickstart.rst")
    assert doc.title == "Quickstart"
    code = [b for b in doc.blocks if b.kind == "code"]
    assert [c.text for c in code] == [">>> import requests", ">>> r = requests.get('https://api.github.com/events')"]
    assert {c.language for c in code} == {"python"} and code[0].section == ("Make a Request",)
    assert code[0].anchor == "make-a-request"
    assert blocks_of(doc, "admonition") == [
        "Note: `get` returns a `Response` object. It has all the information we need.",
        "Added in version 2.4: The `timeout` argument accepts a `(connect, read)` tuple.",
        "Warning: `timeout` is not a time limit on the entire response download.",
    ]
    assert doc.metadata["dropped"] == [".. toctree:: :maxdepth: 2", ".. autofunction:: requests.request"]
    assert "--timeout SECONDS — Stop waiting after this many seconds (default: no timeout)." in doc.text
    assert "`ReadTimeout` — Raised when: The server did not send any data in the allotted amount of time." in doc.text
    assert ":func:" not in doc.text and "<requests.Response>" not in doc.text


def test_rst_roles_a_project_defines_keep_their_text():
    from ingest.documents.loaders.rst import load_rst

    # Scrapy's :setting: and :reqmeta:, SQLAlchemy's :paramref:, Celery's :setting: with a title: docutils
    # would drop the text of each (a role it does not know); "enable the setting" cannot answer "which setting?".
    doc = load_rst(
        "Media pipeline\n==============\n\n"
        "To enable your media pipeline you must first add it to your project :setting:`ITEM_PIPELINES` setting, "
        "then set :setting:`IMAGES_STORE`. Pass :paramref:`~.create_engine.pool_recycle` to recycle connections, "
        "or disable retries with the :reqmeta:`dont_retry` key; see :confval:`the worker pool <worker_pool>`.\n"
    )
    text = doc.text
    assert "project `ITEM_PIPELINES` setting, then set `IMAGES_STORE`." in text
    assert "Pass `pool_recycle` to recycle" in text and "the `dont_retry` key" in text
    assert "see the worker pool." in text  # a title is shown as prose, as Sphinx renders it
    assert ":setting:" not in text and "~." not in text


def test_notebook_cells_become_blocks_without_outputs():
    doc = load("penguins.ipynb")
    assert doc.title == "Loading the penguins dataset"
    code = [b for b in doc.blocks if b.kind == "code"]
    assert [c.language for c in code] == ["python", "python"]
    assert code[0].text.startswith("import pandas as pd\n\npenguins = pd.read_csv")
    assert "Adelie" not in doc.text  # outputs are not indexed
    assert "Tip: Use `seaborn.pairplot` to see every pair of measurements at once." in doc.text
    assert code[1].section == ("Plotting",)


# -- PDF ------------------------------------------------------------------------------------------


def manual_pdf() -> bytes:
    body = [
        "The solver reads a graph file and writes the independent set it finds to the output",
        "file. Large graphs need a lot of memory during the combina-",
        "torial phase, and the real-world instances we tested fit in 16 GB.",
        "Real-world graphs are sparse.",
    ]
    pages = [
        [
            "ACME Solver Manual",
            "Contents",
            "1 Introduction . . . . . . . . . 2",
            "2 Options . . . . . . . . . . 3",
            "1",
        ],
        ["ACME Solver Manual", "1 Introduction", *body, "2"],
        [
            "ACME Solver Manual",
            "2 Options",
            "--time_limit=<double> Time limit. (Default: 1000s)",
            "--seed=<int> Seed to use for the PRNG.",
            "3",
        ],
    ]
    return make_pdf(pages)


def test_pdf_running_headers_page_numbers_and_contents_go():
    doc = load_pdf(manual_pdf())
    assert doc.metadata["title"] == "ACME Solver Manual"
    assert "ACME Solver Manual" not in doc.text  # the running header
    assert ". . ." not in doc.text and "Introduction" not in doc.text  # contents lines; headings are sections
    for block in doc.blocks:
        assert block.text not in {"1", "2", "3"}  # page numbers


def test_pdf_headings_pages_and_hyphenation():
    doc = load_pdf(manual_pdf())
    paragraph = by_text(doc, "The solver reads a graph file")
    assert paragraph.section == ("1 Introduction",) and paragraph.page == 2
    assert "the combinatorial phase" in paragraph.text  # joined across the line break
    assert "the real-world instances" in paragraph.text  # the document writes it with a hyphen elsewhere
    option = by_text(doc, "--time_limit=<double>")
    assert option.text == "--time_limit=<double> Time limit. (Default: 1000s)"
    assert option.section == ("2 Options",) and option.page == 3


def test_latex_en_dash_options_and_ligatures_read_back(tmp_path):
    from ingest.documents.loaders.pdf import _content_lines

    lines = _content_lines(["–help Print help.\nThe ﬁle is read with [–seed=<int>] options – as usual."])
    assert [line.text for line in lines] == [
        "--help Print help.",
        "The file is read with [--seed=<int>] options – as usual.",
    ]


# -- text that must never reach a terminal ---------------------------------------------------------


def test_terminal_escapes_and_control_characters_are_removed_at_load(tmp_path):
    path = tmp_path / "evil.txt"
    path.write_text("Title: Evil\n\nThe \x1b]0;pwned\x07report\x1b[31m says the \x07office opens at nine.\x1b[0m\n")
    doc = load_document(path)
    assert doc.text == "The report says the office opens at nine."
    assert strip_controls("a\x00b\x9bc\td\ne") == "abc\td\ne"


def test_a_documents_bracketed_numbers_cannot_pass_for_citation_markers(tmp_path):
    path = tmp_path / "paper.md"
    path.write_text(
        "# Related work\n\nEvoMIS was proposed by Lamm et al. [17] and refined in [3, 4].\n\n"
        "```python\nfirst = items[1]\n```\n"
    )
    doc = load_document(path)
    assert "Lamm et al. (17) and refined in (3, 4)." in doc.text
    assert "first = items[1]" in doc.text  # code is code
