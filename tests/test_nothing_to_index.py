"""Files with no prose of their own (directives, includes, templates) are skipped in one line, never failed."""

from __future__ import annotations

import pytest
from rich.console import Console

from bot.cli import render
from ingest.documents.loaders import NOTHING_TO_INDEX, load_document
from ingest.errors import NothingToIndex
from tests.support import make_ingestor, make_store


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("api/config.md", "# Configuration\n\n::: pydantic.config\n    options:\n      show_root_heading: true\n"),
        ("authors.md", "```{include} ../AUTHORS.md\n```\n"),
        (
            "_templates/sidebar.html",
            "<h3>{{ _('Useful Links') }}</h3>\n<ul>\n{% for link in links %}<li>{{ link }}</li>{% endfor %}\n</ul>\n",
        ),
    ],
)
def test_a_file_of_directives_or_a_template_has_nothing_to_index(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with pytest.raises(NothingToIndex, match=f"^{NOTHING_TO_INDEX}: "):
        load_document(path)


def test_a_built_page_showing_template_syntax_in_its_code_is_still_a_page(tmp_path):
    page = tmp_path / "templates.html"
    page.write_text(
        "<main><h1>Templates</h1><p>Blocks let a child template override parts of its parent.</p>"
        '<pre><code>{% extends "base.html" %}\n{% block title %}Index{% endblock %}</code></pre></main>'
    )
    doc = load_document(page)
    assert any("{% extends" in b.text for b in doc.blocks)  # indexed, its example with it


def test_they_are_skipped_not_failed_their_old_chunks_go_and_the_report_says_it_in_one_line(tmp_path, fake_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Guide\n\nThe guide explains how widgets are configured.\n")
    api = docs / "api.md"
    api.write_text("# API\n\nThe connect function opens a socket to the server.\n")
    store = make_store(tmp_path / "idx")
    ingestor = make_ingestor(store, fake_embedder)
    assert ingestor.run(docs).added == 2
    api.write_text("# API\n\n::: widgets.api\n")  # now generated at build time from the code
    for n in range(3):
        (docs / f"stub{n}.md").write_text(f'# Stub {n}\n\n--8<-- "includes/stub{n}.md"\n')
    report = ingestor.run(docs)
    assert report.failed == [] and report.removed == 1 and len(report.skipped) == 4
    assert {c.meta.source for c in store.reader.iter_chunks()} == {"guide.md"}

    console = Console(record=True, width=300)
    render.ingest_report(report, docs, console=console)
    lines = console.export_text().strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[1].strip() == (
        "skipped 4 files with nothing to index (no prose of their own): api.md, stub0.md, stub1.md, stub2.md"
    )
