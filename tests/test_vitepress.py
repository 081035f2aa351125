"""VitePress Markdown read as its built page shows it: containers as admonitions, code groups labelled."""

from __future__ import annotations

from pathlib import Path

from ingest.documents.loaders import load_document
from tests.support import markup_in

FIXTURE = Path(__file__).parent / "fixtures" / "docs" / "vitepress-getting-started.md"


def test_a_vitepress_page_reads_as_its_built_page():
    doc = load_document(FIXTURE)
    got = [(b.kind, b.text) for b in doc.blocks if b.kind != "heading"]
    texts = [text for _, text in got]
    assert got[2:8] == [
        ("paragraph", "npm:"),
        ("code", "$ npm add -D vitepress"),
        ("paragraph", "pnpm:"),
        ("code", "$ pnpm add -D vitepress"),
        ("paragraph", "yarn:"),
        ("code", "$ yarn add -D vitepress"),
    ]
    assert "NOTE: VitePress is an ESM-only package. Don't use `require()` to import it." in texts
    assert any(t.startswith("Getting missing peer deps warnings? If using PNPM") for t in texts)
    assert "Warning: Config files must use the `.js`, `.ts`, `.mjs` or `.mts` extension." in texts
    assert texts[-1] == "The sidebar is configured in `themeConfig.sidebar`."
    assert doc.metadata["dropped"] == ["[[toc]]", "<<< @/snippets/config-example.js"]
    prose = " ".join(text for kind, text in got if kind != "code")
    for debris in (":::", "[[toc]]", "<<<", "code-group", "[npm]", "<Badge"):
        assert debris not in prose, debris
    assert markup_in(prose) == []


def test_a_v_pre_container_keeps_its_text_without_its_fence():
    from ingest.documents.loaders.markdown import load_markdown

    doc = load_markdown("::: v-pre\nThis `{{ will be displayed as-is }}` in the page.\n:::\n")
    assert [b.text for b in doc.blocks] == ["This `{{ will be displayed as-is }}` in the page."]
