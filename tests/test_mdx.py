"""Docusaurus MDX read as its built page shows it: no JSX, imports or expressions; tabs and details labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.documents.loaders import SUPPORTED_SUFFIXES, load_document
from ingest.documents.loaders.markdown import load_markdown, load_mdx
from tests.support import markup_in

FIXTURE = Path(__file__).parent / "fixtures" / "docs" / "docusaurus-installation.mdx"


def blocks(doc) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in doc.blocks if b.kind != "heading"]


def test_a_docusaurus_page_reads_as_its_built_page():
    doc = load_document(FIXTURE)
    assert doc.metadata["title"] == "Installation" and doc.metadata["slug"] == "/getting-started/installation"
    got = blocks(doc)
    assert got[0] == (
        "paragraph",
        "Gizmo runs on Node.js 18.0 or later. Install it with the package manager your project already uses.",
    )  # {minNode} is the page's own exported constant
    assert got[1:7] == [
        ("paragraph", "npm:"),
        ("code", "npm install --save gizmo"),
        ("paragraph", "Yarn:"),  # the tab's label
        ("code", "yarn add gizmo"),
        ("paragraph", "pnpm:"),  # no label: its value
        ("code", "pnpm add gizmo"),
    ]
    texts = [text for _, text in got]
    assert "Installing behind a proxy: Set the `HTTPS_PROXY` environment variable" in " ".join(texts)
    assert "Node 16 is not supported: Gizmo uses `fetch` from the standard library, which Node 16 lacks." in texts
    assert texts[-1] == "The CLI reads its configuration from `gizmo.config.js` in the project root."
    prose = " ".join(text for kind, text in got if kind != "code")
    for debris in ("import ", "export ", "{", "}", "<", "/*", "TabItem", "DocCardList", "groupId"):
        assert debris not in prose, debris
    assert markup_in(prose) == []


def test_expressions_known_only_at_build_time_are_dropped_and_noted():
    doc = load_mdx("Supported on {props.platforms.join(', ')} and more.\n\nCall `f({a: 1})` freely.\n")
    assert blocks(doc) == [("paragraph", "Supported on and more."), ("paragraph", "Call `f({a: 1})` freely.")]
    assert doc.metadata["dropped"] == ["{props.platforms.join(', ')}"]


def test_headings_keep_their_custom_ids_and_indented_text_in_a_component_stays_prose():
    doc = load_mdx(
        "## Deploying to production {#deploy}\n\n"
        "<Tabs>\n"
        '  <TabItem\n    value="docker"\n    label="Docker"\n  >\n\n'
        "        Build the image with the release tag, then push it to your registry.\n\n"
        "  </TabItem>\n</Tabs>\n"
    )
    heading, lead = doc.blocks[0], doc.blocks[1]
    assert (heading.text, heading.anchor) == ("Deploying to production", "deploy")
    assert (lead.kind, lead.text) == (
        "admonition",
        "Docker: Build the image with the release tag, then push it to your registry.",
    )


def test_plain_markdown_keeps_its_braces_and_mdx_files_are_read_not_skipped():
    doc = load_markdown("Pass `{}` or {a: 1} as options.\n\nimport this is prose in a .md file.\n")
    assert blocks(doc) == [
        ("paragraph", "Pass `{}` or {a: 1} as options."),
        ("paragraph", "import this is prose in a .md file."),
    ]
    assert ".mdx" in SUPPORTED_SUFFIXES


def test_emoji_and_icon_shortcodes_are_not_text():
    doc = load_markdown(
        "- :simple-slack: Slack\n- Pydantic V2 is here! :tada:\n\nAt 10:30:45 use `a:b:c` and key:value.\n"
    )
    assert [b.text for b in doc.blocks] == [
        "Slack",
        "Pydantic V2 is here!",
        "At 10:30:45 use `a:b:c` and key:value.",
    ]


def test_an_mdx_code_block_is_rendered_and_a_comment_heading_id_is_the_anchor():
    doc = load_mdx(
        "```mdx-code-block\nimport Tabs from '@theme/Tabs';\nimport TabItem from '@theme/TabItem';\n```\n\n"
        "Docusaurus consists of a set of npm packages.\n\n"
        "## Requirements {/* #requirements */}\n\nNode.js version 24.14 or above.\n"
    )
    assert [(b.kind, b.text, b.anchor) for b in doc.blocks] == [
        ("paragraph", "Docusaurus consists of a set of npm packages.", ""),
        ("heading", "Requirements", "requirements"),
        ("paragraph", "Node.js version 24.14 or above.", "requirements"),
    ]


def test_a_docusaurus_md_page_that_imports_theme_components_is_read_as_mdx():
    doc = load_markdown(
        "import Tabs from '@theme/Tabs';\nimport TabItem from '@theme/TabItem';\n\n"
        '<Tabs>\n<TabItem value="pnpm" label="pnpm">\n\n```sh\npnpm add gizmo\n```\n\n</TabItem>\n</Tabs>\n'
    )
    assert [(b.kind, b.text) for b in doc.blocks] == [("paragraph", "pnpm:"), ("code", "pnpm add gizmo")]


def test_a_partial_is_read_where_the_page_uses_it_and_is_no_page_of_its_own(tmp_path):
    from ingest.errors import NothingToIndex
    from tests.test_includes import write

    root = write(
        tmp_path / "docs",
        {
            "cli/add.md": "# pnpm add\n\nInstalls a package.\n\n### --cpu\n\n"
            "import CpuFlag from '../settings/_cpuFlag.mdx'\n\n<CpuFlag />\n\n### --filter\n\nRead about filtering.\n",
            "settings/_cpuFlag.mdx": "Override CPU architecture of native modules to install.\n",
        },
    )
    doc = load_document(root / "cli/add.md", root)
    assert [(b.kind, b.text) for b in doc.blocks if b.kind != "heading"] == [
        ("paragraph", "Installs a package."),
        ("paragraph", "Override CPU architecture of native modules to install."),
        ("paragraph", "Read about filtering."),
    ]
    assert doc.metadata["includes"] == ["settings/_cpuFlag.mdx"]
    with pytest.raises(NothingToIndex, match="an MDX partial"):
        load_document(root / "settings/_cpuFlag.mdx", root)
