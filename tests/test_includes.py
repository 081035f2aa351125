"""Files a page includes are read in place when they are inside the same source, and nothing outside it."""

from __future__ import annotations

from pathlib import Path

from ingest.documents.loaders import load_document


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def texts(doc) -> list[str]:
    return [b.text for b in doc.blocks]


def test_myst_and_mkdocs_includes_are_read_in_place(tmp_path):
    root = write(
        tmp_path / "docs",
        {
            "change_log.md": "# Change log\n\n```{include} ../docs/CHANGES.md\n```\n",
            "CHANGES.md": "## 24.1.0\n\nThe stable style now wraps long return annotations.\n",
            "install.md": '# Install\n\n--8<-- "snippets/pip.md"\n\n<<< @/snippets/config.py\n',
            "snippets/pip.md": "Run pip install widgets in a fresh virtual environment.\n",
            "snippets/config.py": "TIMEOUT = 30\n",
        },
    )
    changes = load_document(root / "change_log.md", root)
    assert "The stable style now wraps long return annotations." in texts(changes)
    assert changes.metadata["includes"] == ["CHANGES.md"]
    install = load_document(root / "install.md", root)
    assert texts(install)[:2] == ["Run pip install widgets in a fresh virtual environment.", "TIMEOUT = 30"]
    assert install.blocks[1].kind == "code" and install.blocks[1].language == "python"
    assert install.metadata["includes"] == ["snippets/pip.md", "snippets/config.py"]


def test_rst_include_and_literalinclude_are_read_in_place(tmp_path):
    root = write(
        tmp_path / "docs",
        {
            "index.rst": "Guide\n=====\n\n.. include:: ../docs/shared/intro.rst\n\n.. literalinclude:: example.py\n",
            "shared/intro.rst": "Gadgets report to a server that you run yourself.\n",
            "example.py": "import gadgets\ngadgets.run()\n",
        },
    )
    doc = load_document(root / "index.rst", root)
    assert "Gadgets report to a server that you run yourself." in texts(doc)
    code = [b for b in doc.blocks if b.kind == "code"]
    assert code and code[0].text.startswith("import gadgets") and code[0].language == "python"
    assert sorted(doc.metadata["includes"]) == ["example.py", "shared/intro.rst"]


def test_an_rst_include_of_a_txt_fragment_is_read_as_restructuredtext_as_sphinx_does(tmp_path):
    root = write(
        tmp_path / "docs",
        {
            "intro.rst": "Intro\n=====\n\n.. include:: includes/bundles.txt\n\n.. include:: includes/log.txt\n"
            "   :literal:\n\n.. literalinclude:: example.py\n   :start-after: # begin\n   :end-before: # end\n\n"
            ".. literalinclude:: example.py\n   :lines: 1,5\n",
            "example.py": "import gadgets\n# begin\ngadgets.run()\n# end\ngadgets.stop()\n",
            "includes/bundles.txt": ":``gadgets[redis]``:\n    for using Redis as a message transport.\n\n"
            ":``gadgets[tblib]``:\n    for using the :setting:`task_remote_tracebacks` feature.\n",
            "includes/log.txt": "[INFO] *started* ``worker``\n",
        },
    )
    doc = load_document(root / "intro.rst", root)
    assert texts(doc) == [
        "`gadgets[redis]` — for using Redis as a message transport.",
        "`gadgets[tblib]` — for using the `task_remote_tracebacks` feature.",  # the fragment's own role kept
        "[INFO] *started* ``worker``",  # :literal: keeps the text as it is
        "gadgets.run()",  # only the lines its options keep
        "import gadgets\ngadgets.stop()",
    ]
    assert [b.kind for b in doc.blocks][-3:] == ["code", "code", "code"]


def test_nothing_outside_the_source_is_read_and_a_cycle_ends(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("The admin password is hunter2.\n")
    root = write(
        tmp_path / "docs",
        {
            "page.md": '# Page\n\nIntro.\n\n```{include} ../secret.md\n```\n\n--8<-- "/etc/passwd"\n',
            "a.md": "# A\n\nFrom a.\n\n```{include} b.md\n```\n",
            "b.md": "From b.\n\n```{include} a.md\n```\n",
        },
    )
    page = load_document(root / "page.md", root)
    assert "hunter2" not in " ".join(texts(page)) and "root:" not in " ".join(texts(page))
    assert page.metadata["dropped"] == ["{include} ../secret.md", '--8<-- "/etc/passwd"']
    cycle = load_document(root / "a.md", root)
    assert texts(cycle) == ["From a.", "From b."]
    assert load_document(root / "page.md").metadata["dropped"]  # no source folder: nothing is read


def test_a_change_to_an_included_file_refreshes_the_pages_that_include_it(tmp_path, fake_embedder):
    from tests.support import make_ingestor, make_store

    root = write(
        tmp_path / "docs",
        {
            "change_log.md": "# Change log\n\n```{include} CHANGES.md\n```\n",
            "CHANGES.md": "## 24.1.0\n\nThe stable style now wraps long return annotations.\n",
            "other.md": "# Other\n\nNothing to do with the changes.\n",
        },
    )
    store = make_store(tmp_path / "idx")
    ingestor = make_ingestor(store, fake_embedder)
    assert ingestor.run(root).added == 3
    assert ingestor.run(root).unchanged == 3  # nothing changed: nothing read again
    (root / "CHANGES.md").write_text("## 24.2.0\n\nPreview features are now opt-in with --preview.\n")
    report = ingestor.run(root)
    assert (report.updated, report.unchanged) == (2, 1)  # CHANGES.md itself, and the page that includes it
    log = " ".join(c.text for c in store.reader.iter_chunks() if c.meta.source == "change_log.md")
    assert "Preview features are now opt-in" in log and "wraps long return annotations" not in log
